// AVX2 + FMA table: 6 x 16 register tile (12 ymm accumulators, 2 for B, 1 broadcast of A:
// 15 of the 16 ymm registers).
#include "kernels/x86/simd.hpp"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's intrinsic headers use self-initialised "undefined" vectors as pass-through operands,
// which its -Wuninitialized flags once they are inlined into target-attributed functions.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <utility>

namespace petrel::x86 {
namespace {
namespace avx2 {

#define PETREL_TARGET __attribute__((target("avx2,fma")))
#define PETREL_VOP PETREL_TARGET static inline __attribute__((always_inline))

struct V {
  using T = __m256;
  using M = __m256;
  static constexpr int W = 8;
  PETREL_VOP T zero() { return _mm256_setzero_ps(); }
  PETREL_VOP T set1(float f) { return _mm256_set1_ps(f); }
  PETREL_VOP T load(const float* p) { return _mm256_loadu_ps(p); }
  PETREL_VOP T loadu(const float* p) { return _mm256_loadu_ps(p); }
  PETREL_VOP void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  PETREL_VOP void storeu(float* p, T v) { _mm256_storeu_ps(p, v); }
  PETREL_VOP __m256i lanes(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  PETREL_VOP M first_n(int n) { return _mm256_castsi256_ps(lanes(n)); }
  PETREL_VOP T loadu_n(const float* p, int n) { return _mm256_maskload_ps(p, lanes(n)); }
  PETREL_VOP void storeu_n(float* p, T v, int n) { _mm256_maskstore_ps(p, lanes(n), v); }
  PETREL_VOP T add(T a, T b) { return _mm256_add_ps(a, b); }
  PETREL_VOP T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  PETREL_VOP T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  PETREL_VOP T div(T a, T b) { return _mm256_div_ps(a, b); }
  PETREL_VOP T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  PETREL_VOP T fmsub(T a, T b, T c) { return _mm256_fmsub_ps(a, b, c); }
  PETREL_VOP T fnmadd(T a, T b, T c) { return _mm256_fnmadd_ps(a, b, c); }
  PETREL_VOP T min(T a, T b) { return _mm256_min_ps(a, b); }
  PETREL_VOP T max(T a, T b) { return _mm256_max_ps(a, b); }
  PETREL_VOP T abs(T a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
  PETREL_VOP M lt(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  PETREL_VOP T select(M m, T yes, T no) { return _mm256_blendv_ps(no, yes, m); }
  PETREL_VOP T round(T a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  PETREL_VOP T pow2n(T n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
  }
  PETREL_VOP float reduce_add(T a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  PETREL_VOP float reduce_max(T a) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

constexpr int MR = 6;
constexpr int NV = 2;
constexpr int64_t KC = 256;
constexpr int64_t MC = 16 * MR;

#include "kernels/x86/simd_impl.inc"

#undef PETREL_VOP
#undef PETREL_TARGET

}  // namespace avx2
}  // namespace

const IsaKernels& avx2_kernels() {
  static const IsaKernels k = avx2::make_table(Isa::kAvx2);
  return k;
}

}  // namespace petrel::x86
#endif
