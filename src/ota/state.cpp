#include "ota/state.hpp"

#include <ctime>
#include <exception>
#include <nlohmann/json.hpp>

namespace petrel::ota {
namespace {

using nlohmann::json;

json slot_json(const SlotInfo& s) {
  return {{"slot", s.slot},         {"name", s.name},           {"version", s.version},       {"status", s.status},
          {"trial_starts", s.trial_starts}, {"trial_good", s.trial_good}, {"installed", s.installed}};
}

SlotInfo slot_from(const json& j) {
  SlotInfo s;
  s.slot = j.at("slot").get<std::string>();
  s.name = j.at("name").get<std::string>();
  s.version = j.at("version").get<std::string>();
  s.status = j.at("status").get<std::string>();
  s.trial_starts = j.at("trial_starts").get<int64_t>();
  s.trial_good = j.at("trial_good").get<int64_t>();
  s.installed = j.value("installed", "");
  return s;
}

bool valid_slot_name(const std::string& s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void add_event(StoreState& s, std::string event, std::string version, std::string detail) {
  if (detail.size() > 400) detail = detail.substr(0, 400) + "...";
  s.history.push_back({now_rfc3339(), std::move(event), std::move(version), std::move(detail)});
  if (s.history.size() > kMaxHistory) s.history.erase(s.history.begin(), s.history.end() - long(kMaxHistory));
}

std::string state_to_json(const StoreState& s) {
  json j = {{"format", 1}, {"next_slot", s.next_slot}, {"trial_good_needed", s.trial_good_needed},
            {"trial_max_starts", s.trial_max_starts}};
  j["active"] = s.active ? slot_json(*s.active) : json(nullptr);
  j["previous"] = s.previous ? slot_json(*s.previous) : json(nullptr);
  j["pending"] = s.pending ? json{{"op", s.pending->op}, {"version", s.pending->version}, {"slot", s.pending->slot}, {"step", s.pending->step}}
                           : json(nullptr);
  json h = json::array();
  for (const Event& e : s.history) h.push_back({{"time", e.time}, {"event", e.event}, {"version", e.version}, {"detail", e.detail}});
  j["history"] = h;
  // Names in error messages come from model files: invalid UTF-8 is replaced, never thrown.
  return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<StoreState> parse_state(const std::string& text, const std::string& where) {
  try {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return invalid_model(where + " is not valid JSON");
    if (j.value("format", 0) != 1) return unsupported(where + ": unknown state format");
    StoreState s;
    s.next_slot = j.at("next_slot").get<int64_t>();
    s.trial_good_needed = j.value("trial_good_needed", int64_t(5));
    s.trial_max_starts = j.value("trial_max_starts", int64_t(3));
    if (!j.at("active").is_null()) s.active = slot_from(j["active"]);
    if (!j.at("previous").is_null()) s.previous = slot_from(j["previous"]);
    if (j.contains("pending") && !j["pending"].is_null()) {
      const json& p = j["pending"];
      s.pending = Pending{p.at("op").get<std::string>(), p.at("version").get<std::string>(), p.at("slot").get<std::string>(),
                          p.at("step").get<std::string>()};
    }
    for (const json& e : j.at("history"))
      s.history.push_back({e.at("time").get<std::string>(), e.at("event").get<std::string>(), e.at("version").get<std::string>(),
                           e.at("detail").get<std::string>()});
    if ((s.active && !valid_slot_name(s.active->slot)) || (s.previous && !valid_slot_name(s.previous->slot)) ||
        (s.pending && !valid_slot_name(s.pending->slot)) || s.next_slot < 1)
      return invalid_model(where + ": bad slot name");
    return s;
  } catch (const std::exception& e) {
    return invalid_model(where + ": " + e.what());
  }
}

}  // namespace petrel::ota
