#!/usr/bin/env bash
# INT8 vs FP32, Petrel vs ONNX Runtime, one thread (docs/benchmarks.md, "INT8 execution").
# Quantizes resnet50 / mobilenet_v2 statically (calibration: 20 smooth synthetic images) and the
# BERT encoder dynamically, then times FP32 and INT8 in Petrel and the same files in ONNX Runtime.
# Usage: bench/int8_compare.sh [RUNS]   (run with nothing else on the machine; needs build/models)
set -euo pipefail
runs=${1:-30}
cli=./build/release/petrel
peers=${PETREL_SHARED:-../shared}/peers/ort
ort_dir=$(bash "$peers/setup.sh" 2>/dev/null)
tmp=build/bench/int8
mkdir -p "$tmp"
[ -f "$tmp/calib.npy" ] || /usr/bin/python3 scripts/models/make_smooth_images.py "$tmp/calib.npy" 20 --seed 0 >/dev/null
for m in resnet50 mobilenet_v2 bert_encoder; do
  "$cli" convert "build/models/$m/model.onnx" -o "$tmp/$m.fp32.onnx" >/dev/null
  if [ "$m" = bert_encoder ]; then q=(--dynamic); else q=(--calib "$tmp/calib.npy"); fi
  [ -f "$tmp/$m.int8.q.onnx" ] || "$cli" quantize "build/models/$m/model.onnx" -o "$tmp/$m.int8.q.onnx" "${q[@]}" >/dev/null
  "$cli" convert "$tmp/$m.int8.q.onnx" -o "$tmp/$m.int8.onnx" >/dev/null
  sync "$tmp/$m.fp32.onnx" "$tmp/$m.int8.onnx"
  for v in fp32 int8; do
    p=$("$cli" bench "$tmp/$m.$v.onnx" --threads 1 --warmup 5 --runs "$runs" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["median_ms"])')
    o=$(NODE_PATH=$ort_dir/node_modules node "$peers/ort_bench.mjs" "$tmp/$m.$v.onnx" --threads 1 --warmup 5 --runs "$runs" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["median_ms"])')
    echo "$m $v petrel_ms=$p ort_ms=$o"
  done
done
