// Serialises the IR back to an ONNX ModelProto (default domain at opset kIrOpset).
// Initializer raw data is placed at 64-byte-aligned file offsets (a padding doc_string before
// raw_data; enclosing messages use fixed-width length prefixes), so a model written here is
// loaded fully zero-copy.
#pragma once

#include <string>
#include <vector>

#include "onnx/model.hpp"

namespace petrel::onnx {

Result<std::vector<uint8_t>> serialize_model(const Model& model);
Status write_model(const Model& model, const std::string& path);

}  // namespace petrel::onnx
