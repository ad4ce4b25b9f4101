// The hybrid router as the server's dispatcher, and its Prometheus families.
#include "router/serve_dispatcher.hpp"

#include <iostream>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace petrel::router {

Result<std::shared_ptr<RouterDispatcher>> RouterDispatcher::create(
    RouterConfig base, std::map<std::string, telemetry::CalibrationProfile> profiles) {
  // Validate the shared settings once, at start, under a placeholder name.
  RouterConfig probe = base;
  probe.model_name = "model";
  if (auto r = HybridRouter::create(probe); !r) return r.status();
  return std::shared_ptr<RouterDispatcher>(new RouterDispatcher(std::move(base), std::move(profiles)));
}

void RouterDispatcher::use_profile_of(Entry& e, const serve::ModelHost& host) {
  // Per request: compared in place, no string built.
  if (e.path == host.path() && e.version == host.version()) return;
  e.path = host.path();
  e.version = host.version();
  if (auto it = profiles_.find(host.name()); it != profiles_.end()) {
    e.router->set_profile(&it->second);
    return;
  }
  if (host.calibration_json().empty()) {
    e.router->set_profile(nullptr);
    return;
  }
  auto p = telemetry::parse_profile(host.calibration_json());
  if (!p) {
    std::cerr << "petrel serve: model '" << host.name() << "' version " << host.version()
              << ": calibration profile ignored (no OOD flags or drift): " << p.status().to_string() << "\n";
    e.router->set_profile(nullptr);
    return;
  }
  e.router->set_profile(&*p);
}

Result<HybridRouter*> RouterDispatcher::router_for(const serve::ModelHost& host) {
  std::shared_ptr<Entry> e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = routers_[host.name()];
    if (!slot) slot = std::make_shared<Entry>();
    e = slot;
  }
  std::lock_guard<std::mutex> lock(e->mu);
  if (!e->router) {
    RouterConfig c = base_;
    c.model_name = host.name();
    auto r = HybridRouter::create(c);
    if (!r) return r.status();
    e->router = std::move(r).value();
  }
  use_profile_of(*e, host);
  return e->router.get();
}

Result<serve::oip::InferResponse> RouterDispatcher::dispatch(const serve::ModelHost& host,
                                                             const serve::oip::InferRequest& request,
                                                             const serve::LocalRun& local) {
  auto r = router_for(host);
  if (!r) return r.status();
  return (*r)->infer(request, local);
}

std::map<std::string, RouterStats> RouterDispatcher::stats() const {
  std::map<std::string, std::shared_ptr<Entry>> entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    entries = routers_;
  }
  std::map<std::string, RouterStats> out;
  for (const auto& [name, e] : entries) {
    std::lock_guard<std::mutex> lock(e->mu);
    if (e->router) out[name] = e->router->stats();
  }
  return out;
}

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;

// Router counters live in the router (atomics on the request path); Prometheus counters only
// increase, so each scrape adds what the router counted since the previous one.
void sync(Counter& c, uint64_t value) {
  const double delta = double(value) - c.Value();
  if (delta > 0) c.Increment(delta);
}

struct Families {
  explicit Families(prometheus::Registry& r)
      : offloads(prometheus::BuildCounter()
                     .Name("petrel_router_offloads_total")
                     .Help("Requests the edge answered with low confidence or flagged OOD (the router wanted the cloud)")
                     .Register(r)),
        offline(prometheus::BuildCounter()
                    .Name("petrel_router_offline_total")
                    .Help("Requests that wanted the cloud while offline (answered edge_offline)")
                    .Register(r)),
        cloud_requests(prometheus::BuildCounter()
                           .Name("petrel_router_cloud_requests_total")
                           .Help("HTTP attempts sent to the cloud, retries included")
                           .Register(r)),
        cloud_success(prometheus::BuildCounter()
                          .Name("petrel_router_cloud_success_total")
                          .Help("Offloads answered by the cloud")
                          .Register(r)),
        cloud_failures(prometheus::BuildCounter()
                           .Name("petrel_router_cloud_failures_total")
                           .Help("Failed cloud attempts (network, timeout, HTTP error, invalid or mismatching answer)")
                           .Register(r)),
        cache_hits(prometheus::BuildCounter()
                       .Name("petrel_router_cache_hits_total")
                       .Help("Offloads answered from the cache of cloud answers")
                       .Register(r)),
        fallbacks(prometheus::BuildCounter()
                      .Name("petrel_router_fallbacks_total")
                      .Help("Offloads answered with the edge answer because the cloud leg failed, by reason")
                      .Register(r)),
        ood(prometheus::BuildCounter()
                .Name("petrel_ood_requests_total")
                .Help("Requests with at least one sample out of distribution (calibration profile threshold)")
                .Register(r)),
        circuit(prometheus::BuildGauge()
                    .Name("petrel_router_circuit_state")
                    .Help("Circuit breaker to the cloud: 0 closed, 1 open, 2 half-open")
                    .Register(r)),
        circuit_opened(prometheus::BuildCounter()
                           .Name("petrel_router_circuit_opened_total")
                           .Help("Times the circuit breaker to the cloud opened")
                           .Register(r)),
        psi(prometheus::BuildGauge()
                .Name("petrel_drift_psi")
                .Help("Population stability index of a monitored quantity over the sliding window, against the calibration profile")
                .Register(r)),
        drift(prometheus::BuildGauge()
                  .Name("petrel_drift_score")
                  .Help("The largest PSI of the model's monitored quantities (0.1: watch, 0.25: act)")
                  .Register(r)) {}
  Family<Counter>&offloads, &offline, &cloud_requests, &cloud_success, &cloud_failures, &cache_hits, &fallbacks, &ood;
  Family<Gauge>& circuit;
  Family<Counter>& circuit_opened;
  Family<Gauge>&psi, &drift;
};

}  // namespace

void RouterDispatcher::export_metrics(serve::Metrics& metrics) {
  auto fam = std::make_shared<Families>(metrics.registry());
  metrics.add_render_hook([this, fam] {
    for (const auto& [model, st] : stats()) {
      const prometheus::Labels m{{"model", model}};
      sync(fam->offloads.Add(m), st.offloads_total);
      sync(fam->offline.Add(m), st.offline_total);
      sync(fam->cloud_requests.Add(m), st.cloud_requests_total);
      sync(fam->cloud_success.Add(m), st.cloud_success_total);
      sync(fam->cloud_failures.Add(m), st.cloud_failures_total);
      sync(fam->cache_hits.Add(m), st.cache_hits_total);
      for (size_t r = 0; r < st.fallbacks_by_reason.size(); ++r)
        sync(fam->fallbacks.Add({{"model", model}, {"reason", fallback_reason_name(FallbackReason(r))}}),
             st.fallbacks_by_reason[r]);
      sync(fam->ood.Add(m), st.ood_total);
      fam->circuit.Add(m).Set(double(int(st.circuit)));
      sync(fam->circuit_opened.Add(m), st.circuit_opened_total);
      if (!st.has_profile) continue;
      fam->drift.Add(m).Set(st.drift.max_psi);
      for (const auto& e : st.drift.output_confidence)
        fam->psi.Add({{"model", model}, {"kind", "output_confidence"}, {"tensor", e.name}}).Set(e.psi);
      for (const auto& e : st.drift.input_mean)
        fam->psi.Add({{"model", model}, {"kind", "input_mean"}, {"tensor", e.name}}).Set(e.psi);
    }
  });
}

}  // namespace petrel::router
