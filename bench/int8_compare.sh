#!/usr/bin/env bash
# INT8 vs FP32, Petrel vs ONNX Runtime, one thread (docs/benchmarks.md, "INT8 execution").
# Quantizes resnet50 / mobilenet_v2 statically (calibration: 20 smooth synthetic images) and the
# BERT encoder dynamically, then times FP32 and INT8 in Petrel and the same files in ONNX Runtime,
# alternating, ROUNDS times; prints the median over rounds of each median latency, and the ratios.
# Usage: bench/int8_compare.sh [RUNS] [ROUNDS]   (nothing else running; needs build/models)
set -euo pipefail
runs=${1:-30}
rounds=${2:-3}
cli=./build/release/petrel
peers=${PETREL_SHARED:-../shared}/peers/ort
ort_dir=$(bash "$peers/setup.sh" 2>/dev/null)
tmp=build/bench/int8
mkdir -p "$tmp"
[ -f "$tmp/calib.npy" ] || /usr/bin/python3 scripts/models/make_smooth_images.py "$tmp/calib.npy" 20 --seed 0 >/dev/null
models=(resnet50 mobilenet_v2 bert_encoder)
for m in "${models[@]}"; do
  "$cli" convert "build/models/$m/model.onnx" -o "$tmp/$m.fp32.onnx" >/dev/null
  if [ "$m" = bert_encoder ]; then q=(--dynamic); else q=(--calib "$tmp/calib.npy"); fi
  [ -f "$tmp/$m.int8.q.onnx" ] || "$cli" quantize "build/models/$m/model.onnx" -o "$tmp/$m.int8.q.onnx" "${q[@]}" >/dev/null
  "$cli" convert "$tmp/$m.int8.q.onnx" -o "$tmp/$m.int8.onnx" >/dev/null
  sync "$tmp/$m.fp32.onnx" "$tmp/$m.int8.onnx"
done
out=$tmp/results.txt
: > "$out"
ms() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["median_ms"])'; }
for r in $(seq "$rounds"); do
  for m in "${models[@]}"; do
    for v in fp32 int8; do
      echo "$m $v petrel $("$cli" bench "$tmp/$m.$v.onnx" --threads 1 --warmup 5 --runs "$runs" --json | ms)" >> "$out"
      echo "$m $v ort $(NODE_PATH=$ort_dir/node_modules node "$peers/ort_bench.mjs" "$tmp/$m.$v.onnx" --threads 1 --warmup 5 --runs "$runs" | ms)" >> "$out"
    done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import sys, statistics, collections
v = collections.defaultdict(list)
for line in open(sys.argv[1]):
    m, var, peer, t = line.split()
    v[(m, var, peer)].append(float(t))
med = {k: statistics.median(x) for k, x in v.items()}
print(f"{'model':14} {'petrel fp32':>11} {'petrel int8':>11} {'ort fp32':>9} {'ort int8':>9} {'int8/fp32':>9} {'int8 p/o':>8}")
for m in dict.fromkeys(k[0] for k in med):
    pf, pi, of, oi = med[(m, 'fp32', 'petrel')], med[(m, 'int8', 'petrel')], med[(m, 'fp32', 'ort')], med[(m, 'int8', 'ort')]
    print(f"{m:14} {pf:11.2f} {pi:11.2f} {of:9.2f} {oi:9.2f} {pi / pf:9.2f} {pi / oi:8.2f}")
PY
