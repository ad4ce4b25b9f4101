#include "router/hybrid_router.hpp"

#include <sodium.h>

#include <cmath>
#include <thread>
#include <vector>

#include "router/decide.hpp"

namespace petrel::router {

namespace oip = serve::oip;
using Clock = std::chrono::steady_clock;

const char* source_name(Source s) {
  switch (s) {
    case Source::kEdge: return "edge";
    case Source::kCloud: return "cloud";
    case Source::kCache: return "cache";
    case Source::kEdgeFallback: return "edge_fallback";
    case Source::kEdgeOffline: return "edge_offline";
  }
  return "unknown";
}

const char* fallback_reason_name(FallbackReason r) {
  switch (r) {
    case FallbackReason::kConnect: return "connect";
    case FallbackReason::kTimeout: return "timeout";
    case FallbackReason::kHttpStatus: return "http_status";
    case FallbackReason::kBadResponse: return "bad_response";
    case FallbackReason::kMismatch: return "mismatch";
    case FallbackReason::kCircuitOpen: return "circuit_open";
    case FallbackReason::kCount: break;
  }
  return "unknown";
}

struct HybridRouter::Monitor {
  telemetry::CalibrationProfile profile;
  std::unique_ptr<telemetry::OodDetector> ood;  // null when the profile has no score output
  std::unique_ptr<telemetry::DriftMonitor> drift;
};

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

FallbackReason reason_of(CloudError e) {
  switch (e) {
    case CloudError::kTimeout: return FallbackReason::kTimeout;
    case CloudError::kHttpStatus: return FallbackReason::kHttpStatus;
    case CloudError::kBadResponse: return FallbackReason::kBadResponse;
    default: return FallbackReason::kConnect;
  }
}

void annotate(oip::InferResponse& r, Source s, double edge_ms, double cloud_ms, const EdgeVerdict& v) {
  if (!r.parameters.is_object()) r.parameters = nlohmann::json::object();
  r.parameters["source"] = source_name(s);
  r.parameters["edge_ms"] = edge_ms;
  if (cloud_ms >= 0) r.parameters["cloud_ms"] = cloud_ms;
  r.parameters["confidence"] = v.has_scores ? nlohmann::json(v.confidence) : nlohmann::json(nullptr);
  r.parameters["ood"] = v.ood;
}

}  // namespace

HybridRouter::HybridRouter(const RouterConfig& c)
    : cfg_(c), breaker_(c.breaker), cache_(c.cache_entries, c.cache_bytes) {
  offline_.store(c.offline);
}

Result<std::unique_ptr<HybridRouter>> HybridRouter::create(const RouterConfig& config, const telemetry::CalibrationProfile* profile) {
  if (sodium_init() < 0) return internal_error("libsodium failed to initialise");
  if (config.model_name.empty() || !oip::is_valid_model_name(config.model_name))
    return invalid_argument("router: model_name must be a valid model name");
  if (!config.cloud_model.empty() && !oip::is_valid_model_name(config.cloud_model))
    return invalid_argument("router: cloud_model '" + config.cloud_model + "' is not a valid model name");
  if (config.retries < 0 || config.retries > 10) return invalid_argument("router: retries must be in 0..10");
  if (config.timeout.count() < 1 || config.deadline.count() < 1) return invalid_argument("router: timeout and deadline must be >= 1 ms");
  if (!(config.confidence_threshold >= 0 && config.confidence_threshold <= 1))
    return invalid_argument("router: the confidence threshold must be in [0, 1]");
  std::unique_ptr<HybridRouter> r(new HybridRouter(config));
  if (r->cfg_.cloud_model.empty()) r->cfg_.cloud_model = config.model_name;
  if (!config.cloud_url.empty()) {
    auto ep = parse_cloud_url(config.cloud_url);
    if (!ep) return ep.status();
    r->endpoint_ = std::move(ep).value();
    r->has_cloud_ = true;
  }
  r->set_profile(profile);
  return r;
}

void HybridRouter::set_profile(const telemetry::CalibrationProfile* profile) {
  std::shared_ptr<Monitor> m;
  if (profile) {
    m = std::make_shared<Monitor>();
    m->profile = *profile;
    auto d = telemetry::OodDetector::create(m->profile, cfg_.score_output);
    if (d) m->ood = std::make_unique<telemetry::OodDetector>(std::move(d).value());
    m->drift = std::make_unique<telemetry::DriftMonitor>(m->profile, telemetry::DriftOptions{cfg_.drift_window});
  }
  std::lock_guard<std::mutex> lock(monitor_mu_);
  monitor_ = std::move(m);
}

std::shared_ptr<HybridRouter::Monitor> HybridRouter::monitor() const {
  std::lock_guard<std::mutex> lock(monitor_mu_);
  return monitor_;
}

Result<oip::InferResponse> HybridRouter::infer(const oip::InferRequest& request, const LocalFn& local) {
  ++requests_;
  const auto t_edge = Clock::now();
  auto edge = local(request);
  const double edge_ms = ms_since(t_edge);
  if (!edge) {
    ++edge_errors_;
    return edge.status();
  }
  oip::InferResponse out = std::move(edge).value();

  // Decide on the edge answer; feed drift with summaries of this request.
  const std::shared_ptr<Monitor> mon = monitor();
  const EdgeVerdict v = edge_verdict(out, cfg_.score_output, mon && mon->ood ? mon->ood.get() : nullptr);
  if (v.ood) ++ood_;
  if (mon && mon->drift) {
    std::vector<telemetry::TensorRef> ins, outs;
    for (const auto& t : request.inputs) ins.push_back({t.name, t.dtype, t.shape.data(), t.shape.size(), t.bytes.data()});
    for (const auto& t : out.outputs) outs.push_back({t.name, t.dtype, t.shape.data(), t.shape.size(), t.bytes.data()});
    mon->drift->observe(ins.data(), ins.size(), outs.data(), outs.size());
  }
  const bool wants_cloud = v.has_scores && (v.confidence < cfg_.confidence_threshold || (cfg_.use_ood && v.ood));
  if (!wants_cloud) {
    annotate(out, Source::kEdge, edge_ms, -1, v);
    return out;
  }
  if (offline_.load() || !has_cloud_) {
    ++offline_n_;
    annotate(out, Source::kEdgeOffline, edge_ms, -1, v);
    return out;
  }
  ++offloads_;

  const auto t_cloud = Clock::now();
  const Digest key = request_digest(cfg_.cloud_model, request);
  if (auto hit = cache_.get(key)) {
    ++cache_hits_;
    oip::InferResponse r = *hit;
    r.id = request.id;
    annotate(r, Source::kCache, edge_ms, -1, v);
    return r;
  }

  // The cloud leg: attempts until success, a non-retryable error, the breaker, or the deadline.
  // An open breaker answers at once, before the request is serialized.
  const std::string body = breaker_.state(t_cloud) == CircuitState::kOpen ? std::string() : oip::serialize_infer_request(request);
  const auto deadline = t_cloud + cfg_.deadline;
  CloudCallOptions co;
  co.bearer_token = cfg_.bearer_token;
  co.ca_file = cfg_.cloud_ca_file;
  co.limits = cfg_.cloud_limits;
  FallbackReason reason = FallbackReason::kCircuitOpen;
  std::string detail;
  bool asked = false;
  for (int attempt = 0; attempt <= cfg_.retries; ++attempt) {
    const auto now = Clock::now();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (left.count() < 1) break;
    if (body.empty() || !breaker_.allow(now)) {
      if (!asked) reason = FallbackReason::kCircuitOpen;
      break;
    }
    asked = true;
    co.timeout = std::min(cfg_.timeout, left);
    co.deadline = deadline;
    ++cloud_requests_;
    CloudCall call = call_cloud(endpoint_, cfg_.cloud_model, body, co);
    std::string why;
    if (call.ok() && match_outputs(out, call.response, why)) {
      breaker_.on_success();
      ++cloud_success_;
      oip::InferResponse r = std::move(call.response);
      r.id = request.id;
      // Cache without the per-request annotations.
      r.parameters = r.parameters.is_object() ? r.parameters : nlohmann::json::object();
      auto cached = std::make_shared<oip::InferResponse>(r);
      cache_.put(key, std::move(cached), response_bytes(r));
      annotate(r, Source::kCloud, edge_ms, ms_since(t_cloud), v);
      return r;
    }
    breaker_.on_failure();
    ++cloud_failures_;
    if (call.ok()) {
      reason = FallbackReason::kMismatch;
      detail = why;
      break;  // a server answering with other outputs will do so again
    }
    reason = reason_of(call.error);
    detail = call.detail;
    if (!cloud_error_retryable(call.error, call.http_status) || attempt == cfg_.retries) break;
    const auto pause = backoff_delay(cfg_.backoff, attempt, jitter_uniform());
    const auto until = std::min(Clock::now() + pause, deadline);
    std::this_thread::sleep_until(until);
  }
  ++fallbacks_;
  ++by_reason_[size_t(reason)];
  annotate(out, Source::kEdgeFallback, edge_ms, asked ? ms_since(t_cloud) : -1, v);
  out.parameters["fallback_reason"] = fallback_reason_name(reason);
  if (!detail.empty()) out.parameters["fallback_detail"] = detail.substr(0, 160);
  return out;
}

double HybridRouter::drift_score() const {
  auto m = monitor();
  return m && m->drift ? m->drift->drift_score() : 0.0;
}

RouterStats HybridRouter::stats() const {
  RouterStats s;
  s.requests_total = requests_.load();
  s.edge_errors_total = edge_errors_.load();
  s.offloads_total = offloads_.load();
  s.offline_total = offline_n_.load();
  s.cloud_requests_total = cloud_requests_.load();
  s.cloud_success_total = cloud_success_.load();
  s.cloud_failures_total = cloud_failures_.load();
  s.cache_hits_total = cache_hits_.load();
  s.fallbacks_total = fallbacks_.load();
  for (size_t i = 0; i < by_reason_.size(); ++i) s.fallbacks_by_reason[i] = by_reason_[i].load();
  s.ood_total = ood_.load();
  s.circuit = breaker_.state();
  s.circuit_opened_total = breaker_.times_opened();
  if (auto m = monitor(); m && m->drift) {
    s.has_profile = true;
    s.drift = m->drift->snapshot();
  }
  return s;
}

}  // namespace petrel::router
