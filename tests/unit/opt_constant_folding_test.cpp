// Constant folding at load.
#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

TEST(ConstantFolding, FoldsChainsInOneRound) {
  GraphBuilder b;
  ValueId x = b.input("x", {2, 3});
  ValueId c1 = b.constant(ftensor({3, 2}, ramp(6)));
  ValueId t = b.node("Transpose", {c1}, {a_ints("perm", {1, 0})});  // constant -> folded
  ValueId s = b.node("Mul", {t, b.constant(fscalar(2.0f))});
  b.output(b.node("Add", {x, s}));
  opt::OptimizeStats st;
  Graph h = optimize_and_compare(b.graph(), passes(opt::make_constant_folding_pass()), {ftensor({2, 3}, ramp(6, 1, 3))}, &st);
  EXPECT_EQ(ops(h), (std::map<std::string, int>{{"Add", 1}}));
  EXPECT_EQ(st.count("constant_folding"), 2);
  EXPECT_EQ(st.iterations, 2);  // one round folds both, the next finds nothing
  EXPECT_EQ(h.constants.size(), 1u);  // the Transpose input and the scalar were pruned
}

TEST(ConstantFolding, LeavesGraphOutputsRandomOpsAndHugeExpansions) {
  GraphBuilder b;
  ValueId x = b.input("x", {1});
  ValueId out_const = b.node("Neg", {b.constant(fscalar(1.0f))});
  b.output(out_const);  // a graph output keeps its producer
  ValueId r = b.node("RandomUniform", {}, {a_ints("shape", {1})});
  b.output(b.node("Add", {x, r}));
  // Expand of 4 bytes to 1 MiB: over the 2x-its-inputs limit for large outputs.
  ValueId e = b.node("Expand", {b.constant(fscalar(3.0f)), b.constant(itensor({1}, {262144}))});
  b.output(b.node("ReduceSum", {e}, {a_int("keepdims", 0)}));
  Graph h = b.graph();
  opt::PassManager pm;
  pm.add(opt::make_constant_folding_pass());
  opt::OptimizeStats st;
  ASSERT_TRUE(pm.run(h, {}, &st).is_ok());
  EXPECT_EQ(st.count("constant_folding"), 0);
  EXPECT_EQ(h.nodes.size(), b.graph().nodes.size());
}

TEST(ConstantFolding, SmallExpandIsFolded) {
  GraphBuilder b;
  ValueId x = b.input("x", {4, 4});
  ValueId e = b.node("Expand", {b.constant(fscalar(0.5f)), b.constant(itensor({2}, {4, 4}))});
  b.output(b.node("Mul", {x, e}));
  Graph h = optimize_and_compare(b.graph(), passes(opt::make_constant_folding_pass()), {ftensor({4, 4}, ramp(16))});
  EXPECT_EQ(ops(h), (std::map<std::string, int>{{"Mul", 1}}));
}
