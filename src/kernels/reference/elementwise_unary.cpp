// Unary math ops: Abs Neg Reciprocal Floor Ceil Round Sign Sqrt Exp Log Erf, trigonometric and
// hyperbolic functions, Not, BitwiseNot, IsNaN, IsInf. One kernel class selected by op_type.
#include <cmath>
#include <string_view>

#include "kernels/reference/elementwise_util.hpp"

namespace petrel::ref {
namespace {

using namespace ew;

enum class UOp {
  kAbs, kNeg, kReciprocal, kFloor, kCeil, kRound, kSign, kSqrt, kExp, kLog, kErf, kSin, kCos,
  kTan, kAsin, kAcos, kAtan, kSinh, kCosh, kAsinh, kAcosh, kAtanh, kNot, kBitwiseNot, kIsNaN,
  kIsInf,
};

struct OpName { std::string_view name; UOp op; };
constexpr OpName kOps[] = {
    {"Abs", UOp::kAbs}, {"Neg", UOp::kNeg}, {"Reciprocal", UOp::kReciprocal},
    {"Floor", UOp::kFloor}, {"Ceil", UOp::kCeil}, {"Round", UOp::kRound}, {"Sign", UOp::kSign},
    {"Sqrt", UOp::kSqrt}, {"Exp", UOp::kExp}, {"Log", UOp::kLog}, {"Erf", UOp::kErf},
    {"Sin", UOp::kSin}, {"Cos", UOp::kCos}, {"Tan", UOp::kTan}, {"Asin", UOp::kAsin},
    {"Acos", UOp::kAcos}, {"Atan", UOp::kAtan}, {"Sinh", UOp::kSinh}, {"Cosh", UOp::kCosh},
    {"Asinh", UOp::kAsinh}, {"Acosh", UOp::kAcosh}, {"Atanh", UOp::kAtanh}, {"Not", UOp::kNot},
    {"BitwiseNot", UOp::kBitwiseNot}, {"IsNaN", UOp::kIsNaN}, {"IsInf", UOp::kIsInf},
};

class UnaryMath final : public Kernel {
 public:
  UnaryMath(UOp op, bool pos, bool neg) : op_(op), detect_pos_(pos), detect_neg_(neg) {}

  Status infer(OpContext& ctx) override {
    if (ctx.num_inputs() != 1 || !ctx.has_input(0)) return ctx.error("expects exactly 1 input");
    const Tensor& x = ctx.input(0);
    const DataType t = x.dtype;
    bool ok;
    switch (op_) {
      case UOp::kAbs: case UOp::kSign: ok = dtype_is_float(t) || dtype_is_integer(t); break;
      case UOp::kNeg: ok = dtype_is_float(t) || dtype_is_signed(t); break;
      case UOp::kNot: ok = t == DataType::kBool; break;
      case UOp::kBitwiseNot: ok = dtype_is_integer(t); break;
      default: ok = dtype_is_float(t); break;
    }
    if (!ok) return ctx.error("unsupported input dtype " + std::string(dtype_name(t)));
    const bool to_bool = op_ == UOp::kIsNaN || op_ == UOp::kIsInf;
    return ctx.set_output(0, to_bool ? DataType::kBool : t, x.shape);
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    return dispatch_with_bool(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, bool>) {
        map_unary<uint8_t, uint8_t>(x, y, [](uint8_t v) { return uint8_t(v ? 0 : 1); });
        return Status::ok();
      } else if constexpr (kIsFloat<T>) {
        return compute_float<T>(x, y);
      } else {
        return compute_int<T>(x, y);
      }
    });
  }

 private:
  template <typename T> Status compute_int(const Tensor& x, Tensor& y) {
    switch (op_) {
      case UOp::kAbs:
        if constexpr (std::is_signed_v<T>) map_unary<T, T>(x, y, [](T v) { return v < 0 ? wrap_neg(v) : v; });
        else map_unary<T, T>(x, y, [](T v) { return v; });
        break;
      case UOp::kNeg: map_unary<T, T>(x, y, [](T v) { return wrap_neg(v); }); break;
      case UOp::kSign: map_unary<T, T>(x, y, [](T v) { return T((v > 0) - (v < 0)); }); break;
      case UOp::kBitwiseNot: map_unary<T, T>(x, y, [](T v) { return T(~v); }); break;
      default: return internal_error("unary op on an integer type");
    }
    return Status::ok();
  }

  template <typename T> Status compute_float(const Tensor& x, Tensor& y) {
    using C = ComputeType<T>;
    switch (op_) {
      case UOp::kAbs: map_float<T>(x, y, [](C v) { return std::fabs(v); }); break;
      case UOp::kNeg: map_float<T>(x, y, [](C v) { return -v; }); break;
      case UOp::kReciprocal: map_float<T>(x, y, [](C v) { return C(1) / v; }); break;
      case UOp::kFloor: map_float<T>(x, y, [](C v) { return std::floor(v); }); break;
      case UOp::kCeil: map_float<T>(x, y, [](C v) { return std::ceil(v); }); break;
      // Halves round to even (numpy.round): nearbyint under the default rounding mode.
      case UOp::kRound: map_float<T>(x, y, [](C v) { return std::nearbyint(v); }); break;
      case UOp::kSign:
        map_float<T>(x, y, [](C v) { return v > 0 ? C(1) : v < 0 ? C(-1) : v == 0 ? C(0) : v; });
        break;
      case UOp::kSqrt: map_float<T>(x, y, [](C v) { return std::sqrt(v); }); break;
      case UOp::kExp: map_float<T>(x, y, [](C v) { return std::exp(v); }); break;
      case UOp::kLog: map_float<T>(x, y, [](C v) { return std::log(v); }); break;
      case UOp::kErf: map_float<T>(x, y, [](C v) { return std::erf(v); }); break;
      case UOp::kSin: map_float<T>(x, y, [](C v) { return std::sin(v); }); break;
      case UOp::kCos: map_float<T>(x, y, [](C v) { return std::cos(v); }); break;
      case UOp::kTan: map_float<T>(x, y, [](C v) { return std::tan(v); }); break;
      case UOp::kAsin: map_float<T>(x, y, [](C v) { return std::asin(v); }); break;
      case UOp::kAcos: map_float<T>(x, y, [](C v) { return std::acos(v); }); break;
      case UOp::kAtan: map_float<T>(x, y, [](C v) { return std::atan(v); }); break;
      case UOp::kSinh: map_float<T>(x, y, [](C v) { return std::sinh(v); }); break;
      case UOp::kCosh: map_float<T>(x, y, [](C v) { return std::cosh(v); }); break;
      case UOp::kAsinh: map_float<T>(x, y, [](C v) { return std::asinh(v); }); break;
      case UOp::kAcosh: map_float<T>(x, y, [](C v) { return std::acosh(v); }); break;
      case UOp::kAtanh: map_float<T>(x, y, [](C v) { return std::atanh(v); }); break;
      case UOp::kIsNaN:
        map_unary<T, uint8_t>(x, y, [](T v) { return uint8_t(std::isnan(load(v))); });
        break;
      case UOp::kIsInf: {
        const bool p = detect_pos_, n = detect_neg_;
        map_unary<T, uint8_t>(x, y, [p, n](T v) {
          const C c = load(v);
          return uint8_t(std::isinf(c) && (c > 0 ? p : n));
        });
        break;
      }
      default: return internal_error("unary op on a float type");
    }
    return Status::ok();
  }

  UOp op_;
  bool detect_pos_, detect_neg_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_unary_math(const Node& n) {
  for (const OpName& e : kOps) {
    if (e.name != n.op_type) continue;
    bool pos = true, neg = true;
    if (e.op == UOp::kIsInf) {
      PETREL_ASSIGN_OR_RETURN(int64_t p, attr_int(n, "detect_positive", 1));
      PETREL_ASSIGN_OR_RETURN(int64_t q, attr_int(n, "detect_negative", 1));
      pos = p != 0;
      neg = q != 0;
    }
    return std::unique_ptr<Kernel>(new UnaryMath(e.op, pos, neg));
  }
  return unsupported(n.label() + ": not a unary math op");
}

}  // namespace petrel::ref
