// Metrics on a prometheus-cpp registry.
#include "serve/metrics.hpp"

#include <map>
#include <mutex>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace petrel::serve {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

struct Metrics::Impl {
  prometheus::Registry registry;
  Family<Histogram>& duration = prometheus::BuildHistogram()
                                    .Name("petrel_inference_duration_seconds")
                                    .Help("Time to answer one inference without queueing: the edge run, plus the cloud leg when the router offloaded it")
                                    .Register(registry);
  Family<Counter>& requests = prometheus::BuildCounter()
                                  .Name("petrel_requests_total")
                                  .Help("Infer requests answered, by model and HTTP status code")
                                  .Register(registry);
  Family<Counter>& errors = prometheus::BuildCounter()
                                .Name("petrel_request_errors_total")
                                .Help("Infer requests answered with an HTTP status >= 400")
                                .Register(registry);
  Family<Gauge>& queue = prometheus::BuildGauge()
                             .Name("petrel_queue_depth")
                             .Help("Infer requests admitted and waiting for an execution context")
                             .Register(registry);
  Family<Gauge>& arena = prometheus::BuildGauge()
                             .Name("petrel_arena_bytes")
                             .Help("Activation arena bytes of all execution contexts of a model version")
                             .Register(registry);
  Family<Gauge>& info = prometheus::BuildGauge()
                            .Name("petrel_model_info")
                            .Help("1 for each model version being served")
                            .Register(registry);
  Family<Counter>& swaps = prometheus::BuildCounter()
                               .Name("petrel_model_swaps_total")
                               .Help("Hot swaps to a new model version")
                               .Register(registry);
  Family<Counter>& load_failures = prometheus::BuildCounter()
                                       .Name("petrel_model_load_failures_total")
                                       .Help("New model versions that failed to load (the old one kept serving)")
                                       .Register(registry);
  Gauge& queue_depth = queue.Add({});

  std::mutex mu;  // guards the per-model series bookkeeping below
  struct Serving {
    std::string version;
    Gauge* info = nullptr;
    Gauge* arena = nullptr;
  };
  std::map<std::string, Serving> serving;
  std::vector<std::function<void()>> render_hooks;
};

namespace {
// Latency buckets from 100 us to 10 s (edge models run in the sub-millisecond to second range).
const Histogram::BucketBoundaries kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
}  // namespace

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::observe_inference(const std::string& model, const std::string& version, const std::string& source,
                                double seconds) {
  impl_->duration.Add({{"model", model}, {"version", version}, {"source", source}}, kBuckets).Observe(seconds);
}

void Metrics::count_request(const std::string& model, int http_code) {
  const std::string code = std::to_string(http_code);
  impl_->requests.Add({{"model", model}, {"code", code}}).Increment();
  if (http_code >= 400) impl_->errors.Add({{"model", model}, {"code", code}}).Increment();
}

void Metrics::add_queue_depth(double delta) { impl_->queue_depth.Increment(delta); }

void Metrics::set_arena_bytes(const std::string& model, const std::string& version, double bytes) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->serving.find(model);
  if (it == impl_->serving.end() || it->second.version != version || !it->second.arena) return;  // swapped away
  it->second.arena->Set(bytes);
}

void Metrics::set_serving(const std::string& model, const std::string& version, size_t contexts) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto& s = impl_->serving[model];
  if (s.info) {
    if (s.version == version) return;
    impl_->info.Remove(s.info);
    impl_->arena.Remove(s.arena);
    impl_->swaps.Add({{"model", model}}).Increment();
  }
  s.version = version;
  s.info = &impl_->info.Add({{"model", model}, {"version", version}, {"contexts", std::to_string(contexts)}});
  s.info->Set(1);
  s.arena = &impl_->arena.Add({{"model", model}, {"version", version}});
}

void Metrics::forget_model(const std::string& model) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->serving.find(model);
  if (it == impl_->serving.end()) return;
  if (it->second.info) impl_->info.Remove(it->second.info);
  if (it->second.arena) impl_->arena.Remove(it->second.arena);
  impl_->serving.erase(it);
}

void Metrics::count_load_failure(const std::string& model) { impl_->load_failures.Add({{"model", model}}).Increment(); }

void Metrics::add_render_hook(std::function<void()> hook) { impl_->render_hooks.push_back(std::move(hook)); }

std::string Metrics::render() const {
  for (const auto& hook : impl_->render_hooks) hook();
  return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

prometheus::Registry& Metrics::registry() { return impl_->registry; }

}  // namespace petrel::serve
