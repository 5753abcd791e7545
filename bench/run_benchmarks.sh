#!/usr/bin/env bash
# Runs the three benchmarks one after another and keeps their output (docs/PERFORMANCE.md).
#
#   bench/run_benchmarks.sh [build dir] [scratch dir] [output dir]
#   defaults:               build/h-bench /work/bench-scratch <build dir>/bench-results
#
# The machine may be shared: before each benchmark this waits (up to 3 minutes) until the
# other processes use less than 30 % of the CPUs, and after each it waits 40 s so that the
# inodes it deleted age out (ext4 without a journal skips inodes deleted in the last ~30 s
# one by one when allocating, which would slow the next benchmark's file creation).
set -euo pipefail

build=${1:-build/h-bench}
scratch=${2:-/work/bench-scratch}
out=${3:-$build/bench-results}
mkdir -p "$out" "$scratch"

# Busy share of all CPUs over 3 s, in percent, from /proc/stat.
cpu_busy() {
  local a b
  a=($(head -1 /proc/stat))
  sleep 3
  b=($(head -1 /proc/stat))
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) ))
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}

wait_quiet() {
  local busy
  for _ in $(seq 1 60); do
    busy=$(cpu_busy)
    if (( busy < 30 )); then
      echo "(CPU busy ${busy}% before start; loadavg $(cut -d' ' -f1-3 /proc/loadavg))"
      return
    fi
  done
  echo "(machine still busy: CPU ${busy}%, loadavg $(cut -d' ' -f1-3 /proc/loadavg); running anyway)"
}

for b in ingest_bench read_bench verify_bench; do
  wait_quiet | tee "$out/$b.txt"
  "$build/bench/$b" --dir "$scratch" 2>&1 | tee -a "$out/$b.txt"
  sleep 40
done
echo "results in $out"
