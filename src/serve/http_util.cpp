// Handler helpers: JSON bodies, error bodies, model lookup.
#include "serve/http_util.hpp"

#include <httplib.h>

namespace petrel::serve {

using nlohmann::json;

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, json{{"error", message}});
}

const char* status_text(int status) {
  switch (status) {
    case 400: return "bad request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 408: return "request timeout";
    case 413: return "request body too large";
    case 414: return "request URI too long";
    case 415: return "unsupported media type";
    case 416: return "range not satisfiable";
    case 431: return "request header fields too large";
    case 503: return "service unavailable";
    default: return status >= 500 ? "server error" : "request error";
  }
}

std::shared_ptr<const ModelHost> lookup(const ModelTable& models, const oip::Limits& limits, const std::string& model,
                                        const std::string& version, httplib::Response& res,
                                        std::shared_ptr<ModelSlot>* slot_out) {
  if (!oip::is_valid_model_name(model, limits.max_name_length)) {
    send_error(res, 400, "invalid model name (allowed: [A-Za-z0-9._-], not starting with '.', at most " +
                             std::to_string(limits.max_name_length) + " bytes)");
    return nullptr;
  }
  auto slot = models.get(model);
  std::shared_ptr<const ModelHost> host = slot ? slot->host.load() : nullptr;
  if (!host) {
    send_error(res, 404, "unknown model '" + model + "'");
    return nullptr;
  }
  if (!version.empty() && version != host->version()) {
    // Versions may contain '+' (semver build metadata); anything else odd is not echoed.
    bool plain = version.size() <= 64 && oip::is_valid_model_name(version) ;
    send_error(res, 404, "model '" + model + "' has no version " + (plain ? "'" + version + "'" : std::string("like that")) +
                             " (serving " + host->version() + ")");
    return nullptr;
  }
  if (slot_out) *slot_out = slot;
  return host;
}

}  // namespace petrel::serve
