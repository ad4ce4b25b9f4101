// The hybrid edge-cloud router: every request runs on the edge model first; when the top-1
// confidence is below a threshold, or the input is out of distribution (energy/confidence
// beyond the calibration profile's percentile), the router asks a cloud server speaking the
// Open Inference Protocol v2 for a better answer. The edge answer is always the fallback:
// infer() fails only when the edge model itself fails.
//
//   RouterConfig c;
//   c.model_name = "fashion"; c.cloud_url = "https://cloud.example:8443"; c.confidence_threshold = 0.6;
//   auto r = HybridRouter::create(c, &profile);            // profile: optional, for OOD + drift
//   auto resp = (*r)->infer(request, [&](const oip::InferRequest& q) { return run_edge(q); });
//   resp->parameters["source"]  // "edge", "cloud", "cache", "edge_fallback" or "edge_offline"
//
// Thread-safe: one router per served model, shared by all worker threads.
//
// Privacy: nothing leaves the device except the request of an offload decided here (the
// request's inputs, sent to the configured cloud URL). Drift and OOD keep only per-sample bin
// indices and counters; stats() holds no data.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "router/backoff.hpp"
#include "router/circuit_breaker.hpp"
#include "router/cloud_client.hpp"
#include "router/lru_cache.hpp"
#include "serve/oip.hpp"
#include "telemetry/drift.hpp"

namespace petrel::router {

struct RouterConfig {
  std::string model_name;          // the edge model (used for the cache key and as the default cloud model)
  std::string cloud_url;           // http[s]://host:port[/prefix]; "" = no cloud (edge_offline when offloading)
  std::string cloud_model;         // the model's name on the cloud; "" = model_name
  std::string bearer_token;        // sent to the cloud when not empty (use https for it outside a trusted network)
  std::string cloud_ca_file;       // https: trusted CAs (PEM); "" = the system's store
  double confidence_threshold = 0.5;  // offload when the top-1 confidence is below this (0: never)
  bool use_ood = true;             // also offload OOD samples (needs a calibration profile)
  std::string score_output;        // output holding class scores; "" = the profile's, else the first float32 one
  std::chrono::milliseconds timeout{1000};   // one cloud attempt: connect, and each read/write
  std::chrono::milliseconds deadline{2500};  // the whole cloud leg, retries and backoff included
  int retries = 2;                 // attempts after the first (retryable errors only: network, 5xx, 429)
  BackoffOptions backoff;
  BreakerOptions breaker;
  bool offline = false;            // never call the cloud (can be changed later: set_offline)
  size_t cache_entries = 1024;     // LRU cache of cloud answers; 0 disables it
  size_t cache_bytes = 64u << 20;  // bound on the cached answers' tensor bytes
  serve::oip::Limits cloud_limits; // bounds on what the cloud may answer
  size_t drift_window = 1000;      // samples in the drift monitor's sliding window
};

enum class Source { kEdge, kCloud, kCache, kEdgeFallback, kEdgeOffline };
const char* source_name(Source s);  // "edge", "cloud", "cache", "edge_fallback", "edge_offline"

// Why a wanted offload ended with the edge answer.
enum class FallbackReason { kConnect, kTimeout, kHttpStatus, kBadResponse, kMismatch, kCircuitOpen, kCount };
const char* fallback_reason_name(FallbackReason r);  // "connect", ..., "mismatch", "circuit_open"

// A plain snapshot for /metrics (the lead maps it to Prometheus names).
struct RouterStats {
  uint64_t requests_total = 0;        // infer() calls
  uint64_t edge_errors_total = 0;     // infer() calls whose edge run failed (returned as errors)
  uint64_t offloads_total = 0;        // requests that wanted a better answer (low confidence or OOD), offline ones excluded
  uint64_t offline_total = 0;         // requests that wanted one while offline (answered edge_offline)
  uint64_t cloud_requests_total = 0;  // HTTP attempts sent to the cloud
  uint64_t cloud_success_total = 0;   // offloads answered by the cloud
  uint64_t cloud_failures_total = 0;  // failed HTTP attempts (incl. invalid or mismatching answers)
  uint64_t cache_hits_total = 0;
  uint64_t fallbacks_total = 0;       // offloads answered edge_fallback
  std::array<uint64_t, size_t(FallbackReason::kCount)> fallbacks_by_reason{};  // index: FallbackReason
  uint64_t ood_total = 0;             // requests with at least one OOD sample
  CircuitState circuit = CircuitState::kClosed;
  uint64_t circuit_opened_total = 0;
  bool has_profile = false;
  telemetry::DriftSnapshot drift;     // empty without a profile
};

using LocalFn = std::function<Result<serve::oip::InferResponse>(const serve::oip::InferRequest&)>;

class HybridRouter {
 public:
  // `profile` (optional, copied) enables OOD flags and drift monitoring.
  static Result<std::unique_ptr<HybridRouter>> create(const RouterConfig& config,
                                                      const telemetry::CalibrationProfile* profile = nullptr);

  // Runs `local` (the edge model), then decides. The answer's `parameters` gets: source,
  // edge_ms, cloud_ms (when the cloud was asked), confidence (null when the model has no score
  // output), ood, and fallback_reason on edge_fallback. Errors only from `local`.
  Result<serve::oip::InferResponse> infer(const serve::oip::InferRequest& request, const LocalFn& local);

  void set_offline(bool offline) { offline_.store(offline); }
  bool offline() const { return offline_.load(); }
  // Replaces the calibration profile (e.g. after a model update); resets the drift window.
  void set_profile(const telemetry::CalibrationProfile* profile);

  RouterStats stats() const;
  // The drift score alone (the largest PSI in the window; 0 without a profile): cheaper than stats().
  double drift_score() const;
  const RouterConfig& config() const { return cfg_; }

 private:
  struct Monitor;  // profile-derived: OOD detector + drift monitor
  explicit HybridRouter(const RouterConfig& c);
  std::shared_ptr<Monitor> monitor() const;

  RouterConfig cfg_;
  CloudEndpoint endpoint_;
  bool has_cloud_ = false;
  std::atomic<bool> offline_{false};
  CircuitBreaker breaker_;
  LruCache<serve::oip::InferResponse> cache_;
  mutable std::mutex monitor_mu_;
  std::shared_ptr<Monitor> monitor_;

  std::atomic<uint64_t> requests_{0}, edge_errors_{0}, offloads_{0}, offline_n_{0}, cloud_requests_{0}, cloud_success_{0},
      cloud_failures_{0}, cache_hits_{0}, fallbacks_{0}, ood_{0};
  std::array<std::atomic<uint64_t>, size_t(FallbackReason::kCount)> by_reason_{};
};

}  // namespace petrel::router
