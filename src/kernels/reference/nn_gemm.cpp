#include "kernels/reference/nn_gemm.hpp"

#include <algorithm>
#include <vector>

namespace petrel::ref::nn {
namespace {

constexpr int64_t MR = kGemmMR, NR = kGemmNR;
// KC x NR strips of B stay in L1, the MC x KC block of A in L2.
constexpr int64_t KC = 256, MC = 128, NC = 2048;

// acc[MR][NR] += a-strip * b-strip over kc; the fixed trip counts let the compiler keep the
// accumulators in vector registers.
template <typename T>
inline void micro_kernel(int64_t kc, const T* __restrict a, const T* __restrict b, T* __restrict c,
                         int64_t ldc, bool accumulate) {
  T acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = T(0);
  for (int64_t k = 0; k < kc; ++k) {
    const T* bk = b + k * NR;
    const T* ak = a + k * MR;
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const T av = ak[i];
#pragma GCC unroll 16
      for (int j = 0; j < NR; ++j) acc[i][j] += av * bk[j];
    }
  }
  if (accumulate) {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) c[i * ldc + j] += acc[i][j];
  } else {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) c[i * ldc + j] = acc[i][j];
  }
}

template <typename T>
void pack_a(const T* A, int64_t lda, int64_t i0, int64_t mc, int64_t k0, int64_t kc, T* dst) {
  for (int64_t s = 0; s * MR < mc; ++s) {
    T* d = dst + s * kc * MR;
    const int64_t rows = std::min<int64_t>(MR, mc - s * MR);
    for (int64_t i = 0; i < MR; ++i) {
      if (i < rows) {
        const T* src = A + (i0 + s * MR + i) * lda + k0;
        for (int64_t k = 0; k < kc; ++k) d[k * MR + i] = src[k];
      } else {
        for (int64_t k = 0; k < kc; ++k) d[k * MR + i] = T(0);
      }
    }
  }
}

template <typename T> std::vector<T>& scratch() {
  thread_local std::vector<T> buf;
  return buf;
}

}  // namespace

template <typename T>
void DenseB<T>::pack(int64_t k0, int64_t kc, int64_t j0, int64_t nc, T* dst) const {
  for (int64_t s = 0; s * NR < nc; ++s) {
    T* d = dst + s * kc * NR;
    const int64_t cols = std::min<int64_t>(NR, nc - s * NR);
    const T* src = b_ + k0 * ldb_ + j0 + s * NR;
    if (cols == NR) {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t j = 0; j < NR; ++j) d[k * NR + j] = src[k * ldb_ + j];
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t j = 0; j < NR; ++j) d[k * NR + j] = j < cols ? src[k * ldb_ + j] : T(0);
    }
  }
}

template <typename T>
void gemm(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const GemmBSource<T>& B, T* C,
          int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, T(0));
    return;
  }
  const int64_t nc_max = std::min(NC, (N + NR - 1) / NR * NR);
  const int64_t kc_max = std::min(KC, K);
  const int64_t mc_max = std::min(MC, (M + MR - 1) / MR * MR);
  std::vector<T>& buf = scratch<T>();
  const size_t need = size_t(nc_max * kc_max + mc_max * kc_max);
  if (buf.size() < need) buf.resize(need);
  T* pb = buf.data();
  T* pa = pb + nc_max * kc_max;

  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const bool acc = accumulate || pc > 0;
      B.pack(pc, kc, jc, nc, pb);
      for (int64_t ic = 0; ic < M; ic += MC) {
        const int64_t mc = std::min(MC, M - ic);
        pack_a(A, lda, ic, mc, pc, kc, pa);
        for (int64_t sj = 0; sj * NR < nc; ++sj) {
          const int64_t j0 = jc + sj * NR;
          const int64_t w = std::min<int64_t>(NR, N - j0);
          const T* bs = pb + sj * kc * NR;
          for (int64_t si = 0; si * MR < mc; ++si) {
            const int64_t i0 = ic + si * MR;
            const int64_t h = std::min<int64_t>(MR, M - i0);
            const T* as = pa + si * kc * MR;
            if (h == MR && w == NR) {
              micro_kernel(kc, as, bs, C + i0 * ldc + j0, ldc, acc);
            } else {
              // Edge tile: compute into a full tile, copy back the valid part.
              T tmp[MR * NR];
              if (acc)
                for (int64_t i = 0; i < h; ++i)
                  for (int64_t j = 0; j < w; ++j) tmp[i * NR + j] = C[(i0 + i) * ldc + j0 + j];
              micro_kernel(kc, as, bs, tmp, NR, acc);
              for (int64_t i = 0; i < h; ++i)
                for (int64_t j = 0; j < w; ++j) C[(i0 + i) * ldc + j0 + j] = tmp[i * NR + j];
            }
          }
        }
      }
    }
  }
}

template class DenseB<float>;
template class DenseB<double>;
template void gemm<float>(int64_t, int64_t, int64_t, const float*, int64_t, const GemmBSource<float>&,
                          float*, int64_t, bool);
template void gemm<double>(int64_t, int64_t, int64_t, const double*, int64_t,
                           const GemmBSource<double>&, double*, int64_t, bool);

}  // namespace petrel::ref::nn
