// Lowers a partition subgraph to one XNNPACK runtime at fixed shapes. Internal header of the
// XNNPACK provider.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <xnnpack.h>

#include "core/graph.hpp"
#include "core/status.hpp"

namespace petrel::xnnpack {

// Static capability check: can this node go to XNNPACK (attributes, constant weights)?
// `is_float` says whether each input is known to be float32. Shapes are checked at lowering.
bool claims(const Node& n, const Graph& g, const std::vector<bool>& is_float);
// Ops that make a partition worth its boundary transposes.
bool is_heavy(const Node& n);

struct Lowered {
  xnn_runtime_t runtime = nullptr;
  // Re-laid-out weights and constants: XNNPACK requires static data to outlive the runtime.
  std::vector<std::unique_ptr<float[]>> owned;
  ~Lowered();
};

// `shapes` and `float_ok` are per ValueId of `sub` (ONNX layout, from the reference kernels'
// shape inference). External value ids: sub.inputs[i] -> i, sub.outputs[j] -> inputs + j.
// Returns an error (never crashes) for anything XNNPACK can't take; the caller falls back.
Result<std::unique_ptr<Lowered>> lower(const Graph& sub, const std::vector<Shape>& shapes, pthreadpool_t pool);

// NCHW -> NHWC and back for one rank-4 tensor.
void nchw_to_nhwc(const float* src, float* dst, const Shape& nchw);
void nhwc_to_nchw(const float* src, float* dst, const Shape& nchw);

}  // namespace petrel::xnnpack
