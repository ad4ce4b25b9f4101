// Private to the math family: axis bookkeeping shared by the Reduce* ops and ArgMax/ArgMin.
#pragma once

#include <vector>

#include "kernels/reference/common.hpp"

namespace petrel::ref {

// The input viewed as kept dims (outer loop, one output element each) and reduced dims (inner
// loop). Adjacent dims of the same kind are merged so that the common cases (reduce the last
// axes, reduce everything) become one flat loop.
struct ReduceLayout {
  std::vector<int64_t> kept_dims, kept_strides;
  std::vector<int64_t> red_dims, red_strides;
  int64_t out_count = 1, red_count = 1;

  // Reusing one layout keeps its vectors' capacity: no allocation per run.
  void build(const Shape& in, const std::vector<bool>& reduced) {
    std::vector<int64_t>& st = strides_;
    st.resize(in.size());
    for (size_t d = in.size(), s = 1; d-- > 0;) {
      st[d] = int64_t(s);
      s *= size_t(in[d]);
    }
    kept_dims.clear(); kept_strides.clear(); red_dims.clear(); red_strides.clear();
    out_count = red_count = 1;
    for (size_t d = 0; d < in.size(); ++d) {
      if (in[d] == 1) continue;  // size-1 dims do not move any offset
      auto& dims = reduced[d] ? red_dims : kept_dims;
      auto& strides = reduced[d] ? red_strides : kept_strides;
      (reduced[d] ? red_count : out_count) *= in[d];
      if (!dims.empty() && strides.back() == in[d] * st[d]) {
        dims.back() *= in[d];
        strides.back() = st[d];
      } else {
        dims.push_back(in[d]);
        strides.push_back(st[d]);
      }
    }
  }

  // Calls f(output_index, base_offset) for each output element in row-major order.
  template <typename F> void for_each_output(F&& f) const {
    out_idx_.assign(kept_dims.size(), 0);
    int64_t off = 0;
    for (int64_t i = 0; i < out_count; ++i) {
      f(i, off);
      step(kept_dims, kept_strides, out_idx_.data(), off);
    }
  }
  // Calls g(offset) for every reduced element under `base`, in row-major order.
  template <typename G> void for_each_reduced(int64_t base, G&& g) const {
    if (red_dims.size() <= 1) {
      const int64_t n = red_dims.empty() ? 1 : red_dims[0], s = red_dims.empty() ? 0 : red_strides[0];
      for (int64_t j = 0; j < n; ++j) g(base + j * s);
      return;
    }
    red_idx_.assign(red_dims.size(), 0);
    int64_t off = base;
    for (int64_t j = 0; j < red_count; ++j) {
      g(off);
      step(red_dims, red_strides, red_idx_.data(), off);
    }
  }

 private:
  static void step(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides, int64_t* idx,
                   int64_t& off) {
    for (size_t k = dims.size(); k-- > 0;) {
      if (++idx[k] < dims[k]) { off += strides[k]; return; }
      off -= strides[k] * (dims[k] - 1);
      idx[k] = 0;
    }
  }
  mutable std::vector<int64_t> red_idx_, out_idx_;  // scratch, sized once per reduction
  std::vector<int64_t> strides_;
};

}  // namespace petrel::ref
