// `petrel serve --cloud URL`: the hybrid router plugged into the server as its Dispatcher.
//
// One HybridRouter per served model name, created at the model's first request and kept across
// hot swaps (counters, breaker state and cache carry over: the cache key holds the model name,
// and a new version's edge answers are still checked against the cloud's shape). When the
// version serving a name changes, its router takes that version's calibration profile — the
// one given for the name on the command line if any, else the one in the version's bundle —
// and drift restarts from an empty window. A profile that does not parse is logged once and the
// version runs without OOD flags and drift.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "router/hybrid_router.hpp"
#include "serve/dispatcher.hpp"
#include "serve/metrics.hpp"
#include "telemetry/profile.hpp"

namespace petrel::router {

class RouterDispatcher : public serve::Dispatcher {
 public:
  // `base`: the router settings for every model; model_name is set per model, and an empty
  // cloud_model means "the same name on the cloud". `profiles`: model name -> profile that
  // overrides the bundle's. The settings are validated here (an invalid URL fails at start).
  static Result<std::shared_ptr<RouterDispatcher>> create(RouterConfig base,
                                                          std::map<std::string, telemetry::CalibrationProfile> profiles);

  Result<serve::oip::InferResponse> dispatch(const serve::ModelHost& host, const serve::oip::InferRequest& request,
                                             const serve::LocalRun& local) override;

  // Registers the router's and the drift monitor's families on `metrics` (names in
  // docs/serving-telemetry.md) and keeps them in step with stats() at every scrape. The
  // dispatcher must outlive every later metrics.render().
  void export_metrics(serve::Metrics& metrics);

  // Every model's stats (for tests and logs).
  std::map<std::string, RouterStats> stats() const;

 private:
  struct Entry {
    std::mutex mu;                  // guards path/version and profile changes
    std::unique_ptr<HybridRouter> router;
    std::string path, version;      // the host whose profile the router has
  };
  RouterDispatcher(RouterConfig base, std::map<std::string, telemetry::CalibrationProfile> profiles)
      : base_(std::move(base)), profiles_(std::move(profiles)) {}
  Result<HybridRouter*> router_for(const serve::ModelHost& host);
  void use_profile_of(Entry& e, const serve::ModelHost& host);

  RouterConfig base_;
  std::map<std::string, telemetry::CalibrationProfile> profiles_;
  mutable std::mutex mu_;  // guards routers_ (the map, not the routers)
  std::map<std::string, std::shared_ptr<Entry>> routers_;
};

}  // namespace petrel::router
