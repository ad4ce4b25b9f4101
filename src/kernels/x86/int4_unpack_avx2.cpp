// AVX2 unpacking of a 4-bit B panel (nr = 16: 8 bytes a row, int4_gemm.hpp's layout): one
// widening load gives 8 int32 lanes; the low nibbles are columns 0..7, the high ones 8..15.
#include "kernels/x86/int4_gemm.hpp"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>

namespace petrel::x86 {
namespace {

#define PETREL_I4TARGET __attribute__((target("avx2")))

PETREL_I4TARGET void unpack_avx2(const Int4PackedB& b, int64_t panel, int64_t k0, int64_t kc, float* dst) {
  const int64_t npad = b.npad();
  const __m256i mask = _mm256_set1_epi32(0x0f), eight = _mm256_set1_epi32(8);
  for (int64_t k = 0; k < kc;) {
    const int64_t kb = (k0 + k) / b.block, kend = std::min(kc, (kb + 1) * b.block - k0);
    const float* s = b.scale.data() + kb * npad + panel * 16;
    const __m256 s0 = _mm256_loadu_ps(s), s1 = _mm256_loadu_ps(s + 8);
    __m256 z0 = _mm256_setzero_ps(), z1 = _mm256_setzero_ps();
    if (b.has_zp) {
      const float* z = b.zp.data() + kb * npad + panel * 16;
      z0 = _mm256_loadu_ps(z), z1 = _mm256_loadu_ps(z + 8);
    }
    const uint8_t* row = b.panel_rows(panel, k0 + k);
    for (; k < kend; ++k, row += 8) {
      const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row)));
      __m256i lo = _mm256_and_si256(v, mask), hi = _mm256_srli_epi32(v, 4);
      if (b.is_signed) {  // sign-extend a nibble: (x ^ 8) - 8
        lo = _mm256_sub_epi32(_mm256_xor_si256(lo, eight), eight);
        hi = _mm256_sub_epi32(_mm256_xor_si256(hi, eight), eight);
      }
      _mm256_storeu_ps(dst + k * 16, _mm256_mul_ps(_mm256_sub_ps(_mm256_cvtepi32_ps(lo), z0), s0));
      _mm256_storeu_ps(dst + k * 16 + 8, _mm256_mul_ps(_mm256_sub_ps(_mm256_cvtepi32_ps(hi), z1), s1));
    }
  }
}

}  // namespace

Int4UnpackFn int4_unpack_avx2() { return &unpack_avx2; }

}  // namespace petrel::x86
#else
namespace petrel::x86 {
Int4UnpackFn int4_unpack_avx2() { return nullptr; }
}  // namespace petrel::x86
#endif
