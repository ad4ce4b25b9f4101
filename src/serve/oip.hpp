// The Open Inference Protocol v2 (KServe / Triton "v2") JSON codec, independent of HTTP.
//
// Requests and responses carry tensors as {"name", "datatype", "shape", "data"}; `data` may be
// flat or nested (row-major) arrays. Everything parsed here is untrusted: every limit below is
// checked before the corresponding memory is allocated, JSON nesting depth is checked by a
// linear pre-scan before the parser runs (deep JSON never reaches a recursive routine), and every
// value must be representable in the tensor's datatype. Errors are values (kInvalidArgument for
// malformed or inconsistent content, kOutOfRange for a limit exceeded, kUnsupported for protocol
// features this build does not implement: BYTES tensors, the binary-data extension).
//
// The router uses the reverse pair (serialize_infer_request / parse_infer_response) to speak to a
// cloud server; parse_infer_response validates the server's answer with the same rules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "petrel/dtype.hpp"
#include "petrel/status.hpp"

namespace petrel::serve::oip {

struct Limits {
  size_t max_body_bytes = 8u << 20;       // 8 MiB of JSON
  int max_depth = 16;                     // nesting of [ and {; nested `data` needs rank + 3
  int64_t max_tensor_elements = 1 << 22;  // per tensor
  int64_t max_total_elements = 1 << 23;   // all tensors of one message together
  size_t max_tensors = 64;                // inputs (requests) or outputs (responses)
  size_t max_name_length = 256;           // tensor names, ids, model names
  size_t max_rank = 8;
};

struct Tensor {
  std::string name;
  DataType dtype = DataType::kUndefined;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;  // numel * dtype_size(dtype), native byte order
  int64_t numel() const;
};

struct InferRequest {
  std::string id;
  std::vector<Tensor> inputs;
  std::vector<std::string> requested_outputs;  // empty: all outputs
  nlohmann::json parameters = nlohmann::json::object();
};

struct InferResponse {
  std::string model_name, model_version, id;
  std::vector<Tensor> outputs;
  nlohmann::json parameters = nlohmann::json::object();
};

// "FP32", "INT64", ...; "" for types the protocol cannot carry.
std::string_view datatype_name(DataType t);
// Inverse of datatype_name; kUndefined for unknown strings. "BYTES" maps to kString.
DataType datatype_from_name(std::string_view name);

// Builds a tensor from raw element bytes (checked: bytes.size() == numel * element size).
Result<Tensor> make_tensor(std::string name, DataType dtype, std::vector<int64_t> shape, const void* data,
                           size_t size_bytes);

// Nesting depth of JSON text ([ and { outside strings), by a linear scan that stops as soon as
// `max_depth` is exceeded. Returns the depth reached (max_depth + 1 when exceeded).
int json_depth(std::string_view text, int max_depth);

Result<InferRequest> parse_infer_request(std::string_view body, const Limits& limits);
std::string serialize_infer_request(const InferRequest& request);
Result<InferResponse> parse_infer_response(std::string_view body, const Limits& limits);

namespace detail {
// The same, with the numbers of each tensor's "data" read by the fast path (lift_numbers, the
// default above) or by the JSON parser; tests and the fuzzer check that both agree.
Result<InferRequest> parse_infer_request(std::string_view body, const Limits& limits, bool lift_numbers);
Result<InferResponse> parse_infer_response(std::string_view body, const Limits& limits, bool lift_numbers);
}  // namespace detail
std::string serialize_infer_response(const InferResponse& response);

// Names accepted for models and tensors in URLs: [A-Za-z0-9._-], not starting with '.', at most
// max_name_length bytes. Anything else (path tricks, NUL, unicode) is rejected before lookup.
bool is_valid_model_name(std::string_view name, size_t max_length = 256);

}  // namespace petrel::serve::oip
