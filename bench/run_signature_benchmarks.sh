#!/usr/bin/env bash
# Signatures and timestamps (docs/PERFORMANCE.md section 5, issue 4): confirmations/s and
# verifications/s next to the machine's own RSA-2048 signing rate, in one run.
#
#   bench/run_signature_benchmarks.sh [build dir] [scratch dir] [output dir]
#   defaults:                         build/release /work/bench-scratch <build dir>/bench-results
#
# Environment (defaults): SECONDS_PER_RUN=10 (each confirmation run) VERIFY_SECONDS=5
# THREADS=1,2 TSA=hpki,p256 VERSIONS=12000 (versions made for the store runs) TREE_GROUPS=100000
# OPENSSL_SECONDS=10 (each `openssl speed` measurement); WAIT_QUIET=1 (0: do not wait for a quiet
# CPU; for trying the script only).
#
# 1. Builds bench/signature_bench in the build directory (configuring it with the release
#    settings and HK_BUILD_BENCH=ON if needed; ninja -j1, the machine may be shared).
# 2. The peer: `openssl speed -seconds 10 -multi 2 rsa2048` (both cores) and
#    `openssl speed -seconds 10 rsa2048` (one), sign/s and verify/s.
# 3. signature_bench, one phase group per process: micro + pipeline (SignCades + development
#    TSA + VerifyCades, no store), verify (VerifyCades, with content and by stored hash), store
#    (ApiService::ConfirmLocal with a server-side key in a fresh store, its parts, then
#    ApiService::RenewEvidence over all its confirmations), tree (BuildHashTree).
# 4. A summary with every figure, the ratios to the issue's goals and whether each is met.
#
# Before each measured program it waits (up to 3 minutes, bench/lib.sh) until other processes
# use < 30 % of the CPUs, and after it prints how busy the whole machine was while it ran
# (from /proc/stat; the measured program included).
#
# Everything goes to <output dir>/signature_<UTC time>.log; the summary also to
# <output dir>/signature_<UTC time>_summary.txt.
set -euo pipefail

build=${1:-build/release}
scratch=${2:-/work/bench-scratch}
out=${3:-$build/bench-results}
seconds=${SECONDS_PER_RUN:-10}
verify_seconds=${VERIFY_SECONDS:-5}
threads=${THREADS:-1,2}
tsa=${TSA:-hpki,p256}
versions=${VERSIONS:-12000}
tree_groups=${TREE_GROUPS:-100000}
openssl_seconds=${OPENSSL_SECONDS:-10}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out" "$scratch"
out=$(cd "$out" && pwd)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
log="$out/signature_$stamp.log"
summary="$out/signature_${stamp}_summary.txt"

# --- 1. build ------------------------------------------------------------------------------
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHK_BUILD_BENCH=ON \
    -DHK_BUILD_TESTS=OFF -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
ninja -C "$build" -j1 hk_signature_bench
bench=$(cd "$build/bench" && pwd)/signature_bench

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

# openssl speed's "rsa 2048 bits <sign s> <verify s> <sign/s> <verify/s>" line.
speed() {
  local result
  result=$(openssl speed -seconds "$openssl_seconds" "$@" rsa2048 2>/dev/null |
    awk '/^rsa 2048 bits/ {print $6, $7}')
  echo "$result"
}

# run_peer PROCS [again]: openssl speed rsa2048 with PROCS processes, as a RESULT line.
run_peer() {
  local procs=$1 when=${2:-first} r
  if ((procs > 1)); then r=$(speed -multi "$procs"); else r=$(speed); fi
  echo "openssl speed rsa2048, $procs process(es): sign/s verify/s = $r"
  echo "RESULT phase=peer procs=$procs when=$when sign_per_s=${r% *} verify_per_s=${r#* }"
}

# --- 2. the peer ----------------------------------------------------------------------------
{
  echo "== signature benchmarks, $stamp =="
  echo "build: $build; scratch: $scratch"
  echo "versions: $(openssl version); $(uname -sr); $(c++ --version | head -1)"
  echo "machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"

  measured "openssl speed -seconds $openssl_seconds -multi 2 rsa2048" run_peer 2
  measured "openssl speed -seconds $openssl_seconds rsa2048" run_peer 1
} 2>&1 | tee "$log"

peer2=$(awk '/^RESULT phase=peer procs=2 when=first/ {split($5, kv, "="); print kv[2]}' "$log")
peer1=$(awk '/^RESULT phase=peer procs=1 when=first/ {split($5, kv, "="); print kv[2]}' "$log")

# --- 3. signature_bench --------------------------------------------------------------------------
common=(--dir "$scratch" --threads "$threads" --seconds "$seconds" --verify-seconds
        "$verify_seconds" --tsa "$tsa" --versions "$versions" --tree-groups "$tree_groups"
        --peer-sign-1 "${peer1:-0}" --peer-sign-2 "${peer2:-0}")
{
  measured "signature_bench micro + pipeline" "$bench" "${common[@]}" --phases micro,pipeline
  measured "signature_bench verify" "$bench" "${common[@]}" --phases verify
  measured "signature_bench store + evidence" "$bench" "${common[@]}" --phases store
  measured "signature_bench tree" "$bench" "${common[@]}" --phases tree
  # The peer once more: did the machine's capacity change during the run?
  measured "openssl speed -seconds $openssl_seconds -multi 2 rsa2048 (again, at the end)" \
    run_peer 2 again
} 2>&1 | tee -a "$log"

# --- 4. summary ----------------------------------------------------------------------------------
{
  echo
  echo "== summary ($stamp; goals from issue 4) =="
  grep -h '^RESULT' "$log" |
    awk '
    function kv(line,   i, f, n) {
      delete v
      n = split(line, f, " ")
      for (i = 2; i <= n; i++) { split(f[i], p, "="); v[p[1]] = p[2] }
    }
    function verdict(ok) { return ok ? "MET" : "NOT MET" }
    {
      kv($0)
      if (v["phase"] == "peer") {
        if (v["when"] == "first") peer[v["procs"]] = v["sign_per_s"]
        printf "peer   openssl speed rsa2048, %s process(es) (%s): %9.1f sign/s %10.1f verify/s\n",
          v["procs"], v["when"] == "first" ? "start" : "end", v["sign_per_s"], v["verify_per_s"]
      } else if (v["phase"] == "micro") {
        printf "micro  raw RSA-2048 sign %s/s, SignCades %s/s (1 thread)\n",
          v["raw_sign_per_s"], v["signcades_per_s"]
      } else if (v["phase"] == "pipeline") {
        r = peer[2] > 0 ? v["per_s"] / peer[2] : 0
        printf "pipeline TSA %-4s %s thread(s): %8.1f confirmations/s = %5.1f%% of 2-core RSA-2048 sign/s (goal >= 50%%: %s); ms sign %s TSA %s ts-client %s verify %s\n",
          v["tsa"], v["threads"], v["per_s"], 100 * r, verdict(r >= 0.5),
          v["sign_ms"], v["tsa_ms"], v["tsclient_ms"], v["verify_ms"]
      } else if (v["phase"] == "verify") {
        printf "verify TSA %-4s %-7s %s thread(s): %8.1f verifications/s (goal >= 5000/s: %s)\n",
          v["tsa"], v["mode"], v["threads"], v["per_s"], verdict(v["per_s"] >= 5000)
      } else if (v["phase"] == "verify-parts") {
        printf "verify parts (TSA %s, ms): whole %s = signer path %s + timestamp %s + HPKI profile %s + CMS parse %s + rest\n",
          v["tsa"], v["whole_ms"], v["path_ms"], v["timestamp_ms"], v["hpki_ms"], v["cms_parse_ms"]
      } else if (v["phase"] == "store") {
        r = peer[2] > 0 ? v["per_s"] / peer[2] : 0
        printf "store  ConfirmLocal %s thread(s): %8.1f confirmations/s = %5.1f%% of 2-core RSA-2048 sign/s (goal >= 50%%: %s); %s ms CPU each\n",
          v["threads"], v["per_s"], 100 * r, verdict(r >= 0.5), v["cpu_ms"]
      } else if (v["phase"] == "parts") {
        printf "store  parts (ms, 1 thread): PKCS#12 %s, SignWithUserKey %s, AddTimestamp %s, Verify %s, ReadContent %s\n",
          v["pkcs12_ms"], v["sign_with_key_ms"], v["add_timestamp_ms"], v["verify_ms"],
          v["read_content_ms"]
      } else if (v["phase"] == "evidence") {
        printf "evidence RenewEvidence: %s of %s confirmations in %s s = %s records/s, problems %s; one TSA request alone %s ms\n",
          v["created"], v["confirmations"], v["seconds"], v["per_s"], v["problems"],
          v["tsa_request_ms"]
      } else if (v["phase"] == "evidence-parts") {
        printf "evidence per record (ms, 1 thread): CollectValidationData %s, VerifyEvidenceRecord %s\n",
          v["collect_ms"], v["check_ms"]
      } else if (v["phase"] == "tree") {
        printf "tree   BuildHashTree %s groups: %s s (%s groups/s)\n", v["groups"], v["seconds"],
          v["per_s"]
      }
    }'
} | tee "$summary" | tee -a "$log"
echo "log: $log"
echo "summary: $summary"
