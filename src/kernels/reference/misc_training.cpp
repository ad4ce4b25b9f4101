// Optimizer ops of the ai.onnx.preview.training domain: Adagrad, Momentum, Adam. Inputs are
// R (learning rate), T (update count), then n tensors of each group (X..., G..., [V...], [H...]);
// outputs are the updated groups in the same order. Arithmetic runs in double.
#include <cmath>

#include "kernels/reference/misc_common.hpp"

namespace petrel::ref {
namespace {

enum class Optimizer : uint8_t { kAdagrad, kMomentum, kNesterov, kAdam };

struct OptimizerParams {
  double alpha = 0, beta = 0, epsilon = 0, norm = 0, norm_post = 0, decay = 0;
};

class OptimizerKernel final : public Kernel {
 public:
  OptimizerKernel(Optimizer kind, OptimizerParams p) : kind_(kind), p_(p) {}

  // Input groups after R and T: X, G, H (Adagrad); X, G, V (Momentum); X, G, V, H (Adam).
  int groups() const { return kind_ == Optimizer::kAdam ? 4 : 3; }
  int outputs_per() const { return kind_ == Optimizer::kAdam ? 3 : 2; }

  Status infer(OpContext& ctx) override {
    const int extra = ctx.num_inputs() - 2;
    if (extra <= 0 || extra % groups() != 0)
      return ctx.error("expects R, T and " + std::to_string(groups()) + " tensors per optimized variable");
    const int n = extra / groups();
    PETREL_RETURN_IF_ERROR(need_inputs(ctx, ctx.num_inputs()));
    if (ctx.num_outputs() > outputs_per() * n) return ctx.error("too many outputs");
    if (!dtype_is_float(ctx.input(0).dtype) || ctx.input(0).numel() != 1) return ctx.error("R must be a float scalar");
    if (!dtype_is_integer(ctx.input(1).dtype) || ctx.input(1).numel() != 1) return ctx.error("T must be an integer scalar");
    for (int i = 0; i < n; ++i) {
      const Tensor& x = ctx.input(2 + i);
      if (!dtype_is_float(x.dtype)) return ctx.error("optimized tensors must be float");
      for (int g = 1; g < groups(); ++g) {
        const Tensor& t = ctx.input(2 + g * n + i);
        if (t.dtype != x.dtype || t.shape != x.shape)
          return ctx.error("input " + std::to_string(2 + g * n + i) + " must match X" + std::to_string(i + 1));
      }
      for (int o = 0; o < outputs_per(); ++o)
        if (ctx.has_output(o * n + i)) PETREL_RETURN_IF_ERROR(ctx.set_output(o * n + i, x.dtype, x.shape));
    }
    return Status::ok();
  }

  Status compute(OpContext& ctx) override {
    const int n = (ctx.num_inputs() - 2) / groups();
    const double r = element_as_double(ctx.input(0), 0);
    const double t = double(element_as_int64(ctx.input(1), 0));
    for (int i = 0; i < n; ++i) {
      PETREL_RETURN_IF_ERROR(dispatch_float(ctx.input(2 + i).dtype, [&](auto tag) {
        return update<typename decltype(tag)::type>(ctx, n, i, r, t);
      }));
    }
    return Status::ok();
  }

 private:
  template <typename T> Status update(OpContext& ctx, int n, int i, double r, double t) {
    const Tensor& x = ctx.input(2 + i);
    const T* X = x.as<T>();
    const T* G = ctx.input(2 + n + i).as<T>();
    const T* S1 = ctx.input(2 + 2 * n + i).as<T>();  // H (Adagrad) or V
    const T* S2 = kind_ == Optimizer::kAdam ? ctx.input(2 + 3 * n + i).as<T>() : nullptr;  // Adam's H
    T* out[3] = {nullptr, nullptr, nullptr};
    for (int o = 0; o < outputs_per(); ++o)
      if (ctx.has_output(o * n + i)) out[o] = ctx.output(o * n + i).as<T>();

    double lr = r;
    if (kind_ == Optimizer::kAdagrad) lr = r / (1 + t * p_.decay);
    if (kind_ == Optimizer::kAdam && t > 0)  // bias correction of both moments
      lr = r * std::sqrt(1 - std::pow(p_.beta, t)) / (1 - std::pow(p_.alpha, t));
    const double momentum_beta = t > 0 ? p_.beta : 1.0;  // first Momentum step takes the full gradient

    for (int64_t k = 0; k < x.numel(); ++k) {
      const double xv = double(load(X[k]));
      const double g = p_.norm * xv + double(load(G[k]));
      double x_new = 0, s1 = 0, s2 = 0;
      switch (kind_) {
        case Optimizer::kAdagrad:
          s1 = double(load(S1[k])) + g * g;
          x_new = xv - lr * g / (std::sqrt(s1) + p_.epsilon);
          break;
        case Optimizer::kMomentum:
          s1 = p_.alpha * double(load(S1[k])) + momentum_beta * g;
          x_new = xv - lr * s1;
          break;
        case Optimizer::kNesterov:
          s1 = p_.alpha * double(load(S1[k])) + momentum_beta * g;
          x_new = xv - lr * (g + p_.alpha * s1);
          break;
        case Optimizer::kAdam:
          s1 = p_.alpha * double(load(S1[k])) + (1 - p_.alpha) * g;
          s2 = p_.beta * double(load(S2[k])) + (1 - p_.beta) * g * g;
          x_new = (1 - p_.norm_post) * (xv - lr * s1 / (std::sqrt(s2) + p_.epsilon));
          break;
      }
      if (out[0]) out[0][k] = store<T>(ComputeType<T>(x_new));
      if (out[1]) out[1][k] = store<T>(ComputeType<T>(s1));
      if (out[2]) out[2][k] = store<T>(ComputeType<T>(s2));
    }
    return Status::ok();
  }

  Optimizer kind_;
  OptimizerParams p_;
};

Status require(const Node& n, const char* name) {
  return has_attr(n, name) ? Status::ok() : invalid_model(n.label() + ": missing required attribute '" + name + "'");
}

}  // namespace

Result<std::unique_ptr<Kernel>> make_adagrad(const Node& n) {
  OptimizerParams p;
  PETREL_ASSIGN_OR_RETURN(p.decay, attr_float(n, "decay_factor", 0.0f));
  PETREL_ASSIGN_OR_RETURN(p.epsilon, attr_float(n, "epsilon", 1e-6f));
  PETREL_ASSIGN_OR_RETURN(p.norm, attr_float(n, "norm_coefficient", 0.0f));
  return std::unique_ptr<Kernel>(new OptimizerKernel(Optimizer::kAdagrad, p));
}

Result<std::unique_ptr<Kernel>> make_momentum(const Node& n) {
  for (const char* a : {"alpha", "beta", "mode", "norm_coefficient"}) PETREL_RETURN_IF_ERROR(require(n, a));
  OptimizerParams p;
  PETREL_ASSIGN_OR_RETURN(p.alpha, attr_float(n, "alpha", 0.0f));
  PETREL_ASSIGN_OR_RETURN(p.beta, attr_float(n, "beta", 0.0f));
  PETREL_ASSIGN_OR_RETURN(p.norm, attr_float(n, "norm_coefficient", 0.0f));
  PETREL_ASSIGN_OR_RETURN(std::string mode, attr_string(n, "mode", ""));
  if (mode != "standard" && mode != "nesterov") return unsupported(n.label() + ": mode '" + mode + "'");
  return std::unique_ptr<Kernel>(new OptimizerKernel(mode == "nesterov" ? Optimizer::kNesterov : Optimizer::kMomentum, p));
}

Result<std::unique_ptr<Kernel>> make_adam(const Node& n) {
  OptimizerParams p;
  PETREL_ASSIGN_OR_RETURN(p.alpha, attr_float(n, "alpha", 0.9f));
  PETREL_ASSIGN_OR_RETURN(p.beta, attr_float(n, "beta", 0.999f));
  PETREL_ASSIGN_OR_RETURN(p.epsilon, attr_float(n, "epsilon", 1e-6f));
  PETREL_ASSIGN_OR_RETURN(p.norm, attr_float(n, "norm_coefficient", 0.0f));
  PETREL_ASSIGN_OR_RETURN(p.norm_post, attr_float(n, "norm_coefficient_post", 0.0f));
  return std::unique_ptr<Kernel>(new OptimizerKernel(Optimizer::kAdam, p));
}

}  // namespace petrel::ref
