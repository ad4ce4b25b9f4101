// Dead-node elimination.
#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

TEST(DeadNodes, RemovesNodesThatReachNoOutput) {
  GraphBuilder b;
  ValueId x = b.input("x", {2, 3});
  ValueId used = b.node("Relu", {x});
  ValueId dead1 = b.node("Neg", {x});
  b.node("Abs", {dead1});                        // dead chain of two
  auto split = b.node_n("Split", {used, b.constant(itensor({2}, {1, 2}))}, 2, {a_int("axis", 1)});
  b.output(split[0]);                            // split[1] unused, but the node stays
  opt::OptimizeStats st;
  Graph h = optimize_and_compare(b.graph(), {}, {ftensor({2, 3}, ramp(6))}, &st);
  EXPECT_EQ(ops(h), (std::map<std::string, int>{{"Relu", 1}, {"Split", 1}}));
  EXPECT_EQ(st.count("dead_nodes"), 2);
}

TEST(DeadNodes, KeepsNodesWithSubgraphsAndValuesTheyCapture) {
  GraphBuilder b;
  ValueId x = b.input("x", {2});
  ValueId captured = b.node("Neg", {x});
  // An If whose output nobody reads: kept (its body is not analysed), and so is the Neg it captures.
  auto body = std::make_shared<Graph>();
  Attribute then_branch;
  then_branch.name = "then_branch";
  then_branch.type = AttrType::kGraph;
  then_branch.g = body;
  Attribute else_branch = then_branch;
  else_branch.name = "else_branch";
  ValueId c = b.constant(itensor({}, {1}));
  b.node("If", {c}, {then_branch, else_branch});
  b.graph().nodes.back().implicit_inputs.push_back(captured);
  b.output(b.node("Relu", {x}));
  Graph h = b.graph();
  opt::PassManager pm;
  pm.add(opt::make_dead_node_pass());
  ASSERT_TRUE(pm.run(h, {}, nullptr).is_ok());
  EXPECT_EQ(ops(h)["If"], 1);
  EXPECT_EQ(ops(h)["Neg"], 1);
}
