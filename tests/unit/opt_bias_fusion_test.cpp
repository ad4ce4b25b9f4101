// MatMul + Add(bias) -> petrel.FusedMatMul.
#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

TEST(BiasFusion, MatMulAddBecomesFusedMatMulThenTakesGelu) {
  GraphBuilder b;
  ValueId x = b.input("x", {2, 3, 4});
  ValueId mm = b.node("MatMul", {x, b.constant(ftensor({4, 5}, ramp(20)))});
  ValueId add = b.node("Add", {b.constant(ftensor({5}, ramp(5, 1, 2))), mm});  // bias first, as PyTorch writes it
  b.output(b.node("Gelu", {add}));
  opt::OptimizeStats st;
  Graph h = optimize_and_compare(b.graph(), passes(opt::make_bias_fusion_pass(), opt::make_activation_fusion_pass()),
                                 {ftensor({2, 3, 4}, ramp(24))}, &st);
  EXPECT_EQ(ops(h), (std::map<std::string, int>{{"petrel.FusedMatMul+Gelu", 1}}));
  EXPECT_EQ(h.nodes[0].inputs.size(), 3u);
  EXPECT_EQ(st.count("bias_fusion"), 1);
}

TEST(BiasFusion, RowBiasIsFlattened) {
  GraphBuilder b;
  ValueId x = b.input("x", {3, 4});
  ValueId mm = b.node("MatMul", {x, b.constant(ftensor({4, 2}, ramp(8)))});
  b.output(b.node("Add", {mm, b.constant(ftensor({1, 2}, {0.5f, -1.5f}))}));
  Graph h = optimize_and_compare(b.graph(), passes(opt::make_bias_fusion_pass()), {ftensor({3, 4}, ramp(12))});
  ASSERT_EQ(ops(h), (std::map<std::string, int>{{"petrel.FusedMatMul", 1}}));
  EXPECT_EQ(h.constant(h.nodes[0].inputs[2])->shape, (Shape{2}));
}

TEST(BiasFusion, LeavesBroadcastsThatAreNotPerColumn) {
  GraphBuilder b;
  ValueId x = b.input("x", {3, 4});
  ValueId w = b.constant(ftensor({4, 2}, ramp(8)));
  b.output(b.node("Add", {b.node("MatMul", {x, w}), b.constant(ftensor({3, 1}, {1, 2, 3}))}));     // per row
  b.output(b.node("Add", {b.node("MatMul", {x, w}), b.constant(ftensor({2, 3, 2}, ramp(12)))}));  // grows the rank
  b.output(b.node("Add", {b.node("MatMul", {x, w}), b.node("Neg", {b.node("MatMul", {x, w})})}));  // not a constant
  opt::OptimizeStats st;
  optimize_and_compare(b.graph(), passes(opt::make_bias_fusion_pass()), {ftensor({3, 4}, ramp(12))}, &st);
  EXPECT_EQ(st.count("bias_fusion"), 0);
}
