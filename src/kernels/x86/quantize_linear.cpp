// QuantizeLinear float32 -> u8/s8 with one scale and zero point (what a quantized model does
// to its float input before the first int8 op). The reference kernel walks a generic layout
// per element; this one is a straight vector loop (AVX-512 at that level, scalar below it),
// exactly as the reference rounds: x / scale (a division, as ONNX specifies, so ties round the
// same way), round half to even, + zero point, saturate; NaN gives 0. Everything else (per-axis
// or blocked scales, other types): the reference.
#include <algorithm>
#include <cmath>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/reference/common.hpp"
#include "kernels/x86/isa.hpp"
#include "kernels/x86/kernel_util.hpp"
#include "kernels/x86/kernels.hpp"
#include "kernels/x86/qgemm.hpp"

namespace petrel::x86 {
namespace {

struct QParams {
  float s;
  int32_t zp, lo, hi;
};

// The scalar form: clamped before rounding (beyond the bounds the result saturates anyway, and
// the 1.5 * 2^23 rounding trick needs |v| < 2^22).
template <typename T> void quantize_scalar(const float* x, T* y, int64_t n, const QParams& q) {
  const float flo = float(q.lo - q.zp) - 1.f, fhi = float(q.hi - q.zp) + 1.f;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i] / q.s;
    if (std::isnan(v)) {
      y[i] = T(0);
      continue;
    }
    const float c = std::clamp(v, flo, fhi);
    volatile float magic = 12582912.0f;  // volatile: keeps the compiler from folding (c + m) - m
    const float r = (c + magic) - magic;
    y[i] = T(std::clamp(int32_t(r) + q.zp, q.lo, q.hi));
  }
}

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
__attribute__((target("avx512f,avx512bw,avx512vl"))) void quantize_avx512(const float* x, uint8_t* y, int64_t n,
                                                                           const QParams& q) {
  const __m512 s = _mm512_set1_ps(q.s);
  const __m512 flo = _mm512_set1_ps(float(q.lo - q.zp) - 1.f), fhi = _mm512_set1_ps(float(q.hi - q.zp) + 1.f);
  const __m512i zp = _mm512_set1_epi32(q.zp), lo = _mm512_set1_epi32(q.lo), hi = _mm512_set1_epi32(q.hi);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1u);
    const __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(m, x + i), s);
    const __mmask16 ok = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);  // NaN -> 0
    const __m512 c = _mm512_min_ps(_mm512_max_ps(v, flo), fhi);
    __m512i r = _mm512_add_epi32(_mm512_cvtps_epi32(c), zp);  // rounds half to even (default MXCSR)
    r = _mm512_maskz_mov_epi32(ok, _mm512_min_epi32(_mm512_max_epi32(r, lo), hi));
    _mm_mask_storeu_epi8(y + i, m, _mm512_cvtepi32_epi8(r));
  }
}
#endif

class QuantizeLinearKernel final : public FastPathKernel {
 public:
  QuantizeLinearKernel(std::unique_ptr<Kernel> ref, bool plain) : ref_(std::move(ref)), plain_(plain) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(ref_->infer(ctx));
    fast_ = plain_ && ctx.input(0).dtype == DataType::kFloat && ctx.has_input(1) &&
            ctx.input(1).dtype == DataType::kFloat && ctx.input(1).numel() == 1 && ctx.has_input(2) &&
            ctx.input(2).numel() == 1 &&
            (ctx.input(2).dtype == DataType::kUInt8 || ctx.input(2).dtype == DataType::kInt8);
    return Status::ok();
  }
  Status compute(OpContext& ctx) override {
    if (!fast_) return ref_->compute(ctx);
    const Tensor& x = ctx.input(0);
    const Tensor& zt = ctx.input(2);
    const bool s8 = zt.dtype == DataType::kInt8;
    QParams q{ctx.input(1).as<float>()[0], s8 ? int32_t(zt.as<int8_t>()[0]) : int32_t(zt.as<uint8_t>()[0]),
              s8 ? -128 : 0, s8 ? 127 : 255};
    const float* xp = x.as<float>();
    const int64_t n = x.numel();
    void* y = ctx.output(0).data;
#if defined(__x86_64__)
    if (qgemm_isa(active_isa()) == Isa::kAvx512) {  // the qgemm level: avx512bw for the byte masks
      quantize_avx512(xp, static_cast<uint8_t*>(y), n, q);
      return Status::ok();
    }
#endif
    if (s8) quantize_scalar(xp, static_cast<int8_t*>(y), n, q);
    else quantize_scalar(xp, static_cast<uint8_t*>(y), n, q);
    return Status::ok();
  }

 private:
  std::unique_ptr<Kernel> ref_;
  bool plain_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_quantize_linear(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(auto ref, make_reference(n));
  PETREL_ASSIGN_OR_RETURN(int64_t block, ref::attr_int(n, "block_size", 0));
  return std::unique_ptr<Kernel>(new QuantizeLinearKernel(std::move(ref), block == 0));
}

}  // namespace petrel::x86
