// Portable table: plain C++ whose fixed-size loops the compiler vectorises for the baseline
// ISA (SSE2 on x86-64). Also the table every non-x86 build uses.
#include <algorithm>
#include <cmath>
#include <utility>

#include "kernels/x86/simd.hpp"

namespace petrel::x86 {

#if defined(__x86_64__)
const IsaKernels& avx512_kernels();
const IsaKernels& avx2_kernels();
#endif

namespace {
namespace portable {

constexpr int MR = 4, NR = 8;

void epilogue_row(float* c, const float* acc, int cols, const TileEpilogue& ep) {
  for (int j = 0; j < cols; ++j) {
    float v = ep.alpha * acc[j];
    if (ep.accumulate) v += c[j];
    if (ep.bias) v += ep.bias[j];
    c[j] = v;
  }
  if (ep.act) ep.act->apply(c, cols);
}

template <int ROWS>
void tile(int cols, int64_t kc, const float* a, const float* b, float* c, int64_t ldc, const TileEpilogue& ep) {
  float acc[ROWS][NR] = {};
  for (int64_t k = 0; k < kc; ++k) {
    for (int i = 0; i < ROWS; ++i) {
      const float av = a[i];
      for (int j = 0; j < NR; ++j) acc[i][j] += av * b[j];
    }
    a += MR;
    b += NR;
  }
  for (int i = 0; i < ROWS; ++i) epilogue_row(c + i * ldc, acc[i], cols, ep);
}

void pack_a(const float* a, int64_t rs, int64_t cs, int rows, int64_t kc, float* dst) {
  for (int64_t k = 0; k < kc; ++k)
    for (int i = 0; i < rows; ++i) dst[k * MR + i] = a[i * rs + k * cs];
}

void pack_b(const float* b, int64_t rs, int64_t cs, int64_t kc, int cols, float* dst) {
  for (int64_t k = 0; k < kc; ++k) {
    int j = 0;
    for (; j < cols; ++j) dst[k * NR + j] = b[k * rs + j * cs];
    for (; j < NR; ++j) dst[k * NR + j] = 0.0f;
  }
}

void gemv(int64_t N, int64_t K, const float* a, int64_t a_cs, const float* b, int64_t rs, float* c, const TileEpilogue& ep) {
  constexpr int64_t CH = 64;
  for (int64_t n0 = 0; n0 < N; n0 += CH) {
    const int cols = int(std::min(CH, N - n0));
    float acc[CH] = {};
    for (int64_t k = 0; k < K; ++k) {
      const float av = a[k * a_cs];
      const float* bp = b + k * rs + n0;
      for (int j = 0; j < cols; ++j) acc[j] += av * bp[j];
    }
    TileEpilogue e = ep;
    if (e.bias) e.bias += n0;
    epilogue_row(c + n0, acc, cols, e);
  }
}

void activate(const FusedActivation& fa, float* x, int64_t n) { fa.apply(x, n); }

void softmax(const float* x, float* y, int64_t n) {
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float e = std::exp(x[i] - mx);
    y[i] = e;
    sum += e;
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) y[i] *= inv;
}

void layer_norm(const float* x, const float* scale, const float* bias, float* y, int64_t n, float eps, float* mean_out,
                float* inv_out) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  const float mean = float(s / double(n));
  double q = 0;
  for (int64_t i = 0; i < n; ++i) q += double(x[i] - mean) * double(x[i] - mean);
  const float inv = float(1.0 / std::sqrt(q / double(n) + double(eps)));
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv * scale[i] + (bias ? bias[i] : 0.0f);
  if (mean_out) *mean_out = mean;
  if (inv_out) *inv_out = inv;
}

template <int... R> void fill_tiles(TileFn* out, std::integer_sequence<int, R...>) { ((out[R] = &tile<R + 1>), ...); }

IsaKernels make_table() {
  IsaKernels k{};
  k.isa = Isa::kPortable;
  k.mr = MR;
  k.nr = NR;
  k.kc = 256;
  k.mc = 32 * MR;
  fill_tiles(k.tiles, std::make_integer_sequence<int, MR>{});
  for (int i = 0; i < 16; ++i) k.tiles_pf[i] = k.tiles[i];  // no prefetch in plain C++
  k.pack_a = &pack_a;
  k.pack_b = &pack_b;
  k.gemv = &gemv;
  k.activate = &activate;
  k.softmax = &softmax;
  k.layer_norm = &layer_norm;
  return k;
}

}  // namespace portable
}  // namespace

const IsaKernels& isa_kernels(Isa isa) {
  static const IsaKernels portable_table = portable::make_table();
#if defined(__x86_64__)
  if (isa == Isa::kAvx512) return avx512_kernels();
  if (isa == Isa::kAvx2) return avx2_kernels();
#endif
  (void)isa;
  return portable_table;
}

}  // namespace petrel::x86
