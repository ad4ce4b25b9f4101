// int8 GEMM tile for AVX2: 4 rows x 16 columns (two ymm of 8 columns x 4 bytes of B).
// vpmaddubsw multiplies u8 x s8 and sums each PAIR into int16 with saturation; vpmaddwd by 1
// then sums pairs of those into int32. A pair saturates only if both A bytes are large
// (255·127·2 > 32767), never with 7-bit A (127·128·2 = 32512). Packing tells (a7) whether the
// panel's A bytes are all <= 127; otherwise each A byte is split as (a & 127) + 128·(a >> 7) and
// the two halves go through vpmaddubsw separately (the high half weighted by 128 in vpmaddwd),
// which is exact at twice the cost.
#include "kernels/x86/qgemm.hpp"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cmath>
#include <cstring>

namespace petrel::x86 {
namespace {

#define PETREL_QTARGET __attribute__((target("avx2,fma")))

constexpr int MR = 4, NR = 16;

// 8 outputs of row i from columns j0.. (cols valid).
PETREL_QTARGET inline void store8(const QTileOut& o, int i, int j0, __m256i acc, int cols) {
  if (cols < 8 || o.c_cs != 1 || o.out == QOut::kF32) {
    if (cols == 8 && o.c_cs == 1) {  // f32, full, contiguous
      __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(o.corr + j0)))),
                               _mm256_loadu_ps(o.scale + j0));
      if (o.fbias) f = _mm256_add_ps(f, _mm256_loadu_ps(o.fbias + j0));
      _mm256_storeu_ps(static_cast<float*>(o.c) + i * o.c_rs + j0, f);
      return;
    }
    alignas(32) int32_t t[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(t), acc);
    for (int j = 0; j < cols; ++j) qstore_scalar(o, i, j0 + j, t[j]);
    return;
  }
  const __m256i v = _mm256_add_epi32(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(o.corr + j0)));
  const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_loadu_ps(o.scale + j0));
  __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(f), _mm256_set1_epi32(o.zp_y));  // half to even
  q = _mm256_min_epi32(_mm256_max_epi32(q, _mm256_set1_epi32(o.lo)), _mm256_set1_epi32(o.hi));
  // Low byte of each int32 lane -> 8 bytes (the values already fit the byte type).
  const __m256i sh = _mm256_shuffle_epi8(q, _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                             0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  const uint32_t lo4 = uint32_t(_mm256_extract_epi32(sh, 0)), hi4 = uint32_t(_mm256_extract_epi32(sh, 4));
  uint8_t* c = static_cast<uint8_t*>(o.c) + i * o.c_rs + j0;
  std::memcpy(c, &lo4, 4);
  std::memcpy(c + 4, &hi4, 4);
}

template <int R, bool A7>
PETREL_QTARGET void tile_rows(int cols, int64_t k4, const uint8_t* a, const int8_t* b, const QTileOut& o) {
  __m256i acc0[R], acc1[R];
  for (int i = 0; i < R; ++i) acc0[i] = acc1[i] = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi16(1), w128 = _mm256_set1_epi16(128);
  const __m256i low7 = _mm256_set1_epi8(0x7f), bit0 = _mm256_set1_epi8(1);
  for (int64_t g = 0; g < k4; ++g) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 32));
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i) {
      int32_t w;
      std::memcpy(&w, a + i * 4, 4);
      const __m256i av = _mm256_set1_epi32(w);
      if constexpr (A7) {
        acc0[i] = _mm256_add_epi32(acc0[i], _mm256_madd_epi16(_mm256_maddubs_epi16(av, b0), ones));
        acc1[i] = _mm256_add_epi32(acc1[i], _mm256_madd_epi16(_mm256_maddubs_epi16(av, b1), ones));
      } else {
        const __m256i lo = _mm256_and_si256(av, low7);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(av, 7), bit0);
        acc0[i] = _mm256_add_epi32(acc0[i], _mm256_madd_epi16(_mm256_maddubs_epi16(lo, b0), ones));
        acc0[i] = _mm256_add_epi32(acc0[i], _mm256_madd_epi16(_mm256_maddubs_epi16(hi, b0), w128));
        acc1[i] = _mm256_add_epi32(acc1[i], _mm256_madd_epi16(_mm256_maddubs_epi16(lo, b1), ones));
        acc1[i] = _mm256_add_epi32(acc1[i], _mm256_madd_epi16(_mm256_maddubs_epi16(hi, b1), w128));
      }
    }
    a += MR * 4;
    b += NR * 4;
  }
  for (int i = 0; i < R; ++i) {
    store8(o, i, 0, acc0[i], cols < 8 ? cols : 8);
    if (cols > 8) store8(o, i, 8, acc1[i], cols - 8);
  }
}

template <bool A7> void tile_a(int rows, int cols, int64_t k4, const uint8_t* a, const int8_t* b, const QTileOut& o) {
  switch (rows) {
    case 1: return tile_rows<1, A7>(cols, k4, a, b, o);
    case 2: return tile_rows<2, A7>(cols, k4, a, b, o);
    case 3: return tile_rows<3, A7>(cols, k4, a, b, o);
    default: return tile_rows<4, A7>(cols, k4, a, b, o);
  }
}

void tile(int rows, int cols, int64_t k4, const uint8_t* a, const int8_t* b, bool a7, const QTileOut& o) {
  if (a7) tile_a<true>(rows, cols, k4, a, b, o);
  else tile_a<false>(rows, cols, k4, a, b, o);
}

}  // namespace

QTileFn qtile_avx2() { return &tile; }

}  // namespace petrel::x86
#else
namespace petrel::x86 {
QTileFn qtile_avx2() { return qtile_portable(); }
}  // namespace petrel::x86
#endif
