// Identity / Dropout / identity Reshape removal and Transpose composition.
#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

TEST(IdentityElimination, IdentityDropoutAndNoOpReshape) {
  GraphBuilder b;
  ValueId x = b.input("x", {2, 3});
  ValueId r = b.node("Relu", {x});
  ValueId i = b.node("Identity", {r});
  ValueId d = b.node("Dropout", {i, b.constant(fscalar(0.5f))});
  ValueId s = b.node("Reshape", {d, b.constant(itensor({2}, {2, 3}))});
  ValueId t = b.node("Reshape", {s, b.constant(itensor({2}, {3, 2}))});  // a real reshape: stays
  b.output(b.node("Neg", {t}));
  opt::OptimizeStats st;
  Graph h = optimize_and_compare(b.graph(), passes(opt::make_identity_elimination_pass()), {ftensor({2, 3}, ramp(6))}, &st);
  EXPECT_EQ(ops(h), (std::map<std::string, int>{{"Relu", 1}, {"Reshape", 1}, {"Neg", 1}}));
  EXPECT_EQ(st.count("identity_elimination"), 3);
}

TEST(IdentityElimination, GraphOutputKeepsItsIdViaTheProducer) {
  GraphBuilder b;
  ValueId x = b.input("x", {4});
  ValueId y = b.node("Identity", {b.node("Neg", {x})});
  b.output(y);
  ValueId z = b.node("Identity", {x});  // x is a graph input: nothing to rename, stays
  b.output(z);
  Graph h = optimize_and_compare(b.graph(), passes(opt::make_identity_elimination_pass()), {ftensor({4}, ramp(4))});
  EXPECT_EQ(ops(h), (std::map<std::string, int>{{"Neg", 1}, {"Identity", 1}}));
  EXPECT_EQ(h.nodes[0].outputs[0], y);
}

TEST(IdentityElimination, TrainingDropoutAndUsedMaskStay) {
  GraphBuilder b;
  ValueId x = b.input("x", {4});
  auto d = b.node_n("Dropout", {x}, 2);
  b.output(b.node("Neg", {d[0]}));
  b.output(d[1]);  // the mask is read
  opt::OptimizeStats st;
  optimize_and_compare(b.graph(), passes(opt::make_identity_elimination_pass()), {ftensor({4}, ramp(4))}, &st);
  EXPECT_EQ(st.count("identity_elimination"), 0);
}

TEST(IdentityElimination, TransposePairs) {
  GraphBuilder b;
  ValueId x = b.input("x", {2, 3, 4});
  ValueId t1 = b.node("Transpose", {x}, {a_ints("perm", {1, 2, 0})});
  ValueId t2 = b.node("Transpose", {t1}, {a_ints("perm", {2, 0, 1})});  // inverse of t1
  ValueId u1 = b.node("Transpose", {b.node("Relu", {t2})}, {a_ints("perm", {0, 2, 1})});
  ValueId u2 = b.node("Transpose", {u1}, {a_ints("perm", {1, 0, 2})});  // composes to one Transpose
  b.output(b.node("Neg", {u2}));
  ValueId v = b.node("Transpose", {x}, {a_ints("perm", {0, 1, 2})});  // identity perm
  b.output(b.node("Abs", {v}));
  Graph h = optimize_and_compare(b.graph(), passes(opt::make_identity_elimination_pass()), {ftensor({2, 3, 4}, ramp(24))});
  EXPECT_EQ(ops(h), (std::map<std::string, int>{{"Relu", 1}, {"Transpose", 1}, {"Neg", 1}, {"Abs", 1}}));
}
