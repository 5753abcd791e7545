#!/usr/bin/env bash
# Sets up hokan on a fresh Debian 12 machine and runs the demo: installs packages, builds
# the release binary, creates a store with fictional sample records in ./hokan-demo (or $1),
# verifies it and shows the audit log.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-hokan-demo}

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target hokan
hokan=build/release/src/cli/hokan

"$hokan" demo --dir "$dir"
echo
echo "== hokan verify --dir $dir"
"$hokan" verify --dir "$dir"
echo
echo "== hokan audit tail --dir $dir --lines 5"
"$hokan" audit tail --dir "$dir" --lines 5
echo
echo "The binary is $hokan; the store is in $dir. See README.md for every command."
