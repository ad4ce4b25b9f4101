// TopK: the k largest (or smallest) elements along an axis, with their indices. Ties keep the
// smaller index first; NaNs sort after every number in both directions (a total order, so the
// sort stays well defined on untrusted data).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/common.hpp"

namespace petrel::ref {
namespace {

class TopKKernel final : public Kernel {
 public:
  TopKKernel(int64_t axis, bool largest) : axis_(axis), largest_(largest) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 2));
    const Tensor& x = ctx.input(0);
    if (x.dtype == DataType::kBool || x.dtype == DataType::kString || dtype_size(x.dtype) == 0)
      return ctx.unsupported_error("dtype " + std::string(dtype_name(x.dtype)));
    PETREL_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node(), axis_, x.rank()));
    if (!ctx.has_input(1)) return ctx.error("missing K input");
    std::vector<int64_t> k;
    PETREL_RETURN_IF_ERROR(read_int_input(ctx, 1, k));
    if (k.size() != 1 || ctx.input(1).rank() > 1) return ctx.error("K must hold exactly one value");
    if (k[0] < 0 || k[0] > x.shape[size_t(axis)])
      return ctx.error("K = " + std::to_string(k[0]) + " is outside [0, " + std::to_string(x.shape[size_t(axis)]) + "]");
    Shape out = x.shape;
    out[size_t(axis)] = k[0];
    PETREL_RETURN_IF_ERROR(ctx.set_output(0, x.dtype, out));
    return ctx.set_output(1, DataType::kInt64, out);
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t axis = axis_ < 0 ? axis_ + x.rank() : axis_;
    const int64_t n = x.shape[size_t(axis)];
    const int64_t k = ctx.output(0).shape[size_t(axis)];
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.shape[size_t(d)];
    for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.shape[size_t(d)];
    std::vector<int64_t> idx(static_cast<size_t>(n));
    return dispatch_all_numeric(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using C = ComputeType<T>;
      const T* xp = x.as<T>();
      T* vals = ctx.has_output(0) ? ctx.output(0).as<T>() : nullptr;
      int64_t* inds = ctx.has_output(1) ? ctx.output(1).as<int64_t>() : nullptr;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const T* p = xp + o * n * inner + i;
          auto before = [&](int64_t a, int64_t b) {
            const C va = load(p[a * inner]), vb = load(p[b * inner]);
            if constexpr (std::is_floating_point_v<C>) {
              const bool na = std::isnan(va), nb = std::isnan(vb);
              if (na || nb) return na && nb ? a < b : nb;
            }
            if (va != vb) return largest_ ? va > vb : va < vb;
            return a < b;
          };
          std::iota(idx.begin(), idx.end(), int64_t(0));
          std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), before);
          for (int64_t j = 0; j < k; ++j) {
            const int64_t off = (o * k + j) * inner + i;
            if (vals) vals[off] = p[idx[size_t(j)] * inner];
            if (inds) inds[off] = idx[size_t(j)];
          }
        }
      return Status::ok();
    });
  }

 private:
  int64_t axis_;
  bool largest_;
};

}  // namespace

// `sorted` = 0 leaves the order unspecified; sorted output satisfies it too.
Result<std::unique_ptr<Kernel>> make_topk(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", -1));
  PETREL_ASSIGN_OR_RETURN(int64_t largest, attr_int(n, "largest", 1));
  PETREL_RETURN_IF_ERROR(attr_int(n, "sorted", 1).status());
  return std::unique_ptr<Kernel>(new TopKKernel(axis, largest != 0));
}

}  // namespace petrel::ref
