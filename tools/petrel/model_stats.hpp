// Cost figures of a session's graph at its current shapes.
#pragma once

#include <cstdint>

#include "api/session_impl.hpp"

namespace petrel::cli {

// Multiply-accumulates of Conv/ConvTranspose/Gemm/MatMul at the shapes of the last plan or run;
// `unknown` counts matrix nodes whose shapes are not known yet.
int64_t count_macs(const Session::Impl& s, int* unknown);
// The same for the model at `path` with these inputs, counted on a second session without the
// XNNPACK provider (whose partitions hide their nodes from the executor). Plans, never runs.
int64_t count_macs_of(const std::string& path, const std::vector<Tensor>& inputs, int* unknown);

// "Conv", "petrel.FusedMatMul+Gelu": the op with its domain (when not ONNX's) and any fused
// activation, for histograms and profiles.
std::string op_label(const Node& n);

}  // namespace petrel::cli
