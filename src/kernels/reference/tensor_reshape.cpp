// Identity, Reshape, Flatten, Squeeze, Unsqueeze (the data is copied unchanged; only the shape
// changes), Shape and Size (metadata only).
#include <algorithm>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/tensor_util.hpp"

namespace petrel::ref {
namespace {

using namespace tensor_detail;

// Shared compute of every op whose output holds the input's elements in the same order.
class CopyKernel : public Kernel {
 public:
  Status compute(OpContext& ctx) override { return copy_data(ctx.input(0), ctx.output(0)); }
};

class IdentityKernel : public CopyKernel {
 public:
  Status infer(OpContext& ctx) override {
    if (ctx.num_inputs() != 1 || !ctx.has_input(0)) return ctx.error("expects 1 input");
    const Value& v = ctx.input_value(0);
    if (!v.is_tensor()) {
      // Sequences and optionals pass through unchanged (there is no buffer to plan).
      ctx.set_output_value(0, v);
      return Status::ok();
    }
    return ctx.set_output(0, v.tensor.dtype, v.tensor.shape);
  }
  Status compute(OpContext& ctx) override {
    const Value& v = ctx.input_value(0);
    if (!v.is_tensor()) {
      ctx.set_output_value(0, v);
      return Status::ok();
    }
    return copy_data(v.tensor, ctx.output(0));
  }
};

class ReshapeKernel : public CopyKernel {
 public:
  explicit ReshapeKernel(bool allowzero) : allowzero_(allowzero) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 2));
    const Tensor& x = ctx.input(0);
    std::vector<int64_t> req;
    PETREL_RETURN_IF_ERROR(read_int_input(ctx, 1, req));
    if (ctx.input(1).rank() != 1) return ctx.error("shape input must be 1-D");
    Shape out(req.size());
    int infer_at = -1;
    bool has_zero = false;
    int64_t known = 1;
    for (size_t i = 0; i < req.size(); ++i) {
      int64_t d = req[i];
      if (d == -1) {
        if (infer_at >= 0) return ctx.error("shape has more than one -1");
        infer_at = int(i);
        continue;
      }
      if (d < -1) return ctx.error("shape has invalid dimension " + std::to_string(d));
      if (d == 0 && !allowzero_) {
        if (i >= x.shape.size()) return ctx.error("shape has 0 at index " + std::to_string(i) + " beyond the input rank");
        d = x.shape[i];
      }
      if (d == 0) has_zero = true;
      out[i] = d;
      if (d != 0) {
        if (d > kMaxElements / known) return ctx.error("shape is too large");
        known *= d;
      }
    }
    const int64_t n = x.numel();
    if (infer_at >= 0) {
      if (has_zero) {
        // -1 next to a zero-sized dim is ambiguous unless the input is empty too
        if (n != 0) return ctx.error("cannot infer -1 with a zero dimension");
        if (allowzero_) return ctx.error("allowzero shape cannot contain both 0 and -1");
        out[size_t(infer_at)] = 0;
      } else {
        if (n % known != 0) return ctx.error("cannot reshape " + shape_to_string(x.shape) + " to " + shape_to_string(req));
        out[size_t(infer_at)] = n / known;
      }
    }
    if (shape_numel(out) != n)
      return ctx.error("cannot reshape " + shape_to_string(x.shape) + " to " + shape_to_string(out));
    return ctx.set_output(0, x.dtype, std::move(out));
  }

 private:
  bool allowzero_;
};

class FlattenKernel : public CopyKernel {
 public:
  explicit FlattenKernel(int64_t axis) : axis_(axis) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 1));
    const Tensor& x = ctx.input(0);
    const int64_t r = x.rank();
    int64_t a = axis_ < 0 ? axis_ + r : axis_;
    if (a < 0 || a > r) return ctx.error("axis " + std::to_string(axis_) + " out of range for rank " + std::to_string(r));
    return ctx.set_output(0, x.dtype, {prod(x.shape, 0, size_t(a)), prod(x.shape, size_t(a), size_t(r))});
  }

 private:
  int64_t axis_;
};

class SqueezeKernel : public CopyKernel {
 public:
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 2));
    const Tensor& x = ctx.input(0);
    const int64_t r = x.rank();
    std::vector<bool> drop(size_t(r), false);
    // an empty axes tensor means "all size-1 dims", like an absent one
    if (ctx.has_input(1) && ctx.input(1).numel() > 0) {
      std::vector<int64_t> axes;
      PETREL_RETURN_IF_ERROR(read_int_input(ctx, 1, axes));
      for (int64_t a : axes) {
        PETREL_ASSIGN_OR_RETURN(int64_t na, normalize_axis(ctx.node(), a, r));
        if (x.shape[size_t(na)] != 1) return ctx.error("cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(x.shape[size_t(na)]));
        drop[size_t(na)] = true;
      }
    } else {
      for (int64_t i = 0; i < r; ++i) drop[size_t(i)] = x.shape[size_t(i)] == 1;
    }
    Shape out;
    for (int64_t i = 0; i < r; ++i)
      if (!drop[size_t(i)]) out.push_back(x.shape[size_t(i)]);
    return ctx.set_output(0, x.dtype, std::move(out));
  }
};

class UnsqueezeKernel : public CopyKernel {
 public:
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 2));
    const Tensor& x = ctx.input(0);
    if (!ctx.has_input(1)) return ctx.error("missing axes input");
    std::vector<int64_t> axes;
    PETREL_RETURN_IF_ERROR(read_int_input(ctx, 1, axes));
    const int64_t r = x.rank() + int64_t(axes.size());
    std::vector<bool> ins(size_t(r), false);
    for (int64_t a : axes) {
      PETREL_ASSIGN_OR_RETURN(int64_t na, normalize_axis(ctx.node(), a, r));
      if (ins[size_t(na)]) return ctx.error("duplicate axis " + std::to_string(a));
      ins[size_t(na)] = true;
    }
    Shape out = Shape(size_t(r));
    size_t j = 0;
    for (int64_t i = 0; i < r; ++i) out[size_t(i)] = ins[size_t(i)] ? 1 : x.shape[j++];
    return ctx.set_output(0, x.dtype, std::move(out));
  }
};

class ShapeKernel : public Kernel {
 public:
  ShapeKernel(int64_t start, int64_t end, bool has_end) : start_(start), end_(end), has_end_(has_end) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 1));
    int64_t s, e;
    range(ctx.input(0).rank(), s, e);
    return ctx.set_output(0, DataType::kInt64, {e - s});
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    int64_t s, e;
    range(x.rank(), s, e);
    int64_t* o = ctx.output(0).as<int64_t>();
    for (int64_t i = s; i < e; ++i) o[i - s] = x.shape[size_t(i)];
    return Status::ok();
  }

 private:
  // Negative start/end count from the back; both are clamped to [0, rank] (opset 15).
  void range(int64_t r, int64_t& s, int64_t& e) const {
    s = start_ < 0 ? start_ + r : start_;
    e = has_end_ ? (end_ < 0 ? end_ + r : end_) : r;
    s = std::clamp<int64_t>(s, 0, r);
    e = std::clamp<int64_t>(e, 0, r);
    if (e < s) e = s;
  }
  int64_t start_, end_;
  bool has_end_;
};

class SizeKernel : public Kernel {
 public:
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 1));
    return ctx.set_output(0, DataType::kInt64, {});
  }
  Status compute(OpContext& ctx) override {
    ctx.output(0).as<int64_t>()[0] = ctx.input(0).numel();
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_identity(const Node&) { return std::unique_ptr<Kernel>(new IdentityKernel()); }

Result<std::unique_ptr<Kernel>> make_reshape(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t az, attr_int(n, "allowzero", 0));
  return std::unique_ptr<Kernel>(new ReshapeKernel(az != 0));
}

Result<std::unique_ptr<Kernel>> make_flatten(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", 1));
  return std::unique_ptr<Kernel>(new FlattenKernel(axis));
}

Result<std::unique_ptr<Kernel>> make_squeeze(const Node&) { return std::unique_ptr<Kernel>(new SqueezeKernel()); }
Result<std::unique_ptr<Kernel>> make_unsqueeze(const Node&) { return std::unique_ptr<Kernel>(new UnsqueezeKernel()); }

Result<std::unique_ptr<Kernel>> make_shape(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t start, attr_int(n, "start", 0));
  PETREL_ASSIGN_OR_RETURN(int64_t end, attr_int(n, "end", 0));
  return std::unique_ptr<Kernel>(new ShapeKernel(start, end, has_attr(n, "end")));
}

Result<std::unique_ptr<Kernel>> make_size(const Node&) { return std::unique_ptr<Kernel>(new SizeKernel()); }

}  // namespace petrel::ref
