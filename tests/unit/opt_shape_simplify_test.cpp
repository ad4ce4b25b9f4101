// Shape-subgraph simplification.
#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

TEST(ShapeSimplify, StaticShapeChainsBecomeConstants) {
  // Reshape(x, [Shape(x)[0], -1]) with a static x: the whole chain folds.
  GraphBuilder b;
  ValueId x = b.input("x", {2, 3, 4});
  ValueId r = b.node("Relu", {x});
  ValueId d0 = b.node("Gather", {b.node("Shape", {r}), b.constant(itensor({}, {0}))});
  ValueId dims = b.node("Concat", {b.node("Unsqueeze", {d0, b.constant(itensor({1}, {0}))}), b.constant(itensor({1}, {-1}))}, {a_int("axis", 0)});
  b.output(b.node("Reshape", {r, dims}));
  opt::OptimizeStats st;
  Graph h = optimize_and_compare(b.graph(), passes(opt::make_shape_simplify_pass(), opt::make_constant_folding_pass()),
                                 {ftensor({2, 3, 4}, ramp(24))}, &st);
  EXPECT_EQ(ops(h), (std::map<std::string, int>{{"Relu", 1}, {"Reshape", 1}}));
  EXPECT_GE(st.count("shape_simplify"), 1);
  EXPECT_EQ(st.iterations, 2);  // one round resolves the chain
  const Tensor* target = h.constant(h.nodes[1].inputs[1]);
  ASSERT_NE(target, nullptr);
  EXPECT_TRUE(target->as<int64_t>()[0] == 2 || target->as<int64_t>()[0] == 0);  // 0: copy dim 0
}

TEST(ShapeSimplify, DynamicBatchCopiesTheDimWithZero) {
  GraphBuilder b;
  ValueId x = b.input("x", {-1, 3, 4});
  ValueId r = b.node("Relu", {x});
  ValueId d0 = b.node("Gather", {b.node("Shape", {r}), b.constant(itensor({}, {0}))});
  ValueId dims = b.node("Concat", {b.node("Unsqueeze", {d0, b.constant(itensor({1}, {0}))}), b.constant(itensor({1}, {12}))}, {a_int("axis", 0)});
  b.output(b.node("Reshape", {r, dims}));
  opt::OptimizeStats st;
  Graph h = optimize_and_compare(b.graph(), passes(opt::make_shape_simplify_pass()), {ftensor({5, 3, 4}, ramp(60))}, &st);
  EXPECT_EQ(ops(h), (std::map<std::string, int>{{"Relu", 1}, {"Reshape", 1}}));
  const Tensor* target = h.constant(h.nodes[1].inputs[1]);
  ASSERT_NE(target, nullptr);
  EXPECT_EQ(target->as<int64_t>()[0], 0);
  EXPECT_EQ(target->as<int64_t>()[1], 12);
  // Other batch sizes still work: 0 copies whatever the batch is.
  expect_close(run_graph(h, {ftensor({2, 3, 4}, ramp(24))}), run_graph(b.graph(), {ftensor({2, 3, 4}, ramp(24))}));
}

TEST(ShapeSimplify, DimFromAnotherTensorOrPositionIsKept) {
  GraphBuilder b;
  ValueId x = b.input("x", {-1, 3, 4});
  ValueId y = b.input("y", {-1, 12});
  ValueId d0 = b.node("Gather", {b.node("Shape", {y}), b.constant(itensor({}, {0}))});  // y's batch, not x's
  ValueId dims = b.node("Concat", {b.node("Unsqueeze", {d0, b.constant(itensor({1}, {0}))}), b.constant(itensor({1}, {-1}))}, {a_int("axis", 0)});
  b.output(b.node("Reshape", {x, dims}));
  ValueId d1 = b.node("Gather", {b.node("Shape", {x}), b.constant(itensor({1}, {0}))});  // x's dim 0 at position 1
  b.output(b.node("Reshape", {x, b.node("Concat", {b.constant(itensor({1}, {-1})), d1}, {a_int("axis", 0)})}));
  opt::OptimizeStats st;
  optimize_and_compare(b.graph(), passes(opt::make_shape_simplify_pass()), {ftensor({2, 3, 4}, ramp(24)), ftensor({2, 12}, ramp(24))}, &st);
  EXPECT_EQ(st.count("shape_simplify"), 0);
}
