#include "router/cloud_client.hpp"

#include <httplib.h>

#include <cctype>
#include <charconv>

namespace petrel::router {

Result<CloudEndpoint> parse_cloud_url(std::string_view url) {
  CloudEndpoint ep;
  std::string_view rest;
  if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else if (url.substr(0, 8) == "https://") {
    rest = url.substr(8);
    ep.tls = true;
    ep.port = 443;
  } else {
    return invalid_argument("cloud URL must start with http:// or https://");
  }
  const size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  // [v6::addr]:port or host:port
  size_t colon = std::string_view::npos;
  if (!hostport.empty() && hostport.front() == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) return invalid_argument("cloud URL: unterminated '[' in host");
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') return invalid_argument("cloud URL: expected ':' after ']'");
      colon = close + 1;
    }
  } else {
    colon = hostport.rfind(':');
  }
  if (colon != std::string_view::npos) {
    std::string_view p = hostport.substr(colon + 1);
    int port = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || end != p.data() + p.size() || port < 1 || port > 65535)
      return invalid_argument("cloud URL: bad port '" + std::string(p) + "'");
    ep.port = port;
    hostport = hostport.substr(0, colon);
  }
  if (hostport.size() >= 2 && hostport.front() == '[' && hostport.back() == ']') hostport = hostport.substr(1, hostport.size() - 2);
  if (hostport.empty()) return invalid_argument("cloud URL: missing host");
  for (char c : hostport)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':'))
      return invalid_argument("cloud URL: bad character in host");
  ep.host = std::string(hostport);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  for (char c : path)
    if (static_cast<unsigned char>(c) <= 0x20 || c == '?' || c == '#' || c == 0x7f)
      return invalid_argument("cloud URL: the path prefix may not contain spaces, '?' or '#'");
  ep.prefix = std::string(path);
  return ep;
}

const char* cloud_error_name(CloudError e) {
  switch (e) {
    case CloudError::kNone: return "none";
    case CloudError::kConnect: return "connect";
    case CloudError::kTimeout: return "timeout";
    case CloudError::kHttpStatus: return "http_status";
    case CloudError::kBadResponse: return "bad_response";
  }
  return "unknown";
}

bool cloud_error_retryable(CloudError e, int http_status) {
  switch (e) {
    case CloudError::kConnect:
    case CloudError::kTimeout:
      return true;
    case CloudError::kHttpStatus:
      return http_status >= 500 || http_status == 429;
    default:
      return false;
  }
}

CloudCall call_cloud(const CloudEndpoint& ep, const std::string& model, const std::string& body, const CloudCallOptions& o) {
  CloudCall r;
  const bool v6 = ep.host.find(':') != std::string::npos;
  httplib::Client cli(std::string(ep.tls ? "https://" : "http://") + (v6 ? "[" + ep.host + "]" : ep.host) + ":" + std::to_string(ep.port));
  if (!cli.is_valid()) {
    r.error = CloudError::kConnect;
    r.detail = ep.tls ? "TLS client could not be set up" : "bad cloud address";
    return r;
  }
  if (ep.tls) {
    cli.enable_server_certificate_verification(true);
    if (!o.ca_file.empty()) cli.set_ca_cert_path(o.ca_file);
  }
  const auto t = std::max(o.timeout, std::chrono::milliseconds(1));
  cli.set_connection_timeout(t);
  cli.set_read_timeout(t);
  cli.set_write_timeout(t);
  cli.set_keep_alive(false);
  if (!o.bearer_token.empty()) cli.set_bearer_token_auth(o.bearer_token);
  httplib::Request req;
  req.method = "POST";
  req.path = ep.prefix + "/v2/models/" + model + "/infer";
  req.body = body;
  req.set_header("Content-Type", "application/json");
  // Read the answer ourselves so an oversized one is cut off, not buffered whole.
  std::string answer;
  bool too_large = false, too_late = false;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (std::chrono::steady_clock::now() > o.deadline) {
      too_late = true;
      return false;
    }
    if (answer.size() + n > o.limits.max_body_bytes) {
      too_large = true;
      return false;
    }
    answer.append(data, n);
    return true;
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto res = cli.send(req);
  if (too_large) {
    r.error = CloudError::kBadResponse;
    r.detail = "answer larger than " + std::to_string(o.limits.max_body_bytes) + " bytes";
    return r;
  }
  if (too_late) {
    r.error = CloudError::kTimeout;
    r.detail = "answer not complete before the deadline";
    return r;
  }
  if (!res) {
    const httplib::Error err = res.error();
    const auto took = std::chrono::steady_clock::now() - t0;
    // httplib reports a read timeout as a read (or write) error: tell those apart by the time it
    // took. Other errors (refused, TLS handshake or certificate failures) are never timeouts.
    const bool io = err == httplib::Error::Read || err == httplib::Error::Write;
    const bool timed_out = err == httplib::Error::ConnectionTimeout || (io && took >= t * 9 / 10);
    r.error = timed_out ? CloudError::kTimeout : CloudError::kConnect;
    r.detail = timed_out ? "no answer within " + std::to_string(t.count()) + " ms" : httplib::to_string(err);
    return r;
  }
  r.http_status = res->status;
  if (res->status != 200) {
    r.error = CloudError::kHttpStatus;
    r.detail = "HTTP " + std::to_string(res->status);
    return r;
  }
  auto parsed = serve::oip::parse_infer_response(answer, o.limits);
  if (!parsed) {
    r.error = CloudError::kBadResponse;
    r.detail = parsed.status().message().substr(0, 200);
    return r;
  }
  r.response = std::move(parsed).value();
  return r;
}

}  // namespace petrel::router
