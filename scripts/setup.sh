#!/usr/bin/env bash
# Installs every Debian package Petrel needs to build, test and export its models.
# Idempotent and non-interactive: safe to run again; installs only what is missing.
set -euo pipefail

PKGS=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  # libraries
  libgtest-dev libcli11-dev
  # signed/encrypted bundles and the update agent (Ed25519, XChaCha20-Poly1305; manifest JSON)
  libsodium-dev nlohmann-json3-dev
  # XNNPACK provider (f32 convolution, fully-connected, pooling, element-wise)
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev
  # quantization data readers: gzip'ed IDX datasets (zlib) and PNG calibration images (libpng)
  zlib1g-dev libpng-dev
  # ONNX conformance data and python tooling for tests and model export
  libonnx-testdata python3-onnx python3-numpy
  python3-torch python3-torchvision dataset-fashion-mnist
  # the update agent's fsync/rename-order test traces system calls
  strace
  # petrel serve's HTTP(S) server and the hybrid router's cloud client (cpp-httplib, built by Debian with OpenSSL: TLS needs libssl-dev's
  # headers), Prometheus registry + text format (prometheus-cpp core only)
  libcpp-httplib-dev libssl-dev prometheus-cpp-dev
  # serving tests and benchmarks: promtool checks /metrics, wrk loads the server, curl for docs
  prometheus wrk curl
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
