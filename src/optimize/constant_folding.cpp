// Constant folding at load: a node whose inputs are all constants (and whose reference kernel
// is deterministic) is computed once and its outputs become constants under the same ValueIds.
// The executor would fold it at plan time anyway; doing it here lets the fusion passes see the
// constants (Clip bounds, reshape targets) and drops the node from every later plan.
#include <unordered_map>

#include "optimize/eval.hpp"
#include "optimize/pass.hpp"

namespace petrel::opt {
namespace {

// A folded tensor is materialised once and kept for the session's life: cap what it may cost.
constexpr size_t kMaxFoldedBytes = size_t(64) << 20;
// Ops that mostly replicate their inputs (Expand, Tile, ConstantOfShape, ...) would turn a few
// bytes into a large constant; any output over this size must stay within 2x its inputs.
constexpr size_t kFreeBytes = size_t(64) << 10;

class ConstantFoldingPass final : public Pass {
 public:
  const char* name() const override { return "constant_folding"; }
  void run(const GraphView& view, PatchList& out) override {
    // Outputs folded earlier in this run: a chain folds in one run, each node its own patch
    // (a later node's patch stays correct even if an earlier one were dropped).
    std::unordered_map<ValueId, Tensor> folded;
    auto constant = [&](ValueId v) -> const Tensor* {
      if (const Tensor* t = view.constant(v)) return t;
      auto it = folded.find(v);
      return it == folded.end() ? nullptr : &it->second;
    };
    for (int i = 0; i < view.num_nodes(); ++i) {
      const Node& n = view.node(i);
      if (!n.implicit_inputs.empty() || n.outputs.empty()) continue;
      bool foldable = true, used = false;
      size_t in_bytes = 0;
      std::vector<const Value*> ins;
      std::vector<Value> in_vals;
      in_vals.reserve(n.inputs.size());
      for (ValueId v : n.inputs) {
        if (v == kNoValue) { ins.push_back(nullptr); continue; }
        const Tensor* t = constant(v);
        if (t == nullptr) { foldable = false; break; }
        in_vals.push_back(Value::of(*t));
        ins.push_back(&in_vals.back());
        if (t->dtype != DataType::kString) in_bytes += t->nbytes();
      }
      if (!foldable) continue;
      for (ValueId v : n.outputs) {
        if (v == kNoValue) continue;
        // A graph output stays produced by a node: outputs keep their producers.
        if (view.is_graph_output(v)) foldable = false;
        used |= !view.consumers(v).empty();
      }
      if (!foldable || !used) continue;
      auto k = make_ref_kernel(n);
      if (!k || !k->deterministic()) continue;
      // Check the output size from infer before computing anything.
      if (!k->dynamic_outputs()) {
        std::vector<uint8_t> known(n.inputs.size(), 1);
        std::vector<Value> shapes;
        if (!infer_node(n, *k, ins, known, shapes)) continue;
        if (!fits(shapes, in_bytes)) continue;
      }
      std::vector<Value> outs;
      if (!compute_node(n, *k, ins, outs)) continue;
      if (!fits(outs, in_bytes)) continue;
      Patch p;
      p.rule = n.op_type;
      p.remove.push_back(i);
      for (size_t j = 0; j < n.outputs.size(); ++j) {
        if (n.outputs[j] == kNoValue) continue;
        folded[n.outputs[j]] = outs[j].tensor;
        p.constants.emplace_back(n.outputs[j], std::move(outs[j].tensor));
      }
      out.propose(std::move(p));
    }
  }

 private:
  static bool fits(const std::vector<Value>& outs, size_t in_bytes) {
    size_t bytes = 0;
    for (const Value& v : outs) {
      if (!v.is_tensor()) return false;  // sequences and empty optionals are not constants
      auto n = checked_numel(v.tensor.shape);
      if (!n) return false;
      if (v.tensor.dtype != DataType::kString) bytes += packed_bytes(v.tensor.dtype, n.value());
    }
    return bytes <= kMaxFoldedBytes && (bytes <= kFreeBytes || bytes <= 2 * in_bytes);
  }
};

}  // namespace

std::unique_ptr<Pass> make_constant_folding_pass() { return std::make_unique<ConstantFoldingPass>(); }

}  // namespace petrel::opt
