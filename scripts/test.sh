#!/usr/bin/env bash
# Builds hokan and runs every test: the README's test command, and what CI runs.
#   1. installs the Debian packages it needs (scripts/install-deps.sh),
#   2. builds and runs the whole suite under AddressSanitizer + UBSan (gcc),
#   3. builds and runs it again with clang (-Wthread-safety) under ThreadSanitizer, and once
#      more optimised (the release build the demo uses; -O2 brings its own warnings),
#   4. builds the libFuzzer targets and runs each briefly,
#   5. builds everything once more under clang-tidy (.clang-tidy; findings are errors).
# HK_TEST_PRESETS="asan" limits steps 2-3 to the named presets; HK_FUZZ_SECONDS sets step 4
# (0 skips it); HK_TIDY=0 skips step 5.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
jobs=$(nproc)
presets=${HK_TEST_PRESETS:-"asan tsan release"}
fuzz_seconds=${HK_FUZZ_SECONDS:-20}
tidy=${HK_TIDY:-1}

passed=0
for preset in $presets; do
  echo "== build + test: $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  # TSan needs a fixed address-space layout on some kernels.
  if [ "$preset" = tsan ]; then export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"; fi
  ctest --preset "$preset" -j "$jobs" --timeout 600 | tee "build/$preset/ctest.log"
  passed=$((passed + $(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' \
                         "build/$preset/ctest.log")))
done

if [ "$fuzz_seconds" -gt 0 ]; then
  echo "== fuzz smoke: ${fuzz_seconds}s per target"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$jobs"
  for target in build/fuzz/fuzz/*_fuzz; do
    [ -x "$target" ] || continue
    echo "-- $(basename "$target")"
    "$target" -max_total_time="$fuzz_seconds" -print_final_stats=0 2>&1 | tail -n 2
  done
fi
if [ "$tidy" != 0 ]; then
  echo "== clang-tidy"
  cmake --preset tidy >/dev/null
  cmake --build --preset tidy -j "$jobs"
fi

# One closing line for the whole run (every preset's ctest, summed; ctest stops the script on
# any failure, so reaching here means none failed).
echo "tests: $passed passed, 0 failed"
