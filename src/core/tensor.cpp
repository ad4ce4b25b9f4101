#include "core/tensor.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace petrel {

Result<int64_t> checked_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return out_of_range("negative dimension " + std::to_string(d) + " in shape " + shape_to_string(shape));
    if (d == 0) { n = 0; continue; }
    if (d > kMaxElements / (n ? n : 1))
      return out_of_range("shape " + shape_to_string(shape) + " has more than 2^40 elements");
    n *= d;
  }
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Result<Tensor> Tensor::allocate(DataType dtype, const Shape& shape) {
  PETREL_ASSIGN_OR_RETURN(int64_t n, checked_numel(shape));
  Tensor t;
  t.dtype = dtype;
  t.shape = shape;
  if (dtype == DataType::kString) {
    auto p = std::shared_ptr<std::string[]>(new (std::nothrow) std::string[size_t(n ? n : 1)]);
    if (!p) return out_of_range("out of memory for a string tensor of " + std::to_string(n) + " elements");
    t.data = p.get();
    t.owner = std::shared_ptr<void>(p, p.get());
    return t;
  }
  if (dtype_size(dtype) == 0 && dtype != DataType::kUInt4 && dtype != DataType::kInt4)
    return unsupported("cannot allocate a tensor of type " + std::string(dtype_name(dtype)));
  size_t bytes = packed_bytes(dtype, n);
  size_t alloc = (bytes + 63) / 64 * 64;
  if (alloc == 0) alloc = 64;
  void* p = std::aligned_alloc(64, alloc);
  if (!p) return out_of_range("out of memory allocating " + std::to_string(bytes) + " bytes");
  std::memset(p, 0, alloc);
  t.data = p;
  t.owner = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  return t;
}

Result<Tensor> Tensor::clone() const {
  PETREL_ASSIGN_OR_RETURN(Tensor t, allocate(dtype, shape));
  if (dtype == DataType::kString) {
    for (int64_t i = 0; i < numel(); ++i) t.as<std::string>()[i] = as<std::string>()[i];
  } else if (nbytes()) {
    std::memcpy(t.data, data, nbytes());
  }
  return t;
}

template <typename R>
static R element_as(const Tensor& t, int64_t i) {
  switch (t.dtype) {
    case DataType::kFloat: return R(t.as<float>()[i]);
    case DataType::kDouble: return R(t.as<double>()[i]);
    case DataType::kFloat16: return R(float(t.as<Float16>()[i]));
    case DataType::kBFloat16: return R(float(t.as<BFloat16>()[i]));
    case DataType::kInt8: return R(t.as<int8_t>()[i]);
    case DataType::kUInt8: return R(t.as<uint8_t>()[i]);
    case DataType::kInt16: return R(t.as<int16_t>()[i]);
    case DataType::kUInt16: return R(t.as<uint16_t>()[i]);
    case DataType::kInt32: return R(t.as<int32_t>()[i]);
    case DataType::kUInt32: return R(t.as<uint32_t>()[i]);
    case DataType::kInt64: return R(t.as<int64_t>()[i]);
    case DataType::kUInt64: return R(t.as<uint64_t>()[i]);
    case DataType::kBool: return R(t.as<uint8_t>()[i] != 0);
    default: return R(0);
  }
}

double element_as_double(const Tensor& t, int64_t i) { return element_as<double>(t, i); }
int64_t element_as_int64(const Tensor& t, int64_t i) { return element_as<int64_t>(t, i); }

Result<std::vector<int64_t>> tensor_to_int64s(const Tensor& t) {
  if (t.dtype != DataType::kInt64 && t.dtype != DataType::kInt32)
    return invalid_argument("expected an int32/int64 tensor, got " + std::string(dtype_name(t.dtype)));
  std::vector<int64_t> v(size_t(t.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = element_as_int64(t, int64_t(i));
  return v;
}

}  // namespace petrel
