// Server: httplib setup, auth, routing, metadata endpoints and /metrics. Inference is in
// server_infer.cpp.
#include "serve/server.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include <algorithm>

#include "petrel/petrel.hpp"
#include "serve/http_util.hpp"
#include "serve/route.hpp"

namespace petrel::serve {

using nlohmann::json;

namespace {
bool has_encoded_separator(const std::string& target) {
  const size_t end = std::min(target.find('?'), target.size());
  for (size_t i = 0; i + 2 < end; ++i) {
    if (target[i] != '%') continue;
    char a = target[i + 1], b = char(target[i + 2] | 0x20);
    if ((a == '2' && b == 'f') || (a == '5' && b == 'c') || (a == '0' && b == '0')) return true;
  }
  return false;
}
}  // namespace

Server::Server(ServerOptions options, ModelTable& models, Metrics& metrics)
    : options_(std::move(options)), models_(models), metrics_(metrics) {}

Server::~Server() = default;

Result<int> Server::bind() {
  if (tls()) {
    auto s = std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(), options_.tls_key.c_str());
    if (!s->is_valid())
      return invalid_argument("TLS: cannot use certificate " + options_.tls_cert + " with key " + options_.tls_key);
    http_ = std::move(s);
  } else {
    http_ = std::make_unique<httplib::Server>();
  }
  auto& h = *http_;
  const int threads = std::max(1, options_.threads);
  h.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  // Small request/response pairs: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms each.
  h.set_tcp_nodelay(true);
  // The default (5 requests per connection) makes clients reconnect constantly.
  h.set_keep_alive_max_count(100000);
  h.set_keep_alive_timeout(5);
  h.set_read_timeout(10, 0);
  h.set_write_timeout(10, 0);
  h.set_payload_max_length(options_.limits.max_body_bytes);  // larger bodies: 413 before reading them

  // Auth and the path-length gate run before routing (and before a body is read).
  h.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path.size() > 1024) {
      send_error(res, 404, "path too long");
      return httplib::Server::HandlerResponse::Handled;
    }
    // httplib decodes the whole path before routing: an encoded '/', '\\' or NUL would smuggle
    // a separator or a terminator into a segment, so those are refused on the raw target.
    if (has_encoded_separator(req.target)) {
      send_error(res, 400, "percent-encoded '/', '\\' or NUL in the path");
      return httplib::Server::HandlerResponse::Handled;
    }
    const bool health = req.path.rfind("/v2/health/", 0) == 0;
    if (options_.auth && !health && !options_.auth->check(req.get_header_value("Authorization"))) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"petrel\"");
      send_error(res, 401, req.has_header("Authorization") ? "invalid bearer token" : "missing bearer token");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // One handler for every method and path: routing is by hand (route.hpp), so 405 and 404 are
  // told apart and no regex sees a network path.
  auto all = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
  h.Get(".*", all);
  h.Post(".*", all);
  h.Put(".*", all);
  h.Patch(".*", all);
  h.Delete(".*", all);
  h.Options(".*", all);
  // Errors httplib produces itself (413, 400 for a bad request line, ...) get a JSON body too.
  h.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, res.status, status_text(res.status));
    return httplib::Server::HandlerResponse::Handled;
  }));
  h.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    send_error(res, 500, "internal error");
  });

  // The listening socket: SO_REUSEADDR only (a restart may bind while old connections sit in
  // TIME_WAIT). httplib's default also sets SO_REUSEPORT, which lets a second server bind the same
  // port and silently take half the connections. The descriptor is kept to lengthen the queue.
  int listen_fd = -1;
  h.set_socket_options([&listen_fd](socket_t fd) {
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd = fd;
  });

  int port = options_.port;
  if (port == 0) {
    port = h.bind_to_any_port(options_.host);
    if (port <= 0) return io_error("cannot bind " + options_.host + " to a free port");
  } else if (!h.bind_to_port(options_.host, port)) {
    return io_error("cannot bind " + options_.host + ":" + std::to_string(port) + " (in use, or not an address here)");
  }
  // httplib (Debian builds it as a library) listens with a backlog of 5. A burst of new
  // connections beyond it has its SYNs or handshake ACKs dropped, and those clients wait for
  // TCP's retransmissions (1 s, 3 s, 7 s, ...): measured, 128 connections opened at once to an
  // idle server got answers after up to 27 s, some none within 30 s. listen() again on the bound
  // socket only lengthens its queue (the kernel caps it at net.core.somaxconn).
  if (listen_fd < 0 || ::listen(listen_fd, kListenBacklog) != 0)
    return io_error("cannot set the listen queue of " + options_.host + ":" + std::to_string(port));
  return port;
}

// httplib's stop() does nothing until its listen loop is running, so a stop() that comes
// first (a SIGTERM right after start) would be lost and serve() would block forever. The two
// flags make the hand-over safe whichever thread comes first: serve() announces itself, then
// checks for a stop; stop() announces itself, then waits for a serve() that has announced itself
// to be accepting before stopping it (seq_cst: at least one of them sees the other).
Status Server::serve() {
  if (!http_) return internal_error("serve() before bind()");
  serving_.store(true);
  if (stop_requested_.load()) {
    serving_.store(false);
    return Status::ok();
  }
  const bool ok = http_->listen_after_bind();
  serving_.store(false);
  if (!ok && !stop_requested_.load()) return io_error("the server stopped with an error");
  return Status::ok();
}

void Server::stop() {
  ready_ = false;
  stop_requested_.store(true);
  if (!http_) return;
  while (serving_.load() && !http_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_->stop();
}

void Server::handle(const httplib::Request& req, httplib::Response& res) {
  Route r = parse_route(req.path);
  if (r.kind == Route::kNone) return send_error(res, 404, "not found (see GET /v2)");
  const bool head = req.method == "HEAD" && std::string_view(r.method()) == "GET";
  if (req.method != r.method() && !head) {
    res.set_header("Allow", r.method());
    return send_error(res, 405, std::string("method not allowed (use ") + r.method() + ")");
  }
  switch (r.kind) {
    case Route::kServer:
      return send_json(res, 200, json{{"name", "petrel"}, {"version", petrel::version()}, {"extensions", json::array()}});
    case Route::kLive: return send_json(res, 200, json{{"live", true}});
    case Route::kReady: return send_json(res, ready_ ? 200 : 503, json{{"ready", bool(ready_)}});
    case Route::kMetrics: res.set_content(metrics_.render(), "text/plain; version=0.0.4; charset=utf-8"); return;
    case Route::kModel: return handle_model(res, r.model, r.version, false);
    case Route::kModelReady: return handle_model(res, r.model, r.version, true);
    case Route::kInfer: return handle_infer(req, res, r.model, r.version);
    case Route::kNone: break;
  }
}

void Server::handle_model(httplib::Response& res, const std::string& model, const std::string& version,
                          bool ready_only) {
  auto host = lookup(models_, options_.limits, model, version, res);
  if (!host) return;
  if (ready_only) return send_json(res, ready_ ? 200 : 503, json{{"name", host->name()}, {"ready", bool(ready_)}});
  send_json(res, 200, host->metadata());
}

}  // namespace petrel::serve
