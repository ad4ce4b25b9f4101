#include "telemetry/profile.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

namespace petrel::telemetry {

using nlohmann::json;

namespace {

constexpr size_t kMaxBins = 1000;
constexpr size_t kMaxEntries = 1024;           // outputs or inputs
constexpr size_t kMaxProfileBytes = 16 << 20;

json hist_json(const Histogram& h) { return json{{"edges", h.edges}, {"fractions", h.fractions}}; }

Status parse_hist(const json& j, const std::string& where, Histogram& h) {
  if (!j.is_object() || !j.contains("edges") || !j.contains("fractions") || !j["edges"].is_array() || !j["fractions"].is_array())
    return invalid_argument(where + ": expected {\"edges\": [...], \"fractions\": [...]}");
  const json& e = j["edges"];
  const json& f = j["fractions"];
  if (f.size() < 1 || f.size() > kMaxBins || e.size() != f.size() + 1)
    return invalid_argument(where + ": needs 1.." + std::to_string(kMaxBins) + " fractions and one more edge than fractions");
  h.edges.clear();
  h.fractions.clear();
  for (const json& v : e) {
    if (!v.is_number()) return invalid_argument(where + ".edges: not a number");
    const double d = v.get<double>();
    if (!std::isfinite(d) || (!h.edges.empty() && d < h.edges.back())) return invalid_argument(where + ".edges: must be finite and ascending");
    h.edges.push_back(d);
  }
  double sum = 0;
  for (const json& v : f) {
    if (!v.is_number()) return invalid_argument(where + ".fractions: not a number");
    const double d = v.get<double>();
    if (!(d >= 0 && d <= 1)) return invalid_argument(where + ".fractions: each must be in [0, 1]");
    h.fractions.push_back(d);
    sum += d;
  }
  if (sum != 0 && std::fabs(sum - 1) > 1e-3) return invalid_argument(where + ".fractions: must sum to 1 (or be all 0)");
  return Status::ok();
}

Result<double> number(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_number()) return invalid_argument(where + ": missing number '" + key + "'");
  const double d = j[key].get<double>();
  if (!std::isfinite(d)) return invalid_argument(where + "." + key + ": not finite");
  return d;
}

Result<std::string> name_of(const json& j, const std::string& where) {
  if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty() || j["name"].get<std::string>().size() > 1024)
    return invalid_argument(where + ": missing or bad 'name'");
  return j["name"].get<std::string>();
}

Result<CalibrationProfile> parse_json(const json& root) {
  if (!root.is_object()) return invalid_argument("calibration profile: not a JSON object");
  if (!root.contains("format") || root["format"] != kProfileFormat)
    return invalid_argument(std::string("calibration profile: 'format' must be \"") + kProfileFormat + "\"");
  if (!root.contains("version") || !root["version"].is_number_integer() || root["version"].get<int64_t>() != kProfileVersion)
    return unsupported("calibration profile: unsupported 'version' (this build reads " + std::to_string(kProfileVersion) + ")");
  CalibrationProfile p;
  PETREL_ASSIGN_OR_RETURN(double samples, number(root, "samples", "calibration profile"));
  p.samples = int64_t(samples);
  const json empty = json::array();
  const json& outs = root.contains("outputs") ? root["outputs"] : empty;
  const json& ins = root.contains("inputs") ? root["inputs"] : empty;
  if (!outs.is_array() || !ins.is_array() || outs.size() > kMaxEntries || ins.size() > kMaxEntries)
    return invalid_argument("calibration profile: 'outputs' and 'inputs' must be arrays of at most 1024 entries");
  for (size_t i = 0; i < outs.size(); ++i) {
    const std::string w = "calibration profile: outputs[" + std::to_string(i) + "]";
    const json& o = outs[i];
    if (!o.is_object()) return invalid_argument(w + ": not an object");
    OutputProfile op;
    PETREL_ASSIGN_OR_RETURN(op.name, name_of(o, w));
    if (!o.contains("scores") || (o["scores"] != "logits" && o["scores"] != "probabilities"))
      return invalid_argument(w + ": 'scores' must be \"logits\" or \"probabilities\"");
    op.kind = o["scores"] == "logits" ? ScoreKind::kLogits : ScoreKind::kProbabilities;
    PETREL_ASSIGN_OR_RETURN(double classes, number(o, "classes", w));
    if (classes < 2 || classes > 1e9) return invalid_argument(w + ".classes: must be >= 2");
    op.classes = int64_t(classes);
    if (!o.contains("confidence")) return invalid_argument(w + ": missing 'confidence'");
    PETREL_RETURN_IF_ERROR(parse_hist(o["confidence"], w + ".confidence", op.confidence));
    if (op.kind == ScoreKind::kLogits) {
      if (!o.contains("energy")) return invalid_argument(w + ": logits outputs need 'energy'");
      PETREL_RETURN_IF_ERROR(parse_hist(o["energy"], w + ".energy", op.energy));
    }
    if (!o.contains("ood") || !o["ood"].is_object()) return invalid_argument(w + ": missing object 'ood'");
    const json& ood = o["ood"];
    PETREL_ASSIGN_OR_RETURN(op.ood_percentile, number(ood, "percentile", w + ".ood"));
    PETREL_ASSIGN_OR_RETURN(op.confidence_threshold, number(ood, "confidence_threshold", w + ".ood"));
    if (op.kind == ScoreKind::kLogits) {
      PETREL_ASSIGN_OR_RETURN(op.energy_threshold, number(ood, "energy_threshold", w + ".ood"));
    }
    p.outputs.push_back(std::move(op));
  }
  for (size_t i = 0; i < ins.size(); ++i) {
    const std::string w = "calibration profile: inputs[" + std::to_string(i) + "]";
    const json& o = ins[i];
    if (!o.is_object()) return invalid_argument(w + ": not an object");
    InputProfile ip;
    PETREL_ASSIGN_OR_RETURN(ip.name, name_of(o, w));
    PETREL_ASSIGN_OR_RETURN(ip.mean, number(o, "mean", w));
    PETREL_ASSIGN_OR_RETURN(ip.std, number(o, "std", w));
    if (!o.contains("sample_mean")) return invalid_argument(w + ": missing 'sample_mean'");
    PETREL_RETURN_IF_ERROR(parse_hist(o["sample_mean"], w + ".sample_mean", ip.sample_mean));
    p.inputs.push_back(std::move(ip));
  }
  return p;
}

}  // namespace

const OutputProfile* CalibrationProfile::find_output(std::string_view name) const {
  for (const auto& o : outputs)
    if (o.name == name) return &o;
  return nullptr;
}

std::string profile_to_json(const CalibrationProfile& p) {
  json outs = json::array(), ins = json::array();
  for (const auto& o : p.outputs) {
    json j{{"name", o.name}, {"scores", score_kind_name(o.kind)}, {"classes", o.classes}, {"confidence", hist_json(o.confidence)}};
    json ood{{"percentile", o.ood_percentile}, {"confidence_threshold", o.confidence_threshold}};
    if (o.kind == ScoreKind::kLogits) {
      j["energy"] = hist_json(o.energy);
      ood["energy_threshold"] = o.energy_threshold;
    }
    j["ood"] = ood;
    outs.push_back(j);
  }
  for (const auto& i : p.inputs)
    ins.push_back(json{{"name", i.name}, {"mean", i.mean}, {"std", i.std}, {"sample_mean", hist_json(i.sample_mean)}});
  json root{{"format", kProfileFormat}, {"version", kProfileVersion}, {"samples", p.samples}, {"outputs", outs}, {"inputs", ins}};
  return root.dump(1);
}

Result<CalibrationProfile> parse_profile(std::string_view text) {
  if (text.size() > kMaxProfileBytes) return invalid_argument("calibration profile: larger than 16 MiB");
  json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return invalid_argument("calibration profile: not valid JSON");
  try {
    return parse_json(root);
  } catch (const json::exception& e) {  // a type mismatch we did not check for: still an error value
    return invalid_argument(std::string("calibration profile: ") + e.what());
  }
}

Result<CalibrationProfile> read_profile_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return not_found("cannot open calibration profile " + path);
  std::string text;
  char buf[65536];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    text.append(buf, size_t(f.gcount()));
    if (text.size() > kMaxProfileBytes) return invalid_argument(path + ": calibration profile larger than 16 MiB");
  }
  auto r = parse_profile(text);
  if (!r) return r.status().with_context(path);
  return r;
}

int64_t TensorRef::numel() const {
  int64_t n = 1;
  for (size_t i = 0; i < rank; ++i) n *= dims[i];
  return n;
}

int64_t input_rows(const TensorRef& t) { return t.rank >= 2 ? t.dims[0] : 1; }

Status ProfileBuilder::add(const std::vector<TensorRef>& inputs, const std::vector<TensorRef>& outputs) {
  if (!started_) {
    started_ = true;
    for (const auto& t : outputs)
      if (t.dtype == DataType::kFloat && t.rank >= 1 && t.dims[t.rank - 1] >= 2) {
        Out o;
        o.name = std::string(t.name);
        o.classes = t.dims[t.rank - 1];
        outs_.push_back(std::move(o));
      }
    for (const auto& t : inputs)
      if (is_numeric(t.dtype)) {
        In in;
        in.name = std::string(t.name);
        ins_.push_back(std::move(in));
      }
    if (outs_.empty() && ins_.empty()) return invalid_argument("nothing to profile: no float32 score output and no numeric input");
  }
  for (Out& o : outs_) {
    const TensorRef* t = nullptr;
    for (const auto& c : outputs)
      if (c.name == o.name) t = &c;
    if (!t || t->dtype != DataType::kFloat || t->rank < 1 || t->dims[t->rank - 1] != o.classes)
      return invalid_argument("output '" + o.name + "' is missing or changed dtype/classes between samples");
    const auto* x = static_cast<const float*>(t->data);
    const int64_t rows = t->numel() / o.classes;
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = x + r * o.classes;
      o.all_probabilities = o.all_probabilities && looks_like_probabilities(row, o.classes);
      const RowScores l = score_row(ScoreKind::kLogits, row, o.classes);
      o.conf_logits.push_back(l.confidence);
      o.energy.push_back(l.energy);
      o.conf_probs.push_back(score_row(ScoreKind::kProbabilities, row, o.classes).confidence);
    }
  }
  for (In& in : ins_) {
    const TensorRef* t = nullptr;
    for (const auto& c : inputs)
      if (c.name == in.name) t = &c;
    if (!t || !is_numeric(t->dtype)) return invalid_argument("input '" + in.name + "' is missing or not numeric");
    const int64_t n = t->numel(), rows = input_rows(*t);
    if (rows < 1 || n < rows) continue;
    const int64_t per = n / rows;
    for (int64_t r = 0; r < rows; ++r) {
      double s = 0, ss = 0;
      for (int64_t i = r * per; i < (r + 1) * per; ++i) {
        const double v = element_at(t->dtype, t->data, i);
        s += v;
        ss += v * v;
      }
      in.sum += s;
      in.sumsq += ss;
      in.count += per;
      in.means.push_back(s / double(per));
    }
  }
  ++samples_;
  return Status::ok();
}

Result<CalibrationProfile> ProfileBuilder::finish(const ProfileOptions& o) const {
  if (samples_ == 0) return invalid_argument("no calibration samples");
  if (o.bins < 1 || o.bins > kMaxBins) return invalid_argument("bins must be in 1..1000");
  if (!(o.ood_percentile > 0 && o.ood_percentile < 100)) return invalid_argument("the OOD percentile must be in (0, 100)");
  CalibrationProfile p;
  p.samples = samples_;
  for (const Out& out : outs_) {
    OutputProfile op;
    op.name = out.name;
    op.classes = out.classes;
    op.kind = out.all_probabilities ? ScoreKind::kProbabilities : ScoreKind::kLogits;
    op.ood_percentile = o.ood_percentile;
    std::vector<double> conf = op.kind == ScoreKind::kLogits ? out.conf_logits : out.conf_probs;
    op.confidence = quantile_histogram(conf, o.bins);
    std::erase_if(conf, [](double v) { return std::isnan(v); });
    std::sort(conf.begin(), conf.end());
    op.confidence_threshold = percentile_sorted(conf, 100 - o.ood_percentile);
    if (op.kind == ScoreKind::kLogits) {
      std::vector<double> e = out.energy;
      op.energy = quantile_histogram(e, o.bins);
      std::erase_if(e, [](double v) { return std::isnan(v); });
      std::sort(e.begin(), e.end());
      op.energy_threshold = percentile_sorted(e, o.ood_percentile);
    }
    p.outputs.push_back(std::move(op));
  }
  for (const In& in : ins_) {
    InputProfile ip;
    ip.name = in.name;
    if (in.count > 0) {
      ip.mean = in.sum / double(in.count);
      ip.std = std::sqrt(std::max(0.0, in.sumsq / double(in.count) - ip.mean * ip.mean));
    }
    ip.sample_mean = quantile_histogram(in.means, o.bins);
    p.inputs.push_back(std::move(ip));
  }
  return p;
}

}  // namespace petrel::telemetry
