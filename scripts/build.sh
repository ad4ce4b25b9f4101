#!/usr/bin/env bash
# Configures and builds the release preset (Ninja). Usage: scripts/build.sh [extra ninja targets]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
[ -f build/release/build.ninja ] || cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs" ${1:+--target "$@"}
