// AVX-512 level of the depthwise NHWC convolution: 16 channels per zmm; the 25 taps of a 5x5
// filter, 4 accumulators and the input vector fit the 32 registers.
#include "kernels/x86/dwconv_nhwc.hpp"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's intrinsic headers use self-initialised "undefined" vectors as pass-through operands,
// which its -Wuninitialized flags once they are inlined into target-attributed functions.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

namespace petrel::x86 {
namespace {
namespace dw_avx512 {

#define PETREL_TARGET __attribute__((target("avx512f,fma")))
#define PETREL_VOP PETREL_TARGET static inline __attribute__((always_inline))

struct V {
  using T = __m512;
  static constexpr int W = 16;
  PETREL_VOP T set1(float f) { return _mm512_set1_ps(f); }
  PETREL_VOP T loadu(const float* p) { return _mm512_loadu_ps(p); }
  PETREL_VOP void storeu(float* p, T v) { _mm512_storeu_ps(p, v); }
  // Masked: lanes >= n are neither read nor written (no fault past the end of a buffer).
  PETREL_VOP T loadu_n(const float* p, int n) { return _mm512_maskz_loadu_ps(__mmask16((1u << n) - 1u), p); }
  PETREL_VOP void storeu_n(float* p, T v, int n) { _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1u), v); }
  PETREL_VOP T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  PETREL_VOP T min(T a, T b) { return _mm512_min_ps(a, b); }
  PETREL_VOP T max(T a, T b) { return _mm512_max_ps(a, b); }
};

#include "kernels/x86/dwconv_nhwc_impl.inc"

#undef PETREL_VOP
#undef PETREL_TARGET

}  // namespace dw_avx512
}  // namespace

void dwconv_rows_avx512(const ConvNhwcShape& s, const DwConvArgs& a) { dw_avx512::rows_impl(s, a); }

}  // namespace petrel::x86
#endif
