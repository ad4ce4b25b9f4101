// Activation fusion into Conv / ConvTranspose / Gemm / MatMul / FusedMatMul, and
// HardSigmoid(x)·x -> HardSwish.
#include "core/fused_activation.hpp"
#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {

struct Act {
  const char* op;
  std::vector<Attribute> attrs;
  const char* fused;  // expected "_petrel_activation"
};

// x -> Conv -> activation -> y
GraphBuilder conv_then(const Act& a, bool clip_bounds = false) {
  GraphBuilder b;
  ValueId x = b.input("x", {1, 2, 4, 4});
  ValueId c = b.node("Conv", {x, b.constant(ftensor({3, 2, 3, 3}, ramp(54, 0.7f))), b.constant(ftensor({3}, {0.1f, -0.2f, 0.3f}))},
                     {a_ints("pads", {1, 1, 1, 1})});
  std::vector<ValueId> in = {c};
  if (clip_bounds) {
    in.push_back(b.constant(fscalar(0.0f)));
    in.push_back(b.constant(fscalar(6.0f)));
  }
  b.output(b.node(a.op, in, a.attrs));
  return b;
}

}  // namespace

TEST(ActivationFusion, EveryActivationIntoConv) {
  const Act acts[] = {
      {"Relu", {}, "Relu"},
      {"LeakyRelu", {a_float("alpha", 0.2f)}, "LeakyRelu"},
      {"Sigmoid", {}, "Sigmoid"},
      {"HardSigmoid", {a_float("alpha", 0.3f), a_float("beta", 0.4f)}, "HardSigmoid"},
      {"HardSwish", {}, "HardSwish"},
      {"Gelu", {}, "Gelu"},
      {"Gelu", {a_str("approximate", "tanh")}, "GeluTanh"},
  };
  const Tensor in = ftensor({1, 2, 4, 4}, ramp(32, 2.0f));
  for (const Act& a : acts) {
    GraphBuilder b = conv_then(a);
    Graph h = optimize_and_compare(b.graph(), passes(opt::make_activation_fusion_pass()), {in});
    ASSERT_EQ(h.nodes.size(), 1u) << a.op;
    EXPECT_EQ(h.nodes[0].attr(kFusedActivationAttr)->s, a.fused);
    EXPECT_EQ(h.nodes[0].outputs[0], b.graph().outputs[0]);  // the activation's output ValueId
  }
  GraphBuilder clip = conv_then({"Clip", {}, "Clip"}, true);
  Graph h = optimize_and_compare(clip.graph(), passes(opt::make_activation_fusion_pass()), {in});
  ASSERT_EQ(h.nodes.size(), 1u);
  auto fa = FusedActivation::from_node(h.nodes[0]);
  ASSERT_TRUE(fa.is_ok());
  EXPECT_EQ(fa->kind, Activation::kClip);
  EXPECT_EQ(fa->p0, 0.0f);
  EXPECT_EQ(fa->p1, 6.0f);
}

TEST(ActivationFusion, SwishAndHardSwishPatterns) {
  const Tensor in = ftensor({1, 2, 4, 4}, ramp(32, 4.0f));
  for (bool hard : {false, true}) {
    GraphBuilder b;
    ValueId x = b.input("x", {1, 2, 4, 4});
    ValueId c = b.node("Conv", {x, b.constant(ftensor({2, 2, 1, 1}, ramp(4)))});
    ValueId g = hard ? b.node("HardSigmoid", {c}, {a_float("alpha", 1.0f / 6.0f), a_float("beta", 0.5f)}) : b.node("Sigmoid", {c});
    b.output(b.node("Mul", {g, c}));
    Graph h = optimize_and_compare(b.graph(), passes(opt::make_hard_swish_pass(), opt::make_activation_fusion_pass()), {in});
    EXPECT_EQ(ops(h), (std::map<std::string, int>{{hard ? "Conv+HardSwish" : "Conv+Swish", 1}}));
  }
}

TEST(ActivationFusion, HardSwishNeedsTheRightConstants) {
  GraphBuilder b;
  ValueId x = b.input("x", {8});
  ValueId g = b.node("HardSigmoid", {x}, {a_float("alpha", 0.2f), a_float("beta", 0.5f)});  // ONNX default, not 1/6
  b.output(b.node("Mul", {x, g}));
  ValueId y = b.input("y", {8});
  ValueId g2 = b.node("HardSigmoid", {y}, {a_float("alpha", 1.0f / 6.0f), a_float("beta", 0.5f)});
  b.output(b.node("Mul", {y, g2}));
  opt::OptimizeStats st;
  Graph h = optimize_and_compare(b.graph(), passes(opt::make_hard_swish_pass()), {ftensor({8}, ramp(8, 5.0f)), ftensor({8}, ramp(8, 5.0f, 2))}, &st);
  EXPECT_EQ(ops(h), (std::map<std::string, int>{{"HardSigmoid", 1}, {"Mul", 1}, {"HardSwish", 1}}));
  EXPECT_EQ(st.count("hard_swish"), 1);
}

TEST(ActivationFusion, GemmMatMulConvTranspose) {
  GraphBuilder b;
  ValueId a = b.input("a", {2, 4});
  b.output(b.node("Relu", {b.node("Gemm", {a, b.constant(ftensor({4, 3}, ramp(12))), b.constant(ftensor({3}, ramp(3)))})}));
  b.output(b.node("Sigmoid", {b.node("MatMul", {a, b.constant(ftensor({4, 5}, ramp(20)))})}));
  ValueId x = b.input("x", {1, 2, 3, 3});
  b.output(b.node("LeakyRelu", {b.node("ConvTranspose", {x, b.constant(ftensor({2, 3, 2, 2}, ramp(24)))}, {a_ints("strides", {2, 2})})}));
  Graph h = optimize_and_compare(b.graph(), passes(opt::make_activation_fusion_pass()), {ftensor({2, 4}, ramp(8)), ftensor({1, 2, 3, 3}, ramp(18))});
  EXPECT_EQ(ops(h), (std::map<std::string, int>{{"Gemm+Relu", 1}, {"MatMul+Sigmoid", 1}, {"ConvTranspose+LeakyRelu", 1}}));
}

TEST(ActivationFusion, LeavesSharedOutputsIntegersAndNonConstantClips) {
  GraphBuilder b;
  ValueId x = b.input("x", {1, 1, 3, 3});
  ValueId c = b.node("Conv", {x, b.constant(ftensor({1, 1, 1, 1}, {2.0f}))});
  b.output(b.node("Relu", {c}));
  b.output(c);  // the pre-activation value is needed too
  ValueId c2 = b.node("Conv", {x, b.constant(ftensor({1, 1, 1, 1}, {3.0f}))});
  b.output(b.node("Clip", {c2, b.node("ReduceMin", {x}, {a_int("keepdims", 0)})}));  // min computed at run time
  ValueId i = b.input("i", {2, 2}, DataType::kInt32);
  b.output(b.node("Relu", {b.node("MatMul", {i, i})}));  // integer MatMul: no float contract
  ValueId c3 = b.node("Conv", {x, b.constant(ftensor({1, 1, 1, 1}, {4.0f}))});
  ValueId already = b.node("Relu", {c3});
  b.output(b.node("Sigmoid", {already}));  // after fusing Relu, Sigmoid must not overwrite it
  auto it = Tensor::allocate(DataType::kInt32, {2, 2});
  for (int k = 0; k < 4; ++k) it->as<int32_t>()[k] = k - 2;
  opt::OptimizeStats st;
  Graph h = optimize_and_compare(b.graph(), passes(opt::make_activation_fusion_pass()), {ftensor({1, 1, 3, 3}, ramp(9)), it.value()}, &st);
  EXPECT_EQ(st.count("activation_fusion"), 1);
  EXPECT_EQ(ops(h)["Conv+Relu"], 1);
  EXPECT_EQ(ops(h)["Sigmoid"], 1);
}
