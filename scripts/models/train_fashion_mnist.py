#!/usr/bin/python3
"""Train Petrel's default demo model: a small CNN for Fashion-MNIST.

Produces the committed files under models/fashion_mnist/:
  fashion_cnn.onnx            ONNX opset 13, input "image" [batch,1,28,28] float32,
                              output "logits" [batch,10] float32 (no softmax)
  metrics.json                test accuracy, parameter count, MACs, training time
  classes.txt                 the 10 class names in label order
  samples/sample_{0..7}.npy   first 8 test images, preprocessed, [1,1,28,28] float32
  samples/labels.txt          "sample_0.npy 9 Ankle boot" per line
  samples/expected_logits.npy PyTorch logits for the 8 samples, [8,10] float32

Data: Debian package dataset-fashion-mnist (idx ubyte .gz files in
/usr/share/datasets/fashion-mnist). No network access is needed.

Preprocessing (must match the runtime): x = (pixel / 255 - 0.2860) / 0.3530.

Usage (run with Debian's python, which has torch 1.13 / onnx 1.12):
  /usr/bin/python3 scripts/models/train_fashion_mnist.py
  /usr/bin/python3 scripts/models/train_fashion_mnist.py --export-test-set build/fashion_mnist
The second form only writes the preprocessed test set (test_images.npy
[10000,1,28,28] float32, test_labels.npy [10000] int64) and exits; use a
git-ignored folder (e.g. build/...), the files are ~31 MB.
"""

import argparse
import gzip
import json
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
DEFAULT_OUT_DIR = os.path.join(REPO_ROOT, "models", "fashion_mnist")

MEAN = 0.2860
STD = 0.3530
SEED = 1234
CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]


# ----------------------------------------------------------------------------
# idx reader
# ----------------------------------------------------------------------------
_IDX_DTYPES = {
    0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8",
}


def read_idx(path):
    """Read an idx file (optionally gzip-compressed) into a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError(f"{path}: too short for an idx header")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code not in _IDX_DTYPES:
        raise ValueError(f"{path}: bad idx magic {data[:4]!r}")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_DTYPES[dtype_code])
    count = int(np.prod(dims)) if ndim else 1
    offset = 4 + 4 * ndim
    if len(data) - offset != count * dtype.itemsize:
        raise ValueError(f"{path}: expected {count * dtype.itemsize} payload bytes, "
                         f"got {len(data) - offset}")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return arr.reshape(dims).astype(dtype.newbyteorder("="))


def find_file(data_dir, stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(data_dir, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(
        f"{stem}(.gz) not found in {data_dir}; install the Debian package "
        f"dataset-fashion-mnist (see scripts/setup.sh)")


def load_split(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(find_file(data_dir, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(find_file(data_dir, f"{prefix}-labels-idx1-ubyte"))
    assert images.ndim == 3 and images.shape[1:] == (28, 28), images.shape
    assert labels.shape == (images.shape[0],), labels.shape
    return images, labels.astype(np.int64)


def preprocess(images_u8):
    """uint8 [N,28,28] -> float32 NCHW [N,1,28,28], (x/255 - MEAN)/STD."""
    x = images_u8.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return np.ascontiguousarray(x[:, None, :, :], dtype=np.float32)


# ----------------------------------------------------------------------------
# model
# ----------------------------------------------------------------------------
class FashionCNN(nn.Module):
    """~56k parameters, ~4.8 MMACs per 28x28 image.

    conv3x3(1->16)@28 -> pool -> conv3x3(16->32)@14 -> conv3x3(32->32)@14 -> pool
    -> conv3x3(32->48)@7 -> conv3x3(48->64)@7 -> global avg pool -> fc(64->10).
    BatchNorm after every conv (folded into the Conv weights on ONNX export).
    """

    def __init__(self, num_classes=10):
        super().__init__()

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                    nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *block(1, 16), nn.MaxPool2d(2),
            *block(16, 32), *block(32, 32), nn.MaxPool2d(2),
            *block(32, 48), *block(48, 64),
            nn.AdaptiveAvgPool2d(1),
        )
        self.dropout = nn.Dropout(0.1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.fc(self.dropout(x))


def count_macs(model):
    """Multiply-accumulates of Conv2d/Linear for one 1x28x28 image."""
    macs = [0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
            macs[0] += out.numel() * k
        elif isinstance(mod, nn.Linear):
            macs[0] += out.numel() * mod.in_features

    hs = [m.register_forward_hook(hook) for m in model.modules()
          if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    model.train(was_training)
    for h in hs:
        h.remove()
    return macs[0]


# ----------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------
def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def augment(xb, gen):
    """Random horizontal flip + random shift (pad 2, crop 28), batch-wise, seeded."""
    n = xb.shape[0]
    flip = torch.rand(n, generator=gen) < 0.5
    xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
    bg = (0.0 - MEAN) / STD  # value of a black pixel after normalization
    padded = F.pad(xb, (2, 2, 2, 2), value=bg)
    dx, dy = torch.randint(0, 5, (2,), generator=gen).tolist()
    return padded[:, :, dy:dy + 28, dx:dx + 28].contiguous()


@torch.no_grad()
def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch):
        logits = model(x[i:i + batch])
        correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    return correct / x.shape[0]


def train(model, x_train, y_train, epochs, batch_size, lr, log_every):
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = (x_train.shape[0] + batch_size - 1) // batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=0.2)
    for epoch in range(epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        total_loss, seen = 0.0, 0
        for step in range(steps_per_epoch):
            idx = perm[step * batch_size:(step + 1) * batch_size]
            xb = augment(x_train[idx], gen)
            yb = y_train[idx]
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += loss.item() * idx.numel()
            seen += idx.numel()
            if log_every and (step + 1) % log_every == 0:
                print(f"  epoch {epoch + 1} step {step + 1}/{steps_per_epoch} "
                      f"loss {total_loss / seen:.4f} ({time.time() - t0:.0f}s)", flush=True)
        print(f"epoch {epoch + 1}/{epochs}: train loss {total_loss / seen:.4f}, "
              f"{time.time() - t0:.1f}s", flush=True)


# ----------------------------------------------------------------------------
# export
# ----------------------------------------------------------------------------
def export_onnx(model, path):
    import onnx
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(
        model, dummy, path,
        export_params=True, opset_version=13, do_constant_folding=True,
        input_names=["image"], output_names=["logits"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
    )
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"wrote {path} ({os.path.getsize(path)} bytes), ops: {', '.join(ops)}")
    return m


def check_onnx_with_numpy(model_proto, x, expected):
    """Tiny numpy interpreter for the ops this model exports to, so that the
    ONNX file can be checked against PyTorch without onnxruntime."""
    from onnx import numpy_helper
    vals = {i.name: numpy_helper.to_array(i) for i in model_proto.graph.initializer}
    vals[model_proto.graph.input[0].name] = x

    def attrs(node):
        from onnx import helper
        return {a.name: helper.get_attribute_value(a) for a in node.attribute}

    def conv(X, W, B, a):
        pads = a.get("pads", [0, 0, 0, 0])
        strides = a.get("strides", [1, 1])
        assert a.get("group", 1) == 1 and list(a.get("dilations", [1, 1])) == [1, 1]
        X = np.pad(X, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
        n, c, h, w = X.shape
        co, _, kh, kw = W.shape
        oh = (h - kh) // strides[0] + 1
        ow = (w - kw) // strides[1] + 1
        cols = np.empty((n, c, kh, kw, oh, ow), dtype=np.float32)
        for i in range(kh):
            for j in range(kw):
                cols[:, :, i, j] = X[:, :, i:i + strides[0] * oh:strides[0],
                                     j:j + strides[1] * ow:strides[1]]
        out = np.einsum("nckluv,ockl->nouv", cols, W, optimize=True)
        if B is not None:
            out = out + B[None, :, None, None]
        return out.astype(np.float32)

    def maxpool(X, a):
        k = a["kernel_shape"]
        s = a.get("strides", k)
        assert list(a.get("pads", [0, 0, 0, 0])) == [0, 0, 0, 0]
        n, c, h, w = X.shape
        oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
        out = np.full((n, c, oh, ow), -np.inf, dtype=np.float32)
        for i in range(k[0]):
            for j in range(k[1]):
                out = np.maximum(out, X[:, :, i:i + s[0] * oh:s[0], j:j + s[1] * ow:s[1]])
        return out

    for node in model_proto.graph.node:
        a = attrs(node)
        ins = [vals[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Conv":
            out = conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "Relu":
            out = np.maximum(ins[0], 0)
        elif op == "MaxPool":
            out = maxpool(ins[0], a)
        elif op == "GlobalAveragePool":
            out = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            axis = a.get("axis", 1)
            out = ins[0].reshape(int(np.prod(ins[0].shape[:axis])), -1)
        elif op == "Gemm":
            A, Bm = ins[0], ins[1]
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                Bm = Bm.T
            out = a.get("alpha", 1.0) * (A @ Bm)
            if len(ins) > 2 and ins[2] is not None:
                out = out + a.get("beta", 1.0) * ins[2]
        else:
            print(f"numpy check skipped: unsupported op {op}")
            return None
        vals[node.output[0]] = out.astype(np.float32)
    got = vals[model_proto.graph.output[0].name]
    err = float(np.abs(got - expected).max())
    print(f"numpy reference run of the ONNX graph vs PyTorch: max abs diff {err:.3g}")
    if err > 1e-3:
        raise SystemExit("ONNX graph disagrees with the PyTorch model")
    return err


def write_test_set(data_dir, out_dir):
    images, labels = load_split(data_dir, "test")
    x = preprocess(images)
    os.makedirs(out_dir, exist_ok=True)
    np.save(os.path.join(out_dir, "test_images.npy"), x)
    np.save(os.path.join(out_dir, "test_labels.npy"), labels.astype(np.int64))
    print(f"wrote {out_dir}/test_images.npy {list(x.shape)} float32 and "
          f"test_labels.npy [{labels.shape[0]}] int64")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    ap.add_argument("--out-dir", default=DEFAULT_OUT_DIR)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--log-every", type=int, default=100, help="steps between progress lines (0: off)")
    ap.add_argument("--limit-train", type=int, default=0, help="use only N training images (smoke test)")
    ap.add_argument("--export-test-set", metavar="DIR",
                    help="write DIR/test_images.npy and DIR/test_labels.npy and exit (no training)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    if args.export_test_set:
        write_test_set(args.data_dir, args.export_test_set)
        return 0

    seed_everything(SEED)
    t_start = time.time()
    tr_img, tr_lab = load_split(args.data_dir, "train")
    te_img, te_lab = load_split(args.data_dir, "test")
    if args.limit_train:
        tr_img, tr_lab = tr_img[:args.limit_train], tr_lab[:args.limit_train]
    x_train, y_train = torch.from_numpy(preprocess(tr_img)), torch.from_numpy(tr_lab)
    x_test, y_test = torch.from_numpy(preprocess(te_img)), torch.from_numpy(te_lab)
    print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}")

    model = FashionCNN()
    params = sum(p.numel() for p in model.parameters())
    macs = count_macs(model)
    print(f"FashionCNN: {params} parameters, {macs} MACs per image")

    t0 = time.time()
    train(model, x_train, y_train, args.epochs, args.batch_size, args.lr, args.log_every)
    train_seconds = time.time() - t0
    acc = evaluate(model, x_test, y_test)
    print(f"test accuracy: {acc * 100:.2f}% ({int(round(acc * 10000))}/10000), "
          f"training time {train_seconds:.0f}s")
    if acc < 0.90:
        print("WARNING: test accuracy below 90%", file=sys.stderr)

    out = args.out_dir
    os.makedirs(os.path.join(out, "samples"), exist_ok=True)
    onnx_path = os.path.join(out, "fashion_cnn.onnx")
    model.eval()
    proto = export_onnx(model, onnx_path)

    samples = x_test[:8].numpy()
    with torch.no_grad():
        expected = model(x_test[:8]).numpy().astype(np.float32)
    check_onnx_with_numpy(proto, samples, expected)

    lines = []
    for i in range(8):
        name = f"sample_{i}.npy"
        np.save(os.path.join(out, "samples", name), samples[i:i + 1].copy())
        lab = int(y_test[i])
        lines.append(f"{name} {lab} {CLASSES[lab]}")
    with open(os.path.join(out, "samples", "labels.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    np.save(os.path.join(out, "samples", "expected_logits.npy"), expected)
    with open(os.path.join(out, "classes.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")

    sample_pred = expected.argmax(1).tolist()
    metrics = {
        "model": "fashion_cnn.onnx",
        "test_accuracy": round(acc, 4),
        "test_correct": int(round(acc * x_test.shape[0])),
        "test_images": int(x_test.shape[0]),
        "params": int(params),
        "macs_per_image": int(macs),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": f"Adam, OneCycle lr max {args.lr}",
        "seed": SEED,
        "train_seconds": round(train_seconds, 1),
        "threads": args.threads,
        "torch_version": torch.__version__,
        "opset": 13,
        "preprocessing": {"scale": 1.0 / 255.0, "mean": MEAN, "std": STD,
                          "layout": "NCHW", "shape": [None, 1, 28, 28], "dtype": "float32"},
        "sample_predictions": sample_pred,
    }
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
        f.write("\n")
    print(f"wrote {out}/metrics.json, classes.txt, samples/ (8 samples); "
          f"total {time.time() - t_start:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
