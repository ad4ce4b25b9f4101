// Private helpers of the tensor (data movement) kernels.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/reference/common.hpp"

namespace petrel::ref::tensor_detail {

inline int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

inline int64_t prod(const Shape& s, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end && i < s.size(); ++i) n *= s[i];
  return n;
}

// out[flat(i)] = in[base + sum_d i_d * strides[d]] over the index space of `shape`. Strides may
// be zero (broadcast) or negative (reversed slices). Transpose, Slice, Expand and
// DepthToSpace are all this one loop; the innermost dimension is copied as a run.
template <typename T>
void strided_copy(const T* in, T* out, const Shape& shape, const std::vector<int64_t>& strides, int64_t base) {
  const size_t r = shape.size();
  const int64_t total = shape_numel(shape);
  if (total == 0) return;
  if (r == 0) { out[0] = in[base]; return; }
  const int64_t inner = shape[r - 1], is = strides[r - 1];
  int64_t idx_stack[16] = {};  // no allocation for ranks up to 16
  std::vector<int64_t> idx_heap(r > 16 ? r : 0, 0);
  int64_t* idx = r > 16 ? idx_heap.data() : idx_stack;
  int64_t off = base;
  for (int64_t o = 0; o < total; o += inner) {
    const T* src = in + off;
    if (is == 1) std::copy(src, src + inner, out + o);
    else for (int64_t k = 0; k < inner; ++k) out[o + k] = src[k * is];
    for (size_t d = r - 1; d-- > 0;) {
      off += strides[d];
      if (++idx[d] < shape[d]) break;
      off -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

// Copies all elements of `in` into `out` (same element count and dtype).
inline Status copy_data(const Tensor& in, Tensor& out) {
  if (in.data == out.data) return Status::ok();
  if (in.dtype == DataType::kString) {
    const int64_t n = in.numel();
    std::copy(in.as<std::string>(), in.as<std::string>() + n, out.as<std::string>());
    return Status::ok();
  }
  const size_t nb = in.nbytes();
  if (nb) std::memmove(out.data, in.data, nb);
  return Status::ok();
}

// Reads element i of an index tensor (int32 or int64).
inline int64_t index_at(const Tensor& t, int64_t i) {
  return t.dtype == DataType::kInt32 ? int64_t(t.as<int32_t>()[i]) : t.as<int64_t>()[i];
}

inline bool is_index_type(DataType t) { return t == DataType::kInt32 || t == DataType::kInt64; }

// Reads a scalar (or one-element tensor) of any numeric dtype as double.
inline bool scalar_as_double(const Tensor& t, double& v) {
  if (t.numel() != 1 || t.dtype == DataType::kString) return false;
  v = element_as_double(t, 0);
  return true;
}

}  // namespace petrel::ref::tensor_detail
