// Internal: parsers for ONNX protobuf messages shared by the model and test-data loaders.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/graph.hpp"
#include "onnx/mapped_file.hpp"
#include "onnx/model.hpp"
#include "onnx/wire.hpp"

namespace petrel::onnx {

// Where tensors' bytes come from: the mapping (for zero-copy views) and external files.
struct TensorSource {
  std::shared_ptr<MappedFile> file;
  std::string external_dir;
  bool allow_external = true;
  std::map<std::string, std::shared_ptr<MappedFile>> external_files;
  size_t zero_copy_bytes = 0;
  size_t copied_bytes = 0;
};

// Parses a TensorProto. Sets `name` when present.
Status parse_tensor(WireReader r, TensorSource& src, Tensor& out, std::string* name);
Status parse_type(WireReader r, TypeInfo& out, int depth);
Status parse_value_info(WireReader r, ValueInfo& out);

}  // namespace petrel::onnx
