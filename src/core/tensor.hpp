// Tensor: a typed view (dtype, shape, pointer) that may or may not own its storage.
// Views point into the mmap'ed model, the session arena, or caller memory; `owner` keeps
// heap storage alive when the tensor owns it. Value: what flows along a graph edge
// (a tensor, a sequence of tensors, or an empty optional).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.hpp"
#include "core/status.hpp"

namespace petrel {

using Shape = std::vector<int64_t>;

// Largest element count we accept for one tensor (2^40): bounds every size computation.
constexpr int64_t kMaxElements = int64_t(1) << 40;

// Product of dims, or an error if a dim is negative or the product exceeds kMaxElements.
Result<int64_t> checked_numel(const Shape& shape);
std::string shape_to_string(const Shape& shape);  // "[1,3,224,224]"

struct Tensor {
  DataType dtype = DataType::kUndefined;
  Shape shape;
  void* data = nullptr;            // std::string* when dtype == kString
  std::shared_ptr<void> owner;     // non-null when this tensor owns heap storage

  // Heap-allocated, zero-initialised (strings: empty) tensor; checks the size first.
  static Result<Tensor> allocate(DataType dtype, const Shape& shape);
  // Non-owning view.
  static Tensor view(DataType dtype, Shape shape, const void* data) {
    return Tensor{dtype, std::move(shape), const_cast<void*>(data), nullptr};
  }
  // Deep copy (owning).
  Result<Tensor> clone() const;

  int64_t numel() const {  // shapes inside a Tensor were validated when it was made
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  size_t nbytes() const { return packed_bytes(dtype, numel()); }
  int rank() const { return int(shape.size()); }
  template <typename T> T* as() { return static_cast<T*>(data); }
  template <typename T> const T* as() const { return static_cast<const T*>(data); }
};

// Reads element i of a numeric tensor as double / int64 (for shape-like inputs, attributes).
double element_as_double(const Tensor& t, int64_t i);
int64_t element_as_int64(const Tensor& t, int64_t i);
// Reads an integer tensor (int32/int64) into a vector; error for other dtypes.
Result<std::vector<int64_t>> tensor_to_int64s(const Tensor& t);

struct Value {
  enum class Kind : uint8_t { kEmpty, kTensor, kSequence };
  Kind kind = Kind::kEmpty;
  Tensor tensor;
  std::shared_ptr<std::vector<Tensor>> sequence;  // kSequence
  DataType elem_dtype = DataType::kUndefined;     // kSequence: element type (for empty sequences)

  static Value of(Tensor t) { Value v; v.kind = Kind::kTensor; v.tensor = std::move(t); return v; }
  static Value of_sequence(std::vector<Tensor> items, DataType elem) {
    Value v;
    v.kind = Kind::kSequence;
    v.sequence = std::make_shared<std::vector<Tensor>>(std::move(items));
    v.elem_dtype = elem;
    return v;
  }
  bool is_tensor() const { return kind == Kind::kTensor; }
  bool is_sequence() const { return kind == Kind::kSequence; }
  bool is_empty() const { return kind == Kind::kEmpty; }
};

}  // namespace petrel
