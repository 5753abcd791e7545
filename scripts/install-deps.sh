#!/usr/bin/env bash
# Installs every Debian package that hokan's build, tests, demo and benchmarks need.
# Works on a bare Debian 12: as root directly, otherwise through sudo.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git python3
  clang lld libclang-rt-14-dev clang-format clang-tidy
  libssl-dev openssl libsodium-dev libsqlite3-dev sqlite3 nlohmann-json3-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libboost-dev
  libxmlsec1-dev xmlsec1 softhsm2 libp11-kit-dev
  libmagic-dev libqpdf-dev qpdf libzip-dev unzip libgsf-1-dev libpng-dev libjpeg-dev libtiff-dev
  libclamav-dev libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "install-deps: need root (or sudo) to install: ${PACKAGES[*]}" >&2
    exit 1
  fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
