#!/usr/bin/env bash
# Black-box tests of the petrel CLI: outputs, files written, exit codes.
# Usage: cli_test.sh PETREL_BINARY SOURCE_DIR
set -uo pipefail
petrel=$1
src=$2
model=$src/models/fashion_mnist/fashion_cnn.onnx
samples=$src/models/fashion_mnist/samples
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
check() {  # check NAME EXPECTED_EXIT COMMAND...
  local name=$1 want=$2
  shift 2
  "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  if [ "$rc" -eq "$want" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $name: exit $rc, want $want"; cat "$work/err"; fi
}
expect_in() {  # expect_in NAME FILE TEXT
  if grep -qF -- "$3" "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: '$3' not in output:"; cat "$2"; fi
}

check help 0 "$petrel" --help
expect_in help-lists-run "$work/out" "run"
check run-help 0 "$petrel" run --help
expect_in run-help-output-dir "$work/out" "--output-dir"
expect_in run-help-no-optimize "$work/out" "--no-optimize"
check inspect-help 0 "$petrel" inspect --help
expect_in inspect-help-optimized "$work/out" "--optimized"
check version 0 "$petrel" --version

check inspect 0 "$petrel" inspect "$model"
expect_in inspect-opset "$work/out" "opset 13"
expect_in inspect-input "$work/out" "image float32[batch,1,28,28]"
expect_in inspect-params "$work/out" "parameters: 56282"
expect_in inspect-macs "$work/out" "MACs:       4.855 M"
check inspect-json 0 "$petrel" inspect "$model" --json --dim batch=4
/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['ops']['Conv']==5 and d['macs']==4*4855168 and d['arena_bytes']>0, d" "$work/out" \
  && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL inspect-json content"; cat "$work/out"; }

# inspect --optimized: the graph after the optimizer, with per-rewrite counts.
check inspect-optimized 0 "$petrel" inspect "$model" --optimized
expect_in inspect-optimized-hist "$work/out" "nodes:      10 (Conv+Relu 5,"
expect_in inspect-optimized-count "$work/out" "activation_fusion      Conv+Relu                    5"
expect_in inspect-optimized-graph "$work/out" "Conv+Relu                  (image,"
check inspect-optimized-json 0 "$petrel" inspect "$model" --optimized --json
/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert 'Relu' not in d['ops'] and d['ops']['Conv+Relu']==5 and d['optimizer']['rewrites']['activation_fusion: Conv+Relu']==5 and d['macs']==4855168, d" "$work/out" \
  && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL inspect-optimized-json content"; cat "$work/out"; }
mnv2=$src/build/models/mobilenet_v2/model.onnx
if [ -f "$mnv2" ]; then  # the generated benchmark set, when present: Conv+Clip (Relu6) fuses
  check inspect-optimized-mnv2 0 "$petrel" inspect "$mnv2" --optimized --json
  /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert 'Clip' not in d['ops'] and d['ops']['Conv+Clip']==35, d" "$work/out" \
    && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL inspect-optimized-mnv2"; cat "$work/out"; }
fi

# run: label, top-k, latency, and NAME.npy outputs equal to PyTorch's logits.
check run 0 "$petrel" run "$model" --input "image=$samples/sample_0.npy" --labels "$src/models/fashion_mnist/classes.txt" -o "$work/out_dir"
expect_in run-top1 "$work/out" "top-5:  Ankle boot"
expect_in run-latency "$work/out" "latency:"
/usr/bin/python3 - "$work/out_dir/logits.npy" "$samples/expected_logits.npy" <<'PY' && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL run-npy"; }
import sys, numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2])[0:1]
assert got.shape == (1, 10) and got.dtype == np.float32, (got.shape, got.dtype)
assert np.abs(got - want).max() < 1e-4, np.abs(got - want).max()
PY
check run-no-optimize 0 "$petrel" run "$model" --input "image=$samples/sample_0.npy" --no-optimize -o "$work/out_plain"
/usr/bin/python3 - "$work/out_plain/logits.npy" "$samples/expected_logits.npy" <<'PY' && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL run-no-optimize-npy"; }
import sys, numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2])[0:1]
assert np.abs(got - want).max() < 1e-4, np.abs(got - want).max()
PY
check bench-no-optimize 0 "$petrel" bench "$model" --no-optimize --runs 2 --warmup 0 --json
check run-quiet 0 "$petrel" run "$model" -i "$samples/sample_1.npy" --labels "$src/models/fashion_mnist/classes.txt" -q -r 3
expect_in run-quiet-label "$work/out" "Pullover"
check run-random-batch 0 "$petrel" run "$model" --dim batch=3
expect_in run-random-batch-shape "$work/out" "float32[3,10]"

# Errors: meaningful exit codes and messages.
check missing-model 2 "$petrel" inspect "$work/nope.onnx"
expect_in missing-model-msg "$work/err" "no such file"
check bad-model 3 "$petrel" inspect "$src/tests/malformed/truncated.onnx"
check unknown-op 4 "$petrel" run "$src/tests/malformed/unknown_op.onnx"
check bad-dim 2 "$petrel" run "$model" --dim batch=x
check bad-input-name 2 "$petrel" run "$model" --input "nope=$samples/sample_0.npy"
check bad-npy 2 "$petrel" run "$model" --input "image=$model"
expect_in bad-npy-msg "$work/err" "not a .npy file"
check wrong-shape 2 "$petrel" run "$model" --shape image=1x1x27x28
expect_in wrong-shape-msg "$work/err" "dimension 2"
check no-args 2 "$petrel" run
check unknown-flag 2 "$petrel" run "$model" --frobnicate

# quantize / eval: a real run on a few samples, and the argument errors.
check quantize-help 0 "$petrel" quantize --help
expect_in quantize-help-method "$work/out" "--method"
expect_in quantize-help-sensitivity "$work/out" "--sensitivity"
check eval-help 0 "$petrel" eval --help
expect_in eval-help-reference "$work/out" "--reference"
mkdir -p "$work/calib"
for i in 0 1 2 3; do cp "$samples/sample_$i.npy" "$work/calib/"; done
check quantize-static 0 "$petrel" quantize "$model" -o "$work/q8.onnx" --calib "$work/calib" --sensitivity --sensitivity-samples 2
expect_in quantize-summary-size "$work/out" "size:"
expect_in quantize-summary-nodes "$work/out" "Conv 5"
expect_in quantize-sensitivity "$work/out" "SQNR dB"
check quantize-exclude 0 "$petrel" quantize "$model" -o "$work/q8x.onnx" --calib "$work/calib" --exclude Gemm
expect_in quantize-excluded "$work/out" "(Gemm)"
check quantize-int4 0 "$petrel" quantize "$model" -o "$work/q4.onnx" --bits 4 --weights-only
expect_in quantize-int4-opset "$work/out" "opset:        21"
check run-int4 0 "$petrel" run "$work/q4.onnx" --input "image=$samples/sample_0.npy" -q
printf '9\n2\n1\n1\n' > "$work/labels.txt"
check eval 0 "$petrel" eval "$work/q8.onnx" --data "$work/calib" --labels "$work/labels.txt" --reference "$model" --json
/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['samples']==4 and 0<=d['top1']<=1 and 'top1_agreement' in d, d" "$work/out" \
  && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL eval-json content"; cat "$work/out"; }
check quantize-no-calib 2 "$petrel" quantize "$model" -o "$work/x.onnx"
expect_in quantize-no-calib-msg "$work/err" "--calib"
check quantize-bits4-static 2 "$petrel" quantize "$model" -o "$work/x.onnx" --bits 4
check quantize-bad-method 2 "$petrel" quantize "$model" -o "$work/x.onnx" --calib "$work/calib" --method kld
check quantize-bad-block 2 "$petrel" quantize "$model" -o "$work/x.onnx" --bits 4 --weights-only --block 24
check quantize-missing-data 2 "$petrel" quantize "$model" -o "$work/x.onnx" --calib "$work/nope"
check quantize-bad-calib 2 "$petrel" quantize "$model" -o "$work/x.onnx" --calib "$samples/expected_logits.npy"
expect_in quantize-bad-calib-msg "$work/err" "expected_logits.npy"
check eval-few-labels 2 "$petrel" eval "$model" --data "$work/calib" --labels <(printf '1\n')
check eval-bad-labels 2 "$petrel" eval "$model" --data "$work/calib" --labels "$samples/labels.txt"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
