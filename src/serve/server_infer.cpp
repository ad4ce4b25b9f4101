// POST /v2/models/{name}[/versions/{v}]/infer: admission, parsing, checks, deadline, run (or
// dispatch: the hybrid router).
#include <httplib.h>

#include <chrono>

#include "serve/http_util.hpp"
#include "serve/server.hpp"

namespace petrel::serve {

namespace {

using Clock = std::chrono::steady_clock;

// Holds one admission for the life of a request.
class Admission {
 public:
  explicit Admission(ModelSlot& s) : s_(s) {}
  ~Admission() { s_.admitted.fetch_sub(1); }
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

 private:
  ModelSlot& s_;
};

int http_status_for(const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
    case StatusCode::kUnsupported:
      return 400;
    case StatusCode::kNotFound: return 404;
    default: return 500;
  }
}

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

void Server::handle_infer(const httplib::Request& req, httplib::Response& res, const std::string& model,
                          const std::string& version) {
  const auto arrival = Clock::now();
  std::shared_ptr<ModelSlot> slot;
  // The request keeps this host (and its sessions) alive even if a new version is swapped in.
  std::shared_ptr<const ModelHost> host = lookup(models_, options_.limits, model, version, res, &slot);
  if (!host) return metrics_.count_request("_unknown", res.status);
  const std::string& name = host->name();
  auto fail = [&](int code, const std::string& message) {
    send_error(res, code, message);
    metrics_.count_request(name, code);
  };
  if (!ready_) return fail(503, "server is not ready (starting or stopping)");

  const int64_t limit = int64_t(host->contexts()) + options_.max_queue;
  if (slot->admitted.fetch_add(1) >= limit) {
    slot->admitted.fetch_sub(1);
    res.set_header("Retry-After", "1");
    return fail(503, "queue full: " + std::to_string(limit) + " requests for model '" + name +
                         "' already in flight (contexts + --max-queue)");
  }
  Admission admission(*slot);

  // The context is taken before parsing: parsing is CPU work too, and with every core already
  // running a model, letting all queued requests parse at once only slows the runs and makes
  // the wait unfair (measured: p99 several times higher). Waiters are served first come, first
  // served (ModelHost::acquire).
  const auto deadline = arrival + std::chrono::milliseconds(options_.timeout_ms);
  metrics_.add_queue_depth(1);
  auto lease = host->acquire(deadline);
  metrics_.add_queue_depth(-1);
  if (!lease)
    return fail(504, "deadline exceeded: no execution context of model '" + name + "' became free within " +
                         std::to_string(options_.timeout_ms) + " ms (--timeout-ms)");
  auto request = oip::parse_infer_request(req.body, options_.limits);
  if (!request) return fail(http_status_for(request.status()), request.status().message());
  if (Status st = host->check_request(*request); !st) return fail(http_status_for(st), st.message());

  // The edge run. It gives its context back as soon as the model has run: a dispatcher that
  // then asks the cloud must not hold it.
  double run_ms = 0;
  auto local = [&](const oip::InferRequest& q) -> Result<oip::InferResponse> {
    if (!lease) return Status(StatusCode::kInternal, "the edge model can run once per request");
    const auto t = Clock::now();
    auto r = host->run(*lease, q);
    run_ms = ms_since(t);
    lease.reset();  // back to the pool before answering; the arena gauge is updated on return
    if (!r) {
      // Inputs were checked above, so a failure here is the model's or the runtime's: it counts
      // against a version on trial.
      const StatusCode code = r.status().code();
      if (code != StatusCode::kInvalidArgument && code != StatusCode::kOutOfRange) host->failed_runs.fetch_add(1);
      return r.status();
    }
    host->good_runs.fetch_add(1);
    return r;
  };
  const auto start = Clock::now();
  auto response = options_.dispatcher ? options_.dispatcher->dispatch(*host, *request, local) : local(*request);
  if (lease) lease.reset();  // a dispatcher that never ran the edge model
  if (!response) return fail(http_status_for(response.status()), "inference failed: " + response.status().message());
  if (!options_.dispatcher) {
    response->parameters["source"] = "edge";
    response->parameters["edge_ms"] = run_ms;
  }
  const auto source = response->parameters.find("source");
  const std::string source_label =
      source != response->parameters.end() && source->is_string() ? source->get<std::string>() : "edge";
  metrics_.observe_inference(name, host->version(), source_label, ms_since(start) / 1000.0);
  metrics_.set_arena_bytes(name, host->version(), double(host->arena_bytes()));
  response->parameters["queue_ms"] = std::chrono::duration<double, std::milli>(start - arrival).count();
  res.status = 200;
  res.set_content(oip::serialize_infer_response(*response), "application/json");
  metrics_.count_request(name, 200);
}

}  // namespace petrel::serve
