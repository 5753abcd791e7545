#!/usr/bin/env bash
# Backups (docs/PERFORMANCE.md section 7, issue 6): `hokan backup run` and restic back up the
# same data directory, in one run, one after the other: full, then incremental after 1 % of
# the versions changed, then restore of the newest snapshot.
#
#   bench/run_backup_benchmarks.sh [build dir] [scratch dir] [output dir]
#   defaults:                      build/release /work/bench-scratch <build dir>/bench-results
#
# Environment (defaults): VERSIONS=100000 (versions in the store; e.g. VERSIONS=5000 for a
# quick run) SIZE=4096 (bytes of text per version) CHANGE_PERCENT=1 (new versions of existing
# records before the incrementals) RESTIC_COMPRESSION=auto (restic's default) RESTIC_VERIFY=1
# (also time `restic restore --verify`) KEEP=0 (1: keep the scratch data) BUILD=1 (0: use the
# binaries already in the build directory) WAIT_QUIET=1 (0: do not wait for a quiet CPU; for
# trying the script only).
#
# 1. Builds bench/backup_bench and hokan (configuring the build directory with the release
#    settings and HK_BUILD_BENCH=ON if needed; ninja -j1, the machine may be shared).
# 2. backup_bench makes a store of VERSIONS versions (not measured; sync off, then syncfs).
# 3. Measured, each as its own process under /usr/bin/time, with `sync -f` (not measured)
#    between them, after waiting for a quiet CPU (bench/lib.sh):
#    a. hokan backup run --dir DATA --to HOKAN_TARGET       (full: empty target)
#    b. restic backup DATA                                  (full: `restic init` just before)
#    c. backup_bench --add VERSIONS*CHANGE_PERCENT/100      (not measured), then
#       hokan backup run (incremental) and restic backup (incremental, parent = the full one)
#    d. hokan restore --from HOKAN_TARGET --snapshot <incremental> --to NEW_DIR
#       (restores, then opens and verifies the whole restored store: every version's blob is
#       decrypted and hash-checked, the audit log and its tree against the manifest) and
#       restic restore latest --target NEW_DIR (plain; and with --verify, which reads every
#       restored file back and checks it against the repository's hashes).
# 4. A summary: seconds, MB/s (MB = 10^6 bytes of the data directory's files at the time of
#    that backup; for restores, of the restored data), CPU seconds, peak RSS, the ratio
#    hokan/restic of throughput and each tool's incremental-vs-full speedup, and the goals of
#    issue 6 (hokan >= restic's throughput; incremental >= 10x faster than full).
#
# restic: its defaults (repository format of `restic init`, compression auto, all CPUs, local
# cache in the scratch directory); the password comes from RESTIC_PASSWORD (a throwaway one
# for this repository). hokan's backup and its restore use every core. The page cache is warm
# for both (the data were just written, caches cannot be dropped on a shared machine).
#
# Everything goes to <output dir>/backup_<UTC time>.log; the summary also to
# <output dir>/backup_<UTC time>_summary.txt.
set -euo pipefail

build=${1:-build/release}
scratch=${2:-/work/bench-scratch}
out=${3:-$build/bench-results}
versions=${VERSIONS:-100000}
size=${SIZE:-4096}
change_percent=${CHANGE_PERCENT:-1}
compression=${RESTIC_COMPRESSION:-auto}
restic_verify=${RESTIC_VERIFY:-1}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out" "$scratch"
out=$(cd "$out" && pwd)
scratch=$(cd "$scratch" && pwd)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
log="$out/backup_$stamp.log"
summary="$out/backup_${stamp}_summary.txt"
changed=$((versions * change_percent / 100))
((changed > 0)) || changed=1

command -v restic >/dev/null || { echo "restic is not installed (apt-get install restic)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is not installed (apt-get install time)" >&2; exit 2; }

# --- 1. build ------------------------------------------------------------------------------
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHK_BUILD_BENCH=ON \
    -DHK_BUILD_TESTS=OFF -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
if [[ ${BUILD:-1} == 1 ]]; then ninja -C "$build" -j1 hk_backup_bench hokan; fi
bench=$(cd "$build/bench" && pwd)/backup_bench
hokan=$(cd "$build/src/cli" && pwd)/hokan

source "$(dirname "$0")/lib.sh"  # cpu_busy, wait_quiet, ticks
if [[ ${WAIT_QUIET:-1} == 0 ]]; then  # Smoke tests only: figures from a busy machine mislead.
  wait_quiet() { echo "(not waiting for a quiet CPU: WAIT_QUIET=0)"; }
fi

work="$scratch/hokan-backup-$$"
rm -rf "$work"
mkdir -p "$work"
cleanup() {
  if [[ ${KEEP:-0} == 1 ]]; then echo "scratch kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
data="$work/data"
htarget="$work/hokan-target"
export RESTIC_REPOSITORY="$work/restic-repo"
export RESTIC_PASSWORD="hokan-bench-throwaway"  # This run's scratch repository only.
export RESTIC_CACHE_DIR="$work/restic-cache"
export RESTIC_COMPRESSION="$compression"


# Prefixes each line with the seconds since $1 (an $EPOCHREALTIME).
stamp_lines() {
  local t0=$1 line
  while IFS= read -r line; do
    printf '+%s s %s\n' "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}')" \
      "$line"
  done
}

# Bytes in the regular files under $1.
dir_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}'; }
dir_files() { find "$1" -type f | wc -l; }

# timed NAME CMD...: waits for a quiet CPU, runs CMD under /usr/bin/time; its stdout goes to
# $work/NAME.out, its stderr (time-stamped) to $work/NAME.err; prints wall, CPU and peak RSS
# and how busy the machine was, and a RESULT line. Then flushes the file system (untimed).
timed() {
  local name=$1 before after t0
  shift
  echo
  echo "=== $name: $* ==="
  wait_quiet
  echo "loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
  read -r -a before < <(ticks)
  t0=$EPOCHREALTIME
  { /usr/bin/time -f '%e %U %S %M' -o "$work/$name.time" "$@" 2>&1 >"$work/$name.out" |
    stamp_lines "$t0" >"$work/$name.err"; } || {
    echo "FAILED: $name"; tail -5 "$work/$name.err"; exit 1; }
  read -r -a after < <(ticks)
  local busy=$((after[0] - before[0])) total=$((after[1] - before[1]))
  local wall user sys rss
  read -r wall user sys rss < <(tail -1 "$work/$name.time")
  echo "wall ${wall} s, CPU user ${user} s + sys ${sys} s, peak RSS $((rss / 1024)) MiB"
  echo "machine CPU busy during it: $((total > 0 ? 100 * busy / total : 0))% of $(nproc) CPUs" \
    "(this program included); loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "RESULT phase=$name wall=$wall user=$user sys=$sys rss_kib=$rss"
  local s0=$EPOCHREALTIME
  sync -f "$work"
  echo "(sync -f after it, not timed: $(awk -v a="$s0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}') s)"
}

# The progress lines of a hokan run (never the recovery key it shows on its first run).
hokan_phases() {
  grep -E 'hokan: (backup|restore): ' "$work/$1.err" | grep -v -i 'recovery' |
    awk 'NR <= 2 {print "  " $0} {last = $0} END {if (NR > 2) print "  " last}'
}

# The summary of a `restic backup --json` run.
restic_summary() { jq -c 'select(.message_type == "summary")' "$work/$1.out"; }

{
  echo "== backup benchmarks, $stamp =="
  echo "build: $build; scratch: $work"
  echo "versions: $versions versions of $size bytes; $changed changed ($change_percent %)"
  echo "software: $(restic version); $("$hokan" --version 2>/dev/null || echo '(no --version)');" \
    "$(uname -sr); $(c++ --version | head -1)"
  echo "machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo));" \
    "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "disk: $(findmnt -no SOURCE,FSTYPE,OPTIONS -T "$work")"
  echo "restic: compression=$compression, GOMAXPROCS=${GOMAXPROCS:-all CPUs}, cache $RESTIC_CACHE_DIR"

  # --- 2. the store --------------------------------------------------------------------------
  echo
  echo "=== making the store (not measured) ==="
  "$bench" --store "$data" --versions "$versions" --size "$size"
  sync -f "$work"
  full_bytes=$(dir_bytes "$data")
  echo "RESULT phase=data-full bytes=$full_bytes files=$(dir_files "$data")"

  # --- 3a/3b. full backups -------------------------------------------------------------------
  timed hokan-full "$hokan" backup run --dir "$data" --to "$htarget"
  hokan_phases hokan-full
  jq -c '{snapshot_id, versions, objects, bytes, objects_written, bytes_written, seconds}' \
    "$work/hokan-full.out"
  echo "RESULT phase=target-hokan-full bytes=$(dir_bytes "$htarget") files=$(dir_files "$htarget")"

  restic init >/dev/null
  echo "restic repository: $(restic cat config | jq -c '{version}')"
  full_bytes_restic=$(dir_bytes "$data")  # hokan's run added its backup key and audit entries.
  echo "RESULT phase=data-full-restic bytes=$full_bytes_restic"
  timed restic-full restic backup --json "$data"
  restic_summary restic-full
  echo "RESULT phase=target-restic-full bytes=$(dir_bytes "$RESTIC_REPOSITORY")" \
    "files=$(dir_files "$RESTIC_REPOSITORY")"

  # --- 3c. 1 % changed, incrementals ----------------------------------------------------------
  echo
  echo "=== adding $changed new versions of existing records (not measured) ==="
  "$bench" --store "$data" --add "$changed" --size "$size"
  sync -f "$work"
  incr_bytes=$(dir_bytes "$data")
  echo "RESULT phase=data-incr bytes=$incr_bytes files=$(dir_files "$data")"

  timed hokan-incr "$hokan" backup run --dir "$data" --to "$htarget"
  hokan_phases hokan-incr
  jq -c '{snapshot_id, versions, objects, bytes, objects_written, bytes_written, objects_reused,
          seconds}' "$work/hokan-incr.out"
  echo "RESULT phase=target-hokan-incr bytes=$(dir_bytes "$htarget") files=$(dir_files "$htarget")"
  timed restic-incr restic backup --json "$data"
  restic_summary restic-incr
  echo "RESULT phase=target-restic-incr bytes=$(dir_bytes "$RESTIC_REPOSITORY")" \
    "files=$(dir_files "$RESTIC_REPOSITORY")"

  # --- 3d. restores --------------------------------------------------------------------------
  snap=$(jq -r .snapshot_id "$work/hokan-incr.out")
  timed hokan-restore "$hokan" restore --from "$htarget" --snapshot "$snap" \
    --to "$work/restore-hokan" --dir "$data"
  hokan_phases hokan-restore
  jq -c '{usable, files, bytes, versions_verified, audit_entries_verified, seconds}' \
    "$work/hokan-restore.out"
  echo "RESULT phase=restored-hokan bytes=$(dir_bytes "$work/restore-hokan")"
  timed restic-restore restic restore latest --target "$work/restore-restic"
  tail -2 "$work/restic-restore.out"
  echo "RESULT phase=restored-restic bytes=$(dir_bytes "$work/restore-restic")"
  if [[ $restic_verify == 1 ]]; then
    timed restic-restore-verify restic restore latest --verify --target "$work/restore-restic-v"
    tail -2 "$work/restic-restore-verify.out"
  fi
} 2>&1 | tee "$log"

# --- 4. summary ----------------------------------------------------------------------------------
{
  echo
  echo "== summary ($stamp; $versions versions of $size B, $changed changed; goals from issue 6) =="
  echo "MB = 10^6 bytes of the data directory's files at that backup (restore: of the restored"
  echo "data). Wall time of the whole process. Warm page cache."
  grep -h '^RESULT' "$log" |
    awk -v restic_verify="$restic_verify" '
    function kv(line,   i, f, n, p) {
      delete v
      n = split(line, f, " ")
      for (i = 2; i <= n; i++) { split(f[i], p, "="); v[p[1]] = p[2] }
    }
    {
      kv($0)
      ph = v["phase"]
      if (ph == "data-full") full = v["bytes"]
      else if (ph == "data-full-restic") full_r = v["bytes"]
      else if (ph == "data-incr") incr = v["bytes"]
      else if (ph == "restored-hokan") rest_h = v["bytes"]
      else if (ph == "restored-restic") rest_r = v["bytes"]
      else if (v["wall"] != "") {
        wall[ph] = v["wall"]; cpu[ph] = v["user"] + v["sys"]; rss[ph] = v["rss_kib"] / 1024
      }
    }
    function row(label, ph, bytes) {
      if (!(ph in wall)) return
      printf "%-34s %9.2f %9.1f %9.2f %8.0f\n", label, wall[ph], mbs(ph, bytes), cpu[ph], rss[ph]
    }
    function mbs(ph, bytes) { return (wall[ph] > 0) ? bytes / 1e6 / wall[ph] : 0 }
    END {
      if (full_r == "") full_r = full
      if (rest_r == "") rest_r = rest_h
      printf "%-34s %9s %9s %9s %8s\n", "", "seconds", "MB/s", "CPU s", "RSS MiB"
      row("hokan full", "hokan-full", full)
      row("restic full", "restic-full", full_r)
      row("hokan incremental", "hokan-incr", incr)
      row("restic incremental", "restic-incr", incr)
      row("hokan restore (+ full verify)", "hokan-restore", rest_h)
      row("restic restore", "restic-restore", rest_r)
      if (restic_verify == 1) row("restic restore --verify", "restic-restore-verify", rest_r)
      print ""
      rf = (mbs("restic-full", full_r) > 0) ? mbs("hokan-full", full) / mbs("restic-full", full_r) : 0
      ri = (wall["hokan-incr"] > 0) ? wall["restic-incr"] / wall["hokan-incr"] : 0
      rr = (mbs("restic-restore", rest_r) > 0) ? mbs("hokan-restore", rest_h) / mbs("restic-restore", rest_r) : 0
      sh = (wall["hokan-incr"] > 0) ? wall["hokan-full"] / wall["hokan-incr"] : 0
      sr = (wall["restic-incr"] > 0) ? wall["restic-full"] / wall["restic-incr"] : 0
      printf "throughput hokan/restic: full %.2fx, incremental %.2fx, restore %.2fx", rf, ri, rr
      if (restic_verify == 1 && (wall["restic-restore-verify"] > 0))
        printf " (%.2fx vs restore --verify)", mbs("hokan-restore", rest_h) / mbs("restic-restore-verify", rest_r)
      printf "\n"
      printf "incremental vs full speedup: hokan %.1fx, restic %.1fx\n", sh, sr
      printf "goal hokan >= restic throughput (full backup): %s (%.2fx)\n", ((rf >= 1) ? "MET" : "NOT MET"), rf
      printf "goal hokan >= restic throughput (incremental): %s (%.2fx)\n", ((ri >= 1) ? "MET" : "NOT MET"), ri
      printf "goal hokan incremental >= 10x faster than full: %s (%.1fx)\n", ((sh >= 10) ? "MET" : "NOT MET"), sh
    }'
} | tee "$summary" | tee -a "$log"
echo "log: $log"
echo "summary: $summary"
