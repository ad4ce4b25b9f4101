// AVX-512 (avx512f + fma) table: 14 x 32 register tile (28 zmm accumulators, 2 for B, the A
// element broadcast from memory). Zen 4 issues one 512-bit FMA per cycle, so 28 independent
// accumulators cover the 4-cycle latency many times over.
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
namespace avx512 {

#define PETREL_TARGET __attribute__((target("avx512f,fma")))
#define PETREL_VOP PETREL_TARGET static inline __attribute__((always_inline))

struct V {
  using T = __m512;
  using M = __mmask16;
  static constexpr int W = 16;
  PETREL_VOP T zero() { return _mm512_setzero_ps(); }
  PETREL_VOP T set1(float f) { return _mm512_set1_ps(f); }
  PETREL_VOP T load(const float* p) { return _mm512_loadu_ps(p); }
  PETREL_VOP T loadu(const float* p) { return _mm512_loadu_ps(p); }
  PETREL_VOP void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  PETREL_VOP void storeu(float* p, T v) { _mm512_storeu_ps(p, v); }
  PETREL_VOP M first_n(int n) { return __mmask16((1u << n) - 1u); }
  PETREL_VOP T loadu_n(const float* p, int n) { return _mm512_maskz_loadu_ps(first_n(n), p); }
  PETREL_VOP void storeu_n(float* p, T v, int n) { _mm512_mask_storeu_ps(p, first_n(n), v); }
  PETREL_VOP T add(T a, T b) { return _mm512_add_ps(a, b); }
  PETREL_VOP T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  PETREL_VOP T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  PETREL_VOP T div(T a, T b) { return _mm512_div_ps(a, b); }
  PETREL_VOP T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  PETREL_VOP T fmsub(T a, T b, T c) { return _mm512_fmsub_ps(a, b, c); }
  PETREL_VOP T fnmadd(T a, T b, T c) { return _mm512_fnmadd_ps(a, b, c); }
  PETREL_VOP T min(T a, T b) { return _mm512_min_ps(a, b); }
  PETREL_VOP T max(T a, T b) { return _mm512_max_ps(a, b); }
  PETREL_VOP T abs(T a) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff))); }
  PETREL_VOP M lt(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  PETREL_VOP T select(M m, T yes, T no) { return _mm512_mask_blend_ps(m, no, yes); }
  PETREL_VOP T round(T a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // 2^n for integral n in [-126, 127].
  PETREL_VOP T pow2n(T n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
  }
  PETREL_VOP float reduce_add(T a) { return _mm512_reduce_add_ps(a); }
  PETREL_VOP float reduce_max(T a) { return _mm512_reduce_max_ps(a); }
};

constexpr int MR = 14;
constexpr int NV = 2;
constexpr int64_t KC = 256;
constexpr int64_t MC = 8 * MR;

#include "kernels/x86/simd_impl.inc"

#undef PETREL_VOP
#undef PETREL_TARGET

}  // namespace avx512
}  // namespace

const IsaKernels& avx512_kernels() {
  static const IsaKernels k = avx512::make_table(Isa::kAvx512);
  return k;
}

}  // namespace petrel::x86
#endif
