#include "bundle/manifest.hpp"

#include <sodium.h>

#include <exception>
#include <nlohmann/json.hpp>

#include "bundle/semver.hpp"

namespace petrel::bundle {
namespace {

using nlohmann::json;

constexpr int kMaxJsonDepth = 32;

std::string b64(const std::vector<uint8_t>& v) {
  std::string s(sodium_base64_ENCODED_LEN(v.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(s.data(), s.size(), v.data(), v.size(), sodium_base64_VARIANT_ORIGINAL);
  s.pop_back();  // terminating NUL
  return s;
}

Result<std::vector<uint8_t>> unb64(const std::string& s, const std::string& where) {
  std::vector<uint8_t> out(s.size() / 4 * 3 + 3);
  size_t n = 0;
  if (sodium_base642bin(out.data(), out.size(), s.data(), s.size(), nullptr, &n, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    return invalid_model("manifest: " + where + " is not valid base64");
  out.resize(n);
  return out;
}

json sig_json(const std::vector<TensorSignature>& v) {
  json a = json::array();
  for (const auto& t : v) a.push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}});
  return a;
}

json golden_json(const std::vector<GoldenTensor>& v) {
  json a = json::array();
  for (const auto& t : v) a.push_back({{"name", t.name}, {"npy", b64(t.npy)}});
  return a;
}

// Structural depth of a JSON text, counted outside strings (before handing it to a parser).
bool depth_ok(const uint8_t* p, size_t n) {
  int depth = 0;
  bool in_str = false;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t c = p[i];
    if (in_str) {
      if (c == '\\') ++i;
      else if (c == '"') in_str = false;
    } else if (c == '"') {
      in_str = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  return s[0] != '.';
}

// Typed field access that reports the field's name (nlohmann would throw a generic message).
struct Obj {
  const json& j;
  std::string where;
  Status error;
  const json* get(const char* key, json::value_t type, bool required) {
    auto it = j.find(key);
    if (it == j.end()) {
      if (required && error) error = invalid_model("manifest: " + where + "missing field '" + key + "'");
      return nullptr;
    }
    const bool ok = it->type() == type || (type == json::value_t::number_float && it->is_number()) ||
                    (type == json::value_t::number_integer && it->is_number_integer());
    if (!ok) {
      if (error) error = invalid_model("manifest: " + where + "field '" + key + "' has the wrong type (" + it->type_name() + ")");
      return nullptr;
    }
    return &*it;
  }
  std::string str(const char* key, bool required = true) {
    const json* v = get(key, json::value_t::string, required);
    return v ? v->get<std::string>() : std::string();
  }
};

Status parse_sigs(const json& a, const char* what, std::vector<TensorSignature>& out) {
  if (!a.is_array() || a.size() > kMaxSignatureEntries) return invalid_model(std::string("manifest: '") + what + "' must be an array of at most 1024 entries");
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_object()) return invalid_model(std::string("manifest: ") + what + "[" + std::to_string(i) + "] is not an object");
    Obj o{a[i], std::string(what) + "[" + std::to_string(i) + "]: ", Status::ok()};
    TensorSignature t;
    t.name = o.str("name");
    t.dtype = o.str("dtype");
    if (const json* s = o.get("shape", json::value_t::array, true)) {
      if (s->size() > 64) return invalid_model("manifest: " + o.where + "rank above 64");
      for (const auto& d : *s) {
        if (!d.is_number_integer() || d.get<int64_t>() < -1) return invalid_model("manifest: " + o.where + "shape holds a non-integer or negative dimension");
        t.shape.push_back(d.get<int64_t>());
      }
    }
    PETREL_RETURN_IF_ERROR(o.error);
    out.push_back(std::move(t));
  }
  return Status::ok();
}

Status parse_golden(const json& a, const char* what, std::vector<GoldenTensor>& out) {
  if (!a.is_array() || a.size() > kMaxGoldenTensors) return invalid_model(std::string("manifest: golden '") + what + "' must be an array of at most 64 tensors");
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_object()) return invalid_model(std::string("manifest: golden ") + what + "[" + std::to_string(i) + "] is not an object");
    Obj o{a[i], std::string("golden ") + what + "[" + std::to_string(i) + "]: ", Status::ok()};
    GoldenTensor t;
    t.name = o.str("name");
    std::string data = o.str("npy");
    PETREL_RETURN_IF_ERROR(o.error);
    PETREL_ASSIGN_OR_RETURN(t.npy, unb64(data, o.where + "npy"));
    out.push_back(std::move(t));
  }
  return Status::ok();
}

Result<Manifest> parse_json(const json& j, const Header& h) {
  if (!j.is_object()) return invalid_model("manifest is not a JSON object");
  Manifest m;
  Obj o{j, "", Status::ok()};
  if (const json* f = o.get("format", json::value_t::number_integer, true); f && f->get<int64_t>() != 1)
    return unsupported("manifest format " + f->dump() + " (this build reads format 1)");
  m.name = o.str("name");
  m.version = o.str("version");
  m.created = o.str("created");
  const json* rt = o.get("runtime", json::value_t::object, true);
  const json* ops = o.get("required_ops", json::value_t::array, true);
  const json* ins = o.get("inputs", json::value_t::array, true);
  const json* outs = o.get("outputs", json::value_t::array, true);
  const json* model = o.get("model", json::value_t::object, true);
  const json* golden = o.get("golden", json::value_t::object, false);
  const json* calib = o.get("calibration", json::value_t::object, false);
  PETREL_RETURN_IF_ERROR(o.error);
  Obj r{*rt, "runtime: ", Status::ok()};
  m.runtime_min = r.str("min");
  m.runtime_max = r.str("max", false);
  PETREL_RETURN_IF_ERROR(r.error);
  if (ops->size() > kMaxRequiredOps) return invalid_model("manifest: more than 4096 required ops");
  for (const auto& op : *ops) {
    if (!op.is_string() || op.get<std::string>().empty() || op.get<std::string>().size() > 256)
      return invalid_model("manifest: required_ops holds a non-string or over-long entry");
    m.required_ops.push_back(op.get<std::string>());
  }
  PETREL_RETURN_IF_ERROR(parse_sigs(*ins, "inputs", m.inputs));
  PETREL_RETURN_IF_ERROR(parse_sigs(*outs, "outputs", m.outputs));
  Obj mo{*model, "model: ", Status::ok()};
  const json* size = mo.get("size", json::value_t::number_integer, true);
  PETREL_RETURN_IF_ERROR(mo.error);
  if (!size->is_number_unsigned()) return invalid_model("manifest: model size is negative");
  m.model_size = size->get<uint64_t>();
  if (golden) {
    Obj g{*golden, "golden: ", Status::ok()};
    const json* gi = g.get("inputs", json::value_t::array, true);
    const json* go = g.get("outputs", json::value_t::array, true);
    if (const json* v = g.get("rtol", json::value_t::number_float, false)) m.golden_rtol = v->get<double>();
    if (const json* v = g.get("atol", json::value_t::number_float, false)) m.golden_atol = v->get<double>();
    PETREL_RETURN_IF_ERROR(g.error);
    PETREL_RETURN_IF_ERROR(parse_golden(*gi, "inputs", m.golden_inputs));
    PETREL_RETURN_IF_ERROR(parse_golden(*go, "outputs", m.golden_outputs));
  }
  if (calib) m.calibration_json = calib->dump(-1, ' ', false, json::error_handler_t::replace);
  PETREL_RETURN_IF_ERROR(validate_manifest(m));
  const uint64_t want = h.encrypted() ? encrypted_payload_size(m.model_size) : m.model_size;
  if (m.model_size > kMaxPayloadBytes || want != h.payload_size)
    return invalid_model("manifest: model size " + std::to_string(m.model_size) + " does not match the payload of " +
                         std::to_string(h.payload_size) + " bytes" + (h.encrypted() ? " (encrypted)" : ""));
  return m;
}

}  // namespace

Status validate_manifest(const Manifest& m) {
  if (!valid_name(m.name)) return invalid_model("manifest: name '" + m.name.substr(0, 64) + "' must be 1..128 of [A-Za-z0-9._-]");
  PETREL_RETURN_IF_ERROR(parse_semver(m.version).status().with_context("manifest: version"));
  PETREL_RETURN_IF_ERROR(parse_semver(m.runtime_min).status().with_context("manifest: runtime.min"));
  if (!m.runtime_max.empty()) PETREL_RETURN_IF_ERROR(parse_semver(m.runtime_max).status().with_context("manifest: runtime.max"));
  if (m.created.size() > 64) return invalid_model("manifest: 'created' is longer than 64 characters");
  if (!(m.golden_rtol >= 0 && m.golden_rtol <= 1 && m.golden_atol >= 0 && m.golden_atol <= 1e6))
    return invalid_model("manifest: golden tolerances outside [0,1] (rtol) / [0,1e6] (atol)");
  if (m.golden_inputs.empty() != m.golden_outputs.empty())
    return invalid_model("manifest: golden inputs and outputs come together");
  if (!m.calibration_json.empty()) {
    const auto* p = reinterpret_cast<const uint8_t*>(m.calibration_json.data());
    if (!depth_ok(p, m.calibration_json.size())) return invalid_model("manifest: calibration profile nested deeper than 32 levels");
    json c = json::parse(m.calibration_json, nullptr, false);
    if (!c.is_object()) return invalid_model("manifest: the calibration profile must be a JSON object");
  }
  return Status::ok();
}

std::string manifest_to_json(const Manifest& m) {
  json j = {{"format", 1},
            {"name", m.name},
            {"version", m.version},
            {"created", m.created},
            {"runtime", {{"min", m.runtime_min}}},
            {"required_ops", m.required_ops},
            {"inputs", sig_json(m.inputs)},
            {"outputs", sig_json(m.outputs)},
            {"model", {{"size", m.model_size}}}};
  if (!m.runtime_max.empty()) j["runtime"]["max"] = m.runtime_max;
  if (!m.golden_inputs.empty())
    j["golden"] = {{"inputs", golden_json(m.golden_inputs)}, {"outputs", golden_json(m.golden_outputs)},
                   {"rtol", m.golden_rtol}, {"atol", m.golden_atol}};
  if (!m.calibration_json.empty()) j["calibration"] = json::parse(m.calibration_json, nullptr, false);  // validated
  return j.dump(1, ' ', false, json::error_handler_t::replace);  // never throws on bad UTF-8
}

Result<Manifest> parse_manifest(const uint8_t* data, size_t size, const Header& h) {
  if (!depth_ok(data, size)) return invalid_model("manifest: JSON nested deeper than 32 levels");
  try {
    json j = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return invalid_model("manifest is not valid JSON");
    return parse_json(j, h);
  } catch (const std::exception& e) {  // nothing escapes this module as an exception
    return invalid_model(std::string("manifest: ") + e.what());
  }
}

}  // namespace petrel::bundle
