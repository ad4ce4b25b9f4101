// AVX2 + FMA level of the depthwise NHWC convolution: 8 channels per ymm. With 16 registers a
// 3x3 filter's taps stay in registers beside 4 accumulators; a 5x5 filter's are reloaded.
#include "kernels/x86/dwconv_nhwc.hpp"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

namespace petrel::x86 {
namespace {
namespace dw_avx2 {

#define PETREL_TARGET __attribute__((target("avx2,fma")))
#define PETREL_VOP PETREL_TARGET static inline __attribute__((always_inline))

struct V {
  using T = __m256;
  static constexpr int W = 8;
  PETREL_VOP T set1(float f) { return _mm256_set1_ps(f); }
  PETREL_VOP T loadu(const float* p) { return _mm256_loadu_ps(p); }
  PETREL_VOP void storeu(float* p, T v) { _mm256_storeu_ps(p, v); }
  PETREL_VOP __m256i lanes(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  // Masked: lanes >= n are neither read nor written (no fault past the end of a buffer).
  PETREL_VOP T loadu_n(const float* p, int n) { return _mm256_maskload_ps(p, lanes(n)); }
  PETREL_VOP void storeu_n(float* p, T v, int n) { _mm256_maskstore_ps(p, lanes(n), v); }
  PETREL_VOP T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  PETREL_VOP T min(T a, T b) { return _mm256_min_ps(a, b); }
  PETREL_VOP T max(T a, T b) { return _mm256_max_ps(a, b); }
};

#include "kernels/x86/dwconv_nhwc_impl.inc"

#undef PETREL_VOP
#undef PETREL_TARGET

}  // namespace dw_avx2
}  // namespace

void dwconv_rows_avx2(const ConvNhwcShape& s, const DwConvArgs& a) { dw_avx2::rows_impl(s, a); }

}  // namespace petrel::x86
#endif
