// Helpers shared by the reference kernels: attribute access, dtype dispatch, broadcasting.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/kernel.hpp"

namespace petrel::ref {

// ---- attributes (type-checked; a wrong attribute type is a model error) ----
Result<int64_t> attr_int(const Node& n, const char* name, int64_t dflt);
Result<float> attr_float(const Node& n, const char* name, float dflt);
Result<std::string> attr_string(const Node& n, const char* name, const std::string& dflt);
Result<std::vector<int64_t>> attr_ints(const Node& n, const char* name, std::vector<int64_t> dflt = {});
Result<std::vector<float>> attr_floats(const Node& n, const char* name, std::vector<float> dflt = {});
// Attribute that must be present.
Result<int64_t> attr_int_required(const Node& n, const char* name);
bool has_attr(const Node& n, const char* name);

// Normalises a possibly negative axis into [0, rank); error names the node.
Result<int64_t> normalize_axis(const Node& n, int64_t axis, int64_t rank);

// ---- dtype dispatch ----
template <typename T> struct Tag { using type = T; };

// Calls f(Tag<T>{}) for the C++ type of `t`. Returns the status of f, or Unsupported.
#define PETREL_DISPATCH_CASE(DT, T) case DataType::DT: return f(Tag<T>{});
template <typename F> Status dispatch_all_numeric(DataType t, F&& f) {
  switch (t) {
    PETREL_DISPATCH_CASE(kFloat, float) PETREL_DISPATCH_CASE(kDouble, double)
    PETREL_DISPATCH_CASE(kFloat16, Float16) PETREL_DISPATCH_CASE(kBFloat16, BFloat16)
    PETREL_DISPATCH_CASE(kInt8, int8_t) PETREL_DISPATCH_CASE(kUInt8, uint8_t)
    PETREL_DISPATCH_CASE(kInt16, int16_t) PETREL_DISPATCH_CASE(kUInt16, uint16_t)
    PETREL_DISPATCH_CASE(kInt32, int32_t) PETREL_DISPATCH_CASE(kUInt32, uint32_t)
    PETREL_DISPATCH_CASE(kInt64, int64_t) PETREL_DISPATCH_CASE(kUInt64, uint64_t)
    default: return unsupported("dtype " + std::string(dtype_name(t)));
  }
}
template <typename F> Status dispatch_float(DataType t, F&& f) {
  switch (t) {
    PETREL_DISPATCH_CASE(kFloat, float) PETREL_DISPATCH_CASE(kDouble, double)
    PETREL_DISPATCH_CASE(kFloat16, Float16) PETREL_DISPATCH_CASE(kBFloat16, BFloat16)
    default: return unsupported("dtype " + std::string(dtype_name(t)) + " (expected a float type)");
  }
}
// All numeric types plus bool (stored as uint8_t 0/1 — use dtype to tell apart).
template <typename F> Status dispatch_with_bool(DataType t, F&& f) {
  if (t == DataType::kBool) return f(Tag<bool>{});
  return dispatch_all_numeric(t, std::forward<F>(f));
}
// Any type by element size only (for copies, gathers, transposes): T is uint8/16/32/64_t, or
// std::string for strings. 16-byte types (complex128) are not supported.
template <typename F> Status dispatch_by_size(DataType t, F&& f) {
  if (t == DataType::kString) return f(Tag<std::string>{});
  switch (dtype_size(t)) {
    case 1: return f(Tag<uint8_t>{});
    case 2: return f(Tag<uint16_t>{});
    case 4: return f(Tag<uint32_t>{});
    case 8: return f(Tag<uint64_t>{});
    default: return unsupported("dtype " + std::string(dtype_name(t)));
  }
}
#undef PETREL_DISPATCH_CASE

// Arithmetic type for T: float for Float16/BFloat16, T otherwise.
template <typename T> struct ComputeTypeOf { using type = T; };
template <> struct ComputeTypeOf<Float16> { using type = float; };
template <> struct ComputeTypeOf<BFloat16> { using type = float; };
template <typename T> using ComputeType = typename ComputeTypeOf<T>::type;

template <typename T> inline ComputeType<T> load(const T& v) { return ComputeType<T>(v); }
template <typename T> inline T store(ComputeType<T> v) { return T(v); }

// ---- broadcasting (numpy rules) ----
Result<Shape> broadcast_shapes(const Shape& a, const Shape& b);
// Strides of `in` (in elements) when broadcast to `out` (rank(in) <= rank(out)); 0 on broadcast dims.
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);
std::vector<int64_t> contiguous_strides(const Shape& s);

// Iterates the output index space, giving each input's flat offset. Allocation-free after
// construction (construct it in compute: the vectors are small; for the hot path use the
// fast paths in elementwise kernels).
struct BroadcastIter {
  BroadcastIter(const Shape& out, const std::vector<std::vector<int64_t>>& in_strides);
  // Calls f(out_index, offsets) where offsets[k] is input k's flat offset.
  template <typename F> void for_each(F&& f) {
    const int64_t total = [&] { int64_t n = 1; for (auto d : out_) n *= d; return n; }();
    if (total == 0) return;
    const size_t r = out_.size(), k = strides_.size();
    std::vector<int64_t> idx(r, 0), off(k, 0);
    for (int64_t o = 0; o < total; ++o) {
      f(o, off.data());
      for (size_t d = r; d-- > 0;) {
        if (++idx[d] < out_[d]) { for (size_t j = 0; j < k; ++j) off[j] += strides_[j][d]; break; }
        for (size_t j = 0; j < k; ++j) off[j] -= strides_[j][d] * (out_[d] - 1);
        idx[d] = 0;
      }
    }
  }
  Shape out_;
  std::vector<std::vector<int64_t>> strides_;  // per input, aligned to out's rank
};

// Reads an optional int64 tensor input that must be known (e.g. axes, shape). Returns
// needs_data() during infer when unknown.
Status read_int_input(OpContext& ctx, int i, std::vector<int64_t>& out);

}  // namespace petrel::ref
