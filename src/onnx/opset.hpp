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

}  // namespace petrel::onnx
