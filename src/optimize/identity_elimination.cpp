// Removes nodes that pass their input through: Identity, Dropout in inference, Reshape to the
// same static shape, Transpose with the identity permutation; composes Transpose pairs.
#include "optimize/pass.hpp"
#include "optimize/rewrite_util.hpp"

namespace petrel::opt {
namespace {

// Makes node i (y = f(x), f the identity) disappear. Either every use of y reads x, or, when y
// must keep its ValueId (a graph output), x's producer is renamed to produce y directly.
bool bypass(const GraphView& view, int i, ValueId x, ValueId y, Patch& p) {
  if (!view.is_graph_output(y) && !view.captured(y)) {
    p.rewire.emplace_back(y, x);
    p.remove.push_back(i);
    return true;
  }
  const int prod = view.producer(x);
  if (prod < 0 || view.sole_consumer(x) != i) return false;
  Node np = view.node(prod);
  for (ValueId& o : np.outputs)
    if (o == x) o = y;
  p.replace.emplace_back(prod, std::move(np));
  p.remove.push_back(i);
  return true;
}

// The permutation of a Transpose (reverse when absent, which needs the rank), or nullopt.
std::optional<std::vector<int64_t>> perm_of(const GraphView& view, const Node& n) {
  auto perm = attr_is(n, "perm");
  if (!perm) return std::nullopt;
  if (!perm->empty()) {
    std::vector<uint8_t> seen(perm->size(), 0);
    for (int64_t d : *perm) {
      if (d < 0 || d >= int64_t(perm->size()) || seen[size_t(d)]) return std::nullopt;
      seen[size_t(d)] = 1;
    }
    return perm;
  }
  const StaticInfo& si = view.info(n.inputs[0]);
  if (!si.has_shape) return std::nullopt;
  std::vector<int64_t> rev;
  for (int64_t d = int64_t(si.shape.size()) - 1; d >= 0; --d) rev.push_back(d);
  return rev;
}

bool is_identity_perm(const std::vector<int64_t>& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != int64_t(i)) return false;
  return true;
}

class IdentityEliminationPass final : public Pass {
 public:
  const char* name() const override { return "identity_elimination"; }
  void run(const GraphView& view, PatchList& out) override {
    for (int i = 0; i < view.num_nodes(); ++i) {
      const Node& n = view.node(i);
      if (n.inputs.empty() || n.outputs.empty() || n.inputs[0] == kNoValue || n.outputs[0] == kNoValue) continue;
      const ValueId x = n.inputs[0], y = n.outputs[0];
      Patch p;
      p.rule = n.op_type;
      bool fire = false;
      if (is_op(n, "Identity") && n.outputs.size() == 1) {
        fire = bypass(view, i, x, y, p);
      } else if (is_op(n, "Dropout")) {
        fire = dropout_is_identity(view, n) && bypass(view, i, x, y, p);
      } else if (is_op(n, "Reshape") || is_op(n, "Flatten") || is_op(n, "Squeeze") || is_op(n, "Unsqueeze")) {
        const StaticInfo &a = view.info(x), &b = view.info(y);
        fire = a.has_shape && b.has_shape && a.shape == b.shape && a.dtype == b.dtype && bypass(view, i, x, y, p);
      } else if (is_op(n, "Transpose")) {
        fire = transpose(view, i, p);
      }
      if (fire) out.propose(std::move(p));
    }
  }

 private:
  static bool dropout_is_identity(const GraphView& view, const Node& n) {
    if (n.outputs.size() > 1 && n.outputs[1] != kNoValue && view.use_count(n.outputs[1]) > 0) return false;
    if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
      auto training = view.scalar(n.inputs[2]);
      if (!training || *training != 0) return false;
    }
    return true;
  }

  static bool transpose(const GraphView& view, int i, Patch& p) {
    const Node& n = view.node(i);
    auto perm = perm_of(view, n);
    if (!perm) return false;
    const ValueId x = n.inputs[0], y = n.outputs[0];
    if (is_identity_perm(*perm)) return bypass(view, i, x, y, p);
    const int prev = view.producer(x);
    if (prev < 0 || !is_op(view.node(prev), "Transpose") || view.is_graph_output(x) || view.captured(x)) return false;
    const Node& t1 = view.node(prev);
    if (t1.inputs.empty() || t1.inputs[0] == kNoValue) return false;
    auto p1 = perm_of(view, t1);
    if (!p1 || p1->size() != perm->size()) return false;
    // y[i] = t[perm[i]] and t[j] = x[p1[j]], so y's dim i is x's dim p1[perm[i]].
    std::vector<int64_t> composed;
    for (int64_t d : *perm) composed.push_back((*p1)[size_t(d)]);
    const ValueId src = t1.inputs[0];
    p.rule = "Transpose+Transpose";
    if (view.sole_consumer(x) == i) p.remove.push_back(prev);
    if (is_identity_perm(composed)) {
      if (view.is_graph_output(y) || view.captured(y)) return false;
      p.rewire.emplace_back(y, src);
      p.remove.push_back(i);
      return true;
    }
    Node nt = n;
    nt.inputs[0] = src;
    std::erase_if(nt.attrs, [](const Attribute& a) { return a.name == "perm"; });
    nt.attrs.push_back(make_attr_ints("perm", composed));
    p.replace.emplace_back(i, std::move(nt));
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> make_identity_elimination_pass() { return std::make_unique<IdentityEliminationPass>(); }

}  // namespace petrel::opt
