// Runs one graph. Planning (plan()) binds input shapes, folds everything computable from
// constants and shapes, infers every other shape, and lays static outputs into one arena whose
// size is known before the first run. Nodes whose output shapes depend on runtime data (or on
// other dynamic nodes) are "dynamic": they infer and allocate at run time. Subgraph executors
// (If/Loop/Scan bodies) run fully dynamic.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/graph.hpp"
#include "kernels/kernel.hpp"

namespace petrel {

struct ExecutorStats {
  size_t arena_bytes = 0;
  int static_nodes = 0, dynamic_nodes = 0, folded_nodes = 0;
};

class GraphExecutor {
 public:
  // Creates a kernel for every node (errors name the node). `static_plan` enables the arena.
  static Result<std::unique_ptr<GraphExecutor>> create(std::shared_ptr<const Graph> graph, bool static_plan);
  ~GraphExecutor();

  const Graph& graph() const { return *graph_; }
  // Kernels get this pool through OpContext::pool (null: single-threaded).
  void set_thread_pool(ThreadPool* pool) { pool_ = pool; }

  // Plans for the given input shapes/dtypes (data is not read). Needed before run() only to know
  // the arena size early; run() plans by itself when shapes change.
  Status plan(const std::vector<Value>& inputs);
  // Runs the graph. `inputs` follow graph().inputs; `outer` follows graph().outer_refs.
  // Outputs may point into the arena: valid until the next run.
  Status run(const std::vector<Value>& inputs, const std::vector<const Value*>& outer, std::vector<Value>& outputs);

  const ExecutorStats& stats() const { return stats_; }
  // Per-node wall time, accumulated over runs while profiling is on (index = node index).
  void set_profiling(bool on) { profiling_ = on; node_ms_.assign(graph_->nodes.size(), 0.0); }
  const std::vector<double>& node_ms() const { return node_ms_; }
  // After plan(): the value of `id` as planned (dtype and shape known unless its producer is
  // dynamic; data only for constants and folded values).
  const Value& planned_value(ValueId id) const { return vals_[size_t(id)]; }
  bool node_is_dynamic(size_t i) const { return mode_[i] == Mode::kDynamic; }
  bool planned() const { return planned_; }

 private:
  GraphExecutor() = default;
  Status validate_inputs(const std::vector<Value>& inputs) const;
  bool same_shapes(const std::vector<Value>& inputs) const;
  Status run_node(size_t i, bool dynamic);

  std::shared_ptr<const Graph> graph_;
  bool static_plan_ = false;
  std::vector<std::unique_ptr<Kernel>> kernels_;
  // Per ValueId: the value slot, and whether its data is a constant (initializer or folded).
  std::vector<Value> vals_;
  std::vector<uint8_t> constant_;
  // Per node: planned mode, input pointers, output pointers, known flags.
  enum class Mode : uint8_t { kStatic, kDynamic, kFolded };
  std::vector<Mode> mode_;
  std::vector<std::vector<const Value*>> in_ptrs_;
  std::vector<std::vector<Value*>> out_ptrs_;
  std::vector<std::vector<const Value*>> implicit_ptrs_;
  std::vector<std::vector<ValueId>> release_after_;  // dynamic values dead after node i
  std::vector<Value> scratch_outputs_;               // targets for omitted outputs
  std::vector<Shape> planned_shapes_;
  std::vector<DataType> planned_dtypes_;
  void* arena_ = nullptr;
  size_t arena_capacity_ = 0;
  bool planned_ = false;
  bool profiling_ = false;
  ThreadPool* pool_ = nullptr;
  std::vector<double> node_ms_;
  ExecutorStats stats_;
};

// Kernel lookup for the runtime: control flow (If, Loop, Scan) first, then reference kernels.
Result<std::unique_ptr<Kernel>> create_kernel(const Node& node, const Graph& graph);

}  // namespace petrel
