// One loaded model version and its pool of execution contexts.
//
// A context is a petrel::Session: the first one loads the model, the others are made from it
// with Session::new_context(), so they share the graph and one copy of the weights; each has
// its own activation arena (and its kernels' packed weights). A request borrows a context for the duration of one
// run (`acquire`), which blocks until one is free or the deadline passes.
//
// The server holds a std::shared_ptr<const ModelHost> per model name and swaps it atomically
// on a new version; an in-flight request keeps its own shared_ptr (and its Lease keeps the
// host alive), so a swap never fails a request.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "petrel/petrel.hpp"
#include "serve/oip.hpp"

namespace petrel::serve {

struct HostOptions {
  size_t contexts = 1;       // concurrent runs of this model
  // A request whose shapes (symbolic dims > 1) would need a larger activation arena per
  // context is refused (400) before anything is allocated for it: a big batch must not make a
  // context hold hundreds of MB.
  size_t max_arena_bytes = size_t(256) << 20;
  // The product of an input's symbolic dims (batch x sequence ...) is at most this. Memory
  // outside Petrel's arena (XNNPACK's workspace) grows with it too, so this is the bound that
  // holds whichever kernels run.
  int64_t max_symbolic_product = 1024;
  SessionOptions session;    // per context (threads: intra-op threads of one run)
};

class ModelHost : public std::enable_shared_from_this<ModelHost> {
 public:
  using Clock = std::chrono::steady_clock;

  // Opens `opts.contexts` sessions of `path`. `name`/`version` are what the protocol reports.
  static Result<std::shared_ptr<ModelHost>> load(const std::string& name, const std::string& version,
                                                 const std::string& path, const HostOptions& opts);

  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const std::string& path() const { return path_; }
  const std::vector<TensorInfo>& inputs() const { return inputs_; }
  const std::vector<TensorInfo>& outputs() const { return outputs_; }
  size_t contexts() const { return contexts_; }
  // Activation arena bytes of all contexts together (as last planned).
  size_t arena_bytes() const { return arena_bytes_.load(); }
  // The version's calibration profile (JSON, from its bundle; "" if none): drift and OOD
  // monitoring of the hybrid router. Set before the host is published to the model table.
  const std::string& calibration_json() const { return calibration_json_; }
  void set_calibration_json(std::string json) { calibration_json_ = std::move(json); }

  // GET /v2/models/{name}: name, versions, platform, inputs, outputs.
  nlohmann::json metadata() const;

  // Every request input must be a model input with the model's dtype and rank, fixed dims
  // equal and symbolic dims >= 1; every model input must be given; requested outputs must
  // exist. kInvalidArgument with a message naming the tensor, expected vs got.
  Status check_request(const oip::InferRequest& request) const;

  class Lease {
   public:
    Lease(std::shared_ptr<const ModelHost> host, std::unique_ptr<Session> s) : host_(std::move(host)), s_(std::move(s)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Session& session() { return *s_; }

   private:
    std::shared_ptr<const ModelHost> host_;
    std::unique_ptr<Session> s_;
  };
  // A free context, or nullopt if none became free before `deadline`.
  std::optional<Lease> acquire(Clock::time_point deadline) const;

  // Runs a checked request on a borrowed context; outputs copied into the response.
  Result<oip::InferResponse> run(Lease& lease, const oip::InferRequest& request) const;

  // Inference outcomes since load, for reporting to the update agent (good ones count toward a
  // trial version's good mark, a failure rolls it back). Drained by the store watcher.
  mutable std::atomic<int64_t> good_runs{0};
  mutable std::atomic<int64_t> failed_runs{0};

 private:
  ModelHost() = default;
  void release(std::unique_ptr<Session> s) const;

  std::string name_, version_, path_, calibration_json_;
  std::vector<TensorInfo> inputs_, outputs_;
  size_t contexts_ = 0;
  size_t max_arena_bytes_ = 0;
  int64_t max_symbolic_product_ = 0;
  mutable std::mutex mu_;
  struct Waiter {
    std::condition_variable cv;
    std::unique_ptr<Session> session;  // set by release()
  };
  mutable std::vector<std::unique_ptr<Session>> free_;
  mutable std::deque<Waiter*> waiters_;  // oldest first
  mutable std::vector<std::pair<const Session*, size_t>> arena_per_context_;  // last planned, per context
  mutable std::atomic<size_t> arena_bytes_{0};
};

}  // namespace petrel::serve
