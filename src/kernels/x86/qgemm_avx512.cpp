// int8 GEMM tile for AVX-512 VNNI: 12 rows x 32 columns, 24 zmm int32 accumulators. Per group
// of 4 k: two 64-byte B loads (16 columns x 4 bytes each) and, per row, one 4-byte A broadcast
// and two vpdpbusd (u8 x s8, four products summed exactly into int32 — no saturation).
#include "kernels/x86/qgemm.hpp"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstring>

namespace petrel::x86 {
namespace {

#define PETREL_QTARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma")))

constexpr int MR = 12, NR = 32;

// One row of 16 outputs (mask: valid columns) from its int32 accumulator.
PETREL_QTARGET inline void store16(const QTileOut& o, int i, int j0, __m512i acc, __mmask16 m) {
  const __m512i v = _mm512_add_epi32(acc, _mm512_loadu_si512(o.corr + j0));
  const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_loadu_ps(o.scale + j0));
  if (o.out == QOut::kF32) {
    __m512 r = f;
    if (o.fbias) r = _mm512_add_ps(r, _mm512_loadu_ps(o.fbias + j0));
    float* c = static_cast<float*>(o.c);
    if (o.c_cs == 1) {
      _mm512_mask_storeu_ps(c + i * o.c_rs + j0, m, r);
    } else {
      alignas(64) float t[16];
      _mm512_store_ps(t, r);
      for (int j = 0; j < 16; ++j)
        if (m >> j & 1) c[i * o.c_rs + (j0 + j) * o.c_cs] = t[j];
    }
    return;
  }
  // cvtps_epi32 rounds half to even (default MXCSR); out-of-range gives INT_MIN, which the
  // clamp maps to lo — only reachable with absurd scales.
  __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(f), _mm512_set1_epi32(o.zp_y));
  q = _mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(o.lo)), _mm512_set1_epi32(o.hi));
  const __m128i b = _mm512_cvtepi32_epi8(q);  // values already within the byte type's range
  uint8_t* c = static_cast<uint8_t*>(o.c);
  if (o.c_cs == 1) {
    _mm_mask_storeu_epi8(c + i * o.c_rs + j0, m, b);
  } else {
    alignas(16) uint8_t t[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(t), b);
    for (int j = 0; j < 16; ++j)
      if (m >> j & 1) c[i * o.c_rs + (j0 + j) * o.c_cs] = t[j];
  }
}

// 16 requantized bytes of one row (columns j0..j0+15) from its int32 accumulator.
PETREL_QTARGET inline __m128i quant16(const QTileOut& o, int j0, __m512i acc) {
  const __m512i v = _mm512_add_epi32(acc, _mm512_loadu_si512(o.corr + j0));
  const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_loadu_ps(o.scale + j0));
  __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(f), _mm512_set1_epi32(o.zp_y));
  q = _mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(o.lo)), _mm512_set1_epi32(o.hi));
  return _mm512_cvtepi32_epi8(q);
}

// In-place transpose of a 16 x 16 byte block (r[i] = row i). One round interleaves row i with
// row i + 8 into rows 2i, 2i + 1; as a map of the 8-bit (row, byte) index that is a rotation
// by one bit, so four rounds swap row and byte bits: the transpose.
PETREL_QTARGET inline void transpose16(__m128i* r) {
  __m128i t[16];
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm_unpacklo_epi8(r[i], r[i + 8]);
      t[2 * i + 1] = _mm_unpackhi_epi8(r[i], r[i + 8]);
    }
    for (int i = 0; i < 16; ++i) r[i] = t[i];
  }
}

// A tile whose output rows are adjacent bytes and columns far apart (NCHW conv output:
// c_rs = 1): requantize, transpose in registers, one masked store of `rows` bytes per column.
PETREL_QTARGET inline void store_transposed(const QTileOut& o, int rows, int j0, int cols, __m128i* r) {
  for (int i = rows; i < 16; ++i) r[i] = _mm_setzero_si128();
  transpose16(r);
  const __mmask16 m = __mmask16((1u << rows) - 1u);
  uint8_t* c = static_cast<uint8_t*>(o.c) + j0 * o.c_cs;
  for (int j = 0; j < cols; ++j) _mm_mask_storeu_epi8(c + j * o.c_cs, m, r[j]);
}

// acc += dot4(a u8, b s8) in place. GCC 12 compiles the intrinsic with a register copy per
// call (and then spills the 24 accumulators); the asm form keeps each accumulator in its register.
PETREL_QTARGET inline void dpbusd(__m512i& acc, __m512i a, __m512i b) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
}

PETREL_QTARGET inline __m512i bcast4(const uint8_t* p) {
  int32_t w;
  std::memcpy(&w, p, 4);
  return _mm512_set1_epi32(w);
}

// Named accumulators (GCC keeps an array of 24 zmm on the stack); rows >= R compile away.
#define PETREL_Q_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
template <int R>
PETREL_QTARGET void tile_rows(int cols, int64_t k4, const uint8_t* a, const int8_t* b, const QTileOut& o) {
#define PETREL_Q_DECL(i) __m512i c##i##0 = _mm512_setzero_si512(), c##i##1 = _mm512_setzero_si512();
  PETREL_Q_ROWS(PETREL_Q_DECL)
#undef PETREL_Q_DECL
  for (int64_t g = 0; g < k4; ++g) {
    const __m512i b0 = _mm512_loadu_si512(b), b1 = _mm512_loadu_si512(b + 64);
#define PETREL_Q_STEP(i)                                                             \
    if constexpr (R > i) {                                                           \
      const __m512i av = bcast4(a + i * 4);           \
      dpbusd(c##i##0, av, b0);                                                       \
      dpbusd(c##i##1, av, b1);                                                       \
    }
    PETREL_Q_ROWS(PETREL_Q_STEP)
#undef PETREL_Q_STEP
    a += MR * 4;
    b += NR * 4;
  }
  if (o.out != QOut::kF32 && o.c_rs == 1 && o.c_cs != 1) {
    __m128i r[16];
#define PETREL_Q_T0(i) if constexpr (R > i) r[i] = quant16(o, 0, c##i##0);
    PETREL_Q_ROWS(PETREL_Q_T0)
#undef PETREL_Q_T0
    store_transposed(o, R, 0, cols < 16 ? cols : 16, r);
    if (cols > 16) {
#define PETREL_Q_T1(i) if constexpr (R > i) r[i] = quant16(o, 16, c##i##1);
      PETREL_Q_ROWS(PETREL_Q_T1)
#undef PETREL_Q_T1
      store_transposed(o, R, 16, cols - 16, r);
    }
    return;
  }
  const __mmask16 m0 = cols >= 16 ? __mmask16(0xffff) : __mmask16((1u << cols) - 1u);
  const __mmask16 m1 = cols >= 32 ? __mmask16(0xffff) : cols <= 16 ? __mmask16(0) : __mmask16((1u << (cols - 16)) - 1u);
#define PETREL_Q_STORE(i)                      \
  if constexpr (R > i) {                       \
    store16(o, i, 0, c##i##0, m0);             \
    if (m1) store16(o, i, 16, c##i##1, m1);    \
  }
  PETREL_Q_ROWS(PETREL_Q_STORE)
#undef PETREL_Q_STORE
}
#undef PETREL_Q_ROWS

void tile(int rows, int cols, int64_t k4, const uint8_t* a, const int8_t* b, bool, const QTileOut& o) {
  switch (rows) {
    case 1: return tile_rows<1>(cols, k4, a, b, o);
    case 2: return tile_rows<2>(cols, k4, a, b, o);
    case 3: return tile_rows<3>(cols, k4, a, b, o);
    case 4: return tile_rows<4>(cols, k4, a, b, o);
    case 5: return tile_rows<5>(cols, k4, a, b, o);
    case 6: return tile_rows<6>(cols, k4, a, b, o);
    case 7: return tile_rows<7>(cols, k4, a, b, o);
    case 8: return tile_rows<8>(cols, k4, a, b, o);
    case 9: return tile_rows<9>(cols, k4, a, b, o);
    case 10: return tile_rows<10>(cols, k4, a, b, o);
    case 11: return tile_rows<11>(cols, k4, a, b, o);
    default: return tile_rows<12>(cols, k4, a, b, o);
  }
}

}  // namespace

QTileFn qtile_avx512() { return &tile; }

}  // namespace petrel::x86
#else
namespace petrel::x86 {
QTileFn qtile_avx512() { return qtile_portable(); }
}  // namespace petrel::x86
#endif
