// Internal helpers for kernels that run subgraphs (If, Loop, Scan, SequenceMap).
#pragma once

#include <memory>
#include <vector>

#include "runtime/executor.hpp"

namespace petrel {

// A subgraph plus, for each of its outer refs, the index of the owning node's implicit input.
struct Body {
  std::unique_ptr<GraphExecutor> exec;
  std::vector<int> outer_slot;
  std::vector<const Value*> outer;

  static Result<Body> make(const std::shared_ptr<Graph>& sub, const Node& n, const Graph& parent);
  Status run(OpContext& ctx, const std::vector<Value>& in, std::vector<Value>& out);
};

Result<std::shared_ptr<Graph>> graph_attr(const Node& n, const char* name);
// Stacks per-iteration tensors along a new axis 0 (an empty [0] tensor of `dt` when none).
Result<Tensor> stack(const std::vector<Tensor>& items, DataType dt);
// A view of row `i` along axis 0 of `t` (strings included).
Tensor row_view(const Tensor& t, int64_t i);
// After one Scan step: copies the body's first n_state outputs into `state` and appends the
// rest to `scans` (one list per scan output). Copies, because the body's buffers are reused.
Status take_scan_step(const std::vector<Value>& out, int n_state, std::vector<Value>& state,
                      std::vector<std::vector<Tensor>>& scans);
// Kernels for SequenceMap and opset-8 Scan (sequence_map.cpp).
Result<std::unique_ptr<Kernel>> make_sequence_map(const Node& n, const Graph& g);
Result<std::unique_ptr<Kernel>> make_scan8(const Node& n, const Graph& g);

}  // namespace petrel
