#!/usr/bin/env bash
# Round trip through ONNX Runtime: models quantized by `petrel quantize` must load and run in
# ONNX Runtime 1.30 and give Petrel's answers:
#   static INT8 (outputs quantized too): every output within one quantization step of the output;
#   INT4 weight-only and dynamic INT8 (BERT encoder, when the benchmark set is built): close in
#   relative L2 (float outputs; ORT's int8 GEMMs round differently from the reference path).
# Skips (exit 77) with a message when node, ONNX Runtime, numpy/onnx or the dataset is missing.
# Usage: ort_roundtrip.sh PETREL_CLI SOURCE_DIR
set -euo pipefail
cli=$1
src=$2
ort_dir=${PETREL_PEERS:-$HOME/.cache/petrel-peers}/ort
skip() { echo "SKIP: $*"; exit 77; }
command -v node >/dev/null || skip "node is not installed"
[ -f "$ort_dir/node_modules/onnxruntime-node/package.json" ] || skip "ONNX Runtime not installed (run ../shared/peers/ort/setup.sh)"
/usr/bin/python3 -c 'import numpy, onnx' 2>/dev/null || skip "python3-numpy / python3-onnx missing"
data=/usr/share/datasets/fashion-mnist
[ -f "$data/train-images-idx3-ubyte.gz" ] || skip "dataset-fashion-mnist is not installed"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
model=$src/models/fashion_mnist/fashion_cnn.onnx
norm=(--mean 0.2860 --std 0.3530)
ort() { NODE_PATH=$ort_dir/node_modules node "$src/tests/quantize/ort_run.mjs" "$@"; }

"$cli" quantize "$model" -o "$tmp/int8.onnx" --calib "$data/train-images-idx3-ubyte.gz" --limit 64 "${norm[@]}" --quantize-outputs >/dev/null
"$cli" quantize "$model" -o "$tmp/int4.onnx" --bits 4 --weights-only --block 32 >/dev/null
fail=0
for m in int8 int4; do
  for i in 0 1 2 3 4 5 6 7; do
    in=$src/models/fashion_mnist/samples/sample_$i.npy
    "$cli" run "$tmp/$m.onnx" --input "image=$in" -o "$tmp/p_${m}_$i" -q >/dev/null
    # the float QDQ path (int8 kernels off): must agree with the int8 kernels within one step
    [ "$m" = int8 ] && PETREL_NO_QDQ_FUSION=1 "$cli" run "$tmp/$m.onnx" --input "image=$in" -o "$tmp/f_${m}_$i" -q >/dev/null
    ort "$tmp/$m.onnx" "$tmp/o_${m}_$i" "image=$in"
  done
  /usr/bin/python3 - "$tmp" "$m" <<'PY' || fail=1
import sys, numpy as np, onnx
from onnx import numpy_helper
tmp, m = sys.argv[1], sys.argv[2]
model = onnx.load(f"{tmp}/{m}.onnx")
inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer} if m == "int8" else {}
step = None
if m == "int8":
    out = model.graph.output[0].name
    dq = [n for n in model.graph.node if out in n.output][0]
    assert dq.op_type == "DequantizeLinear", dq.op_type
    step = float(inits[dq.input[1]])
worst = 0.0
for i in range(8):
    p = np.load(f"{tmp}/p_{m}_{i}/logits.npy"); o = np.load(f"{tmp}/o_{m}_{i}/logits.npy")
    if m == "int8":
        d = np.abs(p - o).max()
        worst = max(worst, d / step)
        if d > step * 1.0001:
            print(f"{m} sample {i}: max |petrel - ort| = {d} exceeds one quantization step {step}"); sys.exit(1)
        f = np.load(f"{tmp}/f_{m}_{i}/logits.npy")
        if np.abs(p - f).max() > step * 1.0001:
            print(f"{m} sample {i}: int8 kernels vs float QDQ path differ by {np.abs(p - f).max()} > one step {step}"); sys.exit(1)
    else:
        r = np.linalg.norm(p - o) / np.linalg.norm(o)
        worst = max(worst, r)
        if r > 1e-5:
            print(f"{m} sample {i}: relative L2 {r} (petrel vs ort)"); sys.exit(1)
    if p.argmax() != o.argmax():
        print(f"{m} sample {i}: top-1 differs"); sys.exit(1)
print(f"{m}: ok (worst {'steps' if m == 'int8' else 'relative L2'} {worst:.3g})")
PY
done

bert=$src/build/models/bert_encoder
if [ -f "$bert/model.onnx" ]; then
  "$cli" quantize "$bert/model.onnx" -o "$tmp/bert.onnx" --dynamic >/dev/null
  ins=(input_ids="$bert/input_input_ids.npy" attention_mask="$bert/input_attention_mask.npy")
  "$cli" run "$tmp/bert.onnx" --input "${ins[0]}" --input "${ins[1]}" -o "$tmp/p_bert" -q >/dev/null
  ort "$tmp/bert.onnx" "$tmp/o_bert" "${ins[@]}"
  /usr/bin/python3 - "$tmp" "$bert" <<'PY' || fail=1
import sys, numpy as np
tmp, bert = sys.argv[1], sys.argv[2]
p = np.load(f"{tmp}/p_bert/last_hidden_state.npy"); o = np.load(f"{tmp}/o_bert/last_hidden_state.npy")
f = np.load(f"{bert}/output_last_hidden_state.npy")
r = np.linalg.norm(p - o) / np.linalg.norm(o)
rf = np.linalg.norm(p - f) / np.linalg.norm(f)
print(f"dynamic bert: petrel vs ort relative L2 {r:.3g}, petrel vs fp32 {rf:.3g}")
if r > 0.01 or rf > 0.05: sys.exit(1)
PY
else
  echo "dynamic bert: skipped (build/models not exported)"
fi
# Two more graph shapes (Concat, shared biases, squeeze-excitation Mul/GlobalAveragePool): ORT
# must accept the files and agree with Petrel (float outputs, so a relative tolerance).
for m in squeezenet1_1 mobilenet_v3_small; do
  d=$src/build/models/$m
  [ -f "$d/model.onnx" ] || { echo "$m: skipped (build/models not exported)"; continue; }
  "$cli" quantize "$d/model.onnx" -o "$tmp/$m.onnx" --calib random:2 >/dev/null
  "$cli" run "$tmp/$m.onnx" --input "input=$d/input_input.npy" -o "$tmp/p_$m" -q >/dev/null
  ort "$tmp/$m.onnx" "$tmp/o_$m" "input=$d/input_input.npy"
  /usr/bin/python3 - "$tmp" "$m" <<'PY' || fail=1
import sys, numpy as np
tmp, m = sys.argv[1], sys.argv[2]
p = np.load(f"{tmp}/p_{m}/output.npy"); o = np.load(f"{tmp}/o_{m}/output.npy")
r = np.linalg.norm(p - o) / np.linalg.norm(o)
print(f"static {m}: petrel vs ort relative L2 {r:.3g}")
if r > 0.1: sys.exit(1)  # deep random-weight nets amplify ORT's different int8 rounding
PY
done
[ $fail -eq 0 ] && echo "ort round trip: passed" || { echo "ort round trip: FAILED"; exit 1; }
