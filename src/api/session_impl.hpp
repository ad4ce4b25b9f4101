// Internal view of a Session for Petrel's own tools (the CLI reads the graph and plan stats).
#pragma once

#include <memory>
#include <vector>

#include "core/thread_pool.hpp"
#include "onnx/model.hpp"
#include "optimize/optimizer.hpp"
#include "petrel/petrel.hpp"
#include "runtime/executor.hpp"
#include "runtime/providers.hpp"
#ifdef PETREL_HAVE_XNNPACK
#include "kernels/xnnpack/provider.hpp"
#endif

namespace petrel {

struct Session::Impl {
  std::unique_ptr<ThreadPool> pool;  // sized to SessionOptions::threads
  std::shared_ptr<onnx::Model> model;
  std::unique_ptr<GraphExecutor> exec;
  std::vector<TensorInfo> inputs, outputs;
  ModelInfo info;
  std::vector<Value> bound;      // per input
  std::vector<uint8_t> is_bound;
  std::vector<Value> results;    // per output, after run()
  int xnnpack_partitions = 0, xnnpack_nodes = 0;  // nodes claimed by the XNNPACK provider
  SessionOptions options;        // as opened (new_context() uses them again)
  bool optimized = false;        // SessionOptions::optimize
  opt::OptimizeStats opt_stats;  // what the optimizer rewrote (petrel inspect --optimized)
  Status opt_status;             // not ok: the optimizer gave up and the graph runs as loaded
};

// For tools: the internals of a session.
Session::Impl& session_internals(Session& s);

}  // namespace petrel
