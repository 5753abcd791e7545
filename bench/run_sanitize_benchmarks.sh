#!/usr/bin/env bash
# Sanitiser (docs/PERFORMANCE.md section 6, issue 5): MB/s per format on a mixed corpus, with the
# same files through qpdf and unzip alone (library and command line) measured in the same run as
# the floor to compare with.
#
#   bench/run_sanitize_benchmarks.sh [build dir] [scratch dir] [output dir]
#   defaults:                        build/release /tmp/hokan-bench <build dir>/bench-results
#
# Environment (defaults): FILES=30 (files per format) ROUNDS=5 (in-process rounds) CLI_ROUNDS=2
# (process-per-file rounds) FORMATS=pdf,docx,docm,xlsx,zip,csv,png,jpeg,rtf; WAIT_QUIET=1 (0: do
# not wait for a quiet CPU; for trying the script only). EXTRA="--pdf-pages 40 ..." adds flags.
#
# 1. Builds bench/sanitize_bench and the hokan command in the build directory. A directory
#    without build.ninja is configured as Release (-O3) with HK_BUILD_BENCH=ON, and with the
#    warnings GCC 12 reports falsely at -O3 (-Wrestrict, -Wstringop-overread, ... in code outside
#    the sanitiser: src/identity/login.cc, src/signature/internal/der.cc) kept as warnings, not
#    errors. ninja -j1: the machine may be shared.
# 2. Prints the versions of the peers (qpdf, unzip, libzip, libpng, libjpeg).
# 3. Waits for a quiet CPU (bench/lib.sh), then runs sanitize_bench once: it generates the corpus
#    and measures, per format and interleaved round by round, hokan::Sanitize() in process next
#    to qpdf (QPDF + QPDFWriter) / libzip (every entry read) / libpng and libjpeg (decode and
#    re-encode), then process per file: `hokan sanitize IN --out OUT`, `qpdf IN OUT`,
#    `unzip -p IN > /dev/null` and /bin/true. It prints how busy the machine was meanwhile.
# 4. A summary of the RESULT lines: MB/s per format and hokan's time / the floor's.
#
# Everything goes to <output dir>/sanitize_<UTC time>.log; the summary also to
# <output dir>/sanitize_<UTC time>_summary.txt.
set -euo pipefail

build=${1:-build/release}
scratch=${2:-/tmp/hokan-bench}
out=${3:-$build/bench-results}
files=${FILES:-30}
rounds=${ROUNDS:-5}
cli_rounds=${CLI_ROUNDS:-2}
formats=${FORMATS:-pdf,docx,docm,xlsx,zip,csv,png,jpeg,rtf}
extra=${EXTRA:-}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out" "$scratch"
out=$(cd "$out" && pwd)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
log="$out/sanitize_$stamp.log"
summary="$out/sanitize_${stamp}_summary.txt"

# --- 1. build ------------------------------------------------------------------------------
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHK_BUILD_BENCH=ON \
    -DHK_BUILD_TESTS=OFF -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DCMAKE_CXX_FLAGS="-Wno-error=restrict -Wno-error=stringop-overread \
-Wno-error=stringop-overflow -Wno-error=array-bounds -Wno-error=maybe-uninitialized"
fi
ninja -C "$build" -j1 hk_sanitize_bench hokan
bench=$(cd "$build/bench" && pwd)/sanitize_bench
hokan=$(cd "$build/src/cli" && pwd)/hokan

source "$(dirname "$0")/lib.sh"  # cpu_busy, wait_quiet, ticks
if [[ ${WAIT_QUIET:-1} == 0 ]]; then  # Smoke tests only: figures from a busy machine mislead.
  wait_quiet() { echo "(not waiting for a quiet CPU: WAIT_QUIET=0)"; }
fi

# measured LABEL CMD...: waits for a quiet CPU, runs CMD, then prints the machine's CPU use.
measured() {
  local label=$1 before after
  shift
  echo
  echo "=== $label ==="
  wait_quiet
  echo "loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
  read -r -a before < <(ticks)
  "$@"
  read -r -a after < <(ticks)
  local busy=$((after[0] - before[0])) total=$((after[1] - before[1]))
  echo "machine CPU busy during '$label': $((total > 0 ? 100 * busy / total : 0))% of $(nproc)" \
    "CPUs (this program included); loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# --- 2. versions, 3. the run -------------------------------------------------------------------
{
  echo "== sanitiser benchmarks, $stamp =="
  echo "build: $build ($(awk -F= '/^CMAKE_BUILD_TYPE:/ {print $2}' "$build/CMakeCache.txt"));" \
    "scratch: $scratch"
  echo "versions: $(qpdf --version | head -1); $(unzip -v | head -1);" \
    "libzip $(pkg-config --modversion libzip); libpng $(pkg-config --modversion libpng);" \
    "libjpeg $(pkg-config --modversion libjpeg); $(uname -sr); $(c++ --version | head -1)"
  echo "machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"
  # shellcheck disable=SC2086  # EXTRA is a list of flags.
  measured "sanitize_bench" "$bench" --dir "$scratch" --files "$files" --rounds "$rounds" \
    --cli-rounds "$cli_rounds" --formats "$formats" --hokan "$hokan" $extra
} 2>&1 | tee "$log"

# --- 4. summary ----------------------------------------------------------------------------------
{
  echo
  echo "== summary ($stamp; MB = 10^6 bytes; ratio = hokan's time / the floor's, same files) =="
  grep -h '^RESULT' "$log" |
    awk '
    function kv(line,   i, f, n) {
      delete v
      n = split(line, f, " ")
      for (i = 2; i <= n; i++) { split(f[i], p, "="); v[p[1]] = p[2] }
    }
    {
      kv($0)
      if (v["phase"] == "corpus" && v["format"] == "all") {
        printf "corpus: %s files, %.1f MB\n", v["files"], v["bytes"] / 1e6
      } else if (v["phase"] == "inproc") {
        floor = v["floor"] == "none" ? "" : sprintf("; %s %7.1f MB/s -> hokan takes %.2fx its time (best rounds %.2fx)", v["floor"], v["floor_mb_per_s"], v["ratio"], v["best_ratio"])
        printf "in process %-5s %7.1f MB/s (best round %7.1f), %7.1f files/s; clean/disarmed/blocked %s/%s/%s; ms per clean / disarmed file %.2f / %.2f, DetectType alone %.2f%s\n",
          v["format"], v["mb_per_s"], v["best_mb_per_s"], v["files_per_s"], v["clean"],
          v["disarmed"], v["blocked"], v["clean_ms"], v["disarmed_ms"], v["detect_ms_per_file"],
          floor
      } else if (v["phase"] == "inproc-all") {
        printf "in process, whole mixed corpus: %.1f MB/s (%s files, %s MB per round in %s s)\n",
          v["mb_per_s"], v["files"], v["mb"], v["seconds_per_round"]
      } else if (v["phase"] == "cli") {
        ratio = (v["tool"] == "hokan" || v["ratio"] == 0) ? "" : sprintf(" -> hokan takes %.2fx its time", v["ratio"])
        printf "per process %-5s %-6s %8.2f ms/file (CPU %6.2f ms), %6.1f MB/s%s%s\n",
          v["format"], v["tool"], v["ms_per_file"], v["cpu_ms_per_file"], v["mb_per_s"], ratio,
          (v["failures"] > 0 ? " FAILURES " v["failures"] : "")
      }
    }'
} | tee "$summary" | tee -a "$log"
echo "log: $log"
echo "summary: $summary"
