// Small helpers shared by the nn kernels.
#pragma once

#include <string>

#include "kernels/reference/common.hpp"

namespace petrel::ref::nn {

// Inputs 0..n-1 must be present (the node may omit them; a kernel never reads a missing one).
inline Status require_inputs(const OpContext& ctx, int n) {
  for (int i = 0; i < n; ++i)
    if (!ctx.has_input(i)) return ctx.error("input " + std::to_string(i) + " is required");
  return Status::ok();
}

// Float-type dispatch (float, double, float16, bfloat16).
template <typename F> Status dispatch_x(DataType t, F&& f) {
  switch (t) {
    case DataType::kFloat: return f(Tag<float>{});
    case DataType::kDouble: return f(Tag<double>{});
    case DataType::kFloat16: return f(Tag<Float16>{});
    case DataType::kBFloat16: return f(Tag<BFloat16>{});
    default: return unsupported("dtype " + std::string(dtype_name(t)));
  }
}

// Stores v at element i of a float-typed tensor.
inline void put_float(Tensor& t, int64_t i, double v) {
  switch (t.dtype) {
    case DataType::kFloat: t.as<float>()[i] = float(v); break;
    case DataType::kDouble: t.as<double>()[i] = v; break;
    case DataType::kFloat16: t.as<Float16>()[i] = Float16(float(v)); break;
    default: t.as<BFloat16>()[i] = BFloat16(float(v)); break;
  }
}

}  // namespace petrel::ref::nn
