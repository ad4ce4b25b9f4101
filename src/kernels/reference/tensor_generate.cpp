// Ops that generate a tensor from a shape or a few scalars: ConstantOfShape, Range, OneHot,
// EyeLike.
#include <cmath>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/tensor_util.hpp"

namespace petrel::ref {
namespace {

using namespace tensor_detail;

class ConstantOfShapeKernel : public Kernel {
 public:
  ConstantOfShapeKernel(DataType dt, std::vector<uint8_t> bytes) : dt_(dt), bytes_(std::move(bytes)) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 1));
    std::vector<int64_t> s;
    PETREL_RETURN_IF_ERROR(read_int_input(ctx, 0, s));
    if (ctx.input(0).rank() != 1) return ctx.error("shape input must be 1-D");
    auto n = checked_numel(s);
    if (!n) return ctx.error(n.status().message());
    return ctx.set_output(0, dt_, std::move(s));
  }
  Status compute(OpContext& ctx) override {
    Tensor& y = ctx.output(0);
    return dispatch_by_size(dt_, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, std::string>) {
        return ctx.error("string values are not supported");
      } else {
        T v;
        std::memcpy(&v, bytes_.data(), sizeof(T));
        std::fill(y.as<T>(), y.as<T>() + y.numel(), v);
        return Status::ok();
      }
    });
  }

 private:
  DataType dt_;
  std::vector<uint8_t> bytes_;  // the fill element's raw bytes
};

class RangeKernel : public Kernel {
 public:
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 3, 3));
    const DataType dt = ctx.input(0).dtype;
    for (int i = 0; i < 3; ++i) {
      if (ctx.input(i).dtype != dt) return ctx.error("start, limit and delta must have the same dtype");
      if (ctx.input(i).numel() != 1) return ctx.error("start, limit and delta must be scalars");
    }
    if (dt != DataType::kFloat && dt != DataType::kDouble && dt != DataType::kInt16 && dt != DataType::kInt32 &&
        dt != DataType::kInt64)
      return ctx.error("unsupported dtype " + std::string(dtype_name(dt)));
    for (int i = 0; i < 3; ++i)
      if (!ctx.input_known(i)) return OpContext::needs_data();
    int64_t n = 0;
    PETREL_RETURN_IF_ERROR(count(ctx, n));
    return ctx.set_output(0, dt, {n});
  }
  Status compute(OpContext& ctx) override {
    Tensor& y = ctx.output(0);
    const int64_t n = y.numel();
    if (y.dtype == DataType::kFloat || y.dtype == DataType::kDouble) {
      const double s = element_as_double(ctx.input(0), 0), d = element_as_double(ctx.input(2), 0);
      for (int64_t i = 0; i < n; ++i) {
        const double v = s + double(i) * d;
        if (y.dtype == DataType::kFloat) y.as<float>()[i] = float(v);
        else y.as<double>()[i] = v;
      }
      return Status::ok();
    }
    const int64_t s = element_as_int64(ctx.input(0), 0), d = element_as_int64(ctx.input(2), 0);
    for (int64_t i = 0; i < n; ++i) {
      // start + i*delta lies between start and limit, but i*delta alone may not fit in int64:
      // wrap-around unsigned arithmetic gives the exact result
      const int64_t v = int64_t(uint64_t(s) + uint64_t(i) * uint64_t(d));
      switch (y.dtype) {
        case DataType::kInt16: y.as<int16_t>()[i] = int16_t(v); break;
        case DataType::kInt32: y.as<int32_t>()[i] = int32_t(v); break;
        default: y.as<int64_t>()[i] = v; break;
      }
    }
    return Status::ok();
  }

 private:
  // Element count max(ceil((limit - start) / delta), 0).
  static Status count(OpContext& ctx, int64_t& n) {
    const DataType dt = ctx.input(0).dtype;
    if (dt == DataType::kFloat || dt == DataType::kDouble) {
      const double s = element_as_double(ctx.input(0), 0), l = element_as_double(ctx.input(1), 0),
                   d = element_as_double(ctx.input(2), 0);
      if (d == 0) return ctx.error("delta cannot be 0");
      const double c = std::ceil((l - s) / d);
      if (!std::isfinite(c)) return ctx.error("range is not finite");
      if (c > double(kMaxElements)) return ctx.error("range has too many elements");
      n = c > 0 ? int64_t(c) : 0;
      return Status::ok();
    }
    const int64_t s = element_as_int64(ctx.input(0), 0), l = element_as_int64(ctx.input(1), 0),
                  d = element_as_int64(ctx.input(2), 0);
    if (d == 0) return ctx.error("delta cannot be 0");
    if ((d > 0 && l <= s) || (d < 0 && l >= s)) { n = 0; return Status::ok(); }
    // unsigned arithmetic: |limit - start| and |delta| fit in uint64 even at the int64 extremes
    const uint64_t span = d > 0 ? uint64_t(l) - uint64_t(s) : uint64_t(s) - uint64_t(l);
    const uint64_t step = d > 0 ? uint64_t(d) : uint64_t(0) - uint64_t(d);
    const uint64_t c = span / step + (span % step != 0);
    if (c > uint64_t(kMaxElements)) return ctx.error("range has too many elements");
    n = int64_t(c);
    return Status::ok();
  }
};

class OneHotKernel : public Kernel {
 public:
  explicit OneHotKernel(int64_t axis) : axis_(axis) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 3, 3));
    const Tensor& idx = ctx.input(0);
    const Tensor& values = ctx.input(2);
    if (idx.dtype == DataType::kString || idx.dtype == DataType::kBool) return ctx.error("indices must be numeric");
    if (values.numel() != 2) return ctx.error("values must have 2 elements (off, on)");
    if (ctx.input(1).numel() != 1 || ctx.input(1).dtype == DataType::kString) return ctx.error("depth must be a numeric scalar");
    if (!ctx.input_known(1)) return OpContext::needs_data();
    int64_t depth, a;
    PETREL_RETURN_IF_ERROR(params(ctx, depth, a));
    Shape out = idx.shape;
    out.insert(out.begin() + a, depth);
    PETREL_RETURN_IF_ERROR(checked_numel(out).status());
    return ctx.set_output(0, values.dtype, std::move(out));
  }
  Status compute(OpContext& ctx) override {
    const Tensor& idx = ctx.input(0);
    int64_t depth, a;
    PETREL_RETURN_IF_ERROR(params(ctx, depth, a));
    const int64_t outer = prod(idx.shape, 0, size_t(a)), inner = prod(idx.shape, size_t(a), idx.shape.size());
    return dispatch_by_size(ctx.input(2).dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T off = ctx.input(2).as<T>()[0], on = ctx.input(2).as<T>()[1];
      Tensor& y = ctx.output(0);
      T* out = y.as<T>();
      std::fill(out, out + y.numel(), off);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const double v = element_as_double(idx, o * inner + i);
          if (!(v > -double(depth) - 1 && v < double(depth))) continue;  // NaN too
          int64_t k = int64_t(v);  // truncation, as a cast to int64 would do
          if (k < 0) k += depth;
          // out-of-range indices leave the whole row "off" (spec)
          if (k < 0 || k >= depth) continue;
          out[(o * depth + k) * inner + i] = on;
        }
      return Status::ok();
    });
  }

 private:
  Status params(OpContext& ctx, int64_t& depth, int64_t& a) const {
    const double d = element_as_double(ctx.input(1), 0);
    if (!(d >= 1 && d <= double(kMaxElements))) return ctx.error("depth must be positive");
    depth = int64_t(d);
    const int64_t r = ctx.input(0).rank() + 1;
    if (axis_ < -r || axis_ >= r) return ctx.error("axis " + std::to_string(axis_) + " out of range");
    a = axis_ < 0 ? axis_ + r : axis_;
    return Status::ok();
  }
  int64_t axis_;
};

class EyeLikeKernel : public Kernel {
 public:
  EyeLikeKernel(DataType dt, int64_t k) : dt_(dt), k_(k) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 1));
    const Tensor& x = ctx.input(0);
    if (x.rank() != 2) return ctx.error("input must be 2-D");
    const DataType dt = dt_ == DataType::kUndefined ? x.dtype : dt_;
    if (dt == DataType::kString) return ctx.error("string output is not supported");
    return ctx.set_output(0, dt, x.shape);
  }
  Status compute(OpContext& ctx) override {
    Tensor& y = ctx.output(0);
    const int64_t rows = y.shape[0], cols = y.shape[1];
    return dispatch_with_bool(y.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* out = y.as<T>();
      std::fill(out, out + rows * cols, store<T>(ComputeType<T>(0)));
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t j = i + k_;
        if (j >= 0 && j < cols) out[i * cols + j] = store<T>(ComputeType<T>(1));
      }
      return Status::ok();
    });
  }

 private:
  DataType dt_;
  int64_t k_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_constant_of_shape(const Node& n) {
  const Attribute* a = n.attr("value");
  DataType dt = DataType::kFloat;
  std::vector<uint8_t> bytes(16, 0);
  if (a) {
    if (a->type != AttrType::kTensor) return invalid_model(n.label() + ": attribute 'value' must be a tensor");
    if (a->t.numel() != 1) return invalid_model(n.label() + ": 'value' must have exactly one element");
    dt = a->t.dtype;
    if (dt == DataType::kString || dtype_size(dt) == 0 || dtype_size(dt) > 8)
      return unsupported(n.label() + ": value dtype " + std::string(dtype_name(dt)));
    std::memcpy(bytes.data(), a->t.data, dtype_size(dt));
  }
  return std::unique_ptr<Kernel>(new ConstantOfShapeKernel(dt, std::move(bytes)));
}

Result<std::unique_ptr<Kernel>> make_range(const Node&) { return std::unique_ptr<Kernel>(new RangeKernel()); }

Result<std::unique_ptr<Kernel>> make_one_hot(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", -1));
  return std::unique_ptr<Kernel>(new OneHotKernel(axis));
}

Result<std::unique_ptr<Kernel>> make_eye_like(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t k, attr_int(n, "k", 0));
  PETREL_ASSIGN_OR_RETURN(int64_t dt, attr_int(n, "dtype", 0));
  if (has_attr(n, "dtype") && (!dtype_is_valid(int32_t(dt)) || dt == 0))
    return invalid_model(n.label() + ": invalid dtype " + std::to_string(dt));
  if (dt != 0 && (DataType(dt) == DataType::kString || dtype_size(DataType(dt)) == 0 || dtype_size(DataType(dt)) > 8))
    return unsupported(n.label() + ": dtype " + std::string(dtype_name(DataType(dt))));
  if (k < -kMaxElements || k > kMaxElements) return invalid_model(n.label() + ": k out of range");
  return std::unique_ptr<Kernel>(new EyeLikeKernel(DataType(dt), k));
}

}  // namespace petrel::ref
