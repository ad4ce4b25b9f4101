// Helpers private to the misc family (sequence, optional, signal, recurrent, random, training).
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "kernels/reference/common.hpp"

namespace petrel::ref {

// Base for kernels whose outputs are only known in compute (sequences, optionals, data-dependent
// shapes): infer is never called for them, and says so if it is.
class DynamicKernel : public Kernel {
 public:
  Status infer(OpContext&) override { return OpContext::needs_data(); }
  bool dynamic_outputs() const override { return true; }
};

// True when input i is present and carries a value (an empty optional counts as absent).
inline bool has_value(const OpContext& ctx, int i) {
  return ctx.has_input(i) && !ctx.input_value(i).is_empty();
}

// Checks that inputs 0..n-1 are present with a value (required inputs of the op).
inline Status need_inputs(const OpContext& ctx, int n) {
  for (int i = 0; i < n; ++i)
    if (!has_value(ctx, i)) return ctx.error("missing required input " + std::to_string(i));
  return Status::ok();
}

// Reads a scalar (or one-element) integer input as int64.
inline Result<int64_t> read_scalar_int(const OpContext& ctx, int i, const char* what) {
  const Tensor& t = ctx.input(i);
  if (t.dtype != DataType::kInt32 && t.dtype != DataType::kInt64)
    return ctx.error(std::string(what) + " must be int32 or int64, got " + std::string(dtype_name(t.dtype)));
  if (t.numel() != 1) return ctx.error(std::string(what) + " must be a scalar, got shape " + shape_to_string(t.shape));
  if (t.data == nullptr) return ctx.error(std::string(what) + ": no data");
  return element_as_int64(t, 0);
}

// Reads a scalar (or one-element) float input as double.
inline Result<double> read_scalar_float(const OpContext& ctx, int i, const char* what) {
  const Tensor& t = ctx.input(i);
  if (!dtype_is_float(t.dtype))
    return ctx.error(std::string(what) + " must be a float tensor, got " + std::string(dtype_name(t.dtype)));
  if (t.numel() != 1) return ctx.error(std::string(what) + " must be a scalar, got shape " + shape_to_string(t.shape));
  if (t.data == nullptr) return ctx.error(std::string(what) + ": no data");
  return element_as_double(t, 0);
}

// Element-wise copy of n elements between buffers of dtype dt (strings by assignment).
inline void copy_elems(DataType dt, const void* src, int64_t src_off, void* dst, int64_t dst_off, int64_t n) {
  if (n <= 0) return;
  if (dt == DataType::kString) {
    const auto* s = static_cast<const std::string*>(src) + src_off;
    auto* d = static_cast<std::string*>(dst) + dst_off;
    for (int64_t k = 0; k < n; ++k) d[k] = s[k];
    return;
  }
  const size_t es = dtype_size(dt);
  std::memcpy(static_cast<char*>(dst) + size_t(dst_off) * es, static_cast<const char*>(src) + size_t(src_off) * es,
              size_t(n) * es);
}

// Types whose elements can be copied one by one (not the packed 4-bit types).
inline bool copyable_dtype(DataType dt) { return dt == DataType::kString || dtype_size(dt) != 0; }

// The list of strings of an attribute (empty when absent); wrong type is a model error.
inline Result<std::vector<std::string>> attr_strings(const Node& n, const char* name) {
  const Attribute* a = n.attr(name);
  if (!a) return std::vector<std::string>{};
  if (a->type != AttrType::kStrings)
    return invalid_model(n.label() + ": attribute '" + name + "' must be strings, got " + attr_type_name(a->type));
  return a->strings;
}

}  // namespace petrel::ref
