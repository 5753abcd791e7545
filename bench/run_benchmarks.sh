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

source "$(dirname "$0")/lib.sh"  # cpu_busy, wait_quiet

for b in ingest_bench read_bench verify_bench; do
  wait_quiet | tee "$out/$b.txt"
  "$build/bench/$b" --dir "$scratch" 2>&1 | tee -a "$out/$b.txt"
  sleep 40
done
echo "results in $out"
