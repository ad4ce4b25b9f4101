// Kernels of the fused quantized ops that the optimizer's qdq_fusion pass creates (see
// src/optimize/qdq_fusion.cpp for the patterns):
//   petrel.QGemm(x_q, x_s, x_zp, w_s8, w_s, b_i32?, y_s?, y_zp?)  transB; x [..., K]
//   petrel.QConv(same inputs)  Conv attributes; 2-D NCHW, group 1 or depthwise
//   petrel.QAdd(a_q, a_s, a_zp, b_q, b_s, b_zp, y_s, y_zp)  same shapes
//   petrel.QMaxPool(x_q)  MaxPool attributes; 2-D NCHW
//   petrel.DynQMatMul(x f32, w_s8 [K, N], w_s, bias?)  -> f32, then any fused activation
// Inputs at positions 2/5/6/7 may be absent (x_zp: 0 and u8; bias: none; y_s: float output).
// With y_s the output is requantized to y_zp's type (u8 when absent), clamped to the fused
// activation's bounds act_min/act_max (attributes, float): the bounds are quantized with the
// output's own rounding, so clamp-then-quantize equals quantize-then-clamp exactly.
// Weights, scales and biases are read once per plan (they are constants: the pass only fuses
// constant weights). Everything runs on the int8 GEMM (qgemm.hpp).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kernels/reference/common.hpp"
#include "kernels/reference/nn_conv.hpp"
#include "kernels/x86/kernel_util.hpp"
#include "kernels/x86/kernels.hpp"
#include "kernels/x86/qadd.hpp"
#include "kernels/x86/qdepthwise.hpp"
#include "kernels/x86/qim2col.hpp"
#include "kernels/x86/qgemm.hpp"

namespace petrel::x86 {
namespace {

int32_t zp_of(const OpContext& ctx, int i) {
  if (!ctx.has_input(i)) return 0;
  const Tensor& t = ctx.input(i);
  return t.dtype == DataType::kInt8 ? int32_t(t.as<int8_t>()[0]) : int32_t(t.as<uint8_t>()[0]);
}
DataType qtype_of(const OpContext& ctx, int zp) {
  return ctx.has_input(zp) ? ctx.input(zp).dtype : DataType::kUInt8;
}
Status check_scalar_param(const OpContext& ctx, int s, int zp) {
  if (!ctx.has_input(s) || ctx.input(s).dtype != DataType::kFloat || ctx.input(s).numel() != 1)
    return ctx.error("input " + std::to_string(s) + " must be a float scale with one element");
  if (ctx.has_input(zp)) {
    const DataType t = ctx.input(zp).dtype;
    if ((t != DataType::kUInt8 && t != DataType::kInt8) || ctx.input(zp).numel() != 1)
      return ctx.error("input " + std::to_string(zp) + " must be a u8/s8 zero point with one element");
  }
  return Status::ok();
}

// 7-bit activations: the optimizer marks the fused ops of a model whose metadata says
// petrel.activation_bits = 7 (attribute _petrel_activation_bits = 7, opt::mark_activation_bits).
// Their outputs are clamped to 7 bits and the GEMM packs its A clamped to 7 bits, which keeps
// AVX2 on its fast path (qgemm.hpp, QGemmParams::a7).
bool act7(const OpContext& ctx) {
  const Attribute* a = ctx.node().attr("_petrel_activation_bits");
  return a != nullptr && a->type == AttrType::kInt && a->i == 7;
}

// Output quantization of the fused ops: type, zero point and clamp bounds.
struct OutQ {
  bool quantized = false;
  QOut kind = QOut::kF32;
  float s = 1.f;
  int32_t zp = 0, lo = 0, hi = 0;
};
OutQ out_params(const OpContext& ctx, int ys, int yzp, float act_min, float act_max) {
  OutQ o;
  if (!ctx.has_input(ys)) return o;
  o.quantized = true;
  o.s = ctx.input(ys).as<float>()[0];
  o.zp = zp_of(ctx, yzp);
  const bool s8 = qtype_of(ctx, yzp) == DataType::kInt8;
  o.kind = s8 ? QOut::kS8 : QOut::kU8;
  o.lo = s8 ? -128 : 0, o.hi = s8 ? 127 : 255;
  if (act7(ctx)) o.lo = s8 ? -64 : 0, o.hi = s8 ? 63 : 127;
  auto q = [&](float v) {
    const double r = std::nearbyint(double(v / o.s)) + o.zp;
    return int32_t(std::clamp(r, double(o.lo), double(o.hi)));
  };
  if (act_min > -std::numeric_limits<float>::infinity()) o.lo = std::max(o.lo, q(act_min));
  if (act_max < std::numeric_limits<float>::infinity()) o.hi = std::min(o.hi, q(act_max));
  if (o.hi < o.lo) o.hi = o.lo;
  return o;
}

Status declare_output(OpContext& ctx, int ys, int yzp, Shape shape) {
  if (ctx.has_input(ys)) {
    PETREL_RETURN_IF_ERROR(check_scalar_param(ctx, ys, yzp));
    return ctx.set_output(0, qtype_of(ctx, yzp), std::move(shape));
  }
  return ctx.set_output(0, DataType::kFloat, std::move(shape));
}


#if defined(__SSE2__)
// Eight int32 lanes (two vectors) + zp -> clamp [lo, hi] -> eight bytes of T. SSE2 only (the
// x86-64 baseline): int16 saturating pack, clamp in int16, then the byte pack.
template <typename T> inline void store8_q(__m128i v0, __m128i v1, __m128i zp, __m128i lo16, __m128i hi16, T* out) {
  __m128i w = _mm_packs_epi32(_mm_add_epi32(v0, zp), _mm_add_epi32(v1, zp));
  w = _mm_min_epi16(_mm_max_epi16(w, lo16), hi16);
  const __m128i b = std::is_same_v<T, uint8_t> ? _mm_packus_epi16(w, w) : _mm_packs_epi16(w, w);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), b);
}
#endif

// Round half to even for |v| < 2^22 (callers clamp first): adding and removing 1.5 * 2^23
// leaves the rounded value in the default rounding mode, without a libm call.
inline float rne_small(float v) {
  volatile float magic = 12582912.0f;  // volatile: keeps the compiler from folding (v + m) - m
  const float m = magic;
  return (v + m) - m;
}

// out[i] = clamp(rne(float(acc[i] + bias) * m) + zp, lo, hi): the depthwise epilogue.
template <typename T>
void requant(const int32_t* acc, int32_t bias, float m, int32_t zp, int32_t lo, int32_t hi, T* out, int64_t n) {
  int64_t i = 0;
#if defined(__SSE2__)
  const __m128i vb = _mm_set1_epi32(bias), vz = _mm_set1_epi32(zp);
  const __m128i l16 = _mm_set1_epi16(int16_t(lo)), h16 = _mm_set1_epi16(int16_t(hi));
  const __m128 vm = _mm_set1_ps(m);
  for (; i + 8 <= n; i += 8) {
    const __m128i a0 = _mm_add_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(acc + i)), vb);
    const __m128i a1 = _mm_add_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(acc + i + 4)), vb);
    // cvtps_epi32 rounds half to even (default MXCSR)
    store8_q(_mm_cvtps_epi32(_mm_mul_ps(_mm_cvtepi32_ps(a0), vm)), _mm_cvtps_epi32(_mm_mul_ps(_mm_cvtepi32_ps(a1), vm)), vz,
             l16, h16, out + i);
  }
#endif
  const float flo = float(lo - zp) - 1.f, fhi = float(hi - zp) + 1.f;
  for (; i < n; ++i) {
    const float r = rne_small(std::clamp(float(acc[i] + bias) * m, flo, fhi));
    out[i] = T(std::clamp(int32_t(r) + zp, lo, hi));
  }
}

Status oom(const OpContext& ctx) { return out_of_range(ctx.node().label() + ": cannot allocate int8 packing space"); }

// Shared by QGemm and QConv: the packed weight (K x N) and per-column multipliers.
class QWeights {
 public:
  void invalidate() { valid_ = false; }
  // w: int8, B(k, n) = w[k * rs + n * cs]; ws: N scales or one; x_s, out: activation params.
  Status prepare(const OpContext& ctx, const Tensor& w, int64_t rs, int64_t cs, int64_t K, int64_t N,
                 const Tensor& ws, float x_s, const OutQ& out) {
    const Isa q = qgemm_isa(active_isa());
    if (valid_ && q == packed_.isa) return Status::ok();
    if (!qpack_b(q, w.as<int8_t>(), rs, cs, K, N, packed_) || !mult_.reserve(N * 4)) return oom(ctx);
    float* m = mult_.as<float>();
    for (int64_t n = 0; n < N; ++n) {
      const float s = ws.as<float>()[ws.numel() == 1 ? 0 : n];
      m[n] = out.quantized ? float(double(x_s) * double(s) / double(out.s)) : x_s * s;
    }
    valid_ = true;
    return Status::ok();
  }
  const QPackedB& packed() const { return packed_; }
  const float* mult() const { return mult_.as<float>(); }

 private:
  bool valid_ = false;
  QPackedB packed_;
  ByteBuffer mult_;
};

void fill_out(QGemmParams& p, const OutQ& o) {
  p.out = o.kind;
  p.zp_y = o.zp, p.lo = o.lo, p.hi = o.hi;
}

class QGemmKernel final : public FastPathKernel {
 public:
  QGemmKernel(bool tb, float amin, float amax) : tb_(tb), amin_(amin), amax_(amax) {}
  Status infer(OpContext& ctx) override {
    fast_ = true;
    w_.invalidate();
    PETREL_RETURN_IF_ERROR(check_scalar_param(ctx, 1, 2));
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(3);
    if (x.dtype != qtype_of(ctx, 2)) return ctx.error("x does not have its zero point's type");
    if (w.dtype != DataType::kInt8 || w.rank() != 2 || x.rank() < 1) return ctx.error("expects an int8 2-D weight");
    const int64_t K = tb_ ? w.shape[1] : w.shape[0], N = tb_ ? w.shape[0] : w.shape[1];
    if (x.shape.back() != K) return ctx.error("x's last dim does not match the weight");
    if (K == 0) return ctx.unsupported_error("an empty reduction (K = 0)");
    if (!ctx.input_known(3) || !ctx.input_known(4)) return ctx.error("weights must be constant");
    const Tensor& ws = ctx.input(4);
    if (ws.dtype != DataType::kFloat || (ws.numel() != 1 && ws.numel() != N)) return ctx.error("bad weight scale");
    if (ctx.has_input(5) && (ctx.input(5).dtype != DataType::kInt32 || ctx.input(5).numel() != N))
      return ctx.error("bias must be int32 [N]");
    Shape y = x.shape;
    y.back() = N;
    return declare_output(ctx, 6, 7, std::move(y));
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(3);
    const int64_t K = x.shape.back(), N = tb_ ? w.shape[0] : w.shape[1], M = K == 0 ? 0 : x.numel() / K;
    const OutQ o = out_params(ctx, 6, 7, amin_, amax_);
    const float xs = ctx.input(1).as<float>()[0];
    PETREL_RETURN_IF_ERROR(w_.prepare(ctx, w, tb_ ? 1 : N, tb_ ? K : 1, K, N, ctx.input(4), xs, o));
    QGemmParams p;
    p.M = M, p.N = N, p.K = K;
    p.a = x.as<uint8_t>(), p.a_rs = K, p.a_cs = 1;
    p.a_signed = x.dtype == DataType::kInt8, p.zp_a = zp_of(ctx, 2);
    p.a7 = act7(ctx);
    p.b = &w_.packed();
    p.c = ctx.output(0).data, p.c_rs = N, p.c_cs = 1;
    p.bias = ctx.has_input(5) ? ctx.input(5).as<int32_t>() : nullptr;
    p.scale = w_.mult();
    fill_out(p, o);
    if (!qgemm(p, ws_, ctx.pool)) return oom(ctx);
    return Status::ok();
  }

 private:
  bool tb_;
  float amin_, amax_;
  QWeights w_;
  QGemmWorkspace ws_;
};

// Depthwise 2-D, one channel: int32 sums over the taps, each tap's valid output columns
// computed once so the inner loop has no bounds checks.
void depthwise_channel(const uint8_t* x, bool sgn, int32_t zp, const int8_t* w, const ref::nn::Window& win,
                       int32_t* acc) {
  const int64_t H = win.in[0], W = win.in[1], OH = win.out[0], OW = win.out[1];
  const int64_t KH = win.kernel[0], KW = win.kernel[1], sh = win.stride[0], sw = win.stride[1];
  const int64_t dh = win.dilation[0], dw = win.dilation[1], ph = win.pad_begin[0], pw = win.pad_begin[1];
  std::fill(acc, acc + OH * OW, 0);
  for (int64_t i = 0; i < KH; ++i)
    for (int64_t j = 0; j < KW; ++j) {
      const int32_t wv = w[i * KW + j];
      if (wv == 0) continue;
      // ow valid when 0 <= ow*sw + j*dw - pw < W
      const int64_t off = j * dw - pw;
      const int64_t ow0 = off >= 0 ? 0 : (-off + sw - 1) / sw;
      const int64_t ow1 = std::min(OW, W - off <= 0 ? 0 : (W - off + sw - 1) / sw);
      for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t ih = oh * sh + i * dh - ph;
        if (ih < 0 || ih >= H) continue;
        const uint8_t* xr = x + ih * W + off;
        int32_t* ar = acc + oh * OW;
        if (sgn) {
          const int8_t* xs = reinterpret_cast<const int8_t*>(xr);
          for (int64_t ow = ow0; ow < ow1; ++ow) ar[ow] += (int32_t(xs[ow * sw]) - zp) * wv;
        } else if (sw <= 2) {
          int64_t ow = ow0;
#if defined(__SSE2__)
          // 8 outputs at a time: u8 -> int16 (stride 2: the even bytes of 16), minus the zero
          // point, times w into int32 by pmaddwd against (d, 0) pairs. Loads stay inside the row.
          const __m128i z = _mm_setzero_si128(), zp16 = _mm_set1_epi16(int16_t(zp)), w16 = _mm_set1_epi16(int16_t(wv));
          const __m128i even = _mm_set1_epi16(0x00ff);
          for (; ow + 8 <= ow1 && (sw == 1 || off + 2 * ow + 16 <= W); ow += 8) {
            const __m128i x16 = sw == 1 ? _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(xr + ow)), z)
                                        : _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xr + 2 * ow)), even);
            const __m128i d = _mm_sub_epi16(x16, zp16);
            __m128i* a4 = reinterpret_cast<__m128i*>(ar + ow);
            _mm_storeu_si128(a4, _mm_add_epi32(_mm_loadu_si128(a4), _mm_madd_epi16(_mm_unpacklo_epi16(d, z), w16)));
            _mm_storeu_si128(a4 + 1, _mm_add_epi32(_mm_loadu_si128(a4 + 1), _mm_madd_epi16(_mm_unpackhi_epi16(d, z), w16)));
          }
#endif
          for (; ow < ow1; ++ow) ar[ow] += (int32_t(xr[ow * sw]) - zp) * wv;
        } else {
          for (int64_t ow = ow0; ow < ow1; ++ow) ar[ow] += (int32_t(xr[ow * sw]) - zp) * wv;
        }
      }
    }
}

class QConvKernel final : public FastPathKernel {
 public:
  QConvKernel(ref::nn::WindowAttrs a, float amin, float amax) : a_(std::move(a)), amin_(amin), amax_(amax) {}
  Status infer(OpContext& ctx) override {
    fast_ = true;
    w_.invalidate();
    PETREL_RETURN_IF_ERROR(check_scalar_param(ctx, 1, 2));
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(3);
    if (x.dtype != qtype_of(ctx, 2)) return ctx.error("x does not have its zero point's type");
    if (w.dtype != DataType::kInt8 || w.rank() != 4 || x.rank() != 4) return ctx.error("expects 2-D NCHW with an int8 weight");
    if (!ctx.input_known(3) || !ctx.input_known(4)) return ctx.error("weights must be constant");
    Shape y;
    PETREL_RETURN_IF_ERROR(ref::nn::infer_conv_shapes(ctx, a_, x, w, win_, y));
    const int64_t M = w.shape[0];
    depthwise_ = a_.group != 1;
    if (depthwise_ && !(w.shape[1] == 1 && a_.group == M && x.shape[1] == M)) return ctx.unsupported_error("grouped int8 convolution");
    const Tensor& ws = ctx.input(4);
    if (ws.dtype != DataType::kFloat || (ws.numel() != 1 && ws.numel() != M)) return ctx.error("bad weight scale");
    if (ctx.has_input(5) && (ctx.input(5).dtype != DataType::kInt32 || ctx.input(5).numel() != M))
      return ctx.error("bias must be int32 [M]");
    direct_ = win_.kernel[0] == 1 && win_.kernel[1] == 1 && win_.stride[0] == 1 && win_.stride[1] == 1 &&
              ref::nn::window_is_unpadded(win_);
    return declare_output(ctx, 6, 7, std::move(y));
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(3);
    const int64_t Nb = x.shape[0], C = x.shape[1], M = w.shape[0];
    const int64_t HW = win_.in_size(), P = win_.out_size(), KK = win_.kernel_size();
    const OutQ o = out_params(ctx, 6, 7, amin_, amax_);
    const float xs = ctx.input(1).as<float>()[0];
    const int32_t zp = zp_of(ctx, 2);
    const bool sgn = x.dtype == DataType::kInt8;
    const int32_t* bias = ctx.has_input(5) ? ctx.input(5).as<int32_t>() : nullptr;
    const size_t osize = o.quantized ? 1 : 4;
    uint8_t* y = static_cast<uint8_t*>(ctx.output(0).data);
    if (depthwise_) return depthwise(ctx, x, w, o, xs, zp, sgn, bias, y);
    const int64_t K = C * KK;
    PETREL_RETURN_IF_ERROR(w_.prepare(ctx, w, 1, K, K, M, ctx.input(4), xs, o));
    QGemmParams p;
    p.M = P, p.N = M, p.K = K;
    p.a_rs = 1, p.a_cs = direct_ ? HW : P;
    p.a_signed = sgn, p.zp_a = zp;
    p.a7 = act7(ctx);
    p.b = &w_.packed();
    p.c_rs = 1, p.c_cs = P;
    p.bias = bias;
    p.scale = w_.mult();
    fill_out(p, o);
    if (!direct_ && !col_.reserve(K * P)) return oom(ctx);
    for (int64_t n = 0; n < Nb; ++n) {
      const uint8_t* xn = x.as<uint8_t>() + n * C * HW;
      if (direct_) {
        p.a = xn;
      } else {
        im2col(xn, C, zp, sgn);
        p.a = col_.data();
      }
      p.c = y + size_t(n * M * P) * osize;
      if (!qgemm(p, ws_, ctx.pool)) return oom(ctx);
    }
    return Status::ok();
  }

 private:
  // col[(c, i, j) * P + p] = x[c, oh*s + i*d - pad, ow*s + j*d - pad], the zero point where
  // the window reads padding (the quantized zero).
  void im2col(const uint8_t* x, int64_t C, int32_t zp, bool sgn) {
    const int64_t H = win_.in[0], W = win_.in[1], OH = win_.out[0], OW = win_.out[1];
    const int64_t KH = win_.kernel[0], KW = win_.kernel[1], sh = win_.stride[0], sw = win_.stride[1];
    const int64_t dh = win_.dilation[0], dw = win_.dilation[1], ph = win_.pad_begin[0], pw = win_.pad_begin[1];
    const uint8_t pad = sgn ? uint8_t(int8_t(zp)) : uint8_t(zp);
    uint8_t* col = col_.data();
    if ((sw == 1 || sw == 2) && qgemm_isa(active_isa()) == Isa::kAvx512) {  // (avx512bw: the byte masks)
      qim2col_avx512({C, H, W, OH, OW, KH, KW, sh, sw, dh, dw, ph, pw, pad}, x, col);
      return;
    }
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < KH; ++i)
        for (int64_t j = 0; j < KW; ++j) {
          uint8_t* d = col + ((c * KH + i) * KW + j) * OH * OW;
          const uint8_t* xc = x + c * H * W;
          const int64_t off = j * dw - pw;
          const int64_t ow0 = std::min(OW, off >= 0 ? 0 : (-off + sw - 1) / sw);
          const int64_t ow1 = std::max(ow0, std::min(OW, W - off <= 0 ? 0 : (W - off + sw - 1) / sw));
          for (int64_t oh = 0; oh < OH; ++oh, d += OW) {
            const int64_t ih = oh * sh + i * dh - ph;
            if (ih < 0 || ih >= H) {
              std::memset(d, pad, size_t(OW));
              continue;
            }
            std::memset(d, pad, size_t(ow0));
            const uint8_t* xr = xc + ih * W + off;
            if (sw == 1) std::memcpy(d + ow0, xr + ow0, size_t(ow1 - ow0));
            else
              for (int64_t ow = ow0; ow < ow1; ++ow) d[ow] = xr[ow * sw];
            std::memset(d + ow1, pad, size_t(OW - ow1));
          }
        }
  }

  Status depthwise(OpContext& ctx, const Tensor& x, const Tensor& w, const OutQ& o, float xs, int32_t zp, bool sgn,
                   const int32_t* bias, uint8_t* y) {
    const int64_t Nb = x.shape[0], C = x.shape[1], HW = win_.in_size(), P = win_.out_size(), KK = win_.kernel_size();
    const Tensor& ws = ctx.input(4);
    if (qgemm_isa(active_isa()) == Isa::kAvx512) {
      QDwShape s;
      s.H = win_.in[0], s.W = win_.in[1], s.OH = win_.out[0], s.OW = win_.out[1];
      s.KH = win_.kernel[0], s.KW = win_.kernel[1], s.sh = win_.stride[0], s.sw = win_.stride[1];
      s.dh = win_.dilation[0], s.dw = win_.dilation[1], s.ph = win_.pad_begin[0], s.pw = win_.pad_begin[1];
      s.x_signed = sgn, s.zp_x = zp;
      s.out = o.quantized ? o.kind : QOut::kF32, s.zp_y = o.zp, s.lo = o.lo, s.hi = o.hi;
      if (qdw_avx512_supported(s)) return depthwise_avx512(ctx, s, x, w, o, xs, bias, y);
    }
    if (!acc_.reserve(P * 4)) return oom(ctx);
    int32_t* acc = acc_.as<int32_t>();
    for (int64_t n = 0; n < Nb; ++n)
      for (int64_t c = 0; c < C; ++c) {
        depthwise_channel(x.as<uint8_t>() + (n * C + c) * HW, sgn, zp, w.as<int8_t>() + c * KK, win_, acc);
        const float s = ws.as<float>()[ws.numel() == 1 ? 0 : c];
        const int32_t b = bias ? bias[c] : 0;
        const int64_t base = (n * C + c) * P;
        if (!o.quantized) {
          const float m = xs * s;
          float* yf = reinterpret_cast<float*>(y) + base;
          for (int64_t i = 0; i < P; ++i) yf[i] = float(acc[i] + b) * m;
          continue;
        }
        const float m = float(double(xs) * double(s) / double(o.s));
        if (o.kind == QOut::kU8) requant(acc, b, m, o.zp, o.lo, o.hi, y + base, P);
        else requant(acc, b, m, o.zp, o.lo, o.hi, reinterpret_cast<int8_t*>(y) + base, P);
      }
    return Status::ok();
  }

  // Planes (batch x channels) split over the pool's threads, one padded scratch plane each.
  Status depthwise_avx512(OpContext& ctx, const QDwShape& s, const Tensor& x, const Tensor& w, const OutQ& o, float xs,
                          const int32_t* bias, uint8_t* y) {
    const int64_t C = x.shape[1], planes = x.shape[0] * C, HW = s.H * s.W, P = s.OH * s.OW, KK = s.KH * s.KW;
    const Tensor& ws = ctx.input(4);
    const int64_t scratch = (qdw_scratch_bytes(s) + 63) / 64 * 64;
    const double macs = double(planes * P * KK);
    int threads = ctx.pool ? ctx.pool->size() : 1;
    threads = int(std::clamp<int64_t>(int64_t(macs / parallel_policy().min_macs_per_thread), 1, std::min<int64_t>(threads, planes)));
    if (!dw_scratch_.reserve(scratch * threads) || !acc_.reserve(C * 4)) return oom(ctx);
    float* mult = acc_.as<float>();
    for (int64_t c = 0; c < C; ++c) {
      const float sc = ws.as<float>()[ws.numel() == 1 ? 0 : c];
      mult[c] = o.quantized ? float(double(xs) * double(sc) / double(o.s)) : xs * sc;
    }
    const size_t osize = o.quantized ? 1 : 4;
    auto run = [&](int64_t t) {
      uint8_t* scr = dw_scratch_.data() + t * scratch;
      for (int64_t pl = planes * t / threads; pl < planes * (t + 1) / threads; ++pl) {
        const int64_t c = pl % C;
        qdw_channel_avx512(s, x.as<uint8_t>() + pl * HW, w.as<int8_t>() + c * KK, bias ? bias[c] : 0, mult[c],
                           y + size_t(pl * P) * osize, scr);
      }
    };
    if (threads <= 1) run(0);
    else
      ctx.pool->parallel_for(threads, 1, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) run(t);
      });
    return Status::ok();
  }

  ref::nn::WindowAttrs a_;
  float amin_, amax_;
  ref::nn::Window win_;
  bool depthwise_ = false, direct_ = false;
  QWeights w_;
  QGemmWorkspace ws_;
  ByteBuffer col_, acc_, dw_scratch_;
};

class QAddKernel final : public FastPathKernel {
 public:
  QAddKernel(float amin, float amax) : amin_(amin), amax_(amax) {}
  Status infer(OpContext& ctx) override {
    fast_ = true;
    PETREL_RETURN_IF_ERROR(check_scalar_param(ctx, 1, 2));
    PETREL_RETURN_IF_ERROR(check_scalar_param(ctx, 4, 5));
    if (!ctx.has_input(6)) return ctx.error("needs an output scale");
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(3);
    if (a.shape != b.shape) return ctx.error("inputs must have the same shape");
    if (a.dtype != qtype_of(ctx, 2) || b.dtype != qtype_of(ctx, 5)) return ctx.error("inputs do not have their zero points' types");
    return declare_output(ctx, 6, 7, a.shape);
  }
  // y = q((s_a (a - za) + s_b (b - zb))), as DequantizeLinear + Add + QuantizeLinear in float
  // (times 1/s_y rather than divided by it: a tie can round the other way, one step at most).
  Status compute(OpContext& ctx) override {
    const OutQ o = out_params(ctx, 6, 7, amin_, amax_);
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(3);
    const float sa = ctx.input(1).as<float>()[0], sb = ctx.input(4).as<float>()[0];
    const float za = float(zp_of(ctx, 2)), zb = float(zp_of(ctx, 5));
    const int64_t n = a.numel();
    const bool as = a.dtype == DataType::kInt8, bs = b.dtype == DataType::kInt8;
    const float lo = float(o.lo), hi = float(o.hi), zy = float(o.zp), ys = o.s;
    uint8_t* y = static_cast<uint8_t*>(ctx.output(0).data);
    const float inv = 1.0f / ys;
    const float flo = lo - zy - 1.f, fhi = hi - zy + 1.f;
    if (qgemm_isa(active_isa()) == Isa::kAvx512) {  // (avx512bw: the byte masks)
      qadd_avx512({a.as<uint8_t>(), b.as<uint8_t>(), y, as, bs, sa, sb, za, zb, inv, o.zp, o.lo, o.hi}, n);
      return Status::ok();
    }
    auto body = [&](auto av, auto bv) {
      int64_t i = 0;
#if defined(__SSE2__)
      const __m128 vsa = _mm_set1_ps(sa), vsb = _mm_set1_ps(sb), vza = _mm_set1_ps(za), vzb = _mm_set1_ps(zb), vi = _mm_set1_ps(inv);
      const __m128i vz = _mm_set1_epi32(o.zp), l16 = _mm_set1_epi16(int16_t(o.lo)), h16 = _mm_set1_epi16(int16_t(o.hi));
      // 8 bytes -> two float vectors (u8 zero-extended, s8 sign-extended)
      auto widen = [](const auto* p, __m128& f0, __m128& f1) {
        const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
        __m128i w;
        if constexpr (std::is_same_v<std::remove_cv_t<std::remove_pointer_t<decltype(p)>>, uint8_t>) w = _mm_unpacklo_epi8(b, _mm_setzero_si128());
        else w = _mm_srai_epi16(_mm_unpacklo_epi8(b, b), 8);
        f0 = _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpacklo_epi16(w, w), 16));
        f1 = _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpackhi_epi16(w, w), 16));
      };
      for (; i + 8 <= n; i += 8) {
        __m128 a0, a1, b0, b1;
        widen(av + i, a0, a1);
        widen(bv + i, b0, b1);
        const __m128 v0 = _mm_add_ps(_mm_mul_ps(_mm_sub_ps(a0, vza), vsa), _mm_mul_ps(_mm_sub_ps(b0, vzb), vsb));
        const __m128 v1 = _mm_add_ps(_mm_mul_ps(_mm_sub_ps(a1, vza), vsa), _mm_mul_ps(_mm_sub_ps(b1, vzb), vsb));
        const __m128i q0 = _mm_cvtps_epi32(_mm_mul_ps(v0, vi)), q1 = _mm_cvtps_epi32(_mm_mul_ps(v1, vi));
        if (o.kind == QOut::kU8) store8_q(q0, q1, vz, l16, h16, y + i);
        else store8_q(q0, q1, vz, l16, h16, reinterpret_cast<int8_t*>(y) + i);
      }
#endif
      for (; i < n; ++i) {
        const float v = (float(av[i]) - za) * sa + (float(bv[i]) - zb) * sb;
        const float q = rne_small(std::clamp(v * inv, flo, fhi)) + zy;
        const float c = std::clamp(q, lo, hi);
        if (o.kind == QOut::kU8) y[i] = uint8_t(c);
        else reinterpret_cast<int8_t*>(y)[i] = int8_t(c);
      }
    };
    if (!as && !bs) body(a.as<uint8_t>(), b.as<uint8_t>());
    else if (as && bs) body(a.as<int8_t>(), b.as<int8_t>());
    else if (as) body(a.as<int8_t>(), b.as<uint8_t>());
    else body(a.as<uint8_t>(), b.as<int8_t>());
    return Status::ok();
  }

 private:
  float amin_, amax_;
};

class DynQMatMulKernel final : public FastPathKernel {
 public:
  explicit DynQMatMulKernel(FusedActivation fa) : fa_(fa) {}
  Status infer(OpContext& ctx) override {
    fast_ = true;
    packed_ok_ = false;
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    if (x.dtype != DataType::kFloat || x.rank() < 1) return ctx.error("x must be float32");
    if (w.dtype != DataType::kInt8 || w.rank() != 2 || !ctx.input_known(1) || !ctx.input_known(2))
      return ctx.error("expects a constant int8 [K, N] weight");
    const int64_t N = w.shape[1];
    if (x.shape.back() != w.shape[0]) return ctx.error("x's last dim does not match the weight");
    if (w.shape[0] == 0) return ctx.unsupported_error("an empty reduction (K = 0)");
    const Tensor& ws = ctx.input(2);
    if (ws.dtype != DataType::kFloat || (ws.numel() != 1 && ws.numel() != N)) return ctx.error("bad weight scale");
    if (ctx.has_input(3) && (ctx.input(3).dtype != DataType::kFloat || ctx.input(3).numel() != N))
      return ctx.error("bias must be float [N]");
    Shape y = x.shape;
    y.back() = N;
    return ctx.set_output(0, DataType::kFloat, std::move(y));
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const Tensor& ws = ctx.input(2);
    const int64_t K = w.shape[0], N = w.shape[1], M = K == 0 ? 0 : x.numel() / K, n = x.numel();
    const Isa q = qgemm_isa(active_isa());
    if (!packed_ok_ || packed_.isa != q) {
      if (!qpack_b(q, w.as<int8_t>(), N, 1, K, N, packed_)) return oom(ctx);
      packed_ok_ = true;
    }
    if (!xq_.reserve(std::max<int64_t>(n, 1)) || !mult_.reserve(N * 4)) return oom(ctx);
    // DynamicQuantizeLinear, in float32 exactly as the reference computes it (x / scale, a
    // division, rounded half to even).
    const float* xp = x.as<float>();
    float lo = 0.f, hi = 0.f;
    int64_t i = 0;
#if defined(__SSE2__)
    __m128 vlo = _mm_setzero_ps(), vhi = _mm_setzero_ps();
    for (; i + 4 <= n; i += 4) {
      const __m128 v = _mm_loadu_ps(xp + i);
      vlo = _mm_min_ps(vlo, v), vhi = _mm_max_ps(vhi, v);
    }
    alignas(16) float tl[4], th[4];
    _mm_store_ps(tl, vlo), _mm_store_ps(th, vhi);
    for (int t = 0; t < 4; ++t) lo = std::min(lo, tl[t]), hi = std::max(hi, th[t]);
#endif
    for (; i < n; ++i) lo = std::min(lo, xp[i]), hi = std::max(hi, xp[i]);
    const float scale = (hi - lo) / 255.f;
    const bool ok = scale > 0.f && std::isfinite(scale);
    float zpf = 0.f;
    if (ok) zpf = std::clamp(std::nearbyint(0.f - lo / scale), 0.f, 255.f);
    uint8_t* xq = xq_.data();
    i = 0;
    if (!ok) {
      std::memset(xq, 0, size_t(n));
      i = n;
    }
#if defined(__SSE2__)
    const __m128 vs = _mm_set1_ps(scale);
    const __m128i vz = _mm_set1_epi32(int32_t(zpf)), l16 = _mm_setzero_si128(), h16 = _mm_set1_epi16(255);
    for (; i + 8 <= n; i += 8) {
      const __m128i q0 = _mm_cvtps_epi32(_mm_div_ps(_mm_loadu_ps(xp + i), vs));
      const __m128i q1 = _mm_cvtps_epi32(_mm_div_ps(_mm_loadu_ps(xp + i + 4), vs));
      store8_q(q0, q1, vz, l16, h16, xq + i);
    }
#endif
    for (; i < n; ++i) xq[i] = uint8_t(std::clamp(rne_small(std::clamp(xp[i] / scale, -512.f, 512.f)) + zpf, 0.f, 255.f));
    float* m = mult_.as<float>();
    for (int64_t j = 0; j < N; ++j) m[j] = scale * ws.as<float>()[ws.numel() == 1 ? 0 : j];
    QGemmParams p;
    p.M = M, p.N = N, p.K = K;
    p.a = xq, p.a_rs = K, p.a_cs = 1, p.zp_a = int32_t(zpf);
    p.b = &packed_;
    p.c = ctx.output(0).data, p.c_rs = N, p.c_cs = 1;
    p.out = QOut::kF32;
    p.scale = m;
    p.fbias = ctx.has_input(3) ? ctx.input(3).as<float>() : nullptr;
    if (!qgemm(p, ws_, ctx.pool)) return oom(ctx);
    // A fused activation (activation_fusion): on the float rows, by the active level's routine.
    if (!fa_.none()) active_kernels().activate(fa_, ctx.output(0).as<float>(), M * N);
    return Status::ok();
  }

 private:
  FusedActivation fa_;
  bool packed_ok_ = false;
  QPackedB packed_;
  ByteBuffer xq_, mult_;
  QGemmWorkspace ws_;
};

// MaxPool on u8/s8 (2-D NCHW): what qdq_fusion makes of DQ -> MaxPool -> Q with equal
// parameters. Padding never wins (it is skipped, as -inf would be).
class QMaxPoolKernel final : public FastPathKernel {
 public:
  explicit QMaxPoolKernel(ref::nn::WindowAttrs a) : a_(std::move(a)) {}
  Status infer(OpContext& ctx) override {
    fast_ = true;
    const Tensor& x = ctx.input(0);
    if (x.rank() != 4 || (x.dtype != DataType::kUInt8 && x.dtype != DataType::kInt8))
      return ctx.error("expects a 2-D NCHW u8/s8 input");
    if (a_.kernel_shape.size() != 2) return ctx.error("kernel_shape must have 2 values");
    PETREL_RETURN_IF_ERROR(ref::nn::resolve_window(ctx, a_, {x.shape[2], x.shape[3]}, a_.kernel_shape, win_));
    return ctx.set_output(0, x.dtype, {x.shape[0], x.shape[1], win_.out[0], win_.out[1]});
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t planes = x.shape[0] * x.shape[1];
    if (x.dtype == DataType::kUInt8) pool(x.as<uint8_t>(), ctx.output(0).as<uint8_t>(), planes);
    else pool(x.as<int8_t>(), ctx.output(0).as<int8_t>(), planes);
    return Status::ok();
  }

 private:
  template <typename T> void pool(const T* x, T* y, int64_t planes) const {
    const int64_t H = win_.in[0], W = win_.in[1], OH = win_.out[0], OW = win_.out[1];
    const int64_t KH = win_.kernel[0], KW = win_.kernel[1], sh = win_.stride[0], sw = win_.stride[1];
    const int64_t dh = win_.dilation[0], dw = win_.dilation[1], ph = win_.pad_begin[0], pw = win_.pad_begin[1];
    for (int64_t pl = 0; pl < planes; ++pl, x += H * W, y += OH * OW)
      for (int64_t oh = 0; oh < OH; ++oh) {
        T* yr = y + oh * OW;
        std::fill(yr, yr + OW, std::numeric_limits<T>::lowest());
        for (int64_t i = 0; i < KH; ++i) {
          const int64_t ih = oh * sh + i * dh - ph;
          if (ih < 0 || ih >= H) continue;
          const T* xr = x + ih * W;
          for (int64_t j = 0; j < KW; ++j) {
            const int64_t off = j * dw - pw;
            const int64_t ow0 = std::min(OW, off >= 0 ? 0 : (-off + sw - 1) / sw);
            const int64_t ow1 = std::max(ow0, std::min(OW, W - off <= 0 ? 0 : (W - off + sw - 1) / sw));
            const T* xs = xr + off;
            for (int64_t ow = ow0; ow < ow1; ++ow) yr[ow] = std::max(yr[ow], xs[ow * sw]);
          }
        }
      }
  }
  ref::nn::WindowAttrs a_;
  ref::nn::Window win_;
};

Result<float> act_attr(const Node& n, const char* name, float dflt) { return ref::attr_float(n, name, dflt); }

}  // namespace

Result<std::unique_ptr<Kernel>> make_qgemm(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t tb, ref::attr_int(n, "transB", 0));
  PETREL_ASSIGN_OR_RETURN(float lo, act_attr(n, "act_min", -std::numeric_limits<float>::infinity()));
  PETREL_ASSIGN_OR_RETURN(float hi, act_attr(n, "act_max", std::numeric_limits<float>::infinity()));
  if (n.inputs.size() < 5) return invalid_model(n.label() + ": expects at least 5 inputs");
  return std::unique_ptr<Kernel>(new QGemmKernel(tb != 0, lo, hi));
}

Result<std::unique_ptr<Kernel>> make_qconv(const Node& n) {
  ref::nn::WindowAttrs a;
  PETREL_RETURN_IF_ERROR(ref::nn::parse_window_attrs(n, a));
  PETREL_ASSIGN_OR_RETURN(float lo, act_attr(n, "act_min", -std::numeric_limits<float>::infinity()));
  PETREL_ASSIGN_OR_RETURN(float hi, act_attr(n, "act_max", std::numeric_limits<float>::infinity()));
  if (n.inputs.size() < 5) return invalid_model(n.label() + ": expects at least 5 inputs");
  return std::unique_ptr<Kernel>(new QConvKernel(std::move(a), lo, hi));
}

Result<std::unique_ptr<Kernel>> make_qadd(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(float lo, act_attr(n, "act_min", -std::numeric_limits<float>::infinity()));
  PETREL_ASSIGN_OR_RETURN(float hi, act_attr(n, "act_max", std::numeric_limits<float>::infinity()));
  if (n.inputs.size() < 7) return invalid_model(n.label() + ": expects at least 7 inputs");
  return std::unique_ptr<Kernel>(new QAddKernel(lo, hi));
}

Result<std::unique_ptr<Kernel>> make_qmax_pool(const Node& n) {
  ref::nn::WindowAttrs a;
  PETREL_RETURN_IF_ERROR(ref::nn::parse_window_attrs(n, a));
  if (a.kernel_shape.empty()) return invalid_model(n.label() + ": missing required attribute 'kernel_shape'");
  return std::unique_ptr<Kernel>(new QMaxPoolKernel(std::move(a)));
}

Result<std::unique_ptr<Kernel>> make_dyn_qmatmul(const Node& n) {
  if (n.inputs.size() < 3) return invalid_model(n.label() + ": expects at least 3 inputs");
  PETREL_ASSIGN_OR_RETURN(FusedActivation fa, FusedActivation::from_node(n));
  return std::unique_ptr<Kernel>(new DynQMatMulKernel(fa));
}

}  // namespace petrel::x86
