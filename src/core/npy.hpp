// NumPy .npy files (format versions 1-3, little-endian, C order): the exchange format of
// `petrel run --input/--output-dir`, so any tool can compare Petrel's outputs with another's.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace petrel {

// Parses .npy bytes (untrusted: every field is bounds-checked).
Result<Tensor> parse_npy(const uint8_t* data, size_t size);
Result<Tensor> read_npy(const std::string& path);
Status write_npy(const std::string& path, const Tensor& t);
// The .npy bytes of a numeric tensor (what write_npy writes).
Result<std::vector<uint8_t>> encode_npy(const Tensor& t);

}  // namespace petrel
