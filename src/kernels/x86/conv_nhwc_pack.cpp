// The A-packing step of the NHWC convolution (conv_nhwc.cpp): a transpose of up to mr input
// rows into one panel. At AVX-512 (mr = 14) it is done 16 channels at a time in registers (a
// 16 x 16 transpose: 64 shuffles, then 16 masked stores of 14 floats) instead of one scalar
// store per element, which made packing cost as much as the product for Cout = 64.
#include "kernels/x86/conv_nhwc_pack.hpp"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#endif

namespace petrel::x86 {

void pack_panel_scalar(const float* const* src, int rows, int mr, int64_t len, float* dst) {
  for (int64_t t = 0; t < len; ++t)
    for (int i = 0; i < rows; ++i) dst[t * mr + i] = src[i][t];
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) void pack_panel14_avx512(const float* const* src, int rows, int64_t len,
                                                             float* dst) {
  constexpr int MR = 14;
  int64_t t = 0;
  for (; t + 16 <= len; t += 16) {
    __m512 r[16], u[16];
    for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_loadu_ps(src[i] + t) : _mm512_setzero_ps();
    for (int i = 0; i < 16; i += 2) {
      u[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      u[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
      r[i] = _mm512_shuffle_ps(u[i], u[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
      r[i + 1] = _mm512_shuffle_ps(u[i], u[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
      r[i + 2] = _mm512_shuffle_ps(u[i + 1], u[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
      r[i + 3] = _mm512_shuffle_ps(u[i + 1], u[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int h = 0; h < 16; h += 8)
      for (int i = 0; i < 4; ++i) {
        u[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
        u[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
      }
    for (int i = 0; i < 8; ++i) {
      r[i] = _mm512_shuffle_f32x4(u[i], u[i + 8], 0x88);
      r[i + 8] = _mm512_shuffle_f32x4(u[i], u[i + 8], 0xdd);
    }
    // r[j] now holds channel t + j of rows 0..15; rows >= `rows` are zeros the tile ignores.
    for (int j = 0; j < 16; ++j) _mm512_mask_storeu_ps(dst + (t + j) * MR, __mmask16(0x3fff), r[j]);
  }
  for (; t < len; ++t)
    for (int i = 0; i < rows; ++i) dst[t * MR + i] = src[i][t];
}
#endif

}  // namespace petrel::x86
