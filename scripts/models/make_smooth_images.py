#!/usr/bin/python3
"""Smooth synthetic 'images' for calibrating/evaluating the random-weight benchmark convnets.

Each sample is Gaussian noise on an 8x8 grid per channel, upsampled bicubically to 224x224 and
scaled to unit standard deviation (about the range of ImageNet-normalised pixels). Deterministic.

Usage (Debian's python3 with numpy and torch):
  /usr/bin/python3 scripts/models/make_smooth_images.py OUT.npy N [--seed S]
Writes float32 (N, 3, 224, 224).
"""
import argparse

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    g = torch.Generator().manual_seed(a.seed)
    z = torch.randn(a.n, 3, 8, 8, generator=g)
    x = torch.nn.functional.interpolate(z, size=(224, 224), mode="bicubic", align_corners=False)
    x = x / x.std()
    np.save(a.out, x.numpy().astype(np.float32))


if __name__ == "__main__":
    main()
