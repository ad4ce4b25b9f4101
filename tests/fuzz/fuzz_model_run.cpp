// libFuzzer target: arbitrary bytes → onnx::load_model_from_memory (external data disallowed)
// → GraphExecutor::create (static planning enabled) → when every graph input is a tensor with a
// declared shape of static dims (symbolic dims count as 1) and at most 65536 elements, binds
// deterministic small inputs of the declared dtype and runs the graph twice (the second run
// takes the planned steady-state path). Results are ignored: every input must end in a Status;
// crashes, leaks, ASan/UBSan reports and timeouts are bugs.
// The fuzz build caps Loop at PETREL_FUZZ_LOOP_CAP iterations (tests/fuzz/CMakeLists.txt), so
// a model that loops "forever" ends in an error instead of a timeout.
// Build and run: tests/fuzz/run.sh SECONDS fuzz_model_run
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "onnx/model.hpp"
#include "runtime/executor.hpp"

namespace {

constexpr int64_t kMaxInputElements = 65536;

// Deterministic small values: 1, 2, -1, 0, 3, ... for numbers (a scalar gets 1; shape-like
// inputs stay small), alternating bools, a few short strings.
bool fill(petrel::Tensor& t) {
  using petrel::DataType;
  const int64_t n = t.numel();
  auto val = [](int64_t i) { static const int64_t kVals[] = {1, 2, -1, 0, 3}; return kVals[i % 5]; };
  switch (t.dtype) {
    case DataType::kFloat: for (int64_t i = 0; i < n; ++i) t.as<float>()[i] = float(val(i)) * 0.5f; return true;
    case DataType::kDouble: for (int64_t i = 0; i < n; ++i) t.as<double>()[i] = double(val(i)) * 0.5; return true;
    case DataType::kFloat16: for (int64_t i = 0; i < n; ++i) t.as<petrel::Float16>()[i] = petrel::Float16(float(val(i)) * 0.5f); return true;
    case DataType::kBFloat16: for (int64_t i = 0; i < n; ++i) t.as<petrel::BFloat16>()[i] = petrel::BFloat16(float(val(i)) * 0.5f); return true;
    case DataType::kInt8: for (int64_t i = 0; i < n; ++i) t.as<int8_t>()[i] = int8_t(val(i)); return true;
    case DataType::kInt16: for (int64_t i = 0; i < n; ++i) t.as<int16_t>()[i] = int16_t(val(i)); return true;
    case DataType::kInt32: for (int64_t i = 0; i < n; ++i) t.as<int32_t>()[i] = int32_t(val(i)); return true;
    case DataType::kInt64: for (int64_t i = 0; i < n; ++i) t.as<int64_t>()[i] = val(i); return true;
    case DataType::kUInt8: for (int64_t i = 0; i < n; ++i) t.as<uint8_t>()[i] = uint8_t(1 + i % 3); return true;
    case DataType::kUInt16: for (int64_t i = 0; i < n; ++i) t.as<uint16_t>()[i] = uint16_t(i % 3); return true;
    case DataType::kUInt32: for (int64_t i = 0; i < n; ++i) t.as<uint32_t>()[i] = uint32_t(i % 3); return true;
    case DataType::kUInt64: for (int64_t i = 0; i < n; ++i) t.as<uint64_t>()[i] = uint64_t(i % 3); return true;
    case DataType::kBool: for (int64_t i = 0; i < n; ++i) t.as<uint8_t>()[i] = uint8_t(i % 2); return true;
    case DataType::kString: {
      static const char* const kWords[] = {"a", "Bc", "", "de f"};
      for (int64_t i = 0; i < n; ++i) t.as<std::string>()[i] = kWords[i % 4];
      return true;
    }
    default:  // other types stay zero-initialised (Tensor::allocate)
      return true;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  petrel::onnx::LoadOptions opts;
  opts.allow_external_data = false;
  auto model = petrel::onnx::load_model_from_memory(data, size, opts);
  if (!model) return 0;
  const petrel::Graph& g = *(*model)->graph;
  auto exec = petrel::GraphExecutor::create((*model)->graph, true);
  if (!exec) return 0;

  std::vector<petrel::Value> inputs;
  for (petrel::ValueId id : g.inputs) {
    const petrel::TypeInfo& t = g.values[size_t(id)].type;
    if (t.kind != petrel::TypeInfo::Kind::kTensor || !t.has_shape || t.dtype == petrel::DataType::kUndefined) return 0;
    petrel::Shape shape;
    int64_t n = 1;
    for (const petrel::Dim& d : t.shape) {
      if (d.value < -1) return 0;
      const int64_t v = d.is_static() ? d.value : 1;  // symbolic / unknown dims: 1
      if (v > kMaxInputElements) return 0;
      n *= v;
      if (n > kMaxInputElements) return 0;
      shape.push_back(v);
    }
    auto tensor = petrel::Tensor::allocate(t.dtype, shape);
    if (!tensor || !fill(*tensor)) return 0;
    inputs.push_back(petrel::Value::of(std::move(tensor).value()));
  }
  if (!g.outer_refs.empty()) return 0;

  std::vector<petrel::Value> outputs;
  if (!(*exec)->run(inputs, {}, outputs).is_ok()) return 0;
  outputs.clear();
  (void)(*exec)->run(inputs, {}, outputs);
  return 0;
}
