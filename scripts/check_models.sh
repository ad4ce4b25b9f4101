#!/usr/bin/env bash
# Runs every model of the benchmark set through Petrel and compares with PyTorch's outputs
# (max abs error <= 1e-4 of the output's range). Exports the set first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh petrel_model_check
if [ ! -f build/models/.complete ]; then
  /usr/bin/python3 scripts/models/export_benchmark_set.py --out build/models
  touch build/models/.complete
fi
exec build/release/tests/models/petrel_model_check build/models "$@"
