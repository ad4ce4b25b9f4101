// LayerNorm pattern fusion -> LayerNormalization (opset 17, axis -1):
//   m = ReduceMean(x, [-1]);  d = x - m;  v = ReduceMean(d^2, [-1])   (Pow 2 or d*d)
//   y = d / Sqrt(v + eps)     (or d * Reciprocal(Sqrt(v + eps)))
//   y = y * gamma + beta      (each optional; constants along the last dim)
#include "optimize/pass.hpp"
#include "optimize/rewrite_util.hpp"

namespace petrel::opt {
namespace {

int sole(const GraphView& view, ValueId v, const char* op) {
  const int c = view.sole_consumer(v);
  return c >= 0 && is_op(view.node(c), op) && view.node(c).outputs.size() == 1 ? c : -1;
}

// A ReduceMean over the last axis only, keeping dims.
bool mean_over_last(const GraphView& view, const Node& n, ValueId x) {
  if (!is_op(n, "ReduceMean") || n.inputs.empty() || n.inputs[0] != x || attr_i(n, "keepdims", 1) != 1) return false;
  auto axes = attr_is(n, "axes");
  if (!axes) return false;
  std::vector<int64_t> ax = *axes;
  if (n.inputs.size() > 1 && n.inputs[1] != kNoValue) {
    const Tensor* t = view.constant(n.inputs[1]);
    if (t == nullptr || !ax.empty()) return false;
    for (int64_t k = 0; k < t->numel(); ++k) ax.push_back(element_as_int64(*t, k));
  }
  if (ax.size() != 1) return false;
  if (ax[0] == -1) return true;
  const StaticInfo& si = view.info(x);
  return si.has_shape && ax[0] == int64_t(si.shape.size()) - 1;
}

// A float constant of C elements laid out along the last dim ([C] or [1, ..., 1, C]).
const Tensor* per_channel(const GraphView& view, ValueId v, int64_t C) {
  const Tensor* t = view.constant(v);
  if (t == nullptr || t->dtype != DataType::kFloat || t->rank() < 1 || t->shape.back() != t->numel()) return nullptr;
  if (C >= 0 && t->numel() != C) return nullptr;
  return t;
}

class LayerNormFusionPass final : public Pass {
 public:
  const char* name() const override { return "layer_norm_fusion"; }
  void run(const GraphView& view, PatchList& out) override {
    for (int i = 0; i < view.num_nodes(); ++i) match(view, i, out);
  }

 private:
  static void match(const GraphView& view, int i, PatchList& out) {
    const Node& m1 = view.node(i);
    if (m1.inputs.empty() || m1.outputs.size() != 1) return;
    const ValueId x = m1.inputs[0];
    if (!mean_over_last(view, m1, x)) return;
    const int sub = sole(view, m1.outputs[0], "Sub");
    if (sub < 0 || view.node(sub).inputs.size() != 2 || view.node(sub).inputs[0] != x) return;
    const ValueId d = view.node(sub).outputs[0];
    if (view.is_graph_output(d) || view.captured(d)) return;
    // d is read by the square and by the division, nothing else.
    int sq = -1, div = -1;
    for (int c : view.consumers(d)) {
      const Node& n = view.node(c);
      if ((is_op(n, "Pow") && n.inputs.size() == 2 && n.inputs[0] == d && scalar_is(view, n.inputs[1], 2.0, 0)) ||
          (is_op(n, "Mul") && n.inputs.size() == 2 && n.inputs[0] == d && n.inputs[1] == d)) {
        if (sq >= 0 && sq != c) return;
        sq = c;
      } else if ((is_op(n, "Div") || is_op(n, "Mul")) && n.inputs.size() == 2 && n.inputs[0] == d) {
        if (div >= 0) return;
        div = c;
      } else {
        return;
      }
    }
    if (sq < 0 || div < 0) return;
    const int m2 = view.sole_consumer(view.node(sq).outputs[0]);
    if (m2 < 0 || !mean_over_last(view, view.node(m2), view.node(sq).outputs[0])) return;
    const int add = sole(view, view.node(m2).outputs[0], "Add");
    if (add < 0) return;
    auto eps = view.scalar(other_input(view.node(add), view.node(m2).outputs[0]));
    if (!eps || !(*eps >= 0)) return;
    const int sqrt = sole(view, view.node(add).outputs[0], "Sqrt");
    if (sqrt < 0) return;
    std::vector<int> nodes = {i, sub, sq, m2, add, sqrt};
    const ValueId root = view.node(sqrt).outputs[0];
    if (is_op(view.node(div), "Div")) {
      if (view.node(div).inputs[1] != root || view.sole_consumer(root) != div) return;
    } else {
      const int rec = sole(view, root, "Reciprocal");
      if (rec < 0 || view.node(div).inputs[1] != view.node(rec).outputs[0] || view.sole_consumer(view.node(rec).outputs[0]) != div) return;
      nodes.push_back(rec);
    }
    nodes.push_back(div);
    int last = div;
    const StaticInfo& xi = view.info(x);
    int64_t C = xi.has_shape && !xi.shape.empty() ? xi.shape.back() : -1;
    const Tensor* gamma = nullptr;
    const Tensor* beta = nullptr;
    ValueId gid = kNoValue, bid = kNoValue;
    if (int g = sole(view, view.node(last).outputs[0], "Mul"); g >= 0) {
      gid = other_input(view.node(g), view.node(last).outputs[0]);
      if ((gamma = per_channel(view, gid, C)) != nullptr) {
        C = gamma->numel();
        nodes.push_back(g);
        last = g;
      }
    }
    if (int b = sole(view, view.node(last).outputs[0], "Add"); b >= 0) {
      bid = other_input(view.node(b), view.node(last).outputs[0]);
      if ((beta = per_channel(view, bid, C)) != nullptr) {
        C = beta->numel();
        nodes.push_back(b);
        last = b;
      }
    }
    if (C < 0 || (xi.dtype != DataType::kUndefined && xi.dtype != DataType::kFloat)) return;
    if (!xi.has_shape && gamma == nullptr && beta == nullptr) return;  // needs a float hint
    Patch p;
    p.rule = "LayerNormalization";
    auto flat = [&](const Tensor* t, ValueId id, const char* what, float fill) {
      if (t != nullptr && t->rank() == 1) return id;
      const ValueId nid = out.new_value(view.graph().values[size_t(x)].name + what);
      Tensor c = t != nullptr ? *t : float_tensor({C}, std::vector<float>(size_t(C), fill));
      c.shape = {C};
      p.constants.emplace_back(nid, std::move(c));
      return nid;
    };
    const ValueId scale = flat(gamma, gid, "_ln_scale", 1.0f);
    std::vector<ValueId> ins = {x, scale};
    if (beta != nullptr) ins.push_back(flat(beta, bid, "_ln_bias", 0.0f));
    for (int k : nodes)
      if (k != last) p.remove.push_back(k);
    Node ln = make_node("LayerNormalization", "", ins, view.node(last).outputs, view.node(last).name);
    ln.attrs.push_back(make_attr_int("axis", -1));
    ln.attrs.push_back(make_attr_float("epsilon", float(*eps)));
    p.replace.emplace_back(last, std::move(ln));
    out.propose(std::move(p));
  }
};

}  // namespace

std::unique_ptr<Pass> make_layer_norm_fusion_pass() { return std::make_unique<LayerNormFusionPass>(); }

}  // namespace petrel::opt
