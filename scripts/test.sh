#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite: unit and per-op tests, the
# ONNX backend conformance suite against its manifest, model tests against PyTorch's outputs,
# malformed-model tests, and the model-loader, bundle-reader, calibration-data and serving-input fuzzers (60 s
# each under ASan+UBSan).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
# Benchmark-set models with PyTorch reference outputs (git-ignored; regenerated when missing).
if [ ! -f build/models/.complete ]; then
  /usr/bin/python3 scripts/models/export_benchmark_set.py --out build/models >/dev/null
  touch build/models/.complete
fi
# The loader fuzzer first (its own clang ASan+UBSan build), so ctest's summary closes the run.
if [ "${PETREL_SKIP_FUZZ:-0}" != 1 ]; then
  if ! bash tests/fuzz/run.sh 60 2>&1 | tail -n 25; then
    echo "the loader fuzzer found a problem (reproducer in build/fuzz/findings/)"
    exit 1
  fi
  if ! bash tests/fuzz/run.sh 60 fuzz_bundle_reader 2>&1 | tail -n 25; then
    echo "the bundle-reader fuzzer found a problem (reproducer in build/fuzz/findings-bundle/)"
    exit 1
  fi
  if ! bash tests/fuzz/run.sh 60 fuzz_quant_data 2>&1 | tail -n 25; then
    echo "the calibration-data fuzzer found a problem (reproducer in build/fuzz/findings-data/)"
    exit 1
  fi
  if ! bash tests/fuzz/run.sh 60 fuzz_serve_input 2>&1 | tail -n 25; then
    echo "the serving-input fuzzer found a problem (reproducer in build/fuzz/findings-serve/)"
    exit 1
  fi
fi
ctest --preset release -j 2
