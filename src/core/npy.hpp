// NumPy .npy files (format versions 1-3, little-endian, C order): the exchange format of
// `petrel run --input/--output-dir`, so any tool can compare Petrel's outputs with another's.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace petrel {

// The header of a .npy file: element type, shape, and where the data starts.
struct NpyHeader {
  DataType dtype = DataType::kUndefined;
  Shape shape;
  size_t data_offset = 0;  // bytes from the start of the file
  size_t data_bytes = 0;   // bytes the shape needs (checked to be present)
};
// Parses and checks the header (magic, version, dict, dtype, C order, shape <= kMaxElements,
// enough bytes after it). Untrusted input: errors, never crashes.
Result<NpyHeader> parse_npy_header(const uint8_t* data, size_t size);
// Parses .npy bytes (untrusted: every field is bounds-checked).
Result<Tensor> parse_npy(const uint8_t* data, size_t size);
Result<Tensor> read_npy(const std::string& path);
Status write_npy(const std::string& path, const Tensor& t);
// The .npy bytes of a numeric tensor (what write_npy writes).
Result<std::vector<uint8_t>> encode_npy(const Tensor& t);

}  // namespace petrel
