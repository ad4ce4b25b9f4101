// Float32 matrix product: K is cut into KC-deep slabs and M into MC-row blocks so the working
// set stays in cache; a KC x NR panel of B is packed (zero-padded at the right edge) into a
// small stack buffer and swept by an MR x NR register tile whose fixed trip counts let the
// compiler keep the accumulators in vector registers without intrinsics.
#include "kernels/reference/math_gemm.hpp"

#include <algorithm>

namespace petrel::ref {

namespace {

constexpr int64_t kMR = 8, kNR = 8;
constexpr int64_t kKC = 256, kMC = 128;

// acc[i][j] = sum_k a_i[k * a_cs] * bp[k * NR + j] for i < MR. MR is a template parameter so
// that the row tail (and M == 1, the decoder's matrix-vector case) uses a narrower tile
// instead of computing discarded rows.
template <int64_t MR>
inline void micro_tile(int64_t kc, const float* const* a, int64_t a_cs, const float* bp,
                       float acc[kMR][kNR]) {
  float c[MR][kNR] = {};
  if (a_cs == 1) {
    for (int64_t k = 0; k < kc; ++k) {
      const float* b = bp + k * kNR;
      for (int64_t i = 0; i < MR; ++i) {
        const float av = a[i][k];
        for (int64_t j = 0; j < kNR; ++j) c[i][j] += av * b[j];
      }
    }
  } else {
    for (int64_t k = 0; k < kc; ++k) {
      const float* b = bp + k * kNR;
      for (int64_t i = 0; i < MR; ++i) {
        const float av = a[i][k * a_cs];
        for (int64_t j = 0; j < kNR; ++j) c[i][j] += av * b[j];
      }
    }
  }
  for (int64_t i = 0; i < MR; ++i)
    for (int64_t j = 0; j < kNR; ++j) acc[i][j] = c[i][j];
}

void pack_b(int64_t kc, int64_t nr, const float* b, int64_t b_rs, int64_t b_cs, float* bp) {
  for (int64_t k = 0; k < kc; ++k) {
    const float* src = b + k * b_rs;
    float* dst = bp + k * kNR;
    int64_t j = 0;
    if (b_cs == 1)
      for (; j < nr; ++j) dst[j] = src[j];
    else
      for (; j < nr; ++j) dst[j] = src[j * b_cs];
    for (; j < kNR; ++j) dst[j] = 0.f;
  }
}

// One output row: packing B would cost as much as the product itself, so stream it directly.
void gemv_f32(int64_t N, int64_t K, MatView<float> A, MatView<float> B, float* C, float alpha,
              bool accumulate) {
  if (B.cs == 1) {
    // Row-major B: c += a[k] * B[k, :] vectorises along n.
    if (!accumulate) std::fill(C, C + N, 0.f);
    for (int64_t k = 0; k < K; ++k) {
      const float av = alpha * A.p[k * A.cs];
      const float* b = B.p + k * B.rs;
      for (int64_t n = 0; n < N; ++n) C[n] += av * b[n];
    }
    return;
  }
  for (int64_t n = 0; n < N; ++n) {
    const float* b = B.p + n * B.cs;
    float acc = 0.f;
    for (int64_t k = 0; k < K; ++k) acc += A.p[k * A.cs] * b[k * B.rs];
    C[n] = accumulate ? C[n] + alpha * acc : alpha * acc;
  }
}

}  // namespace

void gemm_f32(int64_t M, int64_t N, int64_t K, MatView<float> A, MatView<float> B, float* C,
              int64_t ldc, float alpha, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t m = 0; m < M; ++m) std::fill(C + m * ldc, C + m * ldc + N, 0.f);
    return;
  }
  if (M == 1) return gemv_f32(N, K, A, B, C, alpha, accumulate);
  alignas(64) float bp[kKC * kNR];
  float acc[kMR][kNR];
  for (int64_t k0 = 0; k0 < K; k0 += kKC) {
    const int64_t kc = std::min(kKC, K - k0);
    const bool add = accumulate || k0 > 0;
    for (int64_t mb = 0; mb < M; mb += kMC) {
      const int64_t me = std::min(M, mb + kMC);
      for (int64_t n0 = 0; n0 < N; n0 += kNR) {
        const int64_t nr = std::min(kNR, N - n0);
        pack_b(kc, nr, B.p + k0 * B.rs + n0 * B.cs, B.rs, B.cs, bp);
        for (int64_t m0 = mb; m0 < me;) {
          const int64_t rows = me - m0;
          const int64_t mr = rows >= kMR ? kMR : rows >= 4 ? 4 : 1;
          const float* a[kMR];
          for (int64_t i = 0; i < mr; ++i) a[i] = A.p + (m0 + i) * A.rs + k0 * A.cs;
          if (mr == kMR) micro_tile<kMR>(kc, a, A.cs, bp, acc);
          else if (mr == 4) micro_tile<4>(kc, a, A.cs, bp, acc);
          else micro_tile<1>(kc, a, A.cs, bp, acc);
          for (int64_t i = 0; i < mr; ++i) {
            float* c = C + (m0 + i) * ldc + n0;
            if (add)
              for (int64_t j = 0; j < nr; ++j) c[j] += alpha * acc[i][j];
            else
              for (int64_t j = 0; j < nr; ++j) c[j] = alpha * acc[i][j];
          }
          m0 += mr;
        }
      }
    }
  }
}

}  // namespace petrel::ref
