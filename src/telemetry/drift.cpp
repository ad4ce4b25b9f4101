#include "telemetry/drift.hpp"

#include <algorithm>
#include <cmath>

namespace petrel::telemetry {

namespace {
constexpr size_t kMaxWindow = size_t(1) << 24;
}

DriftMonitor::DriftMonitor(const CalibrationProfile& p, const DriftOptions& o) {
  const size_t window = std::clamp<size_t>(o.window, 1, kMaxWindow);
  auto make = [&](const std::string& name, const Histogram& h) {
    Track t;
    t.name = name;
    t.edges = h.edges;
    t.expected = h.fractions;
    t.counts.assign(h.fractions.size(), 0);
    t.ring.assign(window, 0);
    return t;
  };
  // Bin indices are stored as uint16_t; parse_profile allows 1000 bins, a hand-made profile with
  // more (or with none) is not tracked rather than miscounted.
  auto usable = [](const Histogram& h) { return h.bins() >= 1 && h.bins() <= 65535 && h.edges.size() == h.bins() + 1; };
  for (const auto& out : p.outputs) {
    if (!usable(out.confidence)) continue;
    Track t = make(out.name, out.confidence);
    t.kind = out.kind;
    t.classes = out.classes;
    outputs_.push_back(std::move(t));
  }
  for (const auto& in : p.inputs)
    if (usable(in.sample_mean)) inputs_.push_back(make(in.name, in.sample_mean));
}

void DriftMonitor::push(Track& t, double v) {
  // Profiles hold at most 1000 bins, so a bin index fits in uint16_t.
  const auto bin = uint16_t(bin_index(t.edges.data(), t.edges.size(), v));
  if (t.filled == t.ring.size()) {
    --t.counts[t.ring[t.head]];
  } else {
    ++t.filled;
  }
  t.ring[t.head] = bin;
  ++t.counts[bin];
  t.head = (t.head + 1) % t.ring.size();
  ++t.seen;
}

void DriftMonitor::observe(const TensorRef* inputs, size_t num_inputs, const TensorRef* outputs, size_t num_outputs) {
  for (size_t k = 0; k < num_outputs; ++k) {
    const TensorRef& o = outputs[k];
    for (Track& t : outputs_) {
      if (t.name != o.name) continue;
      if (o.dtype != DataType::kFloat || o.rank < 1 || o.dims[o.rank - 1] != t.classes || !o.data) break;
      const int64_t rows = o.numel() / t.classes;
      for (int64_t r = 0; r < rows; ++r) {
        const double c = score_row(t.kind, static_cast<const float*>(o.data) + r * t.classes, t.classes).confidence;
        if (!std::isfinite(c)) continue;
        std::lock_guard<std::mutex> lock(mu_);
        push(t, c);
      }
      break;
    }
  }
  for (size_t k = 0; k < num_inputs; ++k) {
    const TensorRef& in = inputs[k];
    for (Track& t : inputs_) {
      if (t.name != in.name) continue;
      if (!is_numeric(in.dtype) || !in.data) break;
      const int64_t n = in.numel(), rows = input_rows(in);
      if (rows < 1 || n < rows) break;
      const int64_t per = n / rows;
      for (int64_t r = 0; r < rows; ++r) {
        const double m = mean_of(in.dtype, in.data, r * per, (r + 1) * per);
        if (!std::isfinite(m)) continue;
        std::lock_guard<std::mutex> lock(mu_);
        push(t, m);
      }
      break;
    }
  }
}

double DriftMonitor::psi_of(const Track& t) const { return psi(t.expected.data(), t.counts.data(), t.counts.size(), t.filled); }

DriftSnapshot DriftMonitor::snapshot() const {
  DriftSnapshot s;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Track& t : outputs_) {
    s.output_confidence.push_back({t.name, psi_of(t), t.filled});
    s.max_psi = std::max(s.max_psi, s.output_confidence.back().psi);
  }
  for (const Track& t : inputs_) {
    s.input_mean.push_back({t.name, psi_of(t), t.filled});
    s.max_psi = std::max(s.max_psi, s.input_mean.back().psi);
  }
  s.observed = !outputs_.empty() ? outputs_[0].seen : !inputs_.empty() ? inputs_[0].seen : 0;
  return s;
}

double DriftMonitor::drift_score() const {
  std::lock_guard<std::mutex> lock(mu_);
  double m = 0;
  for (const Track& t : outputs_) m = std::max(m, psi_of(t));
  for (const Track& t : inputs_) m = std::max(m, psi_of(t));
  return m;
}

Result<OodDetector> OodDetector::create(const CalibrationProfile& p, std::string_view output) {
  const OutputProfile* o = output.empty() ? (p.outputs.empty() ? nullptr : &p.outputs[0]) : p.find_output(output);
  if (!o) return not_found(output.empty() ? std::string("the calibration profile has no score output")
                                          : "the calibration profile has no output '" + std::string(output) + "'");
  OodDetector d;
  d.name_ = o->name;
  d.kind_ = o->kind;
  d.classes_ = o->classes;
  d.energy_threshold_ = o->energy_threshold;
  d.confidence_threshold_ = o->confidence_threshold;
  return d;
}

OodDetector::Verdict OodDetector::check(const float* row, int64_t classes) const {
  const RowScores s = score_row(kind_, row, classes);
  Verdict v{false, s.top, s.confidence, s.energy};
  if (!std::isfinite(s.confidence) || !std::isfinite(s.energy)) {
    v.ood = true;
  } else if (kind_ == ScoreKind::kLogits) {
    v.ood = s.energy > energy_threshold_;
  } else {
    v.ood = s.confidence < confidence_threshold_;
  }
  return v;
}

}  // namespace petrel::telemetry
