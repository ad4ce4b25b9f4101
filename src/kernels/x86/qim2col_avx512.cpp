// u8 im2col for width strides 1 and 2 at the AVX-512 level (qim2col.hpp). Each output row is one
// masked load per 64 bytes whose masked-off lanes take the zero point (the padding), then a
// store: no memset/memcpy calls per row, which dominated for the short rows of deep layers.
#include "kernels/x86/qim2col.hpp"

#include <algorithm>

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

namespace petrel::x86 {
namespace {

inline __mmask64 range_mask(int64_t b, int64_t e) {  // bits [b, e) of 64, both clamped to [0, 64]
  b = std::clamp<int64_t>(b, 0, 64), e = std::clamp<int64_t>(e, 0, 64);
  if (e <= b) return 0;
  const __mmask64 hi = e == 64 ? ~__mmask64(0) : (__mmask64(1) << e) - 1;
  return hi & ~((__mmask64(1) << b) - 1);
}

}  // namespace

__attribute__((target("avx512f,avx512bw,avx512vl"))) void qim2col_avx512(const QIm2col& g, const uint8_t* x,
                                                                               uint8_t* col) {
  const __m512i pv = _mm512_set1_epi8(char(g.pad));
  const int64_t P = g.OH * g.OW;
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t i = 0; i < g.KH; ++i)
      for (int64_t j = 0; j < g.KW; ++j) {
        uint8_t* d = col + ((c * g.KH + i) * g.KW + j) * P;
        const uint8_t* xc = x + c * g.H * g.W;
        const int64_t off = j * g.dw - g.pw;
        // valid ow: 0 <= ow*sw + off < W
        const int64_t ow0 = std::min(g.OW, off >= 0 ? 0 : (-off + g.sw - 1) / g.sw);
        const int64_t ow1 = std::max(ow0, std::min(g.OW, g.W - off <= 0 ? 0 : (g.W - off + g.sw - 1) / g.sw));
        for (int64_t oh = 0; oh < g.OH; ++oh, d += g.OW) {
          const int64_t ih = oh * g.sh + i * g.dh - g.ph;
          const bool row = ih >= 0 && ih < g.H;
          const uint8_t* xr = row ? xc + ih * g.W + off : xc;  // xr[ow], ow in [ow0, ow1), when `row`
          if (g.sw == 1) {
            for (int64_t b = 0; b < g.OW; b += 64) {
              const __mmask64 st = range_mask(0, g.OW - b);
              const __mmask64 ld = row ? range_mask(ow0 - b, ow1 - b) : 0;
              _mm512_mask_storeu_epi8(d + b, st, _mm512_mask_loadu_epi8(pv, ld, xr + b));
            }
            continue;
          }
          // stride 2: 64 input bytes, only the even ones of valid columns loaded, then each
          // 16-bit word truncated to its low (even) byte: 32 outputs
          for (int64_t b = 0; b < g.OW; b += 32) {
            const __mmask32 st = __mmask32(range_mask(0, g.OW - b));
            const __mmask64 ld = row ? range_mask(2 * (ow0 - b), 2 * (ow1 - b)) & 0x5555555555555555ull : 0;
            const __m512i v = _mm512_mask_loadu_epi8(pv, ld, xr + 2 * b);
            _mm256_mask_storeu_epi8(d + b, st, _mm512_cvtepi16_epi8(v));
          }
        }
      }
}

}  // namespace petrel::x86
#else
namespace petrel::x86 {
void qim2col_avx512(const QIm2col&, const uint8_t*, uint8_t*) {}
}  // namespace petrel::x86
#endif
