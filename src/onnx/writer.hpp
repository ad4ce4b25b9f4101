// Serialises the IR back to an ONNX ModelProto (default domain at opset kIrOpset).
// Initializer raw data is placed at 64-byte-aligned file offsets (a padding doc_string before
// raw_data; enclosing messages use fixed-width length prefixes), so a model written here is
// loaded fully zero-copy.
#pragma once

#include <string>
#include <vector>

#include "onnx/model.hpp"

namespace petrel::onnx {

struct WriteOptions {
  // Default-domain opset written into the file. Above kIrOpset the caller first rewrites the
  // graph with denormalize_for_opset (opset.hpp); the writer only records the number.
  int64_t default_opset = 17;
  // Align initializer raw data only to its element size (still zero-copy at load) instead of
  // 64 bytes: smaller files for models with many small tensors (quantized models).
  bool compact = false;
};

Result<std::vector<uint8_t>> serialize_model(const Model& model, const WriteOptions& options = {});
Status write_model(const Model& model, const std::string& path, const WriteOptions& options = {});

}  // namespace petrel::onnx
