// Kernels of the quantized averaging and concatenation ops that optimize/qdq_pool_fusion.cpp
// creates:
//   petrel.QGlobalAveragePool(x_q, x_s, x_zp?, y_s, y_zp?)   x [N, C, spatial...]
//   petrel.QAveragePool(same inputs)  AveragePool attributes; 2-D NCHW
//   petrel.QConcat(y_s, y_zp?, x0_q, x0_s, x0_zp?, x1_q, ...)  axis
// u8/s8 in and out (an absent zero point means 0 and u8). Averages sum x_q − zp_x exactly in
// integers and requantize once: y = clamp(round_half_even(sum · s_x / (s_y · count)) + zp_y),
// where the float graph (DequantizeLinear, float average, QuantizeLinear) rounds a few times
// more: the two agree within one output step. An input of QConcat with the output's type,
// scale and zero point is copied byte for byte; others are requantized element by element.
// The nodes may also come from a file, so infer checks every parameter.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/reference/common.hpp"
#include "kernels/reference/nn_window.hpp"
#include "kernels/x86/kernel_util.hpp"
#include "kernels/x86/kernels.hpp"

namespace petrel::x86 {
namespace {

bool is_8bit(DataType t) { return t == DataType::kUInt8 || t == DataType::kInt8; }

// Scale and zero point of one quantized tensor (inputs s and zp of the node; zp may be absent).
struct QParam {
  float s = 1.f;
  int32_t zp = 0;
  DataType type = DataType::kUInt8;
};
Status read_param(const OpContext& ctx, int s, int zp, QParam& out) {
  if (!ctx.has_input(s) || ctx.input(s).dtype != DataType::kFloat || ctx.input(s).numel() != 1 || !ctx.input_known(s))
    return ctx.error("input " + std::to_string(s) + " must be a constant float scale with one element");
  out.s = ctx.input(s).as<float>()[0];
  if (!(out.s > 0.f) || !std::isfinite(out.s)) return ctx.error("input " + std::to_string(s) + " must be a positive finite scale");
  out.zp = 0, out.type = DataType::kUInt8;
  if (ctx.has_input(zp)) {
    const Tensor& z = ctx.input(zp);
    if (!is_8bit(z.dtype) || z.numel() != 1 || !ctx.input_known(zp))
      return ctx.error("input " + std::to_string(zp) + " must be a constant u8/s8 zero point with one element");
    out.type = z.dtype;
    out.zp = z.dtype == DataType::kInt8 ? int32_t(z.as<int8_t>()[0]) : int32_t(z.as<uint8_t>()[0]);
  }
  return Status::ok();
}

int32_t load_q(const void* p, DataType t, int64_t i) {
  return t == DataType::kInt8 ? int32_t(static_cast<const int8_t*>(p)[i]) : int32_t(static_cast<const uint8_t*>(p)[i]);
}
void store_q(void* p, DataType t, int64_t i, int32_t v) {
  if (t == DataType::kInt8) static_cast<int8_t*>(p)[i] = int8_t(std::clamp(v, -128, 127));
  else static_cast<uint8_t*>(p)[i] = uint8_t(std::clamp(v, 0, 255));
}
// round_half_even(v) + zp, saturated to the type (v in any range: clamped before the cast).
int32_t requant(double v, int32_t zp) {
  return int32_t(std::nearbyint(std::clamp(v, -1e6, 1e6))) + zp;
}

// Shared by both averages: x and y parameters, validated.
struct PoolParams {
  QParam x, y;
  Status read(const OpContext& ctx) {
    PETREL_RETURN_IF_ERROR(read_param(ctx, 1, 2, x));
    PETREL_RETURN_IF_ERROR(read_param(ctx, 3, 4, y));
    if (ctx.input(0).dtype != x.type) return ctx.error("x does not have its zero point's type");
    return Status::ok();
  }
};

class QGlobalAveragePoolKernel final : public FastPathKernel {
 public:
  Status infer(OpContext& ctx) override {
    fast_ = true;
    PETREL_RETURN_IF_ERROR(p_.read(ctx));
    const Tensor& x = ctx.input(0);
    if (x.rank() < 3) return ctx.error("expects [N, C, spatial...]");
    Shape y = x.shape;
    for (size_t d = 2; d < y.size(); ++d) y[d] = 1;
    return ctx.set_output(0, p_.y.type, std::move(y));
  }
  Status compute(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(p_.read(ctx));
    const Tensor& x = ctx.input(0);
    const int64_t planes = x.shape[0] * x.shape[1], area = planes == 0 ? 0 : x.numel() / planes;
    if (area == 0) return ctx.unsupported_error("an empty spatial extent");
    const double m = double(p_.x.s) / (double(p_.y.s) * double(area));
    for (int64_t pl = 0; pl < planes; ++pl) {
      int64_t sum = 0;
      if (x.dtype == DataType::kUInt8) {
        const uint8_t* r = x.as<uint8_t>() + pl * area;
        for (int64_t i = 0; i < area; ++i) sum += r[i];
      } else {
        const int8_t* r = x.as<int8_t>() + pl * area;
        for (int64_t i = 0; i < area; ++i) sum += r[i];
      }
      store_q(ctx.output(0).data, p_.y.type, pl, requant(double(sum - area * p_.x.zp) * m, p_.y.zp));
    }
    return Status::ok();
  }

 private:
  PoolParams p_;
};

class QAveragePoolKernel final : public FastPathKernel {
 public:
  QAveragePoolKernel(ref::nn::WindowAttrs a, bool cip) : a_(std::move(a)), cip_(cip) {}
  Status infer(OpContext& ctx) override {
    fast_ = true;
    PETREL_RETURN_IF_ERROR(p_.read(ctx));
    const Tensor& x = ctx.input(0);
    if (x.rank() != 4) return ctx.error("expects a 2-D NCHW input");
    if (a_.kernel_shape.size() != 2) return ctx.error("kernel_shape must have 2 values");
    PETREL_RETURN_IF_ERROR(ref::nn::resolve_window(ctx, a_, {x.shape[2], x.shape[3]}, a_.kernel_shape, win_));
    // Per output row / column: the taps inside the input [lo, hi) and, for count_include_pad,
    // how many fall inside the padded extent (the reference's counts, dimension by dimension).
    for (int d = 0; d < 2; ++d) {
      taps_[d].clear();
      for (int64_t o = 0; o < win_.out[size_t(d)]; ++o) {
        const int64_t st = o * win_.stride[size_t(d)] - win_.pad_begin[size_t(d)], dil = win_.dilation[size_t(d)];
        const int64_t k = win_.kernel[size_t(d)], in = win_.in[size_t(d)];
        Taps t;
        t.lo = st >= 0 ? 0 : (-st + dil - 1) / dil;
        t.hi = st >= in ? 0 : std::min(k, (in - 1 - st) / dil + 1);
        const int64_t plo = st >= -win_.pad_begin[size_t(d)] ? 0 : (-win_.pad_begin[size_t(d)] - st + dil - 1) / dil;
        const int64_t lim = in + win_.pad_end[size_t(d)];
        const int64_t phi = st >= lim ? 0 : std::min(k, (lim - 1 - st) / dil + 1);
        t.padded = std::max<int64_t>(0, phi - plo);
        t.start = st;
        taps_[d].push_back(t);
      }
    }
    return ctx.set_output(0, p_.y.type, {x.shape[0], x.shape[1], win_.out[0], win_.out[1]});
  }
  Status compute(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(p_.read(ctx));
    const Tensor& x = ctx.input(0);
    const int64_t planes = x.shape[0] * x.shape[1], H = win_.in[0], W = win_.in[1], OH = win_.out[0], OW = win_.out[1];
    const int64_t dh = win_.dilation[0], dw = win_.dilation[1];
    const double m = double(p_.x.s) / double(p_.y.s);
    for (int64_t pl = 0; pl < planes; ++pl)
      for (int64_t oh = 0; oh < OH; ++oh) {
        const Taps& th = taps_[0][size_t(oh)];
        for (int64_t ow = 0; ow < OW; ++ow) {
          const Taps& tw = taps_[1][size_t(ow)];
          int64_t sum = 0;
          for (int64_t i = th.lo; i < th.hi; ++i) {
            const int64_t row = pl * H * W + (th.start + i * dh) * W;
            for (int64_t j = tw.lo; j < tw.hi; ++j) sum += load_q(x.data, x.dtype, row + tw.start + j * dw);
          }
          const int64_t count = std::max<int64_t>(0, th.hi - th.lo) * std::max<int64_t>(0, tw.hi - tw.lo);
          const int64_t div = cip_ ? th.padded * tw.padded : count;
          const int32_t q = div > 0 ? requant(double(sum - count * p_.x.zp) * m / double(div), p_.y.zp) : p_.y.zp;
          store_q(ctx.output(0).data, p_.y.type, (pl * OH + oh) * OW + ow, q);
        }
      }
    return Status::ok();
  }

 private:
  struct Taps {
    int64_t lo = 0, hi = 0, padded = 0, start = 0;
  };
  ref::nn::WindowAttrs a_;
  bool cip_;
  ref::nn::Window win_;
  PoolParams p_;
  std::vector<Taps> taps_[2];
};

class QConcatKernel final : public FastPathKernel {
 public:
  explicit QConcatKernel(int64_t axis) : axis_(axis) {}
  Status infer(OpContext& ctx) override {
    fast_ = true;
    const int n = (ctx.num_inputs() - 2) / 3;
    if (n < 1 || ctx.num_inputs() != 2 + 3 * n) return ctx.error("expects y_s, y_zp and (x_q, x_s, x_zp) per input");
    QParam y;
    PETREL_RETURN_IF_ERROR(read_param(ctx, 0, 1, y));
    Shape out;
    int64_t axis = 0;
    for (int i = 0; i < n; ++i) {
      if (!ctx.has_input(2 + 3 * i)) return ctx.error("input " + std::to_string(i) + " is missing");
      QParam p;
      PETREL_RETURN_IF_ERROR(read_param(ctx, 3 + 3 * i, 4 + 3 * i, p));
      const Tensor& x = ctx.input(2 + 3 * i);
      if (x.dtype != p.type) return ctx.error("input " + std::to_string(i) + " does not have its zero point's type");
      if (i == 0) {
        axis = axis_ < 0 ? axis_ + x.rank() : axis_;
        if (axis < 0 || axis >= x.rank()) return ctx.error("axis out of range");
        out = x.shape;
        continue;
      }
      if (x.rank() != int64_t(out.size())) return ctx.error("inputs must have the same rank");
      for (int64_t d = 0; d < x.rank(); ++d)
        if (d != axis && x.shape[size_t(d)] != out[size_t(d)]) return ctx.error("input " + std::to_string(i) + " differs outside the axis");
      out[size_t(axis)] += x.shape[size_t(axis)];
    }
    return ctx.set_output(0, y.type, std::move(out));
  }
  Status compute(OpContext& ctx) override {
    const int n = (ctx.num_inputs() - 2) / 3;
    QParam y;
    PETREL_RETURN_IF_ERROR(read_param(ctx, 0, 1, y));
    const Tensor& first = ctx.input(2);
    const int64_t axis = axis_ < 0 ? axis_ + first.rank() : axis_;
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= first.shape[size_t(d)];
    const Tensor& out = ctx.output(0);
    const int64_t row = outer == 0 ? 0 : out.numel() / outer;  // output bytes per outer index
    uint8_t* dst = static_cast<uint8_t*>(out.data);
    int64_t off = 0;
    for (int i = 0; i < n; ++i) {
      QParam p;
      PETREL_RETURN_IF_ERROR(read_param(ctx, 3 + 3 * i, 4 + 3 * i, p));
      const Tensor& x = ctx.input(2 + 3 * i);
      const int64_t chunk = outer == 0 ? 0 : x.numel() / outer;
      const uint8_t* src = static_cast<const uint8_t*>(x.data);
      if (p.type == y.type && p.s == y.s && p.zp == y.zp) {
        for (int64_t o = 0; o < outer; ++o) std::memcpy(dst + o * row + off, src + o * chunk, size_t(chunk));
      } else {
        const double m = double(p.s) / double(y.s);
        for (int64_t o = 0; o < outer; ++o)
          for (int64_t e = 0; e < chunk; ++e)
            store_q(dst, y.type, o * row + off + e, requant(double(load_q(src, x.dtype, o * chunk + e) - p.zp) * m, y.zp));
      }
      off += chunk;
    }
    return Status::ok();
  }

 private:
  int64_t axis_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_qglobal_average_pool(const Node& n) {
  if (n.inputs.size() < 4) return invalid_model(n.label() + ": expects at least 4 inputs");
  return std::unique_ptr<Kernel>(new QGlobalAveragePoolKernel());
}

Result<std::unique_ptr<Kernel>> make_qaverage_pool(const Node& n) {
  if (n.inputs.size() < 4) return invalid_model(n.label() + ": expects at least 4 inputs");
  ref::nn::WindowAttrs a;
  PETREL_RETURN_IF_ERROR(ref::nn::parse_window_attrs(n, a));
  if (a.kernel_shape.empty()) return invalid_model(n.label() + ": missing required attribute 'kernel_shape'");
  PETREL_ASSIGN_OR_RETURN(int64_t cip, ref::attr_int(n, "count_include_pad", 0));
  return std::unique_ptr<Kernel>(new QAveragePoolKernel(std::move(a), cip != 0));
}

Result<std::unique_ptr<Kernel>> make_qconcat(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, ref::attr_int_required(n, "axis"));
  return std::unique_ptr<Kernel>(new QConcatKernel(axis));
}

}  // namespace petrel::x86
