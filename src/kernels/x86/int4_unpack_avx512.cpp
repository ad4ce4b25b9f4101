// AVX-512 unpacking of a 4-bit B panel (nr = 32: 16 bytes a row, int4_gemm.hpp's layout): one
// widening load gives 16 int32 lanes; the low nibbles are columns 0..15, the high ones 16..31.
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

#define PETREL_I4TARGET __attribute__((target("avx512f")))

PETREL_I4TARGET void unpack_avx512(const Int4PackedB& b, int64_t panel, int64_t k0, int64_t kc, float* dst) {
  const int64_t npad = b.npad();
  const __m512i mask = _mm512_set1_epi32(0x0f), eight = _mm512_set1_epi32(8);
  for (int64_t k = 0; k < kc;) {
    // One block's rows share their scales (and zero points).
    const int64_t kb = (k0 + k) / b.block, kend = std::min(kc, (kb + 1) * b.block - k0);
    const float* s = b.scale.data() + kb * npad + panel * 32;
    const __m512 s0 = _mm512_loadu_ps(s), s1 = _mm512_loadu_ps(s + 16);
    __m512 z0 = _mm512_setzero_ps(), z1 = _mm512_setzero_ps();
    if (b.has_zp) {
      const float* z = b.zp.data() + kb * npad + panel * 32;
      z0 = _mm512_loadu_ps(z), z1 = _mm512_loadu_ps(z + 16);
    }
    const uint8_t* row = b.panel_rows(panel, k0 + k);
    for (; k < kend; ++k, row += 16) {
      const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row)));
      __m512i lo = _mm512_and_si512(v, mask), hi = _mm512_srli_epi32(v, 4);
      if (b.is_signed) {  // sign-extend a nibble: (x ^ 8) - 8
        lo = _mm512_sub_epi32(_mm512_xor_si512(lo, eight), eight);
        hi = _mm512_sub_epi32(_mm512_xor_si512(hi, eight), eight);
      }
      _mm512_storeu_ps(dst + k * 32, _mm512_mul_ps(_mm512_sub_ps(_mm512_cvtepi32_ps(lo), z0), s0));
      _mm512_storeu_ps(dst + k * 32 + 16, _mm512_mul_ps(_mm512_sub_ps(_mm512_cvtepi32_ps(hi), z1), s1));
    }
  }
}

}  // namespace

Int4UnpackFn int4_unpack_avx512() { return &unpack_avx512; }

}  // namespace petrel::x86
#else
namespace petrel::x86 {
Int4UnpackFn int4_unpack_avx512() { return nullptr; }
}  // namespace petrel::x86
#endif
