// Loading ONNX models into the versionless IR (core/graph.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/graph.hpp"
#include "onnx/mapped_file.hpp"

namespace petrel::onnx {

struct Model {
  int64_t ir_version = 0;
  std::string producer_name, producer_version, domain, doc_string;
  int64_t model_version = 0;
  std::vector<std::pair<std::string, int64_t>> opset_imports;  // as in the file
  std::vector<std::pair<std::string, std::string>> metadata;
  std::shared_ptr<Graph> graph;
  std::shared_ptr<MappedFile> file;
  // Initializer bytes used in place (in the mapping) and bytes copied (typed fields, unaligned
  // raw data, opset conversions).
  size_t zero_copy_bytes = 0;
  size_t copied_bytes = 0;

  // Opset version of a domain ("" and "ai.onnx" are the same); 0 when not imported.
  int64_t opset(const std::string& domain) const;
};

struct LoadOptions {
  // Folder that external data paths are relative to (default: the model file's folder).
  std::string external_data_dir;
  bool allow_external_data = true;
};

// Loads and validates a model: protobuf structure, tensor sizes, external data bounds, value
// definitions (no missing inputs, no duplicate outputs), acyclicity (nodes end up topologically
// sorted), and converts older opset forms into the IR's (src/onnx/opset.cpp).
Result<std::shared_ptr<Model>> load_model(const std::string& path, const LoadOptions& opts = {});
// Same, over bytes the caller keeps alive for the model's lifetime.
Result<std::shared_ptr<Model>> load_model_from_memory(const uint8_t* data, size_t size, const LoadOptions& opts = {});

// Reads a serialized TensorProto file (ONNX test data input_N.pb). Owns its storage.
Result<Tensor> load_tensor_file(const std::string& path);
// Reads a serialized TensorProto, SequenceProto or OptionalProto file, guided by the expected
// type (kind). Test data uses all three.
Result<Value> load_value_file(const std::string& path, TypeInfo::Kind kind);

}  // namespace petrel::onnx
