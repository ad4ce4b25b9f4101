#!/usr/bin/env bash
# Builds a fuzzer (cmake --preset fuzz: clang, libFuzzer, ASan+UBSan) and runs it for SECONDS
# seconds (default 60) over a seed corpus. TARGET (default fuzz_model_loader) is one of
#   fuzz_model_loader  load + create the executor      corpus build/fuzz/corpus,      findings build/fuzz/findings/
#   fuzz_model_run     load + create + run the graph   corpus build/fuzz/corpus-run,  findings build/fuzz/findings-run/
#   fuzz_bundle_reader bundle header, signature, manifest, extraction
#                                                      corpus build/fuzz/corpus-bundle, findings build/fuzz/findings-bundle/
#   fuzz_quant_data    quantization data readers       corpus build/fuzz/corpus-data, findings build/fuzz/findings-data/
#   fuzz_serve_input   infer request/response JSON, calibration profiles, request paths
#                                                      corpus build/fuzz/corpus-serve, findings build/fuzz/findings-serve/
# Exits non-zero on any finding (crash, leak, sanitizer report, timeout, out-of-memory); the
# reproducer is left in the findings folder.
#
#   tests/fuzz/run.sh 60
#   tests/fuzz/run.sh 300 fuzz_model_run
#   build/fuzz/tests/fuzz/fuzz_model_loader build/fuzz/findings/crash-...   # reproduce one
set -euo pipefail

SECONDS_TO_RUN="${1:-60}"
TARGET="${2:-fuzz_model_loader}"
case "$TARGET" in
  fuzz_model_loader) SUFFIX="" ;;
  fuzz_model_run) SUFFIX="-run" ;;
  fuzz_bundle_reader) SUFFIX="-bundle" ;;
  fuzz_quant_data) SUFFIX="-data" ;;
  fuzz_serve_input) SUFFIX="-serve" ;;
  *) echo "unknown fuzz target '$TARGET' (fuzz_model_loader, fuzz_model_run, fuzz_bundle_reader, fuzz_quant_data or fuzz_serve_input)" >&2; exit 2 ;;
esac
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUILD="$ROOT/build/fuzz"
LOCK=/tmp/petrel-build.lock

flock "$LOCK" cmake --preset fuzz >/dev/null
flock "$LOCK" cmake --build --preset fuzz --target "$TARGET" -j2
FUZZER="$BUILD/tests/fuzz/$TARGET"

# Seed corpus: the shipped CNN, the handcrafted corrupt models, and ~30 small models from the
# ONNX node tests chosen to cover subgraphs, sequences, optionals, typed/raw data and old opsets.
CORPUS="$BUILD/corpus$SUFFIX"
SEEDS="$BUILD/seeds$SUFFIX"
FINDINGS="$BUILD/findings$SUFFIX"
mkdir -p "$CORPUS" "$SEEDS" "$FINDINGS"
rm -f "$SEEDS"/*
if [ "$TARGET" = fuzz_bundle_reader ]; then
  # Seeds: valid signed bundles (plain, encrypted, with a calibration profile) that the fuzzer
  # writes itself at start-up with its fixed key.
  export PETREL_FUZZ_BUNDLE_SEEDS="$SEEDS"
elif [ "$TARGET" = fuzz_quant_data ]; then
  # One byte picks the reader (0 npy, 1 IDX, 2 gzip, 3 PGM/PPM, 4 PNG), the file follows.
  { printf '\x00'; cat models/fashion_mnist/samples/sample_0.npy; } > "$SEEDS/npy"
  { printf '\x01\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00\x02'; head -c 8 /dev/zero; } > "$SEEDS/idx"
  { printf '\x02'; printf '\x00\x00\x08\x01\x00\x00\x00\x04abcd' | gzip -c; } > "$SEEDS/gz"
  { printf '\x03P5\n# c\n2 2\n255\n'; printf '\x00\x40\x80\xff'; } > "$SEEDS/pgm"
  { printf '\x0bP6 1 1 255\n'; printf '\xff\x00\x00'; } > "$SEEDS/ppm"
  png=$(find /usr/share -name '*.png' -size -4k 2>/dev/null | head -n 3 || true)
  for f in $png; do { printf '\x04'; cat "$f"; } > "$SEEDS/png_$(basename "$f")"; done
elif [ "$TARGET" = fuzz_serve_input ]; then
  # One byte picks the parser (0 request, 1 response, 2 profile, 3 path), the text follows.
  { printf '\x00'; printf '{"id":"a","inputs":[{"name":"image","datatype":"FP32","shape":[1,2],"data":[[0.5,-1e3]]}],"parameters":{"x":1}}'; } > "$SEEDS/request"
  { printf '\x00'; printf '{"inputs":[{"name":"t","datatype":"INT8","shape":[3],"data":[1,-128,127]},{"name":"b","datatype":"BOOL","shape":[1],"data":[true]}]}'; } > "$SEEDS/request_types"
  { printf '\x00'; printf '{"inputs":[{"name":"x","datatype":"FP16","shape":[2,2],"d\\u0061ta":[1],"data":[[-0,65519],[1e-400, 3.4028235e38]]}],"inputs":[]}'; } > "$SEEDS/request_edges"
  { printf '\x01'; printf '{"model_name":"m","model_version":"1","outputs":[{"name":"logits","datatype":"FP32","shape":[1,3],"data":[0.1,0.2,0.7]}]}'; } > "$SEEDS/response"
  { printf '\x03'; printf '/v2/models/fashion/versions/1/infer'; } > "$SEEDS/path"
  # A real profile: `petrel profile` of the Fashion-MNIST model over its 8 shipped samples.
  { printf '\x02'; cat tests/fuzz/seed_profile.json; } > "$SEEDS/profile"
  { printf '\x02'; printf '{"format":"petrel-calibration-profile","version":1,"samples":8,"outputs":[],"inputs":[]}'; } > "$SEEDS/profile_min"
else
cp models/fashion_mnist/fashion_cnn.onnx "$SEEDS/fashion_cnn.onnx"
for f in tests/malformed/*.onnx; do
  [ "$TARGET" = fuzz_quant_data ] && break
  [ -s "$f" ] && cp "$f" "$SEEDS/malformed_$(basename "$f")"
done
NODE=/usr/share/libonnx-testdata/data/node
if [ -d "$NODE" ] && [ "$TARGET" != fuzz_quant_data ]; then
  for t in test_if test_if_seq test_loop11 test_loop13_seq test_scan9_sum test_constant \
           test_conv_with_strides_padding test_reshape_extended_dims test_gather_0 \
           test_resize_upsample_scales_nearest test_upsample_nearest test_cast_FLOAT_to_STRING \
           test_sequence_insert_at_back test_optional_get_element test_layer_normalization_2d_axis0 \
           test_lstm_defaults test_gru_defaults test_maxpool_2d_pads test_split_variable_parts_1d \
           test_slice test_clip test_einsum_batch_diagonal test_nonzero_example \
           test_constantofshape_float_ones test_batchnorm_epsilon test_softmax_axis_0 test_matmul_2d \
           test_gemm_default_no_bias test_dropout_default test_reduce_sum_default_axes_keepdims_example \
           test_constant_pad test_range_float_type_positive_delta_expanded; do
    [ -f "$NODE/$t/model.onnx" ] && cp "$NODE/$t/model.onnx" "$SEEDS/$t.onnx"
  done
  # The run fuzzer also gets ~150 small node-test models spread over the alphabet (a broad
  # op mix): every k-th model under 8 KiB, in name order.
  if [ "$TARGET" = fuzz_model_run ]; then
    mapfile -t small < <(find "$NODE" -mindepth 2 -maxdepth 2 -name model.onnx -size -8k | sort)
    step=$(( ${#small[@]} / 150 )); [ "$step" -ge 1 ] || step=1
    for ((i = 0; i < ${#small[@]}; i += step)); do
      t="$(basename "$(dirname "${small[$i]}")")"
      cp "${small[$i]}" "$SEEDS/$t.onnx"
    done
  fi
fi
fi
echo "seeds: $(ls "$SEEDS" | wc -l) files; corpus: $(ls "$CORPUS" | wc -l) files"

# Findings land in $FINDINGS; libFuzzer exits non-zero on the first one.
set +e
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
"$FUZZER" "$CORPUS" "$SEEDS" \
  -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048 -max_len=262144 -timeout=10 \
  -artifact_prefix="$FINDINGS/" -print_final_stats=1
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "$TARGET: FINDING (exit $rc); reproducers in $FINDINGS:" >&2
  ls -la "$FINDINGS" >&2
  exit 1
fi
echo "$TARGET: no findings in ${SECONDS_TO_RUN}s"
