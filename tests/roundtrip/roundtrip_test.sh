#!/usr/bin/env bash
# Writer round trip: for each model, load -> write (petrel convert) must give a file that
# onnx.checker accepts, that Petrel loads fully zero-copy, whose re-conversion is byte-identical
# (load -> write -> load gives the same graph), and whose outputs equal the original's.
# Usage: roundtrip_test.sh PETREL_BINARY SOURCE_DIR
set -euo pipefail
petrel=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=/usr/share/libonnx-testdata/data/node
models=("$src/models/fashion_mnist/fashion_cnn.onnx")
for c in test_if test_loop11 test_scan9_sum test_sequence_insert_at_back test_softmax_axis_0 test_resize_upsample_scales_linear \
         test_constant_pad test_cast_FLOAT_to_STRING test_optional_has_element_optional_input test_slice_neg_steps; do
  [ -f "$data/$c/model.onnx" ] && models+=("$data/$c/model.onnx")
done
for m in bert_encoder mobilenet_v2 gpt_decoder; do
  [ -f "$src/build/models/$m/model.onnx" ] && models+=("$src/build/models/$m/model.onnx")
done
pass=0
fail=0
for m in "${models[@]}"; do
  name=$(basename "$(dirname "$m")")_$(basename "$m" .onnx)
  a="$work/$name.a.onnx"
  b="$work/$name.b.onnx"
  why=""
  if ! "$petrel" convert "$m" -o "$a" >"$work/log" 2>&1; then why="convert: $(cat "$work/log")"
  elif ! /usr/bin/python3 -c "import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]))" "$a" 2>"$work/chk"; then why="onnx.checker: $(tail -2 "$work/chk")"
  elif ! "$petrel" convert "$a" -o "$b" >"$work/log2" 2>&1; then why="re-convert: $(cat "$work/log2")"
  elif ! cmp -s "$a" "$b"; then why="second write differs from the first"
  elif ! grep -q ", 0 B copied" "$work/log"; then why="not zero-copy: $(cat "$work/log")"
  fi
  # Same outputs (only for models whose inputs petrel run can generate).
  if [ -z "$why" ] && "$petrel" run "$m" -o "$work/o1" >/dev/null 2>&1; then
    "$petrel" run "$a" -o "$work/o2" >/dev/null 2>&1 || why="converted model does not run"
    if [ -z "$why" ] && ! /usr/bin/python3 - "$work/o1" "$work/o2" <<'PY'
import sys, os, numpy as np
a, b = sys.argv[1], sys.argv[2]
for f in os.listdir(a):
    x, y = np.load(os.path.join(a, f)), np.load(os.path.join(b, f))
    assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y, equal_nan=True), f
PY
    then why="outputs differ after conversion"; fi
    rm -rf "$work/o1" "$work/o2"
  fi
  if [ -z "$why" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $m: $why"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
