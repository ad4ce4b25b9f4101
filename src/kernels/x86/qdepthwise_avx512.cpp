// The AVX-512 depthwise int8 kernel (qdepthwise.hpp).
#include "kernels/x86/qdepthwise.hpp"

#include <algorithm>

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's avx512 intrinsic headers (the _mm512_undefined_* they use) trip these.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#endif

namespace petrel::x86 {
namespace {

constexpr int64_t kBlock = 16;  // outputs per zmm of int32

int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

// Padded plane geometry: rows PH, pitch PW. Each 16-output block reads from its first input
// column up to 16 (stride 1) or 32 (stride 2) bytes per tap, also for the masked-off tail of
// the last block, hence the pitch.
struct Pad {
  int64_t PH, PW;
};
Pad pad_of(const QDwShape& s) {
  const int64_t owr = round_up(std::max<int64_t>(s.OW, 1), kBlock);
  const int64_t reach = (owr - kBlock) * s.sw + (s.KW - 1) * s.dw + (s.sw == 1 ? 16 : 32);
  return {(s.OH - 1) * s.sh + (s.KH - 1) * s.dh + 1, round_up(reach, 64)};
}

}  // namespace

int64_t qdw_scratch_bytes(const QDwShape& s) {
  const Pad p = pad_of(s);
  return p.PH * p.PW + 64;
}

#if defined(__x86_64__)
namespace {

#define PETREL_DWTARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

// The padded plane: zero point around, x (s8 shifted to u8) inside.
// Rows are short (7..112 bytes), so 64-byte stores and masked loads beat memset/memcpy calls.
PETREL_DWTARGET void fill_padded(const QDwShape& s, const uint8_t* x, uint8_t zpb, uint8_t* dst, const Pad& p) {
  const __m512i zv = _mm512_set1_epi8(char(zpb)), fl = _mm512_set1_epi8(char(s.x_signed ? 0x80 : 0));
  const int64_t left = std::min(s.pw, p.PW);
  const int64_t n = std::max<int64_t>(0, std::min(s.W, p.PW - left));
  for (int64_t r = 0; r < p.PH; ++r) {
    uint8_t* d = dst + r * p.PW;  // PW is a multiple of 64, dst 64-aligned
    for (int64_t c = 0; c < p.PW; c += 64) _mm512_store_si512(d + c, zv);
    const int64_t ir = r - s.ph;
    if (ir < 0 || ir >= s.H) continue;
    const uint8_t* xr = x + ir * s.W;
    for (int64_t c = 0; c < n; c += 64) {
      const __mmask64 m = n - c >= 64 ? ~__mmask64(0) : (__mmask64(1) << (n - c)) - 1;
      _mm512_mask_storeu_epi8(d + left + c, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, xr + c), fl));
    }
  }
}

template <int64_t SW> PETREL_DWTARGET inline __m512i load16(const uint8_t* p) {
  if constexpr (SW == 1) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  } else {
    // the even bytes of 32: the low byte of each 16-bit word
    const __m256i v = _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), _mm256_set1_epi16(0xff));
    return _mm512_cvtepu16_epi32(v);
  }
}

struct Epi {
  __m512i corr, zp, lo, hi;
  __m512 m, flo, fhi;
  QOut out;
};

PETREL_DWTARGET inline void store_block(const Epi& e, __m512i acc, void* y, int64_t off, __mmask16 mask) {
  const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc, e.corr)), e.m);
  if (e.out == QOut::kF32) {
    _mm512_mask_storeu_ps(static_cast<float*>(y) + off, mask, f);
    return;
  }
  // Clamped first (beyond the bounds the result is lo/hi anyway, and cvtps2dq stays in range),
  // then rounded half to even by cvtps2dq (default MXCSR).
  const __m512 fc = _mm512_min_ps(_mm512_max_ps(f, e.flo), e.fhi);
  __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(fc), e.zp);
  q = _mm512_min_epi32(_mm512_max_epi32(q, e.lo), e.hi);
  _mm_mask_storeu_epi8(static_cast<uint8_t*>(y) + off, mask, _mm512_cvtepi32_epi8(q));
}

// U blocks of 16 outputs (block b: row b / nb, columns (b % nb) * 16...) side by side.
// K: the kernel size when it is K x K and known at compile time (3: the unrolled common case), else 0.
template <int64_t SW, int U, int K>
PETREL_DWTARGET void blocks(const QDwShape& s, const Pad& p, const uint8_t* plane, const __m512i* wv, int64_t b0,
                            int64_t nb, const Epi& e, void* y) {
  const int64_t KH = K ? K : s.KH, KW = K ? K : s.KW;
  const uint8_t* base[U];
  int64_t off[U];
  __mmask16 mask[U];
  __m512i acc[U];
  for (int u = 0; u < U; ++u) {
    const int64_t b = b0 + u, oh = b / nb, ow = (b % nb) * kBlock;
    base[u] = plane + oh * s.sh * p.PW + ow * SW;
    off[u] = oh * s.OW + ow;
    const int64_t left = std::min<int64_t>(kBlock, s.OW - ow);
    mask[u] = __mmask16((1u << left) - 1u);
    acc[u] = _mm512_setzero_si512();
  }
  for (int64_t i = 0; i < KH; ++i) {
    const int64_t ro = i * s.dh * p.PW;
    for (int64_t j = 0; j < KW; ++j) {
      const __m512i w = wv[i * KW + j];
      const int64_t o = ro + j * s.dw;
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) acc[u] = _mm512_dpwssd_epi32(acc[u], load16<SW>(base[u] + o), w);
    }
  }
  for (int u = 0; u < U; ++u) store_block(e, acc[u], y, off[u], mask[u]);
}

template <int64_t SW, int K>
PETREL_DWTARGET void channel(const QDwShape& s, const Pad& p, const uint8_t* plane, const __m512i* wv, const Epi& e,
                             void* y) {
  const int64_t nb = (s.OW + kBlock - 1) / kBlock, total = s.OH * nb;
  int64_t b = 0;
  for (; b + 4 <= total; b += 4) blocks<SW, 4, K>(s, p, plane, wv, b, nb, e, y);
  for (; b < total; ++b) blocks<SW, 1, K>(s, p, plane, wv, b, nb, e, y);
}

}  // namespace

bool qdw_avx512_supported(const QDwShape& s) {
  static const bool cpu = qgemm_isa(Isa::kAvx512) == Isa::kAvx512 && isa_supported(Isa::kAvx512);
  return cpu && (s.sw == 1 || s.sw == 2) && s.KH * s.KW <= 64 && s.OH > 0 && s.OW > 0;
}

PETREL_DWTARGET void qdw_channel_avx512(const QDwShape& s, const uint8_t* x, const int8_t* w, int32_t bias, float mult,
                                        void* y, uint8_t* scratch) {
  const Pad p = pad_of(s);
  const int32_t zpu = s.x_signed ? s.zp_x + 128 : s.zp_x;  // the zero point of the shifted bytes
  fill_padded(s, x, uint8_t(zpu), scratch, p);
  const int64_t kk = s.KH * s.KW;
  __m512i wv[64];
  int32_t wsum = 0;
  for (int64_t t = 0; t < kk; ++t) {
    wsum += w[t];
    // (w, 0) int16 pairs: vpdpwssd adds x·w + 0·0 per lane (x zero-extended to 32 bits).
    wv[t] = _mm512_set1_epi32(int32_t(uint16_t(int16_t(w[t]))));
  }
  Epi e;
  e.corr = _mm512_set1_epi32(bias - zpu * wsum);
  e.zp = _mm512_set1_epi32(s.zp_y), e.lo = _mm512_set1_epi32(s.lo), e.hi = _mm512_set1_epi32(s.hi);
  e.m = _mm512_set1_ps(mult);
  e.flo = _mm512_set1_ps(float(s.lo - s.zp_y) - 1.f), e.fhi = _mm512_set1_ps(float(s.hi - s.zp_y) + 1.f);
  e.out = s.out;
  const bool k3 = s.KH == 3 && s.KW == 3;
  if (s.sw == 1) k3 ? channel<1, 3>(s, p, scratch, wv, e, y) : channel<1, 0>(s, p, scratch, wv, e, y);
  else k3 ? channel<2, 3>(s, p, scratch, wv, e, y) : channel<2, 0>(s, p, scratch, wv, e, y);
}

#else
bool qdw_avx512_supported(const QDwShape&) { return false; }
void qdw_channel_avx512(const QDwShape&, const uint8_t*, const int8_t*, int32_t, float, void*, uint8_t*) {}
#endif

}  // namespace petrel::x86
