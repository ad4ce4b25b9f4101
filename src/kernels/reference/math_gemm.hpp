// Private to the math family: matrix-product cores shared by MatMul, Gemm and Einsum.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/reference/common.hpp"

namespace petrel::ref {

// Strided matrix operand: element (r, c) is at p[r * rs + c * cs]. Transposes are stride swaps.
template <typename T> struct MatView {
  const T* p;
  int64_t rs, cs;
};

// C[m * ldc + n] = alpha * sum_k A(m,k) * B(k,n)      (accumulate == false)
// C[m * ldc + n] += alpha * sum_k A(m,k) * B(k,n)     (accumulate == true)
// Blocked and register-tiled float32 path; see math_gemm_f32.cpp.
void gemm_f32(int64_t M, int64_t N, int64_t K, MatView<float> A, MatView<float> B, float* C,
              int64_t ldc, float alpha, bool accumulate);

// Accumulator type of the generic product: float for float16/bfloat16 (as numpy's float32
// promotion), double for double, and 64-bit two's-complement wrapping for integers so that
// overflow is defined (the result is then truncated to T like numpy's fixed-width integers).
template <typename T> struct GemmAccOf {
  using type = std::conditional_t<std::is_integral_v<T>, uint64_t, ComputeType<T>>;
};
template <typename T> using GemmAcc = typename GemmAccOf<T>::type;

template <typename T> inline GemmAcc<T> gemm_load(const T& v) {
  if constexpr (std::is_integral_v<T>) return uint64_t(int64_t(v));
  else return load(v);
}
template <typename T> inline T gemm_store(GemmAcc<T> v) {
  if constexpr (std::is_integral_v<T>) return T(int64_t(v));
  else return store<T>(v);
}

// Plain triple loop for every non-float32 type (reference speed is enough there).
template <typename T>
void gemm_generic(int64_t M, int64_t N, int64_t K, MatView<T> A, MatView<T> B, T* C, int64_t ldc) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      GemmAcc<T> acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += gemm_load(A.p[m * A.rs + k * A.cs]) * gemm_load(B.p[k * B.rs + n * B.cs]);
      C[m * ldc + n] = gemm_store<T>(acc);
    }
}

// C = A * B for any supported T (float32 goes to the tiled kernel).
template <typename T>
void gemm_any(int64_t M, int64_t N, int64_t K, MatView<T> A, MatView<T> B, T* C, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>) gemm_f32(M, N, K, A, B, C, ldc, 1.0f, false);
  else gemm_generic(M, N, K, A, B, C, ldc);
}

}  // namespace petrel::ref
