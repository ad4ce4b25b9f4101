// Portable level of the depthwise NHWC convolution: 4 channels per GCC vector (SSE2 on x86-64,
// whatever the target has elsewhere); also what non-x86 builds run.
#include <cstring>

#include "kernels/x86/dwconv_nhwc.hpp"

namespace petrel::x86 {
namespace {
namespace dw_portable {

#define PETREL_TARGET
#define PETREL_VOP static inline __attribute__((always_inline))

struct V {
  typedef float T __attribute__((vector_size(16)));
  static constexpr int W = 4;
  PETREL_VOP T set1(float f) { return T{f, f, f, f}; }
  PETREL_VOP T loadu(const float* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  PETREL_VOP void storeu(float* p, T v) { std::memcpy(p, &v, sizeof v); }
  // Lanes >= n are neither read nor written.
  PETREL_VOP T loadu_n(const float* p, int n) {
    T v = {0, 0, 0, 0};
    for (int i = 0; i < n; ++i) v[i] = p[i];
    return v;
  }
  PETREL_VOP void storeu_n(float* p, T v, int n) {
    for (int i = 0; i < n; ++i) p[i] = v[i];
  }
  PETREL_VOP T fmadd(T a, T b, T c) { return a * b + c; }
  PETREL_VOP T min(T a, T b) { return a < b ? a : b; }
  PETREL_VOP T max(T a, T b) { return a > b ? a : b; }
};

#include "kernels/x86/dwconv_nhwc_impl.inc"

#undef PETREL_VOP
#undef PETREL_TARGET

}  // namespace dw_portable
}  // namespace

void dwconv_rows_portable(const ConvNhwcShape& s, const DwConvArgs& a) { dw_portable::rows_impl(s, a); }

}  // namespace petrel::x86
