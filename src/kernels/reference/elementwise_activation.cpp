// Activations: Relu LeakyRelu Elu Selu Celu Sigmoid HardSigmoid HardSwish Softplus Softsign Tanh
// ThresholdedRelu Shrink Gelu Mish (one kernel class selected by op_type) and PRelu.
#include <cmath>
#include <string_view>

#include "kernels/reference/elementwise_util.hpp"

namespace petrel::ref {
namespace {

using namespace ew;

enum class AOp {
  kRelu, kLeakyRelu, kElu, kSelu, kCelu, kSigmoid, kHardSigmoid, kHardSwish, kSoftplus,
  kSoftsign, kTanh, kThresholdedRelu, kShrink, kGelu, kGeluTanh, kMish,
};

struct Params { float alpha = 0, beta = 0, gamma = 0; };

// log(1 + exp(x)) without overflow for large x.
template <typename C> inline C softplus(C x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}
// 1 / (1 + exp(-x)) is already safe at both ends: exp(-x) overflows to inf for very negative x
// and the quotient becomes 0, as it should.
template <typename C> inline C sigmoid(C x) { return C(1) / (C(1) + std::exp(-x)); }

class Activation final : public Kernel {
 public:
  Activation(AOp op, Params p) : op_(op), p_(p) {}

  Status infer(OpContext& ctx) override {
    if (ctx.num_inputs() != 1 || !ctx.has_input(0)) return ctx.error("expects exactly 1 input");
    const Tensor& x = ctx.input(0);
    bool ok = dtype_is_float(x.dtype);
    if (op_ == AOp::kRelu) ok = ok || dtype_is_signed(x.dtype);
    if (op_ == AOp::kShrink) ok = ok || dtype_is_integer(x.dtype);
    if (!ok) return ctx.error("unsupported input dtype " + std::string(dtype_name(x.dtype)));
    return ctx.set_output(0, x.dtype, x.shape);
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    return dispatch_all_numeric(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      if constexpr (kIsFloat<T>) {
        return compute_float<T>(x, y);
      } else if (op_ == AOp::kRelu) {
        map_unary<T, T>(x, y, [](T v) { return v > 0 ? v : T(0); });
        return Status::ok();
      } else if (op_ == AOp::kShrink) {
        // Integer Shrink: compare and shift in double, then truncate back like numpy's astype.
        const double lambd = p_.gamma, bias = p_.beta;
        map_unary<T, T>(x, y, [=](T v) {
          const double d = double(v);
          return d < -lambd ? float_to_int<T>(d + bias) : d > lambd ? float_to_int<T>(d - bias) : T(0);
        });
        return Status::ok();
      } else {
        return internal_error("activation on an integer type");
      }
    });
  }

 private:
  template <typename T> Status compute_float(const Tensor& x, Tensor& y) {
    using C = ComputeType<T>;
    const C alpha = C(p_.alpha), beta = C(p_.beta), gamma = C(p_.gamma);
    switch (op_) {
      case AOp::kRelu: map_float<T>(x, y, [](C v) { return v > 0 ? v : C(0); }); break;
      case AOp::kLeakyRelu: map_float<T>(x, y, [=](C v) { return v >= 0 ? v : alpha * v; }); break;
      case AOp::kElu:
        map_float<T>(x, y, [=](C v) { return v >= 0 ? v : alpha * std::expm1(v); });
        break;
      case AOp::kSelu:
        map_float<T>(x, y, [=](C v) { return v > 0 ? gamma * v : gamma * alpha * std::expm1(v); });
        break;
      case AOp::kCelu:
        map_float<T>(x, y, [=](C v) { return v > 0 ? v : alpha * std::expm1(v / alpha); });
        break;
      case AOp::kSigmoid: map_float<T>(x, y, [](C v) { return sigmoid(v); }); break;
      case AOp::kHardSigmoid:
        map_float<T>(x, y, [=](C v) { return std::fmax(C(0), std::fmin(C(1), alpha * v + beta)); });
        break;
      case AOp::kHardSwish:
        map_float<T>(x, y, [](C v) { return v * std::fmax(C(0), std::fmin(C(1), v / C(6) + C(0.5))); });
        break;
      case AOp::kSoftplus: map_float<T>(x, y, [](C v) { return softplus(v); }); break;
      case AOp::kSoftsign: map_float<T>(x, y, [](C v) { return v / (C(1) + std::fabs(v)); }); break;
      case AOp::kTanh: map_float<T>(x, y, [](C v) { return std::tanh(v); }); break;
      case AOp::kThresholdedRelu: map_float<T>(x, y, [=](C v) { return v > alpha ? v : C(0); }); break;
      case AOp::kShrink:  // beta = bias, gamma = lambd
        map_float<T>(x, y, [=](C v) { return v < -gamma ? v + beta : v > gamma ? v - beta : C(0); });
        break;
      case AOp::kGelu:
        map_float<T>(x, y, [](C v) { return C(0.5) * v * (C(1) + std::erf(v * C(0.70710678118654752440))); });
        break;
      case AOp::kGeluTanh:
        map_float<T>(x, y, [](C v) {
          const C k = C(0.79788456080286535588);  // sqrt(2 / pi)
          return C(0.5) * v * (C(1) + std::tanh(k * (v + C(0.044715) * v * v * v)));
        });
        break;
      case AOp::kMish: map_float<T>(x, y, [](C v) { return v * std::tanh(softplus(v)); }); break;
    }
    return Status::ok();
  }

  AOp op_;
  Params p_;
};

// PRelu: y = x < 0 ? slope * x : x, slope broadcast unidirectionally to x's shape.
class PRelu final : public Kernel {
 public:
  Status infer(OpContext& ctx) override {
    if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) return ctx.error("expects 2 inputs");
    const Tensor& x = ctx.input(0);
    const Tensor s = slope(ctx);
    if (x.dtype != s.dtype) return ctx.error("X and slope must have the same dtype");
    if (!dtype_is_float(x.dtype) && !dtype_is_integer(x.dtype))
      return ctx.error("unsupported dtype " + std::string(dtype_name(x.dtype)));
    auto b = broadcast_shapes(x.shape, s.shape);
    if (!b || *b != x.shape)
      return ctx.error("slope " + shape_to_string(s.shape) + " does not broadcast to X " + shape_to_string(x.shape));
    return ctx.set_output(0, x.dtype, x.shape);
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor s = slope(ctx);
    Tensor& y = ctx.output(0);
    return dispatch_all_numeric(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      if constexpr (kIsFloat<T>) {
        binary_loop<T, T, T>(x, s, y, [](T a, T b) {
          const auto v = load(a);
          return v < 0 ? store<T>(load(b) * v) : a;
        });
      } else {
        binary_loop<T, T, T>(x, s, y, [](T a, T b) { return a < T(0) ? wrap_mul(a, b) : a; });
      }
      return Status::ok();
    });
  }

 private:
  // Before opset 7 a 1-D slope of size C was per channel (axis 1), not numpy-broadcast: view
  // it as [C,1,...,1].
  static Tensor slope(const OpContext& ctx) {
    const Tensor& x = ctx.input(0);
    Tensor s = Tensor::view(ctx.input(1).dtype, ctx.input(1).shape, ctx.input(1).data);
    if (ctx.node().opset > 0 && ctx.node().opset < 7 && s.rank() == 1 && x.rank() >= 2 && s.shape[0] == x.shape[1] && s.shape[0] != 1)
      s.shape.resize(size_t(x.rank() - 1), 1);
    return s;
  }
};

struct OpName { std::string_view name; AOp op; };
constexpr OpName kOps[] = {
    {"Relu", AOp::kRelu}, {"LeakyRelu", AOp::kLeakyRelu}, {"Elu", AOp::kElu},
    {"Selu", AOp::kSelu}, {"Celu", AOp::kCelu}, {"Sigmoid", AOp::kSigmoid},
    {"HardSigmoid", AOp::kHardSigmoid}, {"HardSwish", AOp::kHardSwish},
    {"Softplus", AOp::kSoftplus}, {"Softsign", AOp::kSoftsign}, {"Tanh", AOp::kTanh},
    {"ThresholdedRelu", AOp::kThresholdedRelu}, {"Shrink", AOp::kShrink}, {"Gelu", AOp::kGelu},
    {"Mish", AOp::kMish},
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_activation(const Node& n) {
  for (const OpName& e : kOps) {
    if (e.name != n.op_type) continue;
    AOp op = e.op;
    Params p;
    // Attribute reads declare locals (PETREL_ASSIGN_OR_RETURN), hence if-chains, not a switch.
    if (op == AOp::kLeakyRelu) {
      PETREL_ASSIGN_OR_RETURN(p.alpha, attr_float(n, "alpha", 0.01f));
    } else if (op == AOp::kElu || op == AOp::kCelu || op == AOp::kThresholdedRelu) {
      PETREL_ASSIGN_OR_RETURN(p.alpha, attr_float(n, "alpha", 1.0f));
      if (op == AOp::kCelu && p.alpha == 0) return invalid_model(n.label() + ": alpha must be non-zero");
    } else if (op == AOp::kSelu) {
      PETREL_ASSIGN_OR_RETURN(p.alpha, attr_float(n, "alpha", 1.67326319217681884765625f));
      PETREL_ASSIGN_OR_RETURN(p.gamma, attr_float(n, "gamma", 1.05070102214813232421875f));
    } else if (op == AOp::kHardSigmoid) {
      PETREL_ASSIGN_OR_RETURN(p.alpha, attr_float(n, "alpha", 0.2f));
      PETREL_ASSIGN_OR_RETURN(p.beta, attr_float(n, "beta", 0.5f));
    } else if (op == AOp::kShrink) {
      PETREL_ASSIGN_OR_RETURN(p.beta, attr_float(n, "bias", 0.0f));
      PETREL_ASSIGN_OR_RETURN(p.gamma, attr_float(n, "lambd", 0.5f));
    } else if (op == AOp::kGelu) {
      PETREL_ASSIGN_OR_RETURN(std::string a, attr_string(n, "approximate", "none"));
      if (a == "tanh") op = AOp::kGeluTanh;
      else if (a != "none") return unsupported(n.label() + ": approximate='" + a + "'");
    }
    return std::unique_ptr<Kernel>(new Activation(op, p));
  }
  return unsupported(n.label() + ": not an activation op");
}

Result<std::unique_ptr<Kernel>> make_prelu(const Node&) { return std::unique_ptr<Kernel>(new PRelu()); }

}  // namespace petrel::ref
