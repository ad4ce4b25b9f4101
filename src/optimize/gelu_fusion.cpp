// GELU pattern fusion -> ONNX Gelu (opset 20; approximate "none" or "tanh").
//   erf:  0.5 * x * (1 + Erf(x / sqrt 2))        (Div by sqrt 2 or Mul by 1/sqrt 2)
//   tanh: 0.5 * x * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))   (Pow 3 or x*x*x)
// The final "0.5 * x * (1 + ...)" is accepted in the associations PyTorch exports:
// ((x * a) * 0.5), ((a * 0.5) * x) and ((x * 0.5) * a). Every value inside the pattern must have
// the pattern as its only reader; x itself may have other readers.
#include "optimize/pass.hpp"
#include "optimize/rewrite_util.hpp"

namespace petrel::opt {
namespace {

// The node that reads v, if it is the only reader and has op type `op`; else -1.
int sole(const GraphView& view, ValueId v, const char* op) {
  const int c = view.sole_consumer(v);
  return c >= 0 && is_op(view.node(c), op) && view.node(c).outputs.size() == 1 ? c : -1;
}

// Producer of v with op type `op` whose output v is read only by `reader`; else -1.
int feeding(const GraphView& view, ValueId v, const char* op, int reader) {
  const int p = view.producer(v);
  if (p < 0 || !is_op(view.node(p), op) || view.sole_consumer(v) != reader) return -1;
  return p;
}

// a = 1 + inner; matches 0.5 * x * a. Appends the nodes and sets `last` to the final Mul.
bool match_tail(const GraphView& view, ValueId a, ValueId x, std::vector<int>& nodes, int& last) {
  const int m1 = sole(view, a, "Mul");
  if (m1 < 0) return false;
  const ValueId o = other_input(view.node(m1), a);
  const ValueId m1_out = view.node(m1).outputs[0];
  if (o == x || scalar_is(view, o, 0.5)) {
    const int m2 = sole(view, m1_out, "Mul");
    if (m2 < 0) return false;
    const ValueId o2 = other_input(view.node(m2), m1_out);
    if (!(o == x ? scalar_is(view, o2, 0.5) : o2 == x)) return false;
    nodes.push_back(m1);
    nodes.push_back(m2);
    last = m2;
    return true;
  }
  const int h = feeding(view, o, "Mul", m1);
  if (h < 0 || other_input(view.node(h), x) == kNoValue || !scalar_is(view, other_input(view.node(h), x), 0.5)) return false;
  nodes.push_back(h);
  nodes.push_back(m1);
  last = m1;
  return true;
}

// The Add(inner, 1) that reads `inner` (the Erf/Tanh output); -1 if absent.
int plus_one(const GraphView& view, ValueId inner) {
  const int a = sole(view, inner, "Add");
  return a >= 0 && scalar_is(view, other_input(view.node(a), inner), 1.0) ? a : -1;
}

// x^3 as Pow(x, 3), Mul(Mul(x, x), x) or Mul(x, Mul(x, x)); returns x or kNoValue.
ValueId cube_base(const GraphView& view, int node, std::vector<int>& nodes) {
  const Node& n = view.node(node);
  if (n.inputs.size() != 2) return kNoValue;
  if (is_op(n, "Pow")) {
    if (!scalar_is(view, n.inputs[1], 3.0, 0)) return kNoValue;
    nodes.push_back(node);
    return n.inputs[0];
  }
  if (!is_op(n, "Mul")) return kNoValue;
  for (int k = 0; k < 2; ++k) {
    const int sq = feeding(view, n.inputs[size_t(k)], "Mul", node);
    if (sq < 0) continue;
    const Node& s = view.node(sq);
    if (s.inputs.size() != 2 || s.inputs[0] != s.inputs[1] || n.inputs[size_t(1 - k)] != s.inputs[0]) continue;
    nodes.push_back(sq);
    nodes.push_back(node);
    return s.inputs[0];
  }
  return kNoValue;
}

class GeluFusionPass final : public Pass {
 public:
  const char* name() const override { return "gelu_fusion"; }
  void run(const GraphView& view, PatchList& out) override {
    for (int i = 0; i < view.num_nodes(); ++i) {
      const Node& n = view.node(i);
      if (n.inputs.size() != 1 || n.outputs.size() != 1) continue;
      std::vector<int> nodes;
      ValueId x = kNoValue;
      bool tanh = false;
      if (is_op(n, "Erf")) x = erf_head(view, i, nodes);
      else if (is_op(n, "Tanh")) { x = tanh_head(view, i, nodes); tanh = true; }
      if (x == kNoValue) continue;
      const int a = plus_one(view, n.outputs[0]);
      if (a < 0) continue;
      nodes.push_back(i);
      nodes.push_back(a);
      int last = -1;
      if (!match_tail(view, view.node(a).outputs[0], x, nodes, last)) continue;
      Patch p;
      p.rule = tanh ? "GeluTanh" : "Gelu";
      for (int k : nodes)
        if (k != last) p.remove.push_back(k);
      Node g = make_node("Gelu", "", {x}, view.node(last).outputs, view.node(last).name);
      g.attrs.push_back(make_attr_string("approximate", tanh ? "tanh" : "none"));
      p.replace.emplace_back(last, std::move(g));
      out.propose(std::move(p));
    }
  }

 private:
  // Erf(x / sqrt 2) or Erf(x * (1 / sqrt 2)): returns x.
  static ValueId erf_head(const GraphView& view, int erf, std::vector<int>& nodes) {
    const ValueId in = view.node(erf).inputs[0];
    int d = feeding(view, in, "Div", erf);
    if (d >= 0 && view.node(d).inputs.size() == 2 && scalar_is(view, view.node(d).inputs[1], 1.4142135623730951)) {
      nodes.push_back(d);
      return view.node(d).inputs[0];
    }
    d = feeding(view, in, "Mul", erf);
    if (d < 0 || view.node(d).inputs.size() != 2) return kNoValue;
    for (int k = 0; k < 2; ++k)
      if (scalar_is(view, view.node(d).inputs[size_t(k)], 0.7071067811865476)) {
        nodes.push_back(d);
        return view.node(d).inputs[size_t(1 - k)];
      }
    return kNoValue;
  }

  // Tanh(sqrt(2/pi) * (x + 0.044715 * x^3)): returns x.
  static ValueId tanh_head(const GraphView& view, int t, std::vector<int>& nodes) {
    const int q = feeding(view, view.node(t).inputs[0], "Mul", t);
    if (q < 0) return kNoValue;
    const Node& qn = view.node(q);
    for (int k = 0; k < 2; ++k) {
      if (qn.inputs.size() != 2 || !scalar_is(view, qn.inputs[size_t(1 - k)], 0.7978845608028654)) continue;
      const int s = feeding(view, qn.inputs[size_t(k)], "Add", q);
      if (s < 0 || view.node(s).inputs.size() != 2) continue;
      for (int j = 0; j < 2; ++j) {
        const ValueId x = view.node(s).inputs[size_t(1 - j)];
        const int pm = feeding(view, view.node(s).inputs[size_t(j)], "Mul", s);
        if (pm < 0 || view.node(pm).inputs.size() != 2) continue;
        for (int c = 0; c < 2; ++c) {
          if (!scalar_is(view, view.node(pm).inputs[size_t(1 - c)], 0.044715)) continue;
          const int cube = view.producer(view.node(pm).inputs[size_t(c)]);
          if (cube < 0 || view.sole_consumer(view.node(pm).inputs[size_t(c)]) != pm) continue;
          std::vector<int> cn;
          if (cube_base(view, cube, cn) != x) continue;
          nodes.insert(nodes.end(), cn.begin(), cn.end());
          nodes.push_back(pm);
          nodes.push_back(s);
          nodes.push_back(q);
          return x;
        }
      }
    }
    return kNoValue;
  }
};

}  // namespace

std::unique_ptr<Pass> make_gelu_fusion_pass() { return std::make_unique<GeluFusionPass>(); }

}  // namespace petrel::opt
