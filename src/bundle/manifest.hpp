// The bundle manifest: a JSON object (UTF-8) between the header and the payload. Parsed only
// after the signature has been verified, and still validated field by field (a trusted signer
// can still make mistakes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bundle/format.hpp"
#include "core/status.hpp"

namespace petrel::bundle {

struct TensorSignature {
  std::string name;
  std::string dtype;            // Petrel's dtype name ("float32", "int64", ...)
  std::vector<int64_t> shape;   // -1 for a symbolic dimension
};

struct GoldenTensor {
  std::string name;
  std::vector<uint8_t> npy;     // .npy bytes (base64 in the JSON)
};

struct Manifest {
  std::string name;             // [A-Za-z0-9._-], 1..128 characters
  std::string version;          // semantic version
  std::string created;          // RFC 3339 UTC, e.g. 2026-12-02T03:25:00Z
  std::string runtime_min;      // compatible runtimes: runtime_min <= petrel version
  std::string runtime_max;      //   and (if not empty) petrel version < runtime_max
  std::vector<std::string> required_ops;  // "Conv", or "domain:Op" outside the default domain
  std::vector<TensorSignature> inputs, outputs;
  uint64_t model_size = 0;      // plaintext model bytes
  std::vector<GoldenTensor> golden_inputs, golden_outputs;
  double golden_rtol = 1e-3, golden_atol = 1e-4;
  std::string calibration_json; // optional JSON object, kept verbatim ("" when absent)
};

inline constexpr size_t kMaxRequiredOps = 4096;
inline constexpr size_t kMaxGoldenTensors = 64;
inline constexpr size_t kMaxSignatureEntries = 1024;

std::string manifest_to_json(const Manifest& m);
// Parses and validates; `h` gives the payload size the manifest must agree with.
Result<Manifest> parse_manifest(const uint8_t* data, size_t size, const Header& h);
// Checks the names/ranges of a manifest about to be written (used by the packer).
Status validate_manifest(const Manifest& m);

}  // namespace petrel::bundle
