// CumSum along the axis given by the second input (exclusive, reverse attributes).
#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/common.hpp"

namespace petrel::ref {
namespace {

class CumSumKernel final : public Kernel {
 public:
  CumSumKernel(bool exclusive, bool reverse) : exclusive_(exclusive), reverse_(reverse) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 2));
    const Tensor& x = ctx.input(0);
    if (x.dtype == DataType::kBool || x.dtype == DataType::kString || dtype_size(x.dtype) == 0)
      return ctx.unsupported_error("dtype " + std::string(dtype_name(x.dtype)));
    if (!ctx.has_input(1)) return ctx.error("missing axis input");
    const Tensor& a = ctx.input(1);
    if (a.dtype != DataType::kInt32 && a.dtype != DataType::kInt64) return ctx.error("axis must be int32 or int64");
    if (a.rank() > 1 || a.numel() != 1) return ctx.error("axis must be a scalar");
    if (ctx.input_known(1)) PETREL_RETURN_IF_ERROR(axis(ctx).status());
    return ctx.set_output(0, x.dtype, x.shape);
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    PETREL_ASSIGN_OR_RETURN(int64_t ax, axis(ctx));
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < ax; ++d) outer *= x.shape[size_t(d)];
    for (int64_t d = ax + 1; d < x.rank(); ++d) inner *= x.shape[size_t(d)];
    const int64_t n = x.shape[size_t(ax)];
    return dispatch_all_numeric(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      // Integer sums wrap (uint64 keeps overflow defined); floats accumulate in their compute type.
      using A = std::conditional_t<std::is_integral_v<T>, uint64_t, ComputeType<T>>;
      const T* xp = x.as<T>();
      T* yp = ctx.output(0).as<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          A acc = 0;
          for (int64_t s = 0; s < n; ++s) {
            const int64_t j = reverse_ ? n - 1 - s : s;
            const int64_t off = (o * n + j) * inner + i;
            A v;
            if constexpr (std::is_integral_v<T>) v = A(int64_t(xp[off]));
            else v = load(xp[off]);
            if (!exclusive_) acc += v;
            if constexpr (std::is_integral_v<T>) yp[off] = T(int64_t(acc));
            else yp[off] = store<T>(acc);
            if (exclusive_) acc += v;
          }
        }
      return Status::ok();
    });
  }

 private:
  Result<int64_t> axis(OpContext& ctx) const {
    const int64_t a = element_as_int64(ctx.input(1), 0);
    return normalize_axis(ctx.node(), a, ctx.input(0).rank());
  }
  bool exclusive_, reverse_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_cumsum(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t exclusive, attr_int(n, "exclusive", 0));
  PETREL_ASSIGN_OR_RETURN(int64_t reverse, attr_int(n, "reverse", 0));
  return std::unique_ptr<Kernel>(new CumSumKernel(exclusive != 0, reverse != 0));
}

}  // namespace petrel::ref
