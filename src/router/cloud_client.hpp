// One call to a cloud inference server speaking the Open Inference Protocol v2 (another
// `petrel serve`, Triton, KServe): POST {prefix}/v2/models/{model}/infer with a JSON body,
// bounded by a timeout, answer parsed and validated by the src/serve codec. No retries here
// (the router decides); every failure is classified so the router can count and explain it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/status.hpp"
#include "serve/oip.hpp"

namespace petrel::router {

// http[s]://host[:port][/path/prefix]. https verifies the server's certificate and host name
// (against CloudCallOptions::ca_file, or the system's CA store).
struct CloudEndpoint {
  bool tls = false;
  std::string host;    // IPv6 without brackets
  int port = 80;       // 443 for https
  std::string prefix;  // "" or "/something" without a trailing slash
};
Result<CloudEndpoint> parse_cloud_url(std::string_view url);

enum class CloudError {
  kNone = 0,
  kConnect,      // refused, unreachable, reset before an answer
  kTimeout,      // connect or read took longer than the timeout
  kHttpStatus,   // answered with a status other than 200
  kBadResponse,  // 200 with a body that is not a valid OIP v2 infer response
};
const char* cloud_error_name(CloudError e);  // "connect", "timeout", "http_status", "bad_response"
// Worth another attempt? Network trouble and 5xx/429 are; 4xx and bad bodies are not.
bool cloud_error_retryable(CloudError e, int http_status);

struct CloudCall {
  CloudError error = CloudError::kNone;
  int http_status = 0;
  std::string detail;  // short, for logs and fallback reasons; never contains request data
  serve::oip::InferResponse response;
  bool ok() const { return error == CloudError::kNone; }
};

struct CloudCallOptions {
  std::chrono::milliseconds timeout{1000};  // connect, and each read/write
  // The answer's body must be complete by then (a server dripping bytes, each read within
  // `timeout`, is cut off here). Default: no limit beyond `timeout` per read.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::string bearer_token;                 // "Authorization: Bearer ..." when not empty
  std::string ca_file;                      // https: PEM file of trusted CAs ("" = system store)
  serve::oip::Limits limits;                // bounds on the answer
};

// `body` is a serialized infer request (serialize it once for all attempts).
CloudCall call_cloud(const CloudEndpoint& ep, const std::string& model, const std::string& body, const CloudCallOptions& o);

}  // namespace petrel::router
