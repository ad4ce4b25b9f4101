// Bias fusion: MatMul(A, B) followed by Add of a constant that only varies along the last dim
// becomes petrel.FusedMatMul(A, B, bias[N]) (MatMul(A, B) + bias, then any fused activation).
#include "optimize/pass.hpp"
#include "optimize/rewrite_util.hpp"

namespace petrel::opt {
namespace {

class BiasFusionPass final : public Pass {
 public:
  const char* name() const override { return "bias_fusion"; }
  void run(const GraphView& view, PatchList& out) override {
    for (int i = 0; i < view.num_nodes(); ++i) {
      const Node& mm = view.node(i);
      const bool fused = is_petrel_op(mm, "FusedMatMul");
      if (!(is_op(mm, "MatMul") || (fused && (mm.inputs.size() < 3 || mm.inputs[2] == kNoValue)))) continue;
      if (mm.inputs.size() < 2 || mm.outputs.size() != 1 || has_fused_activation(mm)) continue;
      const ValueId y = mm.outputs[0];
      const int a = view.sole_consumer(y);
      if (a < 0 || !is_op(view.node(a), "Add")) continue;
      const Node& add = view.node(a);
      const ValueId bias = other_input(add, y);
      const Tensor* bt = view.constant(bias);
      if (bt == nullptr || bt->dtype != DataType::kFloat || bt->numel() < 1 || add.outputs.size() != 1) continue;
      // N: the last dim of B, which must be known to tell a per-column bias from a broadcast
      // that would grow the output.
      const Tensor* b = view.constant(mm.inputs[1]);
      const StaticInfo& bi = view.info(mm.inputs[1]);
      Shape bshape = b ? b->shape : bi.shape;
      const DataType bdt = b ? b->dtype : bi.dtype;
      if ((b == nullptr && !bi.has_shape) || bshape.size() < 2 || bdt != DataType::kFloat) continue;
      const int64_t N = bshape.back();
      if (bt->shape.empty() || bt->shape.back() != N || bt->numel() != N) continue;
      if (bt->rank() > 1) {
        // [1, ..., 1, N] must not add dims the MatMul output lacks.
        const StaticInfo& yi = view.info(y);
        const size_t min_rank = bshape.size() - 1;  // A may be 1-D, which drops a dim
        if (!(yi.has_shape ? yi.shape.size() >= size_t(bt->rank()) : min_rank >= size_t(bt->rank()))) continue;
      }
      Patch p;
      p.rule = "MatMul+Add";
      ValueId bias1d = bias;
      if (bt->rank() != 1) {
        bias1d = out.new_value(view.graph().values[size_t(bias)].name);
        Tensor flat = *bt;  // shares the data: only the shape differs
        flat.shape = {N};
        p.constants.emplace_back(bias1d, std::move(flat));
      }
      Node f = mm;
      f.op_type = "FusedMatMul";
      f.domain = kPetrelDomain;
      f.inputs = {mm.inputs[0], mm.inputs[1], bias1d};
      f.outputs = {add.outputs[0]};
      p.replace.emplace_back(i, std::move(f));
      p.remove.push_back(a);
      out.propose(std::move(p));
    }
  }
};

}  // namespace

std::unique_ptr<Pass> make_bias_fusion_pass() { return std::make_unique<BiasFusionPass>(); }

}  // namespace petrel::opt
