#!/usr/bin/env bash
# INT4 weight-only vs FP32, Petrel vs ONNX Runtime, one thread (docs/benchmarks.md, "INT4 weights").
# Quantizes the BERT-style encoder with `petrel quantize --bits 4 --weights-only --block B`
# (opset-21 blocked DequantizeLinear), then times, alternating ROUNDS times:
#   petrel int4   the fused path (petrel.Int4MatMul: weights stay 4-bit, unpacked in the GEMM)
#   petrel deq    the same file with PETREL_NO_INT4_FUSION=1 (weights dequantized to float at load)
#   petrel fp32 / ort fp32 / ort int4 (the same int4 file)
# and prints the median over rounds of each median latency and of each peak RSS.
# Also writes ORT's optimized graph of the int4 file and lists its ops (does ORT keep 4-bit?).
# Usage: bench/int4_compare.sh [RUNS] [ROUNDS] [BLOCK]   (nothing else running; needs build/models)
set -euo pipefail
runs=${1:-30}
rounds=${2:-3}
block=${3:-32}
cli=./build/release/petrel
peers=${PETREL_SHARED:-../shared}/peers/ort
ort_dir=$(bash "$peers/setup.sh" 2>/dev/null)
tmp=build/bench/int4
mkdir -p "$tmp"
m=bert_encoder
"$cli" convert "build/models/$m/model.onnx" -o "$tmp/$m.fp32.onnx" >/dev/null
"$cli" quantize "build/models/$m/model.onnx" -o "$tmp/$m.int4.onnx" --bits 4 --weights-only --block "$block" >/dev/null
ls -l "$tmp/$m.fp32.onnx" "$tmp/$m.int4.onnx" | awk '{print $5, $9}'
# ORT's own optimized graph of the int4 file: which ops run the 4-bit weights.
NODE_PATH=$ort_dir/node_modules node -e '
const ort = require("onnxruntime-node");
ort.InferenceSession.create(process.argv[1], {graphOptimizationLevel: "all", optimizedModelFilePath: process.argv[2]}).then(() => {});
' "$tmp/$m.int4.onnx" "$tmp/$m.int4.ort_optimized.onnx"
/usr/bin/python3 -c '
import onnx, sys, collections
g = onnx.load(sys.argv[1]).graph
print("ORT optimized int4 graph:", dict(collections.Counter((n.domain + "." if n.domain else "") + n.op_type for n in g.node)))
' "$tmp/$m.int4.ort_optimized.onnx"
out=$tmp/results.txt
: > "$out"
field() { /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["median_ms"], d["peak_rss_mb"])'; }
pb() { "$cli" bench "$1" --threads 1 --warmup 5 --runs "$runs" --json | field; }
ob() { NODE_PATH=$ort_dir/node_modules node "$peers/ort_bench.mjs" "$1" --threads 1 --warmup 5 --runs "$runs" | field; }
for r in $(seq "$rounds"); do
  echo "petrel_int4 $(pb "$tmp/$m.int4.onnx")" >> "$out"
  echo "petrel_deq $(PETREL_NO_INT4_FUSION=1 pb "$tmp/$m.int4.onnx")" >> "$out"
  echo "petrel_fp32 $(pb "$tmp/$m.fp32.onnx")" >> "$out"
  echo "ort_int4 $(ob "$tmp/$m.int4.onnx")" >> "$out"
  echo "ort_fp32 $(ob "$tmp/$m.fp32.onnx")" >> "$out"
done
/usr/bin/python3 - "$out" <<'PY'
import sys, statistics, collections
t, r = collections.defaultdict(list), collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, ms, rss = line.split()
    t[k].append(float(ms)); r[k].append(float(rss))
print(f"{'variant':12} {'median ms':>9} {'peak RSS MB':>11}")
for k in t:
    print(f"{k:12} {statistics.median(t[k]):9.2f} {statistics.median(r[k]):11.1f}")
PY
