// The HTTP server: OIP v2 REST endpoints and /metrics over cpp-httplib.
//
// Threading: cpp-httplib runs each connection on one worker of a pool of `threads`; a
// keep-alive connection holds its worker until it closes, so `threads` should be at least the
// number of concurrent client connections. An infer request is admitted if fewer than
// contexts + max_queue requests for that model are in flight, else it gets 503 at once. An
// admitted request waits for a free execution context until its deadline (arrival +
// timeout_ms); a request still waiting then gets 504. A run that has started is never
// interrupted (the runtime has no cancellation); its answer is sent even if late.
//
// Auth: with a token, every endpoint except /v2/health/* needs "Authorization: Bearer TOKEN"
// (401 with WWW-Authenticate otherwise); health stays open for load balancers and probes.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "serve/auth.hpp"
#include "serve/dispatcher.hpp"
#include "serve/metrics.hpp"
#include "serve/model_table.hpp"
#include "serve/oip.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace petrel::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;      // 0: any free port (bind() returns it)
  int threads = 32;     // HTTP workers
  int64_t max_queue = 64;
  int timeout_ms = 10000;
  std::optional<BearerAuth> auth;
  std::string tls_cert, tls_key;  // both set: HTTPS
  oip::Limits limits;
  std::shared_ptr<Dispatcher> dispatcher;  // null: answer with the edge model (source "edge")
};

class Server {
 public:
  // Pending connections the kernel holds before they are accepted (capped by somaxconn).
  static constexpr int kListenBacklog = 1024;

  Server(ServerOptions options, ModelTable& models, Metrics& metrics);
  ~Server();

  // Binds the listening socket; returns the port.
  Result<int> bind();
  // Serves until stop() (blocks). In-flight requests finish before it returns.
  Status serve();
  // Thread-safe; from a signal-handling thread.
  void stop();
  // /v2/health/ready and model readiness answer 503 until set (and again while stopping).
  void set_ready(bool ready) { ready_ = ready; }
  bool tls() const { return !options_.tls_cert.empty(); }

 private:
  void handle(const httplib::Request& req, httplib::Response& res);
  void handle_infer(const httplib::Request& req, httplib::Response& res, const std::string& model,
                    const std::string& version);
  void handle_model(httplib::Response& res, const std::string& model, const std::string& version, bool ready_only);

  ServerOptions options_;
  ModelTable& models_;
  Metrics& metrics_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> serving_{false}, stop_requested_{false};  // see serve()/stop()
};

}  // namespace petrel::serve
