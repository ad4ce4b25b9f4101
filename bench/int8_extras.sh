#!/usr/bin/env bash
# Issue #4's remaining int8 pieces, one thread (docs/benchmarks.md, "INT4 weights, 7-bit
# activations, quantized pools and Concat"):
#  1. 7-bit activations at the AVX2 level: resnet18 quantized with --reduce-range, timed with
#     PETREL_ISA=avx2 as written (metadata petrel.activation_bits = 7: clamped, fast path only)
#     and with that metadata entry removed (the exact two-pass path on bytes > 127).
#  2. Quantized GlobalAveragePool / AveragePool / Concat: squeezenet1_1 and resnet50 INT8 with
#     and without the qdq_pool_fusion pass (PETREL_NO_QDQ_POOL_FUSION=1).
# Medians over ROUNDS alternating rounds of RUNS runs. Usage: bench/int8_extras.sh [RUNS] [ROUNDS]
set -euo pipefail
runs=${1:-20}
rounds=${2:-3}
cli=./build/release/petrel
tmp=build/bench/int8x
mkdir -p "$tmp"
[ -f "$tmp/calib.npy" ] || /usr/bin/python3 scripts/models/make_smooth_images.py "$tmp/calib.npy" 20 --seed 0 >/dev/null
[ -f "$tmp/resnet18.rr.onnx" ] || "$cli" quantize build/models/resnet18/model.onnx -o "$tmp/resnet18.rr.onnx" --calib "$tmp/calib.npy" --reduce-range >/dev/null
/usr/bin/python3 -c '
import onnx, sys
m = onnx.load(sys.argv[1])
kept = [p for p in m.metadata_props if p.key != "petrel.activation_bits"]
del m.metadata_props[:]
m.metadata_props.extend(kept)
onnx.save(m, sys.argv[2])' "$tmp/resnet18.rr.onnx" "$tmp/resnet18.rr.8bit.onnx"
for m in squeezenet1_1 resnet50; do
  [ -f "$tmp/$m.int8.onnx" ] || "$cli" quantize "build/models/$m/model.onnx" -o "$tmp/$m.int8.onnx" --calib "$tmp/calib.npy" >/dev/null
done
out=$tmp/results.txt
: > "$out"
ms() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["median_ms"])'; }
b() { "$cli" bench "$1" --threads 1 --warmup 3 --runs "$runs" --json | ms; }
for r in $(seq "$rounds"); do
  echo "resnet18_7bit_avx2 $(PETREL_ISA=avx2 b "$tmp/resnet18.rr.onnx")" >> "$out"
  echo "resnet18_7bit_avx2_no_metadata $(PETREL_ISA=avx2 b "$tmp/resnet18.rr.8bit.onnx")" >> "$out"
  echo "resnet18_7bit_avx512 $(b "$tmp/resnet18.rr.onnx")" >> "$out"
  for m in squeezenet1_1 resnet50; do
    echo "${m}_int8 $(b "$tmp/$m.int8.onnx")" >> "$out"
    echo "${m}_int8_no_pool_fusion $(PETREL_NO_QDQ_POOL_FUSION=1 b "$tmp/$m.int8.onnx")" >> "$out"
  done
done
/usr/bin/python3 - "$out" <<'PY'
import sys, statistics, collections
v = collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, t = line.split()
    v[k].append(float(t))
for k, x in v.items():
    print(f"{k:34} {statistics.median(x):8.2f} ms")
PY
