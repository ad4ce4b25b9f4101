// LayerNorm pattern fusion.
#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {

// x -> mean/var normalisation over the last axis -> * gamma + beta.
GraphBuilder layer_norm(bool pow, bool reciprocal, bool affine, int64_t axis = -1) {
  GraphBuilder b;
  ValueId in = b.input("x", {2, 3, 8});
  ValueId x = b.node("Add", {in, b.constant(fscalar(0.25f))});
  ValueId m = b.node("ReduceMean", {x}, {a_ints("axes", {axis})});
  ValueId d = b.node("Sub", {x, m});
  ValueId sq = pow ? b.node("Pow", {d, b.constant(fscalar(2.0f))}) : b.node("Mul", {d, d});
  ValueId v = b.node("ReduceMean", {sq}, {a_ints("axes", {axis})});
  ValueId s = b.node("Sqrt", {b.node("Add", {v, b.constant(fscalar(1e-5f))})});
  ValueId n = reciprocal ? b.node("Mul", {d, b.node("Reciprocal", {s})}) : b.node("Div", {d, s});
  if (affine) n = b.node("Add", {b.node("Mul", {n, b.constant(ftensor({8}, ramp(8, 1, 4)))}), b.constant(ftensor({8}, ramp(8, 1, 5)))});
  b.output(n);
  return b;
}

}  // namespace

TEST(LayerNormFusion, Forms) {
  for (int form = 0; form < 8; ++form) {
    GraphBuilder b = layer_norm(form & 1, form & 2, form & 4, (form & 1) ? -1 : 2);
    opt::OptimizeStats st;
    Graph h = optimize_and_compare(b.graph(), passes(opt::make_layer_norm_fusion_pass()), {ftensor({2, 3, 8}, ramp(48, 2.0f))}, &st, 1e-4);
    EXPECT_EQ(ops(h), (std::map<std::string, int>{{"Add", 1}, {"LayerNormalization", 1}})) << form;
    const Node& ln = h.nodes.back();
    EXPECT_EQ(ln.inputs.size(), (form & 4) ? 3u : 2u);
    EXPECT_NEAR(ln.attr("epsilon")->f, 1e-5f, 1e-12);
  }
}

TEST(LayerNormFusion, NotOverOtherAxesOrWithSharedIntermediates) {
  GraphBuilder b = layer_norm(true, false, true, 1);
  opt::OptimizeStats st;
  optimize_and_compare(b.graph(), passes(opt::make_layer_norm_fusion_pass()), {ftensor({2, 3, 8}, ramp(48))}, &st);
  EXPECT_EQ(st.count("layer_norm_fusion"), 0);
  GraphBuilder c = layer_norm(true, false, false);
  c.output(c.graph().nodes[2].outputs[0]);  // d = x - mean is an output as well
  optimize_and_compare(c.graph(), passes(opt::make_layer_norm_fusion_pass()), {ftensor({2, 3, 8}, ramp(48))}, &st);
  EXPECT_EQ(st.count("layer_norm_fusion"), 0);
}
