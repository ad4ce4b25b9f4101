// Ops whose output size depends on the input values (dynamic outputs): NonZero, Compress,
// Unique.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/tensor_util.hpp"

namespace petrel::ref {
namespace {

using namespace tensor_detail;

class NonZeroKernel : public Kernel {
 public:
  bool dynamic_outputs() const override { return true; }
  Status infer(OpContext&) override { return Status::ok(); }
  Status compute(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 1));
    const Tensor& x = ctx.input(0);
    const int64_t n = x.numel();
    // numpy treats a scalar as 1-D here: the result has shape [1, nnz]
    const size_t r = std::max<size_t>(1, x.shape.size());
    const Shape shape = x.shape.empty() ? Shape{1} : x.shape;
    std::vector<int64_t> hits;
    PETREL_RETURN_IF_ERROR(dispatch_with_bool(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* in = x.as<T>();
      for (int64_t i = 0; i < n; ++i)
        if (load(in[i]) != ComputeType<T>(0)) hits.push_back(i);  // NaN counts as non-zero
      return Status::ok();
    }));
    const int64_t nnz = int64_t(hits.size());
    PETREL_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, DataType::kInt64, {int64_t(r), nnz}));
    int64_t* out = y->as<int64_t>();
    for (int64_t j = 0; j < nnz; ++j) {
      int64_t rem = hits[size_t(j)];
      for (size_t d = r; d-- > 0;) {
        out[int64_t(d) * nnz + j] = rem % shape[d];
        rem /= shape[d];
      }
    }
    return Status::ok();
  }
};

class CompressKernel : public Kernel {
 public:
  CompressKernel(bool has_axis, int64_t axis) : has_axis_(has_axis), axis_(axis) {}
  bool dynamic_outputs() const override { return true; }
  Status infer(OpContext&) override { return Status::ok(); }
  Status compute(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 2));
    const Tensor& x = ctx.input(0);
    const Tensor& cond = ctx.input(1);
    if (cond.rank() != 1) return ctx.error("condition must be 1-D");
    if (cond.dtype != DataType::kBool) return ctx.error("condition must be bool");
    int64_t outer = 1, dim = x.numel(), inner = 1;
    size_t a = 0;
    if (has_axis_) {
      PETREL_ASSIGN_OR_RETURN(int64_t na, normalize_axis(ctx.node(), axis_, x.rank()));
      a = size_t(na);
      outer = prod(x.shape, 0, a);
      dim = x.shape[a];
      inner = prod(x.shape, a + 1, x.shape.size());
    }
    // entries past the axis length are ignored; missing entries count as false
    const int64_t len = std::min(cond.numel(), dim);
    const uint8_t* c = cond.as<uint8_t>();
    int64_t kept = 0;
    for (int64_t i = 0; i < len; ++i) kept += c[i] != 0;
    Shape out_shape{kept};
    if (has_axis_) {
      out_shape = x.shape;
      out_shape[a] = kept;
    }
    PETREL_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype, out_shape));
    return dispatch_by_size(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* in = x.as<T>();
      T* out = y->as<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < len; ++i)
          if (c[i]) {
            const T* src = in + (o * dim + i) * inner;
            out = std::copy(src, src + inner, out);
          }
      return Status::ok();
    });
  }

 private:
  bool has_axis_;
  int64_t axis_;
};

// Three-way comparison of two values; NaNs are equal to each other and greater than every
// number (numpy's np.unique with equal_nan=True).
template <typename T> int cmp3(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, std::string>) {
    return a < b ? -1 : (b < a ? 1 : 0);
  } else {
    const auto x = load(a), y = load(b);
    if constexpr (std::is_floating_point_v<decltype(x)>) {
      const bool nx = std::isnan(x), ny = std::isnan(y);
      if (nx || ny) return nx == ny ? 0 : (nx ? 1 : -1);
    }
    return x < y ? -1 : (y < x ? 1 : 0);
  }
}

class UniqueKernel : public Kernel {
 public:
  UniqueKernel(bool sorted, bool has_axis, int64_t axis) : sorted_(sorted), has_axis_(has_axis), axis_(axis) {}
  bool dynamic_outputs() const override { return true; }
  Status infer(OpContext&) override { return Status::ok(); }
  Status compute(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 1));
    const Tensor& x = ctx.input(0);
    if (x.dtype == DataType::kString) return run(ctx, Tag<std::string>{});
    return dispatch_with_bool(x.dtype, [&](auto tag) { return run(ctx, tag); });
  }

 private:
  template <typename T> Status run(OpContext& ctx, Tag<T>) {
    const Tensor& x = ctx.input(0);
    // The input is viewed as [outer, n, inner]: unique "items" are the n slices along axis
    // (single elements without axis).
    int64_t outer = 1, n = x.numel(), inner = 1;
    size_t a = 0;
    if (has_axis_) {
      PETREL_ASSIGN_OR_RETURN(int64_t na, normalize_axis(ctx.node(), axis_, x.rank()));
      a = size_t(na);
      outer = prod(x.shape, 0, a);
      n = x.shape[a];
      inner = prod(x.shape, a + 1, x.shape.size());
    }
    const T* in = x.as<T>();
    auto item_cmp = [&](int64_t p, int64_t q) {
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t e = 0; e < inner; ++e) {
          int c = cmp3<T>(in[(o * n + p) * inner + e], in[(o * n + q) * inner + e]);
          if (c) return c;
        }
      return 0;
    };
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), int64_t(0));
    // stable: within a group of equal items the first occurrence comes first
    std::stable_sort(order.begin(), order.end(), [&](int64_t p, int64_t q) { return item_cmp(p, q) < 0; });
    std::vector<int64_t> first, counts, group_of(static_cast<size_t>(n));
    for (size_t i = 0; i < order.size(); ++i) {
      if (i == 0 || item_cmp(order[i - 1], order[i]) != 0) {
        first.push_back(order[i]);
        counts.push_back(0);
      }
      group_of[size_t(order[i])] = int64_t(first.size()) - 1;
      ++counts.back();
    }
    const size_t u = first.size();
    // rank[g] = position of group g in the output
    std::vector<int64_t> pos(u);
    std::iota(pos.begin(), pos.end(), int64_t(0));
    if (!sorted_) std::sort(pos.begin(), pos.end(), [&](int64_t g, int64_t h) { return first[size_t(g)] < first[size_t(h)]; });
    std::vector<int64_t> rank(u);
    for (size_t i = 0; i < u; ++i) rank[size_t(pos[i])] = int64_t(i);

    Shape yshape{int64_t(u)};
    if (has_axis_) {
      yshape = x.shape;
      yshape[a] = int64_t(u);
    }
    PETREL_ASSIGN_OR_RETURN(Tensor * y, ctx.allocate_output(0, x.dtype, yshape));
    T* out = y->as<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (size_t i = 0; i < u; ++i) {
        const T* src = in + (o * n + first[size_t(pos[i])]) * inner;
        std::copy(src, src + inner, out + (o * int64_t(u) + int64_t(i)) * inner);
      }
    if (ctx.has_output(1)) {
      PETREL_ASSIGN_OR_RETURN(Tensor * t, ctx.allocate_output(1, DataType::kInt64, {int64_t(u)}));
      for (size_t i = 0; i < u; ++i) t->as<int64_t>()[i] = first[size_t(pos[i])];
    }
    if (ctx.has_output(2)) {
      PETREL_ASSIGN_OR_RETURN(Tensor * t, ctx.allocate_output(2, DataType::kInt64, {n}));
      for (int64_t i = 0; i < n; ++i) t->as<int64_t>()[i] = rank[size_t(group_of[size_t(i)])];
    }
    if (ctx.has_output(3)) {
      PETREL_ASSIGN_OR_RETURN(Tensor * t, ctx.allocate_output(3, DataType::kInt64, {int64_t(u)}));
      for (size_t i = 0; i < u; ++i) t->as<int64_t>()[i] = counts[size_t(pos[i])];
    }
    return Status::ok();
  }
  bool sorted_, has_axis_;
  int64_t axis_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_non_zero(const Node&) { return std::unique_ptr<Kernel>(new NonZeroKernel()); }

Result<std::unique_ptr<Kernel>> make_compress(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", 0));
  return std::unique_ptr<Kernel>(new CompressKernel(has_attr(n, "axis"), axis));
}

Result<std::unique_ptr<Kernel>> make_unique_op(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t sorted, attr_int(n, "sorted", 1));
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", 0));
  return std::unique_ptr<Kernel>(new UniqueKernel(sorted != 0, has_attr(n, "axis"), axis));
}

}  // namespace petrel::ref
