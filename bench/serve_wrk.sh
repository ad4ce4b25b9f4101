#!/usr/bin/env bash
# Load test of `petrel serve` with wrk (Debian package wrk) on the Fashion-MNIST model.
#
#   bench/serve_wrk.sh [--swap | --hybrid] [--duration S] [--connections N] [--petrel PATH]
#
# Starts the server on 127.0.0.1 (port picked by the server), posts a real infer body (a
# shipped test image) from N keep-alive connections for S seconds, samples the server's RSS
# (VmRSS) every second, and prints throughput, latency p50/p99, non-2xx answers and RSS at
# 10 s and at the end. --swap serves from an update store and alternates `petrel update install`
# (a newer version) and `petrel update rollback` every 10 s during the run. --hybrid starts a
# second `petrel serve` as the cloud, makes the edge offload every request (--threshold 1.0,
# cache off: wrk repeats one body), and SIGKILLs the cloud halfway through the run.
# Run it alone on the machine (here: under flock /tmp/petrel-build.lock).
set -euo pipefail
cd "$(dirname "$0")/.."
petrel=build/release/petrel swap=0 hybrid=0 duration=60 conns=64
while [ $# -gt 0 ]; do
  case "$1" in
    --swap) swap=1 ;;
    --hybrid) hybrid=1 ;;
    --duration) duration=$2; shift ;;
    --connections) conns=$2; shift ;;
    --petrel) petrel=$2; shift ;;
    *) echo "usage: $0 [--swap | --hybrid] [--duration S] [--connections N] [--petrel PATH]" >&2; exit 2 ;;
  esac
  shift
done
petrel=$(realpath "$petrel")
command -v wrk >/dev/null || { echo "wrk not installed (apt install wrk)" >&2; exit 77; }
work=$(mktemp -d /tmp/petrel-serve-wrk.XXXXXX)
model=$(realpath models/fashion_mnist/fashion_cnn.onnx)
server_pid="" cloud_pid=""
cleanup() {
  [ -n "$cloud_pid" ] && kill -KILL "$cloud_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The request: sample_0 (an ankle boot) as a flat FP32 tensor.
/usr/bin/python3 - "$work/body.json" <<'EOF'
import json, sys, numpy as np
x = np.load("models/fashion_mnist/samples/sample_0.npy").astype(np.float32)
json.dump({"inputs": [{"name": "image", "datatype": "FP32", "shape": list(x.shape),
                       "data": [float(v) for v in x.reshape(-1)]}]}, open(sys.argv[1], "w"))
EOF
cat > "$work/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/body.json", "r")
wrk.body = f:read("*a")
f:close()
EOF

args=(--threads "$((conns + 8))" --max-queue "$((conns * 2))" --timeout-ms 10000)
if [ "$swap" = 1 ]; then
  (cd "$work" && "$petrel" keygen --out dev >/dev/null &&
   "$petrel" pack "$model" --name fashion --version 1.0.0 --key dev.key -o v1.petrel >/dev/null &&
   "$petrel" pack "$model" --name fashion --version 1.1.0 --key dev.key -o v2.petrel >/dev/null &&
   "$petrel" update install v1.petrel --store store --trust dev.pub >/dev/null)
  "$petrel" serve --store "$work/store" --port 0 "${args[@]}" >"$work/out" 2>"$work/err" &
elif [ "$hybrid" = 1 ]; then
  "$petrel" serve --model "fashion=$model" --port 0 "${args[@]}" >"$work/cloud_out" 2>"$work/cloud_err" &
  cloud_pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/cloud_out" 2>/dev/null && break; sleep 0.1; done
  cloud_url=$(sed -n 's/^listening on //p' "$work/cloud_out")
  [ -n "$cloud_url" ] || { echo "cloud did not start: $(cat "$work/cloud_err")" >&2; exit 1; }
  "$petrel" serve --model "fashion=$model" --port 0 "${args[@]}" --cloud "$cloud_url" --threshold 1.0 \
    --cache-entries 0 --cloud-timeout-ms 200 --cloud-deadline-ms 400 >"$work/out" 2>"$work/err" &
else
  "$petrel" serve --model "fashion=$model" --port 0 "${args[@]}" >"$work/out" 2>"$work/err" &
fi
server_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/out")
[ -n "$url" ] || { echo "server did not start: $(cat "$work/err")" >&2; exit 1; }

# RSS every second, from the server's /proc entry.
( t=0; while kill -0 "$server_pid" 2>/dev/null; do
    echo "$t $(awk '/^VmRSS/ {print $2}' /proc/$server_pid/status 2>/dev/null)"; sleep 1; t=$((t + 1)); done
) >"$work/rss" &
rss_pid=$!

swaps=0
if [ "$swap" = 1 ]; then
  ( v=1; while sleep 10; do
      if [ $v = 1 ]; then "$petrel" update install "$work/v2.petrel" --store "$work/store" --trust "$work/dev.pub" >/dev/null; v=2
      else "$petrel" update rollback --store "$work/store" >/dev/null; v=1; fi
      echo swap >>"$work/swaps"
    done ) &
  swap_pid=$!
fi

if [ "$hybrid" = 1 ]; then
  ( sleep "$((duration / 2))"; kill -KILL "$cloud_pid" ) &
fi
# The kernel's count of listen-queue overflows (system-wide): a client whose SYN or handshake ACK
# is dropped waits for TCP retransmissions (1 s, 3 s, ...), which shows up as a multi-second answer.
overflows() { awk '/^TcpExt:/ { if (!h) { for (i = 1; i <= NF; i++) n[$i] = i; h = 1 } else print $n["ListenOverflows"] }' /proc/net/netstat; }
overflows_before=$(overflows)
wrk -t2 -c"$conns" -d"${duration}s" --timeout 10s --latency -s "$work/post.lua" "$url/v2/models/fashion/infer" >"$work/wrk" 2>&1
[ "$swap" = 1 ] && { kill "$swap_pid" 2>/dev/null || true; wait "$swap_pid" 2>/dev/null || true; }
kill "$rss_pid" 2>/dev/null || true
[ -f "$work/swaps" ] && swaps=$(wc -l <"$work/swaps")

cat "$work/wrk"
rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk")
p50=$(awk '$1 == "50%" {print $2}' "$work/wrk")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk"); non2xx=${non2xx:-0}
sockerr=$(awk '/Socket errors/ {print $0}' "$work/wrk")
rss10=$(awk '$1 == 10 {print $2}' "$work/rss")
rssend=$(awk -v d="$duration" '$1 <= d {v = $2} END {print v}' "$work/rss")
echo
echo "petrel serve, Fashion-MNIST, wrk -t2 -c$conns -d${duration}s$([ "$swap" = 1 ] && echo ", hot swap every 10 s ($swaps swaps)")$([ "$hybrid" = 1 ] && echo ", hybrid: every request offloaded, cloud SIGKILLed at $((duration / 2)) s (cloud timeout 200 ms, deadline 400 ms)")"
echo "throughput: $rps req/s   p50: $p50   p99: $p99   non-2xx: $non2xx   ${sockerr:-socket errors: 0}"
echo "max latency: $(awk '/Latency/ && !/Distribution/ {print $4; exit}' "$work/wrk")   (wrk --timeout 10 s, the server's --timeout-ms)"
echo "listen queue overflows during the run (system-wide): $(($(overflows) - overflows_before))"
echo "RSS: ${rss10:-?} KiB at 10 s, ${rssend:-?} KiB at ${duration} s"
grep -h "now serving\|keeping" "$work/err" | tail -3 || true
if [ "$hybrid" = 1 ]; then
  m=$(curl -s "$url/metrics")
  echo "sources: $(echo "$m" | awk -F'[{}]' '/^petrel_inference_duration_seconds_count/ {match($2, /source="[a-z_]+"/); gsub(/ /, "", $3); printf "%s=%s ", substr($2, RSTART + 8, RLENGTH - 9), $3}')"
  echo "breaker opened: $(echo "$m" | awk '/^petrel_router_circuit_opened_total/ {print $2}') times"
fi
