// On-the-fly im2col: presents the column matrix of one (image, group) of a convolution as a
// GEMM B operand (rows = channel x kernel offset, columns = output positions), converting the
// stored type T to the compute type CT while packing.
#pragma once

#include <algorithm>

#include "kernels/reference/common.hpp"
#include "kernels/reference/nn_gemm.hpp"
#include "kernels/reference/nn_window.hpp"

namespace petrel::ref::nn {

// Geometry with a compile-time spatial rank so the per-element loops unroll.
template <int D> struct ConvGeom {
  int64_t in[D], out[D], k[D], s[D], dil[D], pb[D];
  int64_t in_size = 1;
  explicit ConvGeom(const Window& w) {
    for (int d = 0; d < D; ++d) {
      in[d] = w.in[d]; out[d] = w.out[d]; k[d] = w.kernel[d];
      s[d] = w.stride[d]; dil[d] = w.dilation[d]; pb[d] = w.pad_begin[d];
      in_size *= in[d];
    }
  }
};

template <typename T, typename CT, int D>
class Im2ColB final : public GemmBSource<CT> {
 public:
  Im2ColB(const T* x, const ConvGeom<D>& g) : x_(x), g_(g) {}

  void pack(int64_t k0, int64_t kc, int64_t j0, int64_t nc, CT* dst) const override {
    constexpr int64_t NR = kGemmNR;
    const ConvGeom<D>& g = g_;
    for (int64_t s = 0; s * NR < nc; ++s) {
      CT* d = dst + s * kc * NR;
      const int64_t cols = std::min<int64_t>(NR, nc - s * NR);
      // Input coordinate of each column's window origin.
      int64_t base[NR][D];
      int64_t idx[D];
      int64_t j = j0 + s * NR;
      for (int dd = D - 1; dd >= 0; --dd) { idx[dd] = j % g.out[dd]; j /= g.out[dd]; }
      // The strip is one contiguous run of the innermost output axis.
      const bool same_row = idx[D - 1] + cols <= g.out[D - 1] && cols == NR;
      for (int64_t c = 0; c < cols; ++c) {
        for (int dd = 0; dd < D; ++dd) base[c][dd] = idx[dd] * g.s[dd] - g.pb[dd];
        for (int dd = D - 1; dd >= 0; --dd) {
          if (++idx[dd] < g.out[dd]) break;
          idx[dd] = 0;
        }
      }
      // Row k0 as (channel, kernel offset).
      int64_t kk[D];
      int64_t r = k0;
      for (int dd = D - 1; dd >= 0; --dd) { kk[dd] = r % g.k[dd]; r /= g.k[dd]; }
      int64_t ch = r;
      for (int64_t k = 0; k < kc; ++k) {
        CT* drow = d + k * NR;
        const T* xc = x_ + ch * g.in_size;
        int64_t off[D];
        for (int dd = 0; dd < D; ++dd) off[dd] = kk[dd] * g.dil[dd];
        bool done = false;
        if (same_row && g.s[D - 1] == 1) {
          // Contiguous input run when the whole strip lies inside the input.
          int64_t flat = 0;
          bool inside = true;
          for (int dd = 0; dd < D - 1; ++dd) {
            const int64_t p = base[0][dd] + off[dd];
            if (p < 0 || p >= g.in[dd]) { inside = false; break; }
            flat = flat * g.in[dd] + p;
          }
          const int64_t p0 = base[0][D - 1] + off[D - 1];
          if (inside && p0 >= 0 && p0 + NR <= g.in[D - 1]) {
            const T* src = xc + flat * g.in[D - 1] + p0;
            for (int64_t c = 0; c < NR; ++c) drow[c] = CT(load(src[c]));
            done = true;
          }
        }
        if (!done) {
          for (int64_t c = 0; c < NR; ++c) {
            CT v = CT(0);
            if (c < cols) {
              int64_t flat = 0;
              bool inside = true;
              for (int dd = 0; dd < D; ++dd) {
                const int64_t p = base[c][dd] + off[dd];
                if (p < 0 || p >= g.in[dd]) { inside = false; break; }
                flat = flat * g.in[dd] + p;
              }
              if (inside) v = CT(load(xc[flat]));
            }
            drow[c] = v;
          }
        }
        for (int dd = D - 1; dd >= 0; --dd) {
          if (++kk[dd] < g.k[dd]) break;
          kk[dd] = 0;
          if (dd == 0) ++ch;
        }
      }
    }
  }

 private:
  const T* x_;
  ConvGeom<D> g_;
};

}  // namespace petrel::ref::nn
