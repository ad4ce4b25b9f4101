// QuantizeLinear, DequantizeLinear (per tensor, per axis, and opset-21 blocked scales) and
// DynamicQuantizeLinear.
#include <algorithm>
#include <cmath>

#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/math_quant.hpp"

namespace petrel::ref {
namespace {

bool is_int4(DataType t) { return t == DataType::kInt4 || t == DataType::kUInt4; }
bool is_quant_type(DataType t) {
  return t == DataType::kUInt8 || t == DataType::kInt8 || t == DataType::kUInt16 || t == DataType::kInt16 || is_int4(t);
}

// How scale/zero-point elements map onto x, derived from the scale's shape.
struct QuantLayout {
  enum Kind { kTensor, kAxis, kBlocked } kind = kTensor;
  int64_t outer = 1, dim = 1, inner = 1;  // x viewed as [outer, dim, inner] around the axis
  int64_t block = 1, scale_dim = 1;

  Status build(const OpContext& ctx, const Tensor& x, const Tensor& scale, int64_t axis_attr, int64_t block_size) {
    if (scale.numel() == 1 && scale.rank() <= 1 && block_size == 0) { kind = kTensor; return Status::ok(); }
    PETREL_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node(), axis_attr, x.rank()));
    for (int64_t d = 0; d < x.rank(); ++d) {
      if (d < axis) outer *= x.shape[size_t(d)];
      else if (d > axis) inner *= x.shape[size_t(d)];
    }
    dim = x.shape[size_t(axis)];
    if (block_size <= 0) {
      if (scale.rank() != 1 || scale.shape[0] != dim)
        return ctx.error("scale of shape " + shape_to_string(scale.shape) + " is neither per-tensor nor per-axis for input " + shape_to_string(x.shape));
      kind = kAxis;
      return Status::ok();
    }
    kind = kBlocked;
    block = block_size;
    if (scale.rank() != x.rank()) return ctx.error("blocked scale must have the rank of the input");
    for (int64_t d = 0; d < x.rank(); ++d) {
      const int64_t want = d == axis ? (dim + block - 1) / block : x.shape[size_t(d)];
      if (scale.shape[size_t(d)] != want)
        return ctx.error("blocked scale of shape " + shape_to_string(scale.shape) + " does not match input " + shape_to_string(x.shape));
    }
    scale_dim = scale.shape[size_t(axis)];
    return Status::ok();
  }

  // Calls f(x_offset, scale_index) for every element of x.
  template <typename F> void for_each(int64_t n, F&& f) const {
    if (kind == kTensor) {
      for (int64_t e = 0; e < n; ++e) f(e, 0);
      return;
    }
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t a = 0; a < dim; ++a) {
        const int64_t base = (o * dim + a) * inner;
        if (kind == kAxis) {
          for (int64_t i = 0; i < inner; ++i) f(base + i, a);
        } else {
          const int64_t sb = (o * scale_dim + a / block) * inner;
          for (int64_t i = 0; i < inner; ++i) f(base + i, sb + i);
        }
      }
  }
};

Status check_zero_point(const OpContext& ctx, const Tensor& scale) {
  if (!ctx.has_input(2)) return Status::ok();
  if (ctx.input(2).shape != scale.shape && !(ctx.input(2).numel() == 1 && scale.numel() == 1))
    return ctx.error("zero point shape " + shape_to_string(ctx.input(2).shape) + " differs from scale shape " + shape_to_string(scale.shape));
  return Status::ok();
}

// Q is the saturation type; Out stores one element (a plain store, or a 4-bit packer).
template <typename Q, typename Out>
void quantize(const QuantLayout& lay, const Tensor& x, const Tensor& scale, const Tensor* zp, Out&& out) {
  const int64_t n = x.numel();
  (void)dispatch_float(scale.dtype, [&](auto stag) {
    using S = typename decltype(stag)::type;
    const S* sp = scale.as<S>();
    auto body = [&](auto xtag) {
      using X = typename decltype(xtag)::type;
      const X* xp = x.as<X>();
      // x / scale in float32 as the reference does (division, not a reciprocal multiply, so
      // that ties round identically), then round half to even, add the zero point, saturate.
      lay.for_each(n, [&](int64_t e, int64_t s) {
        const float q = std::nearbyint(float(load(xp[e])) / float(load(sp[s])));
        out(e, saturate_round<Q>(double(q) + zero_point_at(zp, s)));
      });
      return Status::ok();
    };
    if (x.dtype == DataType::kInt32) return body(Tag<int32_t>{});
    return dispatch_float(x.dtype, body);
  });
}

class QuantizeKernel final : public Kernel {
 public:
  QuantizeKernel(int64_t axis, int64_t block, DataType out) : axis_(axis), block_(block), out_(out) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 3));
    const Tensor& x = ctx.input(0);
    if (!ctx.has_input(1)) return ctx.error("missing y_scale");
    const Tensor& scale = ctx.input(1);
    if (!dtype_is_float(x.dtype) && x.dtype != DataType::kInt32)
      return ctx.unsupported_error("input dtype " + std::string(dtype_name(x.dtype)));
    if (!dtype_is_float(scale.dtype) || dtype_size(scale.dtype) > 4) return ctx.error("y_scale must be float32, float16 or bfloat16");
    DataType out = ctx.has_input(2) ? ctx.input(2).dtype : out_;
    if (!is_quant_type(out)) return ctx.unsupported_error("output dtype " + std::string(dtype_name(out)));
    QuantLayout lay;
    PETREL_RETURN_IF_ERROR(lay.build(ctx, x, scale, axis_, block_));
    PETREL_RETURN_IF_ERROR(check_zero_point(ctx, scale));
    return ctx.set_output(0, out, x.shape);
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& scale = ctx.input(1);
    const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    QuantLayout lay;
    PETREL_RETURN_IF_ERROR(lay.build(ctx, x, scale, axis_, block_));
    Tensor& y = ctx.output(0);
    auto plain = [](auto* p) { return [p](int64_t e, auto v) { p[e] = v; }; };
    uint8_t* packed = y.as<uint8_t>();
    auto nibbles = [packed](int64_t e, int32_t v) { int4_set(packed, e, v); };
    switch (y.dtype) {
      case DataType::kUInt8: quantize<uint8_t>(lay, x, scale, zp, plain(y.as<uint8_t>())); break;
      case DataType::kInt8: quantize<int8_t>(lay, x, scale, zp, plain(y.as<int8_t>())); break;
      case DataType::kUInt16: quantize<uint16_t>(lay, x, scale, zp, plain(y.as<uint16_t>())); break;
      case DataType::kInt4: quantize<Int4Range>(lay, x, scale, zp, nibbles); break;
      case DataType::kUInt4: quantize<UInt4Range>(lay, x, scale, zp, nibbles); break;
      default: quantize<int16_t>(lay, x, scale, zp, plain(y.as<int16_t>())); break;
    }
    return Status::ok();
  }

 private:
  int64_t axis_, block_;
  DataType out_;
};

class DequantizeKernel final : public Kernel {
 public:
  DequantizeKernel(int64_t axis, int64_t block) : axis_(axis), block_(block) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 2, 3));
    const Tensor& x = ctx.input(0);
    if (!ctx.has_input(1)) return ctx.error("missing x_scale");
    const Tensor& scale = ctx.input(1);
    if (!is_quant_type(x.dtype) && x.dtype != DataType::kInt32)
      return ctx.unsupported_error("input dtype " + std::string(dtype_name(x.dtype)));
    if (!dtype_is_float(scale.dtype) || dtype_size(scale.dtype) > 4) return ctx.error("x_scale must be float32, float16 or bfloat16");
    if (ctx.has_input(2) && ctx.input(2).dtype != x.dtype) return ctx.error("x_zero_point must have the type of x");
    QuantLayout lay;
    PETREL_RETURN_IF_ERROR(lay.build(ctx, x, scale, axis_, block_));
    PETREL_RETURN_IF_ERROR(check_zero_point(ctx, scale));
    return ctx.set_output(0, scale.dtype, x.shape);
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& scale = ctx.input(1);
    const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    QuantLayout lay;
    PETREL_RETURN_IF_ERROR(lay.build(ctx, x, scale, axis_, block_));
    const int64_t n = x.numel();
    return dispatch_float(scale.dtype, [&](auto stag) {
      using S = typename decltype(stag)::type;
      const S* sp = scale.as<S>();
      S* y = ctx.output(0).as<S>();
      if (is_int4(x.dtype)) {
        const uint8_t* xp = x.as<uint8_t>();
        const bool sgn = x.dtype == DataType::kInt4;
        lay.for_each(n, [&](int64_t e, int64_t s) {
          y[e] = store<S>(float(int4_get(xp, e, sgn) - zero_point_at(zp, s)) * float(load(sp[s])));
        });
        return Status::ok();
      }
      return dispatch_all_numeric(x.dtype, [&](auto xtag) {
        using X = typename decltype(xtag)::type;
        if constexpr (std::is_integral_v<X>) {
          const X* xp = x.as<X>();
          lay.for_each(n, [&](int64_t e, int64_t s) {
            // The difference is exact in int64; the product rounds once, in float32.
            const float d = float(int64_t(xp[e]) - zero_point_at(zp, s));
            y[e] = store<S>(d * float(load(sp[s])));
          });
        }
        return Status::ok();
      });
    });
  }

 private:
  int64_t axis_, block_;
};

// y_scale = (max(0, max x) - min(0, min x)) / 255, zero point = rint(-min / scale) clipped to
// [0, 255], y = saturate(rint(x / scale) + zero point); all in float32 like the reference.
class DynamicQuantizeKernel final : public Kernel {
 public:
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 1));
    const Tensor& x = ctx.input(0);
    if (x.dtype != DataType::kFloat) return ctx.unsupported_error("input must be float32");
    PETREL_RETURN_IF_ERROR(ctx.set_output(0, DataType::kUInt8, x.shape));
    PETREL_RETURN_IF_ERROR(ctx.set_output(1, DataType::kFloat, {}));
    return ctx.set_output(2, DataType::kUInt8, {});
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const float* xp = x.as<float>();
    const int64_t n = x.numel();
    float lo = 0.f, hi = 0.f;
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min(lo, xp[i]);
      hi = std::max(hi, xp[i]);
    }
    const float scale = (hi - lo) / 255.f;
    uint8_t zp = 0;
    if (scale > 0.f && std::isfinite(scale)) zp = saturate_round<uint8_t>(std::nearbyint((0.f - lo / scale)));
    uint8_t* y = ctx.output(0).as<uint8_t>();
    for (int64_t i = 0; i < n; ++i)
      y[i] = scale > 0.f ? saturate_round<uint8_t>(double(std::nearbyint(xp[i] / scale)) + zp) : uint8_t(0);
    if (ctx.has_output(1)) ctx.output(1).as<float>()[0] = scale;
    if (ctx.has_output(2)) ctx.output(2).as<uint8_t>()[0] = zp;
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_quantize_linear(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", 1));
  PETREL_ASSIGN_OR_RETURN(int64_t block, attr_int(n, "block_size", 0));
  PETREL_ASSIGN_OR_RETURN(int64_t saturate, attr_int(n, "saturate", 1));
  PETREL_ASSIGN_OR_RETURN(int64_t out, attr_int(n, "output_dtype", 0));
  (void)saturate;  // only affects float8 outputs, which are not supported
  if (block < 0) return invalid_model(n.label() + ": block_size must be >= 0");
  if (out != 0 && !(out >= 0 && out <= kMaxDataType && is_quant_type(DataType(out))))
    return unsupported(n.label() + ": output_dtype " + std::to_string(out));
  return std::unique_ptr<Kernel>(new QuantizeKernel(axis, block, out ? DataType(out) : DataType::kUInt8));
}

Result<std::unique_ptr<Kernel>> make_dequantize_linear(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", 1));
  PETREL_ASSIGN_OR_RETURN(int64_t block, attr_int(n, "block_size", 0));
  if (block < 0) return invalid_model(n.label() + ": block_size must be >= 0");
  return std::unique_ptr<Kernel>(new DequantizeKernel(axis, block));
}

Result<std::unique_ptr<Kernel>> make_dynamic_quantize_linear(const Node&) {
  return std::unique_ptr<Kernel>(new DynamicQuantizeKernel());
}

}  // namespace petrel::ref
