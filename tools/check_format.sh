#!/usr/bin/env bash
# Fails when a C++ source is not clang-formatted (.clang-format at the repository root).
# Usage: check_format.sh <repo root>
set -euo pipefail
cd "${1:-.}"
files=$(find src tests bench fuzz -name '*.cc' -o -name '*.h' | sort)
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
echo "format: ok ($(echo "$files" | wc -l) files)"
