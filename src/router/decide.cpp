#include "router/decide.hpp"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace petrel::router {

namespace oip = serve::oip;

namespace {

const oip::Tensor* find_scores(const oip::InferResponse& edge, const std::string& name) {
  for (const auto& t : edge.outputs) {
    const bool is_scores = t.dtype == DataType::kFloat && !t.shape.empty() && t.shape.back() >= 2 &&
                           t.bytes.size() == size_t(t.numel()) * sizeof(float);
    if (name.empty() ? is_scores : t.name == name) return is_scores ? &t : nullptr;
  }
  return nullptr;
}

}  // namespace

EdgeVerdict edge_verdict(const oip::InferResponse& edge, const std::string& name, const telemetry::OodDetector* detector) {
  EdgeVerdict v;
  const std::string& want = !name.empty() ? name : detector ? detector->output_name() : name;
  const oip::Tensor* t = find_scores(edge, want);
  if (!t) return v;
  const int64_t classes = t->shape.back();
  const int64_t rows = t->numel() / classes;
  if (rows < 1) return v;
  const bool use_detector = detector && detector->output_name() == t->name && detector->classes() == classes;
  std::vector<float> row(static_cast<size_t>(classes));  // a copy: tensor bytes are a byte buffer
  v.has_scores = true;
  v.confidence = 1.0;
  for (int64_t r = 0; r < rows; ++r) {
    std::memcpy(row.data(), t->bytes.data() + size_t(r * classes) * sizeof(float), size_t(classes) * sizeof(float));
    double conf;
    if (use_detector) {
      const auto d = detector->check(row.data(), classes);
      conf = d.confidence;
      v.ood = v.ood || d.ood;
    } else {
      const auto kind = telemetry::looks_like_probabilities(row.data(), classes) ? telemetry::ScoreKind::kProbabilities
                                                                                 : telemetry::ScoreKind::kLogits;
      conf = telemetry::score_row(kind, row.data(), classes).confidence;
    }
    if (std::isnan(conf)) conf = 0;  // non-finite scores: as unsure as it gets
    v.confidence = std::min(v.confidence, conf);
  }
  return v;
}

bool match_outputs(const oip::InferResponse& edge, oip::InferResponse& cloud, std::string& why) {
  if (cloud.outputs.size() != edge.outputs.size()) {
    why = "cloud answered " + std::to_string(cloud.outputs.size()) + " outputs, the edge model has " + std::to_string(edge.outputs.size());
    return false;
  }
  std::vector<oip::Tensor> ordered;
  ordered.reserve(edge.outputs.size());
  for (const auto& e : edge.outputs) {
    auto it = std::find_if(cloud.outputs.begin(), cloud.outputs.end(), [&](const oip::Tensor& c) { return c.name == e.name; });
    if (it == cloud.outputs.end()) {
      why = "cloud answer lacks output '" + e.name + "'";
      return false;
    }
    if (it->dtype != e.dtype || it->shape != e.shape) {
      why = "cloud output '" + e.name + "' has another dtype or shape than the edge's";
      return false;
    }
    ordered.push_back(std::move(*it));
  }
  cloud.outputs = std::move(ordered);
  return true;
}

Digest request_digest(const std::string& model, const oip::InferRequest& request) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  auto u64 = [&](uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = uint8_t(v >> (8 * i));
    crypto_generichash_update(&st, b, 8);
  };
  auto bytes = [&](const void* p, size_t n) {
    u64(n);
    crypto_generichash_update(&st, static_cast<const unsigned char*>(p), n);
  };
  bytes("petrel-router-cache-v1", 22);
  bytes(model.data(), model.size());
  u64(request.requested_outputs.size());
  for (const auto& o : request.requested_outputs) bytes(o.data(), o.size());
  u64(request.inputs.size());
  for (const auto& t : request.inputs) {
    bytes(t.name.data(), t.name.size());
    u64(uint64_t(t.dtype));
    u64(t.shape.size());
    for (int64_t d : t.shape) u64(uint64_t(d));
    bytes(t.bytes.data(), t.bytes.size());
  }
  Digest d;
  crypto_generichash_final(&st, d.data(), d.size());
  return d;
}

size_t response_bytes(const oip::InferResponse& r) {
  size_t n = 0;
  for (const auto& t : r.outputs) n += t.bytes.size() + t.name.size() + t.shape.size() * sizeof(int64_t);
  return n;
}

}  // namespace petrel::router
