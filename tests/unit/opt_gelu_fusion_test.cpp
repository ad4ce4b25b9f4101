// GELU pattern fusion (erf and tanh forms, in the associations exporters write).
#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {

enum class Tail { kXaHalf, kAHalfX, kHalfXA };

// 0.5 * x * a in one of three associations.
ValueId tail(GraphBuilder& b, ValueId x, ValueId a, Tail t) {
  ValueId half = b.constant(fscalar(0.5f));
  switch (t) {
    case Tail::kXaHalf: return b.node("Mul", {b.node("Mul", {x, a}), half});
    case Tail::kAHalfX: return b.node("Mul", {b.node("Mul", {a, half}), x});
    case Tail::kHalfXA: return b.node("Mul", {b.node("Mul", {x, half}), a});
  }
  return kNoValue;
}

Graph fuse(GraphBuilder& b, const char* want_approx, int want_count = 1) {
  opt::OptimizeStats st;
  Graph h = optimize_and_compare(b.graph(), passes(opt::make_gelu_fusion_pass()), {ftensor({2, 8}, ramp(16, 3.0f))}, &st, 1e-5);
  EXPECT_EQ(st.count("gelu_fusion"), want_count);
  if (want_count > 0) {
    EXPECT_EQ(ops(h)["Gelu"], want_count);
    for (const Node& n : h.nodes) {
      if (n.op_type == "Gelu") { EXPECT_EQ(n.attr("approximate")->s, want_approx); }
    }
  }
  return h;
}

}  // namespace

TEST(GeluFusion, ErfForms) {
  for (Tail t : {Tail::kXaHalf, Tail::kAHalfX, Tail::kHalfXA}) {
    for (bool div : {true, false}) {
      GraphBuilder b;
      ValueId in = b.input("x", {2, 8});
      ValueId x = b.node("Neg", {in});  // x has other readers too: the pattern's Div and Mul
      ValueId d = div ? b.node("Div", {x, b.constant(fscalar(1.4142135f))}) : b.node("Mul", {b.constant(fscalar(0.70710678f)), x});
      ValueId a = b.node("Add", {b.constant(fscalar(1.0f)), b.node("Erf", {d})});
      b.output(tail(b, x, a, t));
      Graph h = fuse(b, "none");
      EXPECT_EQ(ops(h), (std::map<std::string, int>{{"Neg", 1}, {"Gelu", 1}}));
    }
  }
}

TEST(GeluFusion, TanhForms) {
  for (bool pow : {true, false}) {
    GraphBuilder b;
    ValueId x = b.input("x", {2, 8});
    ValueId cube = pow ? b.node("Pow", {x, b.constant(fscalar(3.0f))}) : b.node("Mul", {b.node("Mul", {x, x}), x});
    ValueId inner = b.node("Add", {x, b.node("Mul", {cube, b.constant(fscalar(0.044715f))})});
    ValueId q = b.node("Mul", {b.constant(fscalar(0.7978845608f)), inner});
    ValueId a = b.node("Add", {b.node("Tanh", {q}), b.constant(fscalar(1.0f))});
    b.output(tail(b, x, a, Tail::kXaHalf));
    Graph h = fuse(b, "tanh");
    EXPECT_EQ(h.nodes.size(), 1u);
  }
}

TEST(GeluFusion, WrongConstantsOrSharedValuesDoNotFuse) {
  GraphBuilder b;
  ValueId x = b.input("x", {2, 8});
  ValueId a = b.node("Add", {b.node("Erf", {b.node("Div", {x, b.constant(fscalar(2.0f))})}), b.constant(fscalar(1.0f))});
  b.output(tail(b, x, a, Tail::kXaHalf));  // x / 2 is not GELU
  ValueId e = b.node("Erf", {b.node("Div", {x, b.constant(fscalar(1.4142135f))})});
  ValueId a2 = b.node("Add", {e, b.constant(fscalar(1.0f))});
  b.output(tail(b, x, a2, Tail::kXaHalf));
  b.output(e);  // the Erf value is needed elsewhere
  fuse(b, "none", 0);
}
