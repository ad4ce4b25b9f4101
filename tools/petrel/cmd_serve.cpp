// petrel serve: the Open Inference Protocol v2 over HTTP (src/serve), from model files or from
// the update agent's store with hot swap.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "cli_common.hpp"
#include "commands.hpp"
#include "router/serve_dispatcher.hpp"
#include "serve/server.hpp"
#include "serve/store_watcher.hpp"
#include "telemetry/profile.hpp"

namespace petrel::cli {

namespace {

// The hybrid router's settings from the command line; nullptr when neither a cloud, offline
// mode, a profile nor a store (whose bundles may carry profiles) asks for it.
Result<std::shared_ptr<router::RouterDispatcher>> make_dispatcher(const ServeArgs& a) {
  if (a.cloud.empty() && !a.offline && a.profiles.empty() && a.store.empty()) return std::shared_ptr<router::RouterDispatcher>();
  router::RouterConfig c;
  c.cloud_url = a.cloud;
  c.cloud_model = a.cloud_model;
  c.cloud_ca_file = a.cloud_ca;
  c.confidence_threshold = a.threshold;
  c.use_ood = !a.no_ood;
  if (a.cloud.empty() && !a.offline) {
    // Monitoring only: nothing to offload to, so every answer is the edge's ("edge", not
    // "edge_offline"); OOD flags and drift are still counted.
    c.confidence_threshold = 0;
    c.use_ood = false;
  }
  c.offline = a.offline;
  if (a.cloud_timeout_ms < 1 || a.cloud_deadline_ms < 1) return invalid_argument("--cloud-timeout-ms and --cloud-deadline-ms must be >= 1");
  c.timeout = std::chrono::milliseconds(a.cloud_timeout_ms);
  c.deadline = std::chrono::milliseconds(a.cloud_deadline_ms);
  c.retries = a.cloud_retries;
  if (a.breaker_failures < 1 || a.breaker_cooldown_ms < 1) return invalid_argument("--breaker-failures and --breaker-cooldown-ms must be >= 1");
  c.breaker.failure_threshold = a.breaker_failures;
  c.breaker.cool_down = std::chrono::milliseconds(a.breaker_cooldown_ms);
  if (a.cache_entries < 0 || a.drift_window < 1) return invalid_argument("--cache-entries >= 0 and --drift-window >= 1");
  c.cache_entries = size_t(a.cache_entries);
  c.drift_window = size_t(a.drift_window);
  if (!a.cloud_token_file.empty()) {
    auto t = serve::read_token_file(a.cloud_token_file);
    if (!t) return t.status();
    c.bearer_token = *t;
  }
  // --profile [NAME=]FILE: without a name it applies to the only model given.
  std::map<std::string, telemetry::CalibrationProfile> profiles;
  for (const std::string& spec : a.profiles) {
    std::string name, path = spec;
    if (size_t eq = spec.find('='); eq != std::string::npos) {
      name = spec.substr(0, eq);
      path = spec.substr(eq + 1);
    } else if (a.models.size() == 1) {
      name = a.models[0].substr(0, a.models[0].find('='));
    } else {
      return invalid_argument("--profile " + spec + ": say which model it is for (NAME=FILE)");
    }
    auto p = telemetry::read_profile_file(path);
    if (!p) return p.status().with_context("--profile " + spec);
    profiles[name] = std::move(p).value();
  }
  return router::RouterDispatcher::create(c, std::move(profiles));
}

}  // namespace

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
  auto dispatcher = make_dispatcher(args);
  if (!dispatcher) return report(dispatcher.status());
  if (*dispatcher) {
    (*dispatcher)->export_metrics(metrics);
    opts.dispatcher = *dispatcher;
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
