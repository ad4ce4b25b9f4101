// URL paths of the OIP v2 REST API, parsed by hand (no std::regex: libstdc++'s matcher recurses
// per character, and paths come from the network).
//
//   /v2                                       server metadata
//   /v2/health/live, /v2/health/ready         health
//   /v2/models/{name}[/versions/{v}]          model metadata
//   /v2/models/{name}[/versions/{v}]/ready    model readiness
//   /v2/models/{name}[/versions/{v}]/infer    inference (POST)
//   /metrics                                  Prometheus
#pragma once

#include <string>
#include <string_view>

namespace petrel::serve {

struct Route {
  enum Kind { kNone, kServer, kLive, kReady, kModel, kModelReady, kInfer, kMetrics } kind = kNone;
  std::string model, version;  // raw (already URL-decoded) segments; validate before use
  // The one method this route answers (kInfer: POST, others: GET); anything else is a 405.
  const char* method() const { return kind == kInfer ? "POST" : "GET"; }
};

// kNone for paths outside the API (404).
Route parse_route(std::string_view path);

}  // namespace petrel::serve
