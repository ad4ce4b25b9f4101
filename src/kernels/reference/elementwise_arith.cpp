// Binary arithmetic with numpy broadcasting: Add Sub Mul Div Mod Pow.
#include <cmath>
#include <string_view>

#include "kernels/reference/elementwise_util.hpp"

namespace petrel::ref {
namespace {

using namespace ew;

enum class BOp { kAdd, kSub, kMul, kDiv, kMod, kPow };

template <typename T> bool any_zero(const Tensor& t) {
  const T* p = t.as<T>();
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i)
    if (p[i] == T(0)) return true;
  return false;
}

// Integer power by squaring (wrapping). Negative exponents give the truncated real result:
// only |base| == 1 survives.
template <typename T, typename E> T int_pow(T base, E e) {
  if constexpr (std::is_signed_v<E>) {
    if (e < 0) {
      if (base == T(1)) return T(1);
      if constexpr (std::is_signed_v<T>) {
        if (base == T(-1)) return (e % 2) ? T(-1) : T(1);
      }
      return T(0);
    }
  }
  T r = T(1);
  uint64_t k = uint64_t(e);
  while (k) {
    if (k & 1) r = wrap_mul(r, base);
    base = wrap_mul(base, base);
    k >>= 1;
  }
  return r;
}

// numpy's float % (sign of the divisor): fmod then shift by the divisor.
template <typename C> inline C py_fmod(C a, C b) {
  C r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

class Arith final : public Kernel {
 public:
  Arith(BOp op, bool fmod, int64_t legacy_axis) : op_(op), fmod_(fmod), legacy_axis_(legacy_axis) {}

  Status infer(OpContext& ctx) override {
    if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) return ctx.error("expects 2 inputs");
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    auto numeric = [](DataType t) { return dtype_is_float(t) || dtype_is_integer(t); };
    if (!numeric(a.dtype) || !numeric(b.dtype))
      return ctx.error("unsupported dtypes " + std::string(dtype_name(a.dtype)) + ", " + std::string(dtype_name(b.dtype)));
    if (op_ != BOp::kPow && a.dtype != b.dtype)
      return ctx.error("inputs must have the same dtype, got " + std::string(dtype_name(a.dtype)) + " and " +
                       std::string(dtype_name(b.dtype)));
    auto out_shape = broadcast_shapes(ctx.input(0).shape, rhs(ctx).shape);
    if (!out_shape) return ctx.error(out_shape.status().message());
    Shape out = std::move(out_shape).value();
    return ctx.set_output(0, a.dtype, std::move(out));
  }

  Status compute(OpContext& ctx) override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = rhs(ctx);
    Tensor& y = ctx.output(0);
    if (op_ == BOp::kPow) {
      return dispatch_all_numeric(a.dtype, [&](auto ta) -> Status {
        using T = typename decltype(ta)::type;
        return dispatch_all_numeric(b.dtype, [&](auto tb) -> Status {
          using E = typename decltype(tb)::type;
          pow<T, E>(a, b, y);
          return Status::ok();
        });
      });
    }
    return dispatch_all_numeric(a.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      if constexpr (kIsFloat<T>) return compute_float<T>(a, b, y);
      else return compute_int<T>(ctx, a, b, y);
    });
  }

 private:
  // Input 1, or (opset < 7 broadcast) a view of it with numpy-equivalent dims.
  const Tensor& rhs(const OpContext& ctx) {
    const Tensor& b = ctx.input(1);
    if (legacy_axis_ == std::numeric_limits<int64_t>::min()) return b;
    legacy_view_ = legacy_broadcast_view(legacy_axis_, ctx.input(0), b);
    return legacy_view_;
  }
  Tensor legacy_view_;

  template <typename T> Status compute_float(const Tensor& a, const Tensor& b, Tensor& y) {
    using C = ComputeType<T>;
    // float32/float64 lambdas are plain arithmetic, so the loops vectorise.
    auto run = [&](auto f) { binary_loop<T, T, T>(a, b, y, [f](T p, T q) { return store<T>(f(load(p), load(q))); }); };
    switch (op_) {
      case BOp::kAdd: run([](C p, C q) { return p + q; }); break;
      case BOp::kSub: run([](C p, C q) { return p - q; }); break;
      case BOp::kMul: run([](C p, C q) { return p * q; }); break;
      case BOp::kDiv: run([](C p, C q) { return p / q; }); break;
      case BOp::kMod:
        if (fmod_) run([](C p, C q) { return std::fmod(p, q); });
        else run([](C p, C q) { return py_fmod(p, q); });
        break;
      case BOp::kPow: break;  // handled in compute()
    }
    return Status::ok();
  }

  template <typename T> Status compute_int(OpContext& ctx, const Tensor& a, const Tensor& b, Tensor& y) {
    switch (op_) {
      case BOp::kAdd: binary_loop<T, T, T>(a, b, y, [](T p, T q) { return wrap_add(p, q); }); break;
      case BOp::kSub: binary_loop<T, T, T>(a, b, y, [](T p, T q) { return wrap_sub(p, q); }); break;
      case BOp::kMul: binary_loop<T, T, T>(a, b, y, [](T p, T q) { return wrap_mul(p, q); }); break;
      case BOp::kDiv:
        if (any_zero<T>(b)) return ctx.error("integer division by zero");
        binary_loop<T, T, T>(a, b, y, [](T p, T q) { return int_div(p, q); });
        break;
      case BOp::kMod: {
        if (any_zero<T>(b)) return ctx.error("integer modulo by zero");
        const bool py = !fmod_;
        binary_loop<T, T, T>(a, b, y, [py](T p, T q) { return int_mod(p, q, py); });
        break;
      }
      case BOp::kPow: break;
    }
    return Status::ok();
  }

  // Result has the base's dtype. Integer bases with float exponents go through double and
  // truncate, like numpy's (x ** y).astype(x.dtype).
  template <typename T, typename E> static void pow(const Tensor& a, const Tensor& b, Tensor& y) {
    if constexpr (kIsFloat<T>) {
      if constexpr (std::is_same_v<T, double> || std::is_same_v<E, double> || kIsInt<E>) {
        binary_loop<T, E, T>(a, b, y, [](T p, E q) { return T(ComputeType<T>(std::pow(double(load(p)), double(load(q))))); });
      } else {
        binary_loop<T, E, T>(a, b, y, [](T p, E q) { return store<T>(std::pow(float(load(p)), float(load(q)))); });
      }
    } else if constexpr (kIsInt<E>) {
      binary_loop<T, E, T>(a, b, y, [](T p, E q) { return int_pow<T, E>(p, q); });
    } else {
      binary_loop<T, E, T>(a, b, y, [](T p, E q) { return float_to_int<T>(std::pow(double(p), double(load(q)))); });
    }
  }

  BOp op_;
  bool fmod_;
  int64_t legacy_axis_;
};

struct OpName { std::string_view name; BOp op; };
constexpr OpName kOps[] = {
    {"Add", BOp::kAdd}, {"Sub", BOp::kSub}, {"Mul", BOp::kMul},
    {"Div", BOp::kDiv}, {"Mod", BOp::kMod}, {"Pow", BOp::kPow},
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_arith(const Node& n) {
  for (const OpName& e : kOps) {
    if (e.name != n.op_type) continue;
    int64_t legacy_axis;
    PETREL_RETURN_IF_ERROR(legacy_broadcast_axis(n, legacy_axis));
    bool fmod = false;
    if (e.op == BOp::kMod) {
      PETREL_ASSIGN_OR_RETURN(int64_t f, attr_int(n, "fmod", 0));
      if (f != 0 && f != 1) return unsupported(n.label() + ": fmod must be 0 or 1");
      fmod = f == 1;
    }
    return std::unique_ptr<Kernel>(new Arith(e.op, fmod, legacy_axis));
  }
  return unsupported(n.label() + ": not an arithmetic op");
}

}  // namespace petrel::ref
