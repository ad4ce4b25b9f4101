// OIP v2 messages: infer request/response parsing (bounded, validated) and serialisation.
#include "serve/oip.hpp"

#include <set>

#include "serve/oip_numbers.hpp"
#include "serve/oip_tensor.hpp"

namespace petrel::serve::oip {

using nlohmann::json;

int json_depth(std::string_view text, int max_depth) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > max_depth) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

bool is_valid_model_name(std::string_view name, size_t max_length) {
  if (name.empty() || name.size() > max_length || name[0] == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

constexpr auto kReplace = json::error_handler_t::replace;

// A parsed message: the JSON, and the "data" numbers the scanner lifted out of it per tensor.
struct Message {
  json j;
  std::vector<detail::DataText> data;
};

// Size and depth checks, then a non-throwing parse; the top level must be an object. With
// `tensors_key`, the numbers of `tensors_key[i].data` are lifted (oip_numbers.hpp) unless
// `lift` is off (tests compare both paths).
Result<Message> parse_object(std::string_view body, const Limits& limits, const char* what,
                             std::string_view tensors_key = {}, bool lift = false) {
  if (body.size() > limits.max_body_bytes)
    return out_of_range(std::string(what) + ": body of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
                        std::to_string(limits.max_body_bytes));
  Message m;
  std::string_view text = body;
  detail::ScannedMessage scanned;
  int depth = 0;
  if (lift && !tensors_key.empty()) {
    scanned = detail::scan_message(body, tensors_key, limits.max_depth);
    depth = scanned.depth;
    if (scanned.lifted) {
      text = scanned.rewritten;
      m.data = std::move(scanned.data);
    }
  } else {
    depth = json_depth(body, limits.max_depth);
  }
  if (depth > limits.max_depth)
    return invalid_argument(std::string(what) + ": JSON nesting deeper than " + std::to_string(limits.max_depth));
  m.j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (m.j.is_discarded()) return invalid_argument(std::string(what) + ": body is not valid JSON");
  if (!m.j.is_object()) return invalid_argument(std::string(what) + ": body must be a JSON object");
  return m;
}

Status optional_string(const json& j, const char* key, size_t max_len, std::string& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::ok();
  if (!it->is_string()) return invalid_argument(std::string("\"") + key + "\" must be a string");
  if (it->get_ref<const std::string&>().size() > max_len)
    return out_of_range(std::string("\"") + key + "\" is longer than " + std::to_string(max_len) + " bytes");
  out = it->get<std::string>();
  return Status::ok();
}

Status optional_parameters(const json& j, json& out) {
  auto it = j.find("parameters");
  if (it == j.end() || it->is_null()) return Status::ok();
  if (!it->is_object()) return invalid_argument("\"parameters\" must be an object");
  out = *it;
  return Status::ok();
}

// Parses the array `key` of tensors; names must be unique.
Status parse_tensors(const json& j, const char* key, const Limits& limits, std::vector<Tensor>& out,
                     const std::vector<detail::DataText>& lifted) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return invalid_argument(std::string("\"") + key + "\" (array) is required");
  if (it->size() > limits.max_tensors)
    return out_of_range(std::string("\"") + key + "\" has " + std::to_string(it->size()) + " tensors; the limit is " +
                        std::to_string(limits.max_tensors));
  int64_t total = 0;
  std::set<std::string> seen;
  for (size_t i = 0; i < it->size(); ++i) {
    PETREL_ASSIGN_OR_RETURN(Tensor t, detail::parse_tensor((*it)[i], limits, std::string(key) + "[" + std::to_string(i) + "]",
                                                           total, i < lifted.size() ? &lifted[i] : nullptr));
    if (!seen.insert(t.name).second)
      return invalid_argument(std::string(key) + "[" + std::to_string(i) + "]: duplicate tensor name");
    out.push_back(std::move(t));
  }
  return Status::ok();
}

}  // namespace

namespace detail {

Result<InferRequest> parse_infer_request(std::string_view body, const Limits& limits, bool lift_numbers) {
  PETREL_ASSIGN_OR_RETURN(Message m, parse_object(body, limits, "infer request", "inputs", lift_numbers));
  const json& j = m.j;
  InferRequest r;
  PETREL_RETURN_IF_ERROR(optional_string(j, "id", limits.max_name_length, r.id));
  PETREL_RETURN_IF_ERROR(optional_parameters(j, r.parameters));
  PETREL_RETURN_IF_ERROR(parse_tensors(j, "inputs", limits, r.inputs, m.data));
  if (r.inputs.empty()) return invalid_argument("\"inputs\" must not be empty");
  auto outs = j.find("outputs");
  if (outs != j.end() && !outs->is_null()) {
    if (!outs->is_array()) return invalid_argument("\"outputs\" must be an array");
    if (outs->size() > limits.max_tensors) return out_of_range("\"outputs\" lists too many tensors");
    for (size_t i = 0; i < outs->size(); ++i) {
      const json& o = (*outs)[i];
      std::string where = "outputs[" + std::to_string(i) + "]";
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string())
        return invalid_argument(where + ": must be an object with a string \"name\"");
      const auto& name = o["name"].get_ref<const std::string&>();
      if (name.empty() || name.size() > limits.max_name_length) return invalid_argument(where + ": bad name length");
      auto p = o.find("parameters");
      if (p != o.end() && p->is_object() && p->value("binary_data", false))
        return unsupported(where + ": the binary tensor data extension is not supported");
      r.requested_outputs.push_back(name);
    }
  }
  return r;
}

Result<InferResponse> parse_infer_response(std::string_view body, const Limits& limits, bool lift_numbers) {
  PETREL_ASSIGN_OR_RETURN(Message m, parse_object(body, limits, "infer response", "outputs", lift_numbers));
  const json& j = m.j;
  InferResponse r;
  auto mn = j.find("model_name");
  if (mn == j.end() || !mn->is_string()) return invalid_argument("infer response: \"model_name\" (string) is required");
  PETREL_RETURN_IF_ERROR(optional_string(j, "model_name", limits.max_name_length, r.model_name));
  PETREL_RETURN_IF_ERROR(optional_string(j, "model_version", limits.max_name_length, r.model_version));
  PETREL_RETURN_IF_ERROR(optional_string(j, "id", limits.max_name_length, r.id));
  PETREL_RETURN_IF_ERROR(optional_parameters(j, r.parameters));
  PETREL_RETURN_IF_ERROR(parse_tensors(j, "outputs", limits, r.outputs, m.data).with_context("infer response"));
  if (r.outputs.empty()) return invalid_argument("infer response: \"outputs\" is empty");
  return r;
}

}  // namespace detail

Result<InferRequest> parse_infer_request(std::string_view body, const Limits& limits) {
  return detail::parse_infer_request(body, limits, /*lift_numbers=*/true);
}

Result<InferResponse> parse_infer_response(std::string_view body, const Limits& limits) {
  return detail::parse_infer_response(body, limits, /*lift_numbers=*/true);
}

std::string serialize_infer_request(const InferRequest& request) {
  json j = json::object();
  if (!request.id.empty()) j["id"] = request.id;
  j["parameters"] = request.parameters.is_object() ? request.parameters : json::object();
  json inputs = json::array();
  for (const Tensor& t : request.inputs) inputs.push_back(detail::tensor_to_json(t));
  j["inputs"] = std::move(inputs);
  if (!request.requested_outputs.empty()) {
    json outs = json::array();
    for (const auto& n : request.requested_outputs) outs.push_back(json{{"name", n}});
    j["outputs"] = std::move(outs);
  }
  return j.dump(-1, ' ', false, kReplace);
}

std::string serialize_infer_response(const InferResponse& response) {
  json j = json::object();
  j["model_name"] = response.model_name;
  if (!response.model_version.empty()) j["model_version"] = response.model_version;
  if (!response.id.empty()) j["id"] = response.id;
  // Always an object: the router adds "source" and leg latencies to it.
  j["parameters"] = response.parameters.is_object() ? response.parameters : json::object();
  json outputs = json::array();
  for (const Tensor& t : response.outputs) outputs.push_back(detail::tensor_to_json(t));
  j["outputs"] = std::move(outputs);
  return j.dump(-1, ' ', false, kReplace);
}

}  // namespace petrel::serve::oip
