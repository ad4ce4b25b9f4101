// Opset normalisation: the IR has the semantics of ONNX opset 17 for every op. Older forms
// (attributes that later became inputs, Upsample, Constant nodes) are rewritten here, so
// kernels implement one version. The few semantic changes that no rewrite expresses are left
// to the kernel, which reads Node::opset (documented in docs/architecture.md).
#pragma once

#include "core/graph.hpp"

namespace petrel::onnx {

// The opset the IR speaks (and the writer emits) for the default domain.
constexpr int64_t kIrOpset = 17;

// The tensor of a Constant node (value, sparse_value already densified, value_float(s),
// value_int(s), value_string(s)).
Status constant_node_value(const Node& n, Tensor& out);
// Rewrites older-opset nodes of `g` (not its subgraphs: they are normalised when parsed).
Status normalize_opsets(Graph& g);

// The newest default-domain opset the writer can emit (quantized models with INT4 weights need
// opset 21 for blocked DequantizeLinear).
constexpr int64_t kMaxWriteOpset = 21;
// Rewrites IR nodes (and those of subgraphs) into their form at `opset` (kIrOpset..kMaxWriteOpset):
// from 18 the Reduce ops other than ReduceSum take `axes` as an input, from 20 DFT takes `axis`
// as an input. GroupNormalization changed meaning at 21 and is refused (Unsupported).
Status denormalize_for_opset(Graph& g, int64_t opset);

}  // namespace petrel::onnx
