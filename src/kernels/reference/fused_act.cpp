#include "kernels/reference/fused_act.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/reference/common.hpp"

namespace petrel::ref {

Status check_fused_activation(const OpContext& ctx, const FusedActivation& fa, DataType dt) {
  if (fa.none() || dtype_is_float(dt)) return Status::ok();
  return ctx.error(std::string("fused activation ") + fa.name() + " needs a float output, got " + std::string(dtype_name(dt)));
}

namespace {

// The contract's formulas in double, so that double outputs are not rounded through float.
double apply_double(const FusedActivation& fa, double x) {
  switch (fa.kind) {
    case Activation::kNone: return x;
    case Activation::kRelu: return x > 0 ? x : 0.0;
    case Activation::kClip: return std::min(std::max(x, double(fa.p0)), double(fa.p1));
    case Activation::kLeakyRelu: return x >= 0 ? x : double(fa.p0) * x;
    case Activation::kSigmoid: return 1.0 / (1.0 + std::exp(-x));
    case Activation::kHardSigmoid: return std::max(0.0, std::min(1.0, double(fa.p0) * x + double(fa.p1)));
    case Activation::kHardSwish: return x * std::max(0.0, std::min(1.0, x / 6.0 + 0.5));
    case Activation::kSwish: return x / (1.0 + std::exp(-x));
    case Activation::kGelu: return 0.5 * x * (1.0 + std::erf(x * 0.70710678118654752));
    case Activation::kGeluTanh: return 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
  }
  return x;
}

template <typename F> void for_blocks(int64_t n, ThreadPool* pool, F&& f) {
  constexpr int64_t kBlock = 16384;
  if (pool == nullptr || pool->size() == 1 || n < 4 * kBlock) {
    f(0, n);
    return;
  }
  pool->parallel_for((n + kBlock - 1) / kBlock, 1, [&](int64_t b, int64_t e) { f(b * kBlock, std::min(n, e * kBlock)); });
}

}  // namespace

void apply_fused_activation(const FusedActivation& fa, Tensor& y, ThreadPool* pool) {
  if (fa.none()) return;
  const int64_t n = y.numel();
  switch (y.dtype) {
    case DataType::kFloat: {
      float* p = y.as<float>();
      for_blocks(n, pool, [&](int64_t b, int64_t e) { fa.apply(p + b, e - b); });
      break;
    }
    case DataType::kDouble: {
      double* p = y.as<double>();
      for_blocks(n, pool, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; ++i) p[i] = apply_double(fa, p[i]); });
      break;
    }
    case DataType::kFloat16: {
      Float16* p = y.as<Float16>();
      for_blocks(n, pool, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; ++i) p[i] = Float16(fa.apply_one(float(p[i]))); });
      break;
    }
    case DataType::kBFloat16: {
      BFloat16* p = y.as<BFloat16>();
      for_blocks(n, pool, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; ++i) p[i] = BFloat16(fa.apply_one(float(p[i]))); });
      break;
    }
    default: break;  // rejected by check_fused_activation at infer
  }
}

}  // namespace petrel::ref
