// Variadic broadcasting ops Sum Mean Max Min (1..N inputs), Where (3-way broadcast, any dtype)
// and Clip (optional scalar min/max inputs).
#include <cstring>
#include <string>

#include "kernels/reference/elementwise_util.hpp"

namespace petrel::ref {
namespace {

using namespace ew;

enum class VOp { kSum, kMean, kMax, kMin };

// numpy.maximum / numpy.minimum: a NaN operand wins.
template <typename C> inline C nan_max(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (a != a) return a;
    if (b != b) return b;
  }
  return a < b ? b : a;
}
template <typename C> inline C nan_min(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (a != a) return a;
    if (b != b) return b;
  }
  return b < a ? b : a;
}

class Variadic final : public Kernel {
 public:
  explicit Variadic(VOp op) : op_(op) {}

  Status infer(OpContext& ctx) override {
    if (ctx.num_inputs() < 1) return ctx.error("expects at least 1 input");
    for (int i = 0; i < ctx.num_inputs(); ++i)
      if (!ctx.has_input(i)) return ctx.error("input " + std::to_string(i) + " is missing");
    const DataType t = ctx.input(0).dtype;
    for (int i = 1; i < ctx.num_inputs(); ++i)
      if (ctx.input(i).dtype != t) return ctx.error("all inputs must have the same dtype");
    const bool ok = dtype_is_float(t) || ((op_ == VOp::kMax || op_ == VOp::kMin) && dtype_is_integer(t));
    if (!ok) return ctx.error("unsupported dtype " + std::string(dtype_name(t)));
    Shape out;
    PETREL_RETURN_IF_ERROR(broadcast_inputs(ctx, 0, ctx.num_inputs(), out));
    return ctx.set_output(0, t, std::move(out));
  }

  Status compute(OpContext& ctx) override {
    Tensor& y = ctx.output(0);
    const int n = ctx.num_inputs();
    return dispatch_all_numeric(y.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      using C = ComputeType<T>;
      // Fold pairwise into the output, as numpy does (Sum with float16 rounds at each step).
      auto fold = [&](auto f) {
        const Tensor& x0 = ctx.input(0);
        if (n == 1) {
          if (y.nbytes()) std::memcpy(y.data, x0.data, y.nbytes());
          return;
        }
        binary_loop<T, T, T>(x0, ctx.input(1), y, f);
        for (int i = 2; i < n; ++i) binary_loop<T, T, T>(y, ctx.input(i), y, f);
      };
      switch (op_) {
        case VOp::kSum: case VOp::kMean:
          if constexpr (kIsFloat<T>) {
            fold([](T a, T b) { return store<T>(load(a) + load(b)); });
            if (op_ == VOp::kMean && n > 1) {
              const C k = C(n);
              map_float<T>(y, y, [k](C v) { return v / k; });
            }
          }
          break;
        case VOp::kMax: fold([](T a, T b) { return store<T>(nan_max<C>(load(a), load(b))); }); break;
        case VOp::kMin: fold([](T a, T b) { return store<T>(nan_min<C>(load(a), load(b))); }); break;
      }
      return Status::ok();
    });
  }

 private:
  VOp op_;
};

class Where final : public Kernel {
 public:
  Status infer(OpContext& ctx) override {
    if (ctx.num_inputs() != 3 || !ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2))
      return ctx.error("expects 3 inputs");
    if (ctx.input(0).dtype != DataType::kBool) return ctx.error("condition must be bool");
    const DataType t = ctx.input(1).dtype;
    if (ctx.input(2).dtype != t) return ctx.error("X and Y must have the same dtype");
    if (t != DataType::kString && (dtype_size(t) == 0 || dtype_size(t) > 8)) return ctx.error("unsupported dtype " + std::string(dtype_name(t)));
    Shape out;
    PETREL_RETURN_IF_ERROR(broadcast_inputs(ctx, 0, 3, out));
    return ctx.set_output(0, t, std::move(out));
  }

  Status compute(OpContext& ctx) override {
    const Tensor& c = ctx.input(0);
    const Tensor& x = ctx.input(1);
    const Tensor& yv = ctx.input(2);
    Tensor& out = ctx.output(0);
    return dispatch_by_size(out.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      const uint8_t* pc = c.as<uint8_t>();
      const T* px = x.as<T>();
      const T* py = yv.as<T>();
      T* po = out.as<T>();
      for_each_run<3>(out.shape, {&c.shape, &x.shape, &yv.shape},
                      [&](int64_t o, const std::array<int64_t, 3>& off, const std::array<int64_t, 3>& st, int64_t len) {
                        for (int64_t i = 0; i < len; ++i)
                          po[o + i] = pc[off[0] + i * st[0]] ? px[off[1] + i * st[1]] : py[off[2] + i * st[2]];
                      });
      return Status::ok();
    });
  }
};

class Clip final : public Kernel {
 public:
  Status infer(OpContext& ctx) override {
    if (ctx.num_inputs() < 1 || ctx.num_inputs() > 3 || !ctx.has_input(0)) return ctx.error("expects 1 to 3 inputs");
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype) && !dtype_is_integer(x.dtype))
      return ctx.error("unsupported dtype " + std::string(dtype_name(x.dtype)));
    for (int i = 1; i < ctx.num_inputs(); ++i) {
      if (!ctx.has_input(i)) continue;
      const Tensor& b = ctx.input(i);
      if (b.dtype != x.dtype) return ctx.error(std::string(i == 1 ? "min" : "max") + " must have X's dtype");
      if (b.numel() > 1) return ctx.error(std::string(i == 1 ? "min" : "max") + " must be a scalar");
    }
    return ctx.set_output(0, x.dtype, x.shape);
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    return dispatch_all_numeric(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      using C = ComputeType<T>;
      // An empty min/max tensor counts as omitted (some exporters emit it).
      auto bound = [&](int i, C& v) {
        if (!ctx.has_input(i) || ctx.input(i).numel() == 0) return false;
        v = load(ctx.input(i).as<T>()[0]);
        return true;
      };
      C lo{}, hi{};
      const bool has_lo = bound(1, lo), has_hi = bound(2, hi);
      // Comparisons keep NaN inputs as NaN (numpy.clip); with lo > hi every value becomes hi.
      if (has_lo && has_hi)
        map_float<T>(x, y, [lo, hi](C v) { v = v < lo ? lo : v; return v > hi ? hi : v; });
      else if (has_lo)
        map_float<T>(x, y, [lo](C v) { return v < lo ? lo : v; });
      else if (has_hi)
        map_float<T>(x, y, [hi](C v) { return v > hi ? hi : v; });
      else
        map_float<T>(x, y, [](C v) { return v; });
      return Status::ok();
    });
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_variadic(const Node& n) {
  if (n.op_type == "Sum") return std::unique_ptr<Kernel>(new Variadic(VOp::kSum));
  if (n.op_type == "Mean") return std::unique_ptr<Kernel>(new Variadic(VOp::kMean));
  if (n.op_type == "Max") return std::unique_ptr<Kernel>(new Variadic(VOp::kMax));
  if (n.op_type == "Min") return std::unique_ptr<Kernel>(new Variadic(VOp::kMin));
  return unsupported(n.label() + ": not a variadic op");
}

Result<std::unique_ptr<Kernel>> make_where(const Node&) { return std::unique_ptr<Kernel>(new Where()); }
Result<std::unique_ptr<Kernel>> make_clip(const Node&) { return std::unique_ptr<Kernel>(new Clip()); }

}  // namespace petrel::ref
