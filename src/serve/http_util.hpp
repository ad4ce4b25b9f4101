// Small helpers shared by the server's handlers (internal to src/serve).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "serve/model_table.hpp"
#include "serve/oip.hpp"

namespace httplib {
struct Response;
}

namespace petrel::serve {

// {"error": message} with `status`; the message is JSON-escaped (invalid UTF-8 replaced).
void send_error(httplib::Response& res, int status, const std::string& message);
void send_json(httplib::Response& res, int status, const nlohmann::json& body);
// Reason phrase for a status code httplib answers by itself ("Payload Too Large", ...).
const char* status_text(int status);

// The host serving `model` (and `version`, if not empty), or nullptr after sending 400 (a name
// that is not [A-Za-z0-9._-]) or 404 (unknown model or version). Raw names are never echoed
// unless they passed validation.
std::shared_ptr<const ModelHost> lookup(const ModelTable& models, const oip::Limits& limits, const std::string& model,
                                        const std::string& version, httplib::Response& res,
                                        std::shared_ptr<ModelSlot>* slot_out = nullptr);

}  // namespace petrel::serve
