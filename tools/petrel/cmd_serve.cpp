// petrel serve: the Open Inference Protocol v2 over HTTP (src/serve), from model files or from
// the update agent's store with hot swap.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "cli_common.hpp"
#include "commands.hpp"
#include "serve/server.hpp"
#include "serve/store_watcher.hpp"

namespace petrel::cli {

int cmd_serve(const ServeArgs& args) {
  using namespace petrel::serve;
  if (args.models.empty() == args.store.empty())
    return report(invalid_argument("give --model NAME=PATH (repeatable) or --store DIR"));
  if (args.tls_cert.empty() != args.tls_key.empty()) return report(invalid_argument("--tls-cert and --tls-key go together"));
  if (args.port < 0 || args.port > 65535) return report(invalid_argument("--port must be 0..65535"));
  if (args.threads < 1 || args.contexts < 0 || args.max_queue < 0 || args.timeout_ms < 1 || args.max_body_bytes < 64)
    return report(invalid_argument("--threads >= 1, --contexts >= 0, --max-queue >= 0, --timeout-ms >= 1, "
                                   "--max-body-bytes >= 64"));

  // Signals are taken by one thread (sigwait), so every other thread, httplib's workers
  // included, inherits this mask and SIGINT/SIGTERM stop the server gracefully.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server

  HostOptions host;
  host.contexts = args.contexts > 0 ? size_t(args.contexts) : std::max(1u, std::thread::hardware_concurrency());
  host.session.xnnpack = !args.no_xnnpack;
  host.max_arena_bytes = size_t(std::max<int64_t>(0, args.max_arena_bytes));
  host.max_symbolic_product = std::max<int64_t>(1, args.max_batch);
  host.session.threads = 1;  // concurrency comes from contexts; one run uses one core

  Metrics metrics;
  ModelTable models;
  std::unique_ptr<StoreWatcher> watcher;
  if (!args.store.empty()) {
    auto w = StoreWatcher::open(args.store, host, models, metrics);
    if (!w) return report(w.status());
    watcher = std::move(w).value();
  }
  for (const std::string& spec : args.models) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos) return report(invalid_argument("--model wants NAME=PATH, got '" + spec + "'"));
    std::string name = spec.substr(0, eq), path = spec.substr(eq + 1);
    if (!oip::is_valid_model_name(name)) return report(invalid_argument("--model: name '" + name + "' must be [A-Za-z0-9._-]"));
    if (models.get(name)) return report(invalid_argument("--model: '" + name + "' given twice"));
    auto h = ModelHost::load(name, "1", path, host);
    if (!h) return report(h.status());
    metrics.set_serving(name, "1", (*h)->contexts());
    (void)models.set(name, std::move(h).value());
  }

  ServerOptions opts;
  opts.host = args.host;
  opts.port = args.port;
  opts.threads = args.threads;
  opts.max_queue = args.max_queue;
  opts.timeout_ms = args.timeout_ms;
  opts.tls_cert = args.tls_cert;
  opts.tls_key = args.tls_key;
  opts.limits.max_body_bytes = size_t(args.max_body_bytes);
  if (!args.auth_token_file.empty()) {
    auto a = BearerAuth::from_file(args.auth_token_file);
    if (!a) return report(a.status());
    opts.auth = std::move(a).value();
  }
  Server server(std::move(opts), models, metrics);
  auto port = server.bind();
  if (!port) return report(port.status());

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.stop();
  });
  if (watcher) watcher->start();
  server.set_ready(true);
  std::cout << "listening on " << (server.tls() ? "https" : "http") << "://" << args.host << ":" << *port << std::endl;
  Status st = server.serve();
  pthread_kill(signal_thread.native_handle(), SIGTERM);  // no-op wake-up if a signal already came
  signal_thread.join();
  if (watcher) watcher->stop();
  if (!st) return report(st);
  std::cerr << "petrel serve: stopped\n";
  return kExitOk;
}

}  // namespace petrel::cli
