// Blocked, packed GEMM used by the convolution kernels (portable C++: the micro-kernel is
// written so that compilers auto-vectorise it; 4x8 fits the 16 SIMD registers of SSE2/NEON).
#pragma once

#include <cstdint>

namespace petrel::ref::nn {

constexpr int64_t kGemmMR = 4;
constexpr int64_t kGemmNR = 8;

// Supplies a block of B (rows k0..k0+kc, columns j0..j0+nc) packed in strips of kGemmNR
// columns: dst[(s * kc + k) * kGemmNR + j] = B[k0 + k][j0 + s * kGemmNR + j], zero past nc.
// Convolution implements it as an on-the-fly im2col so the column matrix never exists whole.
template <typename T> class GemmBSource {
 public:
  virtual ~GemmBSource() = default;
  virtual void pack(int64_t k0, int64_t kc, int64_t j0, int64_t nc, T* dst) const = 0;
};

// A plain row-major B with leading dimension ldb.
template <typename T> class DenseB final : public GemmBSource<T> {
 public:
  DenseB(const T* b, int64_t ldb) : b_(b), ldb_(ldb) {}
  void pack(int64_t k0, int64_t kc, int64_t j0, int64_t nc, T* dst) const override;

 private:
  const T* b_;
  int64_t ldb_;
};

// Columns [offset, offset + n) of another source, for splitting a product across threads.
template <typename T> class OffsetB final : public GemmBSource<T> {
 public:
  OffsetB(const GemmBSource<T>& inner, int64_t offset) : inner_(inner), offset_(offset) {}
  void pack(int64_t k0, int64_t kc, int64_t j0, int64_t nc, T* dst) const override {
    inner_.pack(k0, kc, j0 + offset_, nc, dst);
  }

 private:
  const GemmBSource<T>& inner_;
  int64_t offset_;
};

// C[M x N] (row stride ldc) = A[M x K] (row stride lda) * B, plus the old C if accumulate.
// Uses a per-thread scratch buffer that grows once.
template <typename T>
void gemm(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const GemmBSource<T>& B, T* C,
          int64_t ldc, bool accumulate);

}  // namespace petrel::ref::nn
