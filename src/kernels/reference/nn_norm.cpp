// BatchNormalization, InstanceNormalization, GroupNormalization. Statistics are accumulated in
// double (numpy's float32 mean/var use pairwise sums; double keeps us well inside its error).
#include <cmath>
#include <memory>
#include <vector>

#include "kernels/reference/nn_common.hpp"

namespace petrel::ref::nn {
namespace {

bool is_float(DataType t) { return dtype_is_float(t); }

// mean and population variance of n values read by f(i).
template <typename F> void moments(int64_t n, F&& f, double& mean, double& var) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += f(i);
  mean = n > 0 ? s / double(n) : 0.0;
  double q = 0;
  for (int64_t i = 0; i < n; ++i) { const double d = f(i) - mean; q += d * d; }
  var = n > 0 ? q / double(n) : 0.0;
}

// Writes y = x * a + b for one contiguous run.
template <typename T> void affine(const T* x, T* y, int64_t n, double a, double b) {
  using CT = ComputeType<T>;
  const CT af = CT(a), bf = CT(b);
  for (int64_t i = 0; i < n; ++i) y[i] = store<T>(load(x[i]) * af + bf);
}

Status check_vec(const OpContext& ctx, int i, int64_t n, const char* what) {
  const Tensor& t = ctx.input(i);
  if (!is_float(t.dtype)) return ctx.error(std::string(what) + " must be a float tensor");
  if (t.numel() != n || t.rank() != 1) return ctx.error(std::string(what) + " must have shape [" + std::to_string(n) + "]");
  return Status::ok();
}

class BatchNormKernel final : public Kernel {
 public:
  BatchNormKernel(float eps, float momentum, bool training) : eps_(eps), momentum_(momentum), training_(training) {}

  Status infer(OpContext& ctx) override {
    for (int i = 0; i < 5; ++i)
      if (!ctx.has_input(i)) return ctx.error("BatchNormalization needs 5 inputs");
    const Tensor& x = ctx.input(0);
    if (!is_float(x.dtype)) return ctx.error("X must be a float tensor");
    if (x.rank() < 2) return ctx.error("X must have rank >= 2");
    const int64_t C = x.shape[1];
    const char* names[] = {"", "scale", "B", "mean", "var"};
    for (int i = 1; i < 5; ++i) PETREL_RETURN_IF_ERROR(check_vec(ctx, i, C, names[i]));
    PETREL_RETURN_IF_ERROR(ctx.set_output(0, x.dtype, x.shape));
    for (int i = 1; i < ctx.num_outputs() && i < 5; ++i)
      if (ctx.has_output(i)) PETREL_RETURN_IF_ERROR(ctx.set_output(i, ctx.input(i == 1 || i == 3 ? 3 : 4).dtype, {C}));
    return Status::ok();
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t N = x.shape[0], C = x.shape[1];
    int64_t inner = 1;
    for (int d = 2; d < x.rank(); ++d) inner *= x.shape[d];
    const bool batch_stats = training_ || ctx.has_output(3) || ctx.has_output(4);
    return dispatch_x(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      const T* xd = x.as<T>();
      T* yd = ctx.output(0).as<T>();
      for (int64_t c = 0; c < C; ++c) {
        const double scale = element_as_double(ctx.input(1), c), bias = element_as_double(ctx.input(2), c);
        const double rmean = element_as_double(ctx.input(3), c), rvar = element_as_double(ctx.input(4), c);
        double mean = rmean, var = rvar;
        if (batch_stats) {
          // (n, i) -> x[n, c, i]
          double bm, bv;
          moments(N * inner, [&](int64_t k) { return double(load(xd[((k / inner) * C + c) * inner + k % inner])); }, bm, bv);
          if (training_) { mean = bm; var = bv; }
          if (ctx.has_output(3)) put_float(ctx.output(3), c, bm);
          if (ctx.has_output(4)) put_float(ctx.output(4), c, bv);
        }
        const double a = scale / std::sqrt(var + double(eps_));
        const double b = bias - mean * a;
        for (int64_t n = 0; n < N; ++n) affine(xd + (n * C + c) * inner, yd + (n * C + c) * inner, inner, a, b);
        // Running statistics: momentum-weighted with the batch statistics when training.
        const double m = double(momentum_);
        if (ctx.has_output(1)) put_float(ctx.output(1), c, training_ ? rmean * m + mean * (1 - m) : rmean);
        if (ctx.has_output(2)) put_float(ctx.output(2), c, training_ ? rvar * m + var * (1 - m) : rvar);
      }
      return Status::ok();
    });
  }

 private:
  float eps_, momentum_;
  bool training_;
};

// InstanceNormalization (per (n, c)) and GroupNormalization (per (n, group)).
class GroupStatsNormKernel final : public Kernel {
 public:
  GroupStatsNormKernel(float eps, int64_t groups) : eps_(eps), groups_(groups) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 1));
    if (!ctx.has_input(1) || !ctx.has_input(2)) return ctx.error("scale and B are required");
    const Tensor& x = ctx.input(0);
    if (!is_float(x.dtype)) return ctx.error("X must be a float tensor");
    if (x.rank() < 2) return ctx.error("X must have rank >= 2");
    const int64_t C = x.shape[1];
    if (groups_ == 0) {
      PETREL_RETURN_IF_ERROR(check_vec(ctx, 1, C, "scale"));
      PETREL_RETURN_IF_ERROR(check_vec(ctx, 2, C, "B"));
    } else {
      if (C % groups_ != 0) return ctx.error("channels are not divisible by num_groups");
      // Opset 18 has one scale/bias per group, opset 21 one per channel: accept both.
      for (int i = 1; i <= 2; ++i) {
        const int64_t n = ctx.input(i).numel();
        PETREL_RETURN_IF_ERROR(check_vec(ctx, i, n == C ? C : groups_, i == 1 ? "scale" : "bias"));
      }
    }
    return ctx.set_output(0, x.dtype, x.shape);
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t N = x.shape[0], C = x.shape[1];
    const int64_t G = groups_ == 0 ? C : groups_, cpg = C / G;
    int64_t inner = 1;
    for (int d = 2; d < x.rank(); ++d) inner *= x.shape[d];
    const bool per_channel = ctx.input(1).numel() == C;
    return dispatch_x(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t g = 0; g < G; ++g) {
          const int64_t off = (n * C + g * cpg) * inner;
          const T* xg = x.as<T>() + off;
          T* yg = ctx.output(0).as<T>() + off;
          double mean, var;
          moments(cpg * inner, [&](int64_t k) { return double(load(xg[k])); }, mean, var);
          const double inv = 1.0 / std::sqrt(var + double(eps_));
          for (int64_t c = 0; c < cpg; ++c) {
            const int64_t pi = per_channel ? g * cpg + c : g;
            const double a = element_as_double(ctx.input(1), pi) * inv;
            const double b = element_as_double(ctx.input(2), pi) - mean * a;
            affine(xg + c * inner, yg + c * inner, inner, a, b);
          }
        }
      return Status::ok();
    });
  }

 private:
  float eps_;
  int64_t groups_;  // 0: instance norm (one group per channel)
};

}  // namespace
}  // namespace petrel::ref::nn

namespace petrel::ref {

Result<std::unique_ptr<Kernel>> make_batch_norm(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(float eps, attr_float(n, "epsilon", 1e-5f));
  PETREL_ASSIGN_OR_RETURN(float momentum, attr_float(n, "momentum", 0.9f));
  PETREL_ASSIGN_OR_RETURN(int64_t training, attr_int(n, "training_mode", 0));
  // Opset < 9: spatial = 0 meant per-activation statistics ([C, D1, ...] parameters).
  PETREL_ASSIGN_OR_RETURN(int64_t spatial, attr_int(n, "spatial", 1));
  if (spatial == 0) return unsupported(n.label() + ": BatchNormalization with spatial = 0");
  return std::unique_ptr<Kernel>(new nn::BatchNormKernel(eps, momentum, training != 0));
}

Result<std::unique_ptr<Kernel>> make_instance_norm(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(float eps, attr_float(n, "epsilon", 1e-5f));
  return std::unique_ptr<Kernel>(new nn::GroupStatsNormKernel(eps, 0));
}

Result<std::unique_ptr<Kernel>> make_group_norm(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(float eps, attr_float(n, "epsilon", 1e-5f));
  PETREL_ASSIGN_OR_RETURN(int64_t groups, attr_int_required(n, "num_groups"));
  if (groups <= 0) return invalid_model(n.label() + ": num_groups must be positive");
  return std::unique_ptr<Kernel>(new nn::GroupStatsNormKernel(eps, groups));
}

}  // namespace petrel::ref
