// The server's Prometheus metrics: one registry, rendered as text on the server's own
// GET /metrics (prometheus-cpp core registry + TextSerializer; its HTTP exposer is not used).
//
// Conventions: base units (seconds, bytes), counters end in _total, label values come only from
// known model names/versions (unknown names are counted as model="_unknown", so a client cannot
// grow the series set). All methods are thread-safe.
//
// Adding a metric (router offloads, cache hits, circuit state, OOD count, drift score): add a
// family member built in the constructor and a method that updates it; or build a family
// directly on registry() from the component that owns the value.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace prometheus {
class Registry;
}

namespace petrel::serve {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // petrel_inference_duration_seconds{model,version,source}: one model run (not queueing).
  void observe_inference(const std::string& model, const std::string& version, const std::string& source,
                         double seconds);
  // petrel_requests_total{model,code} and, for codes >= 400, petrel_request_errors_total{model,code}.
  void count_request(const std::string& model, int http_code);
  // petrel_queue_depth: infer requests admitted and waiting for an execution context.
  void add_queue_depth(double delta);
  // petrel_arena_bytes{model,version}: activation arenas of all contexts of that version.
  void set_arena_bytes(const std::string& model, const std::string& version, double bytes);
  // petrel_model_info{model,version,contexts} = 1 for the version now serving (the previous
  // version's series is removed) and petrel_model_swaps_total{model} counts hot swaps.
  void set_serving(const std::string& model, const std::string& version, size_t contexts);
  void forget_model(const std::string& model);
  // petrel_model_load_failures_total{model}: a new version that failed to load (old one kept).
  void count_load_failure(const std::string& model);

  // Prometheus text exposition format 0.0.4.
  std::string render() const;
  // For components that register their own families (router, drift).
  prometheus::Registry& registry();
  // Called at the start of every render(): components that keep their own counters (the
  // router's stats) copy them into their families here, so the request path never touches
  // Prometheus for them. Register before serving starts.
  void add_render_hook(std::function<void()> hook);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace petrel::serve
