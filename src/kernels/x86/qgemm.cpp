// The int8 GEMM driver (qgemm.hpp): B and A packing, blocking, threads, and the portable tile.
#include "kernels/x86/qgemm.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kernels/x86/sgemm.hpp"

namespace petrel::x86 {

ByteBuffer::~ByteBuffer() { std::free(data_); }

bool ByteBuffer::reserve(int64_t n) {
  if (n <= cap_) return true;
  std::free(data_);
  data_ = nullptr;
  cap_ = 0;
  const size_t bytes = (size_t(n) + 63) / 64 * 64;
  data_ = static_cast<uint8_t*>(std::aligned_alloc(64, bytes));
  if (data_ == nullptr) return false;
  cap_ = int64_t(bytes);
  return true;
}

namespace {

bool cpu_has_vnni() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

int64_t div_up(int64_t a, int64_t b) { return (a + b - 1) / b; }

QTileFn tile_for(Isa qisa) {
  switch (qisa) {
    case Isa::kAvx512: return qtile_avx512();
    case Isa::kAvx2: return qtile_avx2();
    default: return qtile_portable();
  }
}

// One A panel: rows x K from a (strides rs, cs), zero-padded to mr rows and K4 groups.
// Returns whether every byte is <= 127 (after the s8 shift).
bool pack_a_panel(const uint8_t* a, int64_t rs, int64_t cs, bool sgn, int rows, int mr, int64_t K, int64_t K4,
                  uint8_t* dst) {
  const uint8_t flip = sgn ? 0x80 : 0;
  uint8_t any = 0;
  std::memset(dst, 0, size_t(K4 * mr * 4));
  for (int i = 0; i < rows; ++i) {
    const uint8_t* row = a + i * rs;
    uint8_t* d = dst + i * 4;
    if (cs == 1) {
      for (int64_t k = 0; k < K; ++k) {
        const uint8_t v = uint8_t(row[k] ^ flip);
        any |= v;
        d[(k >> 2) * mr * 4 + (k & 3)] = v;
      }
    } else {
      for (int64_t k = 0; k < K; ++k) {
        const uint8_t v = uint8_t(row[k * cs] ^ flip);
        any |= v;
        d[(k >> 2) * mr * 4 + (k & 3)] = v;
      }
    }
  }
  return (any & 0x80) == 0;
}

// A panel whose rows are contiguous along M (cs strided along K, rs == 1): the NCHW
// activation read as [pixels x channels] and the im2col buffer. Reads each channel row once,
// mr bytes at a time.
bool pack_a_panel_cols(const uint8_t* a, int64_t cs, bool sgn, int rows, int mr, int64_t K, int64_t K4,
                       uint8_t* dst, bool may_read_16) {
  const uint8_t flip = sgn ? 0x80 : 0;
  uint8_t any = 0;
  if (rows < mr || K4 * 4 != K) std::memset(dst, 0, size_t(K4 * mr * 4));
  int64_t k = 0;
#if defined(__SSE2__)
  // Four channel rows of 16 pixels interleaved into 16 x 4 bytes with byte/word unpacks (SSE2,
  // baseline x86-64); the first mr * 4 bytes are the panel's group. Reads 16 bytes per row, so
  // only when the caller knows they are inside the buffer.
  if (may_read_16 && rows == mr && mr <= 16) {
    const __m128i fl = _mm_set1_epi8(char(flip));
    __m128i hi = _mm_setzero_si128();
    alignas(16) uint8_t t[64];
    for (; k + 4 <= K; k += 4) {
      const __m128i r0 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + k * cs)), fl);
      const __m128i r1 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + (k + 1) * cs)), fl);
      const __m128i r2 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + (k + 2) * cs)), fl);
      const __m128i r3 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + (k + 3) * cs)), fl);
      const __m128i p01l = _mm_unpacklo_epi8(r0, r1), p01h = _mm_unpackhi_epi8(r0, r1);
      const __m128i p23l = _mm_unpacklo_epi8(r2, r3), p23h = _mm_unpackhi_epi8(r2, r3);
      const __m128i q0 = _mm_unpacklo_epi16(p01l, p23l), q1 = _mm_unpackhi_epi16(p01l, p23l);
      const __m128i q2 = _mm_unpacklo_epi16(p01h, p23h), q3 = _mm_unpackhi_epi16(p01h, p23h);
      uint8_t* d = dst + (k >> 2) * mr * 4;
      if (mr == 12) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d), q0);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 16), q1);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 32), q2);
      } else {
        _mm_store_si128(reinterpret_cast<__m128i*>(t), q0);
        _mm_store_si128(reinterpret_cast<__m128i*>(t + 16), q1);
        _mm_store_si128(reinterpret_cast<__m128i*>(t + 32), q2);
        _mm_store_si128(reinterpret_cast<__m128i*>(t + 48), q3);
        std::memcpy(d, t, size_t(mr * 4));
      }
      // Only the first `mr` pixels count for the 7-bit test: q0..q3 hold 4 pixels each, in order.
      __m128i m = q0;
      if (mr >= 8) m = _mm_or_si128(m, q1);
      if (mr >= 12) m = _mm_or_si128(m, q2);
      if (mr >= 16) m = _mm_or_si128(m, q3);
      hi = _mm_or_si128(hi, m);
    }
    any = _mm_movemask_epi8(hi) != 0 ? 0x80 : 0;
    if (mr % 4 != 0) any = 0x80;  // conservative: a vector would hold pixels past the panel
  }
#endif
  for (; k < K; ++k) {
    const uint8_t* src = a + k * cs;
    uint8_t* d = dst + (k >> 2) * mr * 4 + (k & 3);
    for (int i = 0; i < rows; ++i) {
      const uint8_t v = uint8_t(src[i] ^ flip);
      any |= v;
      d[i * 4] = v;
    }
  }
  return (any & 0x80) == 0;
}

// 7-bit activations: packed bytes v (after the s8 shift) -> clamp(v, lo, lo + 127) - lo, i.e.
// u8 (lo 0) to 0..127 and s8 (lo 64: -64..63 shifted by 128) to 0..127 (the padding, 0, stays 0).
void clamp_panel_7bit(uint8_t* p, int64_t n, uint8_t lo) {
  int64_t i = 0;
#if defined(__SSE2__)
  const __m128i vl = _mm_set1_epi8(char(lo)), vh = _mm_set1_epi8(char(lo + 127));
  for (; i + 16 <= n; i += 16) {
    __m128i* q = reinterpret_cast<__m128i*>(p + i);
    _mm_storeu_si128(q, _mm_sub_epi8(_mm_min_epu8(_mm_max_epu8(_mm_loadu_si128(q), vl), vh), vl));
  }
#endif
  for (; i < n; ++i) p[i] = uint8_t(std::clamp<int>(p[i], lo, lo + 127) - lo);
}

std::atomic<uint64_t> g_exact_panels{0};

}  // namespace

uint64_t qgemm_exact_panels() { return g_exact_panels.load(std::memory_order_relaxed); }

Isa qgemm_isa(Isa isa) {
  static const bool vnni = cpu_has_vnni();
  if (isa == Isa::kAvx512 && !vnni) return Isa::kAvx2;
  return isa;
}

const char* qgemm_isa_name(Isa isa) { return isa == Isa::kAvx512 ? "avx512-vnni" : isa_name(isa); }

int qgemm_mr(Isa qisa) { return qisa == Isa::kAvx512 ? 12 : 4; }
int qgemm_nr(Isa qisa) { return qisa == Isa::kAvx512 ? 32 : 16; }

bool qpack_b(Isa qisa, const int8_t* b, int64_t rs, int64_t cs, int64_t K, int64_t N, QPackedB& out) {
  const int nr = qgemm_nr(qisa);
  const int64_t K4 = div_up(K, 4), panels = div_up(N, nr);
  if (!out.data.reserve(panels * K4 * nr * 4) || !out.colsum.reserve(panels * nr * 4)) return false;
  out.isa = qisa, out.K = K, out.N = N, out.K4 = K4;
  int8_t* d = out.data.as<int8_t>();
  int32_t* cs_out = out.colsum.as<int32_t>();
  std::memset(d, 0, size_t(panels * K4 * nr * 4));
  for (int64_t n = 0; n < panels * nr; ++n) cs_out[n] = 0;
  for (int64_t n = 0; n < N; ++n) {
    int8_t* pd = d + (n / nr) * K4 * nr * 4 + (n % nr) * 4;
    int32_t s = 0;
    for (int64_t k = 0; k < K; ++k) {
      const int8_t v = b[k * rs + n * cs];
      s += v;
      pd[(k >> 2) * nr * 4 + (k & 3)] = v;
    }
    cs_out[n] = s;
  }
  return true;
}

void qstore_scalar(const QTileOut& o, int64_t i, int64_t j, int32_t acc) {
  const int32_t v = acc + o.corr[j];
  const int64_t off = i * o.c_rs + j * o.c_cs;
  if (o.out == QOut::kF32) {
    float f = float(v) * o.scale[j];
    if (o.fbias) f += o.fbias[j];
    static_cast<float*>(o.c)[off] = f;
    return;
  }
  // Clamped first (beyond the bounds the result is lo/hi anyway), then rounded half to even by
  // adding and removing 1.5 * 2^23 (exact for |f| < 2^22; IEEE arithmetic, so the compiler keeps
  // it), as QuantizeLinear rounds — without a libm call per element.
  const float f = std::clamp(float(v) * o.scale[j], float(o.lo - o.zp_y) - 1.f, float(o.hi - o.zp_y) + 1.f);
  const float r = (f + 12582912.0f) - 12582912.0f;
  const int32_t q = std::clamp(int32_t(r) + o.zp_y, o.lo, o.hi);
  if (o.out == QOut::kU8) static_cast<uint8_t*>(o.c)[off] = uint8_t(q);
  else static_cast<int8_t*>(o.c)[off] = int8_t(q);
}

namespace {

void tile_portable(int rows, int cols, int64_t k4, const uint8_t* a, const int8_t* b, bool, const QTileOut& o) {
  constexpr int MR = 4, NR = 16;
  int32_t acc[MR][NR] = {};
  for (int64_t g = 0; g < k4; ++g) {
    const uint8_t* ag = a + g * MR * 4;
    const int8_t* bg = b + g * NR * 4;
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < NR; ++j) {
        int32_t s = 0;
        for (int t = 0; t < 4; ++t) s += int32_t(ag[i * 4 + t]) * int32_t(bg[j * 4 + t]);
        acc[i][j] += s;
      }
  }
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) qstore_scalar(o, i, j, acc[i][j]);
}

}  // namespace

QTileFn qtile_portable() { return &tile_portable; }

bool qgemm(const QGemmParams& p, QGemmWorkspace& ws, ThreadPool* pool) {
  if (p.M <= 0 || p.N <= 0) return true;
  const QPackedB& B = *p.b;
  const Isa qisa = B.isa;
  const int mr = qgemm_mr(qisa), nr = qgemm_nr(qisa);
  const int64_t K4 = B.K4, panels = div_up(p.N, nr);
  // The packed bytes are a + 128 for s8 A; 7-bit s8 A is packed as a + 64 (clamp_panel_7bit).
  const uint8_t lo7 = p.a_signed ? 64 : 0;
  const int32_t zp_a = p.zp_a + (p.a_signed ? 128 : 0) - (p.a7 ? lo7 : 0);
  // Row block: as many mr-row panels as keep the packed A block within ~192 KiB (L2).
  const int64_t panel_bytes = K4 * mr * 4;
  const int64_t mc_panels = std::clamp<int64_t>(192 * 1024 / std::max<int64_t>(1, panel_bytes), 1, 32);
  const int64_t mpanels = div_up(p.M, mr);
  int64_t m_blocks = div_up(mpanels, mc_panels);
  const double macs = double(p.M) * double(p.N) * double(p.K);
  int threads = pool ? pool->size() : 1;
  threads = int(std::max<int64_t>(1, std::min<int64_t>(threads, int64_t(macs / parallel_policy().min_macs_per_thread))));
  // Cut along N as well when there are fewer row blocks than threads.
  int64_t n_blocks = 1;
  if (threads > 1 && m_blocks < threads) {
    const int64_t want_m = std::min<int64_t>(mpanels, threads);
    m_blocks = std::max(m_blocks, want_m);
    n_blocks = std::min<int64_t>(panels, div_up(threads, m_blocks));
  }
  const int64_t panels_per_mblock = div_up(mpanels, m_blocks);
  m_blocks = div_up(mpanels, panels_per_mblock);
  const int64_t panels_per_nblock = div_up(panels, n_blocks);
  n_blocks = div_up(panels, panels_per_nblock);
  const int64_t items = m_blocks * n_blocks;
  const int slices = int(std::min<int64_t>(threads, items));
  const int64_t a_block = panels_per_mblock * (panel_bytes + 64);
  if (!ws.a.reserve(a_block * slices) || !ws.corr.reserve(panels * nr * 4)) return false;
  int32_t* corr = ws.corr.as<int32_t>();
  const int32_t* colsum = B.colsum.as<int32_t>();
  for (int64_t n = 0; n < panels * nr; ++n) corr[n] = (n < p.N && p.bias ? p.bias[n] : 0) - zp_a * colsum[n];
  const QTileFn tile = tile_for(qisa);
  const size_t osize = p.out == QOut::kF32 ? 4 : 1;
  auto run_item = [&](int64_t item, uint8_t* abuf) {
    const int64_t mi = item / n_blocks, ni = item % n_blocks;
    const int64_t p0 = mi * panels_per_mblock, p1 = std::min(mpanels, p0 + panels_per_mblock);
    const int64_t j0 = ni * panels_per_nblock, j1 = std::min(panels, j0 + panels_per_nblock);
    bool a7[64];
    for (int64_t q = p0; q < p1; ++q) {
      const int64_t m0 = q * mr;
      const int rows = int(std::min<int64_t>(mr, p.M - m0));
      uint8_t* dst = abuf + (q - p0) * panel_bytes;
      const uint8_t* src = p.a + m0 * p.a_rs;
      // 16-byte row reads stay inside A when 16 pixels remain in the row.
      a7[q - p0] = p.a_rs == 1 && p.a_cs != 1 ? pack_a_panel_cols(src, p.a_cs, p.a_signed, rows, mr, p.K, K4, dst, m0 + 16 <= p.M)
                                              : pack_a_panel(src, p.a_rs, p.a_cs, p.a_signed, rows, mr, p.K, K4, dst);
      if (p.a7) {
        clamp_panel_7bit(dst, panel_bytes, lo7);
        a7[q - p0] = true;
      } else if (!a7[q - p0]) {
        g_exact_panels.fetch_add(1, std::memory_order_relaxed);
      }
    }
    for (int64_t j = j0; j < j1; ++j) {
      const int cols = int(std::min<int64_t>(nr, p.N - j * nr));
      const int8_t* bp = B.data.as<int8_t>() + j * K4 * nr * 4;
      QTileOut o{corr + j * nr, p.scale + j * nr, p.fbias ? p.fbias + j * nr : nullptr, p.out, p.zp_y, p.lo, p.hi,
                 nullptr, p.c_rs, p.c_cs};
      for (int64_t q = p0; q < p1; ++q) {
        const int64_t m0 = q * mr;
        const int rows = int(std::min<int64_t>(mr, p.M - m0));
        o.c = static_cast<uint8_t*>(p.c) + (m0 * p.c_rs + j * nr * p.c_cs) * int64_t(osize);
        tile(rows, cols, K4, abuf + (q - p0) * panel_bytes, bp, a7[q - p0], o);
      }
    }
  };
  if (slices <= 1) {
    for (int64_t it = 0; it < items; ++it) run_item(it, ws.a.data());
    return true;
  }
  pool->parallel_for(slices, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      for (int64_t it = t; it < items; it += slices) run_item(it, ws.a.data() + t * a_block);
  });
  return true;
}

}  // namespace petrel::x86
