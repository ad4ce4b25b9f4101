// Shape-subgraph simplification.
//  - Shape(x) where x's shape is static becomes a constant (constant folding then resolves the
//    Gather/Concat/Slice chains that read it).
//  - Reshape(x, Concat(..., Shape(x)[d] at position d, ...)) with allowzero = 0: every piece
//    copied from x's own shape at the same position becomes 0 ("copy this dim"), which is what
//    the exporter meant and turns the target into a constant even when the batch dim is dynamic.
#include <algorithm>

#include "optimize/pass.hpp"
#include "optimize/rewrite_util.hpp"

namespace petrel::opt {
namespace {

class ShapeSimplifyPass final : public Pass {
 public:
  const char* name() const override { return "shape_simplify"; }
  void run(const GraphView& view, PatchList& out) override {
    for (int i = 0; i < view.num_nodes(); ++i) {
      const Node& n = view.node(i);
      if (is_op(n, "Shape")) static_shape(view, i, out);
      else if (is_op(n, "Reshape")) reshape(view, i, out);
    }
  }

 private:
  static void static_shape(const GraphView& view, int i, PatchList& out) {
    const Node& n = view.node(i);
    if (n.inputs.size() != 1 || n.outputs.size() != 1 || n.outputs[0] == kNoValue) return;
    if (view.is_graph_output(n.outputs[0]) || view.constant(n.inputs[0])) return;  // folding handles constants
    const StaticInfo& si = view.info(n.inputs[0]);
    if (!si.has_shape) return;
    auto dims = shape_op_result(n, si.shape);
    if (!dims) return;
    Patch p;
    p.rule = "Shape";
    p.remove.push_back(i);
    p.constants.emplace_back(n.outputs[0], int64_tensor({int64_t(dims->size())}, *dims));
    out.propose(std::move(p));
  }

  // The dim of `x` that value `v` (a 1-element int64 tensor) copies, or -1.
  static int64_t copied_dim(const GraphView& view, ValueId v, ValueId x) {
    int prod = view.producer(v);
    if (prod < 0) return -1;
    const Node* n = &view.node(prod);
    bool unsqueezed = false;
    if (is_op(*n, "Unsqueeze")) {
      // Scalar -> [1]: axes must be {0}.
      if (n->inputs.size() != 2) return -1;
      const Tensor* axes = view.constant(n->inputs[1]);
      if (axes == nullptr || axes->numel() != 1 || element_as_int64(*axes, 0) != 0) return -1;
      prod = view.producer(n->inputs[0]);
      if (prod < 0) return -1;
      n = &view.node(prod);
      unsqueezed = true;
    }
    if (!is_op(*n, "Gather") || n->inputs.size() != 2 || attr_i(*n, "axis", 0) != 0) return -1;
    const Tensor* idx = view.constant(n->inputs[1]);
    if (idx == nullptr || idx->numel() != 1 || !dtype_is_integer(idx->dtype)) return -1;
    if ((unsqueezed && idx->rank() != 0) || (!unsqueezed && idx->rank() != 1)) return -1;
    const int64_t d = element_as_int64(*idx, 0);
    const int sp = view.producer(n->inputs[0]);
    if (d < 0 || sp < 0) return -1;
    const Node& shape = view.node(sp);
    if (!is_op(shape, "Shape") || shape.inputs.size() != 1 || shape.inputs[0] != x) return -1;
    auto start = attr_i(shape, "start", 0);
    if (!start || *start < 0) return -1;
    return *start + d;
  }

  static void reshape(const GraphView& view, int i, PatchList& out) {
    const Node& n = view.node(i);
    if (n.inputs.size() != 2 || view.constant(n.inputs[1]) || attr_i(n, "allowzero", 0) != 0) return;
    const ValueId x = n.inputs[0];
    const int cp = view.producer(n.inputs[1]);
    if (cp < 0) return;
    const Node& concat = view.node(cp);
    if (!is_op(concat, "Concat") || attr_i(concat, "axis", 0) != 0) return;
    std::vector<int64_t> target;
    bool copied = false;
    for (ValueId piece : concat.inputs) {
      if (piece == kNoValue) return;
      if (const Tensor* t = view.constant(piece)) {
        if (t->rank() != 1 || !dtype_is_integer(t->dtype)) return;
        for (int64_t k = 0; k < t->numel(); ++k) target.push_back(element_as_int64(*t, k));
        continue;
      }
      // A dim of x copied to the position it came from is exactly what 0 means.
      if (copied_dim(view, piece, x) != int64_t(target.size())) return;
      target.push_back(0);
      copied = true;
    }
    if (!copied) return;
    Patch p;
    p.rule = "Reshape(x, Shape(x)...)";
    const ValueId c = out.new_value(view.graph().values[size_t(n.inputs[1])].name);
    p.constants.emplace_back(c, int64_tensor({int64_t(target.size())}, target));
    Node nr = n;
    nr.inputs[1] = c;
    p.replace.emplace_back(i, std::move(nr));
    out.propose(std::move(p));
  }
};

}  // namespace

std::unique_ptr<Pass> make_shape_simplify_pass() { return std::make_unique<ShapeSimplifyPass>(); }

}  // namespace petrel::opt
