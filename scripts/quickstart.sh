#!/usr/bin/env bash
# Petrel's main job on the embedded default model: installs what is needed, builds, and
# classifies the shipped Fashion-MNIST test images with `petrel run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
model=models/fashion_mnist/fashion_cnn.onnx
samples=models/fashion_mnist/samples
echo
./build/release/petrel inspect "$model"
echo
printf '%-14s %-14s %-14s %7s  %s\n' image truth predicted conf latency
while read -r file label name; do
  out=$(./build/release/petrel run "$model" --input "image=$samples/$file" \
        --labels models/fashion_mnist/classes.txt --repeat 20 --quiet)
  printf '%-14s %-14s %s\n' "$file" "$name" "$out"
done < "$samples/labels.txt"
