#!/usr/bin/env bash
# hokan's HTTPS API against Orthanc, in one run on one machine (docs/PERFORMANCE.md, issue 3).
#
#   bench/run_https_benchmarks.sh [build dir] [scratch dir] [output dir]
#   defaults:                     build/release /work/bench-scratch <build dir>/bench-results
#
# Environment (defaults): CLIENTS=16 SECONDS_PER_PHASE=20 READ_RATE=400 SIZE=100000
# PHASES=ingest,read,readmax; ORTHANC_TLS=1 (also try Orthanc with its own HTTPS; skipped
# with a note if it fails); NOSYNC_REFERENCE=1 (also hokan ingest with its fsyncs off, a
# NON-DURABLE reference); SETTLE_SECONDS=40 (pause between programs).
#
# 1. Builds bench/https_bench in the build directory (configuring it with the release
#    settings and HK_BUILD_BENCH=ON if needed; ninja -j1, the machine may be shared).
# 2. Installs the Debian packages orthanc and dcmtk if missing (apt-get; needs root).
# 3. Makes one PDF of SIZE bytes (https_bench --mode make-pdf) and, from it, one
#    encapsulated-PDF DICOM template per client with dcmtk's pdf2dcm (patient P0001...);
#    each template carries a placeholder SOP Instance UID that the client overwrites per
#    upload, so every upload is a distinct instance.
# 4. hokan: https_bench (its own server child: TLS 1.3, sign-in, authorisation, audit,
#    durable commits) ingest for SECONDS_PER_PHASE, then reads at READ_RATE/s, then reads
#    as fast as the clients can (readmax).
# 5. Orthanc over plain HTTP with HTTP Basic authentication, a fresh storage and index
#    directory, SyncStorageArea on: the same client program and phases.
# 6. Orthanc with SslEnabled (a self-signed P-256 certificate, as hokan's), if it serves.
# 7. hokan ingest again with --sync 0 (NON-DURABLE reference: what the fsyncs cost).
# 8. A summary with the ratio hokan / Orthanc.
#
# Before each measured program it waits (up to 3 minutes) until other processes use < 30 %
# of the CPUs; after each it waits 40 s so that files it deleted age out (journal-less ext4
# slows file creation right after many deletions; see docs/PERFORMANCE.md).
set -euo pipefail

build=${1:-build/release}
scratch=${2:-/work/bench-scratch}
out=${3:-$build/bench-results}
clients=${CLIENTS:-16}
seconds=${SECONDS_PER_PHASE:-20}
rate=${READ_RATE:-400}
size=${SIZE:-100000}
orthanc_tls=${ORTHANC_TLS:-1}
phases=${PHASES:-ingest,read,readmax}
nosync_reference=${NOSYNC_REFERENCE:-1}
settle=${SETTLE_SECONDS:-40}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out" "$scratch"
out=$(cd "$out" && pwd)
rm -f "$out"/https_*.txt  # The summary reads every https_*.txt of this run.

# --- 1. build ------------------------------------------------------------------------------
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHK_BUILD_BENCH=ON \
    -DHK_BUILD_TESTS=OFF -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
fi
ninja -C "$build" -j1 hk_https_bench
bench=$(cd "$build/bench" && pwd)/https_bench

# --- 2. Orthanc and dcmtk --------------------------------------------------------------------
if ! command -v Orthanc >/dev/null || ! command -v pdf2dcm >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends orthanc dcmtk
fi

source "$(dirname "$0")/lib.sh"  # cpu_busy, wait_quiet

work=$(mktemp -d "$scratch/https-peer-XXXXXX")
orthanc_pid=
cleanup() {
  if [[ -n "$orthanc_pid" ]] && kill -0 "$orthanc_pid" 2>/dev/null; then
    kill "$orthanc_pid"
    wait "$orthanc_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- 3. the document, as PDF and as DICOM ------------------------------------------------------
placeholder=2.25.98888888888888888888888  # https_bench overwrites its last 22 digits.
"$bench" --mode make-pdf --size "$size" --out "$work/doc.pdf"
mkdir -p "$work/dicom"
for i in $(seq 1 "$clients"); do
  p=$(printf 'P%04d' "$i")
  pdf2dcm -q +pi "$p" +pn "Bench^$p" +t "Scanned document" \
    -k "SOPInstanceUID=$placeholder" "$work/doc.pdf" "$work/dicom/$p.dcm"
done
{
  echo "== versions =="
  Orthanc --version 2>&1 | sed -n 1p
  pdf2dcm --version 2>&1 | awk '/dcmtk/ && !n++'
  dpkg-query -W -f='${Package} ${Version}\n' orthanc dcmtk libcivetweb1 2>/dev/null || true
  openssl version
  uname -sr
} | tee "$out/https_versions.txt"

# --- 4. hokan ------------------------------------------------------------------------------------
common=(--clients "$clients" --seconds "$seconds" --rate "$rate" --read-seconds "$seconds"
        --size "$size" --phases "$phases")
wait_quiet | tee "$out/https_hokan.txt"
"$bench" --mode hokan --dir "$scratch" --pdf "$work/doc.pdf" "${common[@]}" 2>&1 |
  tee -a "$out/https_hokan.txt"
sleep "$settle"

# --- 5./6. Orthanc -------------------------------------------------------------------------------
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# run_orthanc NAME TLS(0/1): starts a fresh Orthanc, runs the client, stops it.
run_orthanc() {
  local name=$1 tls=$2 port dir password url scheme
  port=$(free_port)
  dir="$work/$name"
  mkdir -p "$dir/storage" "$dir/index"
  password=$(openssl rand -hex 16)
  scheme=http
  if (( tls )); then
    scheme=https
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
      -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
    cat "$dir/cert.pem" "$dir/key.pem" > "$dir/orthanc.pem"
  fi
  # Durable storage (fsync after each file), no compression, the DICOM server off, HTTP
  # Basic authentication with one user, loopback only.
  cat > "$dir/orthanc.json" <<EOF
{
  "Name": "bench",
  "StorageDirectory": "$dir/storage",
  "IndexDirectory": "$dir/index",
  "HttpPort": $port,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": true,
  "RegisteredUsers": { "bench": "$password" },
  "DicomServerEnabled": false,
  "SyncStorageArea": true,
  "StorageCompression": false,
  "HttpCompressionEnabled": false,
  "KeepAlive": true,
  "TcpNoDelay": true,
  "Plugins": [],
  "SslEnabled": $( (( tls )) && echo true || echo false ),
  "SslCertificate": "$dir/orthanc.pem"
}
EOF
  wait_quiet | tee "$out/https_$name.txt"
  Orthanc "$dir/orthanc.json" > "$dir/orthanc.log" 2>&1 &
  orthanc_pid=$!
  url="$scheme://localhost:$port"
  local up=0 ca=()
  (( tls )) && ca=(--cacert "$dir/cert.pem")
  for _ in $(seq 1 100); do
    if curl -sf "${ca[@]}" -u "bench:$password" "$url/system" >/dev/null 2>&1; then
      up=1
      break
    fi
    kill -0 "$orthanc_pid" 2>/dev/null || break
    sleep 0.2
  done
  if (( !up )); then
    {
      echo "Orthanc ($name) did not serve $url:"
      tail -5 "$dir/orthanc.log"
      kill -0 "$orthanc_pid" 2>/dev/null || echo "(the Orthanc process has exited)"
      dmesg 2>/dev/null | grep -i 'civetweb.*segfault' | tail -1 || true
    } | tee -a "$out/https_$name.txt"
    kill "$orthanc_pid" 2>/dev/null || true
    wait "$orthanc_pid" 2>/dev/null || true
    orthanc_pid=
    rm -rf "$dir"
    return 0
  fi
  echo "Orthanc pid $orthanc_pid serving $url (storage $dir)" | tee -a "$out/https_$name.txt"
  HK_BENCH_ORTHANC_PASSWORD=$password \
    "$bench" --mode orthanc --url "$url" --ca "$dir/cert.pem" --user bench \
    --dicom-dir "$work/dicom" --server-pid "$orthanc_pid" --storage-dir "$dir" \
    "${common[@]}" 2>&1 | tee -a "$out/https_$name.txt"
  kill "$orthanc_pid"
  wait "$orthanc_pid" 2>/dev/null || true
  orthanc_pid=
  rm -rf "$dir"
}

run_orthanc orthanc-http 0
if (( orthanc_tls )); then
  sleep "$settle"
  run_orthanc orthanc-https 1
fi

# --- 7. NON-DURABLE reference ------------------------------------------------------------------
if (( nosync_reference )); then
  sleep "$settle"
  wait_quiet | tee "$out/https_hokan-nosync.txt"
  "$bench" --mode hokan --dir "$scratch" --pdf "$work/doc.pdf" "${common[@]}" --phases ingest \
    --sync 0 2>&1 | tee -a "$out/https_hokan-nosync.txt"
fi

# --- 8. summary ----------------------------------------------------------------------------------
{
  echo
  echo "== summary (clients $clients, ${size}-byte PDF; Orthanc: the same PDF as DICOM) =="
  for f in hokan hokan-nosync orthanc-http orthanc-https; do
    [[ -f "$out/https_$f.txt" ]] && grep -h '^RESULT' "$out/https_$f.txt" || true
  done |
    awk '{
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "%-14s %-7s %9s/s  %7s MB/s  p50 %7s ms  p99 %8s ms  max %8s ms  server %6s ms CPU/req  peak %7s MiB%s\n",
        v["peer"], v["phase"], v["per_s"], v["mb_s"], v["p50_ms"], v["p99_ms"], v["max_ms"],
        v["server_cpu_ms"], v["server_peak_mib"], (v["failed"] > 0 ? "  FAILED " v["failed"] : "")
      if (v["phase"] == "ingest") ingest[v["peer"]] = v["per_s"]
    }
    END {
      for (p in ingest) if (p ~ /^orthanc/ && ingest[p] > 0)
        printf "ingest ratio hokan / %s = %.2f (goal >= 3)\n", p, ingest["hokan"] / ingest[p]
    }'
} | tee "$out/https_summary.txt"
echo "results in $out"
