// Runs a graph in-process for calibration, sensitivity and evaluation: the graph is copied
// (constants are shared), optimised and partitioned for XNNPACK like a Session would, and its
// outputs are read after each run. Graph outputs keep their ValueIds through both steps, so a
// caller that adds intermediate values as outputs reads exactly those values.
#pragma once

#include <memory>
#include <vector>

#include "core/graph.hpp"
#include "core/thread_pool.hpp"
#include "runtime/executor.hpp"

namespace petrel::quant {

struct RunnerOptions {
  bool optimize = true;
  bool xnnpack = true;
  int threads = 1;
  int activation_bits = 8;  // 7: the model's petrel.activation_bits (opt::mark_activation_bits)
};

class GraphRunner {
 public:
  static Result<std::unique_ptr<GraphRunner>> create(const Graph& g, const RunnerOptions& o = {});
  // `inputs` follow the graph's inputs. Outputs are valid until the next run.
  Status run(const std::vector<Tensor>& inputs);
  size_t num_outputs() const { return outputs_.size(); }
  const Value& output(size_t i) const { return outputs_[i]; }

 private:
  std::shared_ptr<Graph> graph_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<GraphExecutor> exec_;
  std::vector<Value> inputs_, outputs_;
};

}  // namespace petrel::quant
