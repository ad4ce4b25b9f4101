// ArgMax / ArgMin along one axis (keepdims, select_last_index). Output is int64.
#include <cmath>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/common.hpp"

namespace petrel::ref {
namespace {

class ArgKernel final : public Kernel {
 public:
  ArgKernel(bool is_max, int64_t axis, bool keepdims, bool last)
      : max_(is_max), axis_(axis), keepdims_(keepdims), last_(last) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 1));
    const Tensor& x = ctx.input(0);
    if (x.dtype == DataType::kBool || x.dtype == DataType::kString || dtype_size(x.dtype) == 0)
      return ctx.unsupported_error("dtype " + std::string(dtype_name(x.dtype)));
    PETREL_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node(), axis_, x.rank()));
    if (x.shape[size_t(axis)] == 0) return ctx.error("cannot take an arg-extremum over an empty axis");
    Shape out;
    for (int64_t d = 0; d < x.rank(); ++d) {
      if (d != axis) out.push_back(x.shape[size_t(d)]);
      else if (keepdims_) out.push_back(1);
    }
    return ctx.set_output(0, DataType::kInt64, out);
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t axis = axis_ < 0 ? axis_ + x.rank() : axis_;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.shape[size_t(d)];
    for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.shape[size_t(d)];
    const int64_t n = x.shape[size_t(axis)];
    int64_t* y = ctx.output(0).as<int64_t>();
    return dispatch_all_numeric(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using C = ComputeType<T>;
      const T* xp = x.as<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const T* p = xp + o * n * inner + i;
          C best = load(p[0]);
          int64_t bi = 0;
          // The first NaN wins (numpy.argmax semantics); ties keep the first or last index.
          for (int64_t j = 1; j < n && !is_nan(best); ++j) {
            const C v = load(p[j * inner]);
            const bool better = max_ ? v > best : v < best;
            const bool tie = last_ && v == best;
            if (better || tie || is_nan(v)) { best = v; bi = j; }
          }
          y[o * inner + i] = bi;
        }
      return Status::ok();
    });
  }

 private:
  template <typename C> static bool is_nan(C v) {
    if constexpr (std::is_floating_point_v<C>) return std::isnan(v);
    else return false;
  }
  bool max_;
  int64_t axis_;
  bool keepdims_, last_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_argminmax(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", 0));
  PETREL_ASSIGN_OR_RETURN(int64_t keepdims, attr_int(n, "keepdims", 1));
  PETREL_ASSIGN_OR_RETURN(int64_t last, attr_int(n, "select_last_index", 0));
  return std::unique_ptr<Kernel>(new ArgKernel(n.op_type == "ArgMax", axis, keepdims != 0, last != 0));
}

}  // namespace petrel::ref
