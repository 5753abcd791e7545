#!/usr/bin/env bash
# Sets up hokan on a fresh Debian 12 machine and starts the demo server: installs packages,
# builds the release binary, creates a store with fictional users, patients and records in
# ./hokan-demo (or $1), and serves it on https://localhost:8443 (or $HK_DEMO_PORT) until
# Ctrl-C. Run again, it serves the same store (with a few more sample records).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-hokan-demo}
port=${HK_DEMO_PORT:-8443}

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target hokan
hokan=build/release/src/cli/hokan

root=()
if [ "$(id -u)" -eq 0 ]; then
  # hokan serve refuses root; a demo on a fresh machine is often run as root.
  echo "(running as root: the demo passes --allow-root; run real servers as an unprivileged user)"
  root=(--allow-root)
fi
exec "$hokan" demo --dir "$dir" --port "$port" "${root[@]}"
