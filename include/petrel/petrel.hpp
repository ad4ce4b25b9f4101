// Petrel C++ API: open an ONNX model, inspect its inputs and outputs, bind inputs, run, read
// outputs. Errors are values (Status / Result<T>); nothing here throws.
//
//   auto s = petrel::Session::open("model.onnx");
//   if (!s) { puts(s.status().to_string().c_str()); return 1; }
//   Status st = (*s)->set_input("image", petrel::DataType::kFloat, {1, 1, 28, 28}, pixels);
//   st = (*s)->run();
//   petrel::TensorView logits = (*s)->output(0);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "petrel/dtype.hpp"
#include "petrel/status.hpp"

namespace petrel {

// A model input or output as declared by the model. Dims < 0 are symbolic (see dim_names).
struct TensorInfo {
  std::string name;
  DataType dtype = DataType::kUndefined;
  bool is_tensor = true;  // false for sequences/optionals (not bindable through this API)
  std::vector<int64_t> shape;
  std::vector<std::string> dim_names;  // "" for fixed dims
};

// A read-only view of an output; valid until the next run() or until the session is destroyed.
struct TensorView {
  DataType dtype = DataType::kUndefined;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  template <typename T> const T* as() const { return static_cast<const T*>(data); }
};

struct SessionOptions {
  int threads = 1;
  // Run f32 convolutions, fully-connected layers, pooling and element-wise ops through XNNPACK
  // when this build has it (otherwise Petrel's own kernels run everything).
  bool xnnpack = true;
  // Run the graph optimizer (constant folding, Conv+BN folding, activation/bias/GELU/LayerNorm
  // fusion, dead-node elimination) between loading and planning. Off: the graph runs as loaded.
  bool optimize = true;
};

struct ModelInfo {
  int64_t ir_version = 0;
  int64_t opset = 0;  // default-domain opset of the file
  std::string producer;
  size_t zero_copy_bytes = 0;  // weights used in place from the mapped file
  size_t copied_bytes = 0;     // weights that had to be decoded or copied
};

class Session;

class Session {
 public:
  static Result<std::unique_ptr<Session>> open(const std::string& path, const SessionOptions& options = {});
  ~Session();

  // Another execution context on this session's loaded model, for running requests
  // concurrently (a server): it shares the loaded, optimized graph and its weights (one copy in
  // memory, mapped or decoded) and has its own activation arena, kernels and thread pool. The
  // kernels' own packed copies of weights (XNNPACK's, Petrel's packed GEMM operands) are per
  // context. Either session may be destroyed first; each is used by one thread at a time.
  Result<std::unique_ptr<Session>> new_context() const;

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  const ModelInfo& model_info() const;

  // Binds input `name` to caller memory (not copied: it must stay valid until run() returns).
  Status set_input(const std::string& name, DataType dtype, const std::vector<int64_t>& shape, const void* data);
  Status set_input(size_t index, DataType dtype, const std::vector<int64_t>& shape, const void* data);
  // Plans memory for the currently bound input shapes without running; arena_bytes() is then exact.
  Status plan();
  Status run();
  // Output by index or name (after a successful run()).
  Result<TensorView> output(size_t index) const;
  Result<TensorView> output(const std::string& name) const;
  // Bytes of the activation arena for the last planned shapes (0 before planning).
  size_t arena_bytes() const;

  struct Impl;

 private:
  friend Impl& session_internals(Session& s);
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Library version, "MAJOR.MINOR.PATCH".
const char* version();

}  // namespace petrel
