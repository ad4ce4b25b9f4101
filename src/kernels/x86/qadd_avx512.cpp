// petrel.QAdd's element loop at the AVX-512 level (qops.cpp runs SSE2 below it): 16 lanes of
// y = clamp(round_half_even(((a - za)·sa + (b - zb)·sb) · inv) + zy, lo, hi), the same float
// operations in the same order as the SSE2 loop, so both levels give the same bytes.
#include "kernels/x86/qadd.hpp"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

namespace petrel::x86 {
namespace {

#define PETREL_QADDTARGET __attribute__((target("avx512f,avx512bw,avx512vl")))

PETREL_QADDTARGET inline __m512 widen(const uint8_t* p, bool sgn, __mmask16 m) {
  const __m128i b = _mm_maskz_loadu_epi8(m, p);
  return _mm512_cvtepi32_ps(sgn ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b));
}

}  // namespace

PETREL_QADDTARGET void qadd_avx512(const QAddArgs& q, int64_t n) {
  const __m512 sa = _mm512_set1_ps(q.sa), sb = _mm512_set1_ps(q.sb), za = _mm512_set1_ps(q.za), zb = _mm512_set1_ps(q.zb);
  const __m512 inv = _mm512_set1_ps(q.inv);
  const __m512 flo = _mm512_set1_ps(float(q.lo - q.zy) - 1.f), fhi = _mm512_set1_ps(float(q.hi - q.zy) + 1.f);
  const __m512i zy = _mm512_set1_epi32(q.zy), lo = _mm512_set1_epi32(q.lo), hi = _mm512_set1_epi32(q.hi);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1u);
    const __m512 va = _mm512_mul_ps(_mm512_sub_ps(widen(q.a + i, q.a_signed, m), za), sa);
    const __m512 vb = _mm512_mul_ps(_mm512_sub_ps(widen(q.b + i, q.b_signed, m), zb), sb);
    // clamped before cvtps2dq (round half to even) so that it stays in range
    const __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_add_ps(va, vb), inv), flo), fhi);
    __m512i r = _mm512_add_epi32(_mm512_cvtps_epi32(v), zy);
    r = _mm512_min_epi32(_mm512_max_epi32(r, lo), hi);
    _mm_mask_storeu_epi8(q.y + i, m, _mm512_cvtepi32_epi8(r));
  }
}

}  // namespace petrel::x86
#else
namespace petrel::x86 {
void qadd_avx512(const QAddArgs&, int64_t) {}
}  // namespace petrel::x86
#endif
