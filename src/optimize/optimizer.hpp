// The graph optimizer: runs passes to a fixpoint over a graph, applying their patches and
// verifying the result (see docs/architecture.md, "Optimizer").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/graph.hpp"
#include "optimize/pass.hpp"

namespace petrel::opt {

struct RuleCount {
  std::string pass, rule;
  int count = 0;
};

struct OptimizeStats {
  int nodes_before = 0, nodes_after = 0;
  int iterations = 0;
  std::vector<RuleCount> counts;      // in the order rules first fired
  std::vector<std::string> rejected;  // patches dropped because the result failed verification
  void add(const std::string& pass, const std::string& rule, int n = 1);
  int count(const std::string& pass) const;  // all rules of one pass
};

struct OptimizeOptions {
  int max_iterations = 8;  // rounds over the pass list; a round that changes nothing ends early
};

class PassManager {
 public:
  void add(std::unique_ptr<Pass> p) { passes_.push_back(std::move(p)); }
  // Rewrites `g` in place. `g` is only ever replaced by a verified graph, so on any error it is
  // left valid (possibly partly optimized).
  Status run(Graph& g, const OptimizeOptions& options, OptimizeStats* stats);

 private:
  std::vector<std::unique_ptr<Pass>> passes_;
};

// The default pass list over `g`.
Status optimize_graph(Graph& g, OptimizeStats* stats = nullptr, const OptimizeOptions& options = {});

// 7-bit activations: marks the fused int8 ops (petrel.QConv/QGemm/QAdd) of `g` with the
// attribute _petrel_activation_bits = `bits` when bits is 7 (their kernels then clamp outputs
// and inputs to 7 bits); returns how many. Run after optimize_graph.
int mark_activation_bits(Graph& g, int bits);
// The activation width a model's metadata asks for (petrel.activation_bits, which `petrel
// quantize --reduce-range` writes): 7 or 8 (the default when absent); an error for other values.
Result<int> activation_bits_from_metadata(const std::vector<std::pair<std::string, std::string>>& metadata);

// Checks the invariants every pass must keep: nodes topologically sorted, every input defined
// (graph input, constant, outer value or an earlier node's output), no value defined twice,
// every graph output defined.
Status verify_graph(const Graph& g);

// Applies the patches of `list` whose indices are in `selected` to a copy of `g`, keeps nodes
// topologically sorted (stable: untouched nodes keep their relative order) and verifies.
Result<Graph> apply_patches(const Graph& g, const PatchList& list, const std::vector<size_t>& selected);

}  // namespace petrel::opt
