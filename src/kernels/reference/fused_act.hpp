// Kernel side of the fused-activation contract (core/fused_activation.hpp): Conv, ConvTranspose,
// Gemm, MatMul and petrel.FusedMatMul parse the attributes once in their factory and apply the
// activation to their output after computing it.
#pragma once

#include "core/fused_activation.hpp"
#include "kernels/kernel.hpp"

namespace petrel::ref {

// infer: a fused activation is defined for float outputs only.
Status check_fused_activation(const OpContext& ctx, const FusedActivation& fa, DataType dt);
// compute: applies `fa` to every element of `y` in place (float types; no-op for kNone).
void apply_fused_activation(const FusedActivation& fa, Tensor& y, ThreadPool* pool);

}  // namespace petrel::ref
