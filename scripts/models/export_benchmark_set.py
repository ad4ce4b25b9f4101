#!/usr/bin/python3
"""Export Petrel's benchmark / conformance model set to ONNX (opset 13).

For every model NAME this writes, under --out (default build/models, git-ignored):
  NAME/model.onnx               the model, static shapes, batch 1
  NAME/input_<input>.npy        one deterministic input per graph input
  NAME/output_<output>.npy      PyTorch's output on that input (eval, no_grad)
  NAME/meta.json                input/output names, shapes, dtypes, params, MACs, ops

Models: torchvision mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large,
resnet18, resnet50, squeezenet1_1, efficientnet_b0, shufflenet_v2_x1_0,
mnasnet1_0 (random weights, input "input" [1,3,224,224], output "output"),
plus hand-written bert_encoder, gpt_decoder, kws_dscnn and mlp_autoencoder.

Usage (Debian's python, torch 1.13 / torchvision 0.14 / onnx 1.12):
  /usr/bin/python3 scripts/models/export_benchmark_set.py
  /usr/bin/python3 scripts/models/export_benchmark_set.py --only resnet18,bert_encoder --out /tmp/m
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "build", "models")
OPSET = 13
NEG_INF = -10000.0  # additive mask value (exp() underflows to exactly 0 in fp32; fp16-safe)


# ----------------------------------------------------------------------------
# Transformer building blocks (plain MatMul / Softmax attention)
# ----------------------------------------------------------------------------
class SelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        assert hidden % heads == 0
        self.heads = heads
        self.head_dim = hidden // heads
        self.q = nn.Linear(hidden, hidden)
        self.k = nn.Linear(hidden, hidden)
        self.v = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)

    def split(self, x, seq):
        # [1, T, C] -> [1, H, T, D]; shapes are Python ints (static export)
        return x.reshape(1, seq, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, bias):
        seq = x.shape[1]
        q = self.split(self.q(x), seq)
        k = self.split(self.k(x), seq)
        v = self.split(self.v(x), seq)
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim))
        scores = scores + bias  # additive mask, broadcast to [1, H, T, T]
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v)  # [1, H, T, D]
        ctx = ctx.transpose(1, 2).reshape(1, seq, self.heads * self.head_dim)
        return self.out(ctx)


class FeedForward(nn.Module):
    def __init__(self, hidden, ffn):
        super().__init__()
        self.fc1 = nn.Linear(hidden, ffn)
        self.fc2 = nn.Linear(ffn, hidden)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


def init_transformer(module, std=0.02):
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=std)
            if m.bias is not None:
                nn.init.normal_(m.bias, std=std)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=std)
        elif isinstance(m, nn.LayerNorm):
            # slightly perturbed so that the affine part is exercised
            nn.init.normal_(m.weight, mean=1.0, std=0.1)
            nn.init.normal_(m.bias, std=0.1)


class BertLayer(nn.Module):
    """Post-LayerNorm encoder layer as in BERT."""

    def __init__(self, hidden, heads, ffn):
        super().__init__()
        self.attn = SelfAttention(hidden, heads)
        self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
        self.ffn = FeedForward(hidden, ffn)
        self.ln2 = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x, bias):
        x = self.ln1(x + self.attn(x, bias))
        return self.ln2(x + self.ffn(x))


class BertEncoder(nn.Module):
    def __init__(self, vocab=1000, max_pos=128, hidden=256, layers=4, heads=4, ffn=1024):
        super().__init__()
        self.tok = nn.Embedding(vocab, hidden)
        self.pos = nn.Embedding(max_pos, hidden)
        self.ln = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList(BertLayer(hidden, heads, ffn) for _ in range(layers))
        init_transformer(self)

    def forward(self, input_ids, attention_mask):
        seq = input_ids.shape[1]
        x = self.tok(input_ids) + self.pos.weight[:seq].unsqueeze(0)
        x = self.ln(x)
        # attention_mask [1, T] int64: 1 = attend, 0 = padding key -> bias [1, 1, 1, T]
        bias = (1.0 - attention_mask.to(torch.float32)) * NEG_INF
        bias = bias.unsqueeze(1).unsqueeze(2)
        for layer in self.layers:
            x = layer(x, bias)
        return x


class GptBlock(nn.Module):
    """Pre-LayerNorm decoder block as in GPT-2."""

    def __init__(self, hidden, heads, ffn):
        super().__init__()
        self.ln1 = nn.LayerNorm(hidden)
        self.attn = SelfAttention(hidden, heads)
        self.ln2 = nn.LayerNorm(hidden)
        self.ffn = FeedForward(hidden, ffn)

    def forward(self, x, bias):
        x = x + self.attn(self.ln1(x), bias)
        return x + self.ffn(self.ln2(x))


class GptDecoder(nn.Module):
    def __init__(self, vocab=1000, seq=64, hidden=384, layers=6, heads=6, ffn=1536):
        super().__init__()
        self.tok = nn.Embedding(vocab, hidden)
        self.pos = nn.Embedding(seq, hidden)
        self.blocks = nn.ModuleList(GptBlock(hidden, heads, ffn) for _ in range(layers))
        self.ln_f = nn.LayerNorm(hidden)
        self.head = nn.Linear(hidden, vocab, bias=False)
        causal = torch.tril(torch.ones(seq, seq))
        self.register_buffer("causal_bias", ((1.0 - causal) * NEG_INF).view(1, 1, seq, seq))
        init_transformer(self)

    def forward(self, input_ids):
        seq = input_ids.shape[1]
        x = self.tok(input_ids) + self.pos.weight[:seq].unsqueeze(0)
        bias = self.causal_bias[:, :, :seq, :seq]
        for blk in self.blocks:
            x = blk(x, bias)
        return self.head(self.ln_f(x))


# ----------------------------------------------------------------------------
# Small edge models
# ----------------------------------------------------------------------------
class DSCNN(nn.Module):
    """Keyword-spotting DS-CNN (ARM "Hello Edge", DS-CNN-S): input [1,1,49,10] MFCC."""

    def __init__(self, channels=64, blocks=4, classes=12):
        super().__init__()
        layers = [nn.Conv2d(1, channels, (10, 4), stride=2, padding=(5, 1), bias=False),
                  nn.BatchNorm2d(channels), nn.ReLU()]
        for _ in range(blocks):
            layers += [nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
                       nn.BatchNorm2d(channels), nn.ReLU(),
                       nn.Conv2d(channels, channels, 1, bias=False),
                       nn.BatchNorm2d(channels), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, classes)
        # non-trivial BatchNorm statistics (deterministic, from the global seed)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                nn.init.uniform_(m.weight, 0.5, 1.5)
                nn.init.uniform_(m.bias, -0.1, 0.1)

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.fc(torch.flatten(x, 1))


class MlpAutoencoder(nn.Module):
    """Anomaly-detection autoencoder (MLPerf Tiny ToyADMOS style) without BatchNorm."""

    def __init__(self, dims=(640, 128, 128, 128, 8, 128, 128, 128, 640)):
        super().__init__()
        layers = []
        for i in range(len(dims) - 1):
            layers.append(nn.Linear(dims[i], dims[i + 1]))
            if i < len(dims) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


# ----------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------
def _uniform(rng, shape):
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


@torch.no_grad()
def calibrate_batchnorm(model, shape, batches=1, batch_size=8):
    """Set BatchNorm running statistics from seeded random data.

    torchvision's random init with default BN statistics (mean 0, var 1) makes
    the activations of deep nets shrink layer by layer: mobilenet/efficientnet/
    mnasnet logits come out ~1e-9..1e-14, useless as a numerical reference.
    With per-layer statistics every BN output is ~unit variance again.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    gen = torch.Generator().manual_seed(1)
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calibration batches
    model.train()
    for _ in range(batches):
        model(torch.rand((batch_size,) + tuple(shape[1:]), generator=gen) * 2 - 1)
    model.eval()


def _tv(name):
    def build(rng):
        import torchvision.models as tvm
        model = getattr(tvm, name)(weights=None)
        calibrate_batchnorm(model, (1, 3, 224, 224))
        return model, {"input": _uniform(rng, (1, 3, 224, 224))}, ["output"]
    return build


def _bert(rng):
    ids = rng.integers(0, 1000, size=(1, 128), dtype=np.int64)
    mask = np.ones((1, 128), dtype=np.int64)
    mask[:, -16:] = 0
    return BertEncoder(), {"input_ids": ids, "attention_mask": mask}, ["last_hidden_state"]


def _gpt(rng):
    ids = rng.integers(0, 1000, size=(1, 64), dtype=np.int64)
    return GptDecoder(), {"input_ids": ids}, ["logits"]


def _kws(rng):
    return DSCNN(), {"input": _uniform(rng, (1, 1, 49, 10))}, ["output"]


def _mlp(rng):
    return MlpAutoencoder(), {"input": _uniform(rng, (1, 640))}, ["output"]


MODELS = {
    "mobilenet_v2": _tv("mobilenet_v2"),
    "mobilenet_v3_small": _tv("mobilenet_v3_small"),
    "mobilenet_v3_large": _tv("mobilenet_v3_large"),
    "resnet18": _tv("resnet18"),
    "resnet50": _tv("resnet50"),
    "squeezenet1_1": _tv("squeezenet1_1"),
    "efficientnet_b0": _tv("efficientnet_b0"),
    "shufflenet_v2_x1_0": _tv("shufflenet_v2_x1_0"),
    "mnasnet1_0": _tv("mnasnet1_0"),
    "bert_encoder": _bert,
    "gpt_decoder": _gpt,
    "kws_dscnn": _kws,
    "mlp_autoencoder": _mlp,
}


# ----------------------------------------------------------------------------
# Export helpers
# ----------------------------------------------------------------------------
def onnx_macs(model_proto):
    """Multiply-accumulates of Conv / ConvTranspose / MatMul / Gemm from inferred shapes."""
    import onnx
    inferred = onnx.shape_inference.infer_shapes(model_proto)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        dims = [d.dim_value if d.HasField("dim_value") else None
                for d in vi.type.tensor_type.shape.dim]
        shapes[vi.name] = dims
    for init in inferred.graph.initializer:
        shapes[init.name] = list(init.dims)

    def known(s):
        return s is not None and all(d is not None for d in s)

    total = 0
    for node in inferred.graph.node:
        out = shapes.get(node.output[0])
        if node.op_type == "Conv":
            w = shapes.get(node.input[1])
            if known(out) and known(w):
                total += int(np.prod(out)) * int(np.prod(w[1:]))
        elif node.op_type == "MatMul":
            a = shapes.get(node.input[0])
            if known(out) and known(a):
                total += int(np.prod(out)) * a[-1]
        elif node.op_type == "Gemm":
            a = shapes.get(node.input[0])
            trans_a = any(at.name == "transA" and at.i for at in node.attribute)
            if known(out) and known(a):
                total += int(np.prod(out)) * (a[0] if trans_a else a[1])
    return total


def export_one(name, out_root):
    import onnx
    # Fixed seeds: weights from torch.manual_seed(0), inputs from a per-model numpy generator.
    torch.manual_seed(0)
    rng = np.random.default_rng(abs(hash_name(name)))
    model, inputs, output_names = MODELS[name](rng)
    model.eval()
    params = sum(p.numel() for p in model.parameters())

    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    input_names = list(inputs.keys())
    args = tuple(torch.from_numpy(v) for v in inputs.values())

    t0 = time.time()
    with torch.no_grad():
        outs = model(*args)
    if isinstance(outs, torch.Tensor):
        outs = (outs,)
    outs = [o.detach().numpy() for o in outs]
    assert len(outs) == len(output_names)

    torch.onnx.export(
        model, args, path,
        export_params=True, opset_version=OPSET, do_constant_folding=True,
        input_names=input_names, output_names=output_names,
        training=torch.onnx.TrainingMode.EVAL,
    )
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    graph_inputs = [i.name for i in proto.graph.input]
    graph_outputs = [o.name for o in proto.graph.output]
    if graph_inputs != input_names or graph_outputs != output_names:
        raise RuntimeError(f"{name}: graph I/O {graph_inputs}->{graph_outputs}, "
                           f"expected {input_names}->{output_names}")

    for k, v in inputs.items():
        np.save(os.path.join(d, f"input_{k}.npy"), v)
    for k, v in zip(output_names, outs):
        if not np.all(np.isfinite(v)):
            raise RuntimeError(f"{name}: non-finite PyTorch output")
        np.save(os.path.join(d, f"output_{k}.npy"), v)

    ops = {}
    for n in proto.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    macs = onnx_macs(proto)
    size = os.path.getsize(path)
    meta = {
        "name": name,
        "opset": OPSET,
        "inputs": [{"name": k, "shape": list(v.shape), "dtype": str(v.dtype)}
                   for k, v in inputs.items()],
        "outputs": [{"name": k, "shape": list(v.shape), "dtype": str(v.dtype)}
                    for k, v in zip(output_names, outs)],
        "params": int(params),
        "macs": int(macs),
        "gmacs": round(macs / 1e9, 4),
        "onnx_bytes": size,
        "nodes": len(proto.graph.node),
        "op_counts": dict(sorted(ops.items())),
        "torch_version": torch.__version__,
        "seed": {"torch": 0, "numpy_input": abs(hash_name(name))},
    }
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    return meta, time.time() - t0


def hash_name(name):
    """Stable (process-independent) 32-bit seed from the model name (FNV-1a)."""
    h = 0x811C9DC5
    for c in name.encode():
        h = ((h ^ c) * 0x01000193) & 0xFFFFFFFF
    return h


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    ap.add_argument("--only", help="comma-separated model names (default: all); "
                                   "known: " + ",".join(MODELS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--list", action="store_true", help="list model names and exit")
    args = ap.parse_args()

    if args.list:
        print("\n".join(MODELS))
        return 0
    torch.set_num_threads(args.threads)
    names = list(MODELS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        bad = [n for n in names if n not in MODELS]
        if bad:
            ap.error(f"unknown model(s) {bad}; known: {', '.join(MODELS)}")

    os.makedirs(args.out, exist_ok=True)
    print(f"{'model':<20} {'params':>12} {'MMACs':>9} {'onnx MB':>9} {'nodes':>6} {'sec':>6}")
    failed = []
    t_all = time.time()
    for name in names:
        try:
            meta, secs = export_one(name, args.out)
        except Exception as e:  # keep going, report at the end
            print(f"{name:<20} FAILED: {type(e).__name__}: {e}", flush=True)
            failed.append(name)
            continue
        print(f"{name:<20} {meta['params']:>12,} {meta['macs'] / 1e6:>9.2f} "
              f"{meta['onnx_bytes'] / 1e6:>9.2f} {meta['nodes']:>6} {secs:>6.1f}", flush=True)
    print(f"exported {len(names) - len(failed)}/{len(names)} models to {args.out} "
          f"in {time.time() - t_all:.0f}s")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
