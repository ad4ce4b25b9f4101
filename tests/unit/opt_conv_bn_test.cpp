// Conv + BatchNormalization folding.
#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {

void conv_bn(bool conv_bias) {
  GraphBuilder b;
  ValueId x = b.input("x", {1, 3, 5, 5});
  std::vector<ValueId> in = {x, b.constant(ftensor({4, 3, 3, 3}, ramp(108, 0.5f)))};
  if (conv_bias) in.push_back(b.constant(ftensor({4}, ramp(4, 1.0f, 7))));
  ValueId c = b.node("Conv", in, {a_ints("pads", {1, 1, 1, 1})});
  std::vector<float> var = ramp(4, 0.5f, 9);
  for (float& v : var) v = std::fabs(v) + 0.1f;
  ValueId y = b.node("BatchNormalization", {c, b.constant(ftensor({4}, ramp(4, 1.0f, 3))), b.constant(ftensor({4}, ramp(4, 1.0f, 4))),
                                            b.constant(ftensor({4}, ramp(4, 0.3f, 5))), b.constant(ftensor({4}, var))},
                     {a_float("epsilon", 1e-3f)});
  b.output(b.node("Relu", {y}));
  opt::OptimizeStats st;
  Graph h = optimize_and_compare(b.graph(), passes(opt::make_conv_bn_pass(), opt::make_activation_fusion_pass()),
                                 {ftensor({1, 3, 5, 5}, ramp(75))}, &st, 1e-4);
  EXPECT_EQ(ops(h), (std::map<std::string, int>{{"Conv+Relu", 1}}));
  EXPECT_EQ(st.count("conv_bn"), 1);
  EXPECT_EQ(h.nodes[0].inputs.size(), 3u);
}

}  // namespace

TEST(ConvBn, FoldsWithAndWithoutConvBias) {
  conv_bn(true);
  conv_bn(false);
}

TEST(ConvBn, SkipsSharedOutputsAndTrainingMode) {
  GraphBuilder b;
  ValueId x = b.input("x", {1, 1, 2, 2});
  ValueId c = b.node("Conv", {x, b.constant(ftensor({1, 1, 1, 1}, {2.0f}))});
  auto p = [&](float v) { return b.constant(ftensor({1}, {v})); };
  b.output(b.node("BatchNormalization", {c, p(1), p(0), p(0), p(1)}));
  b.output(c);  // the Conv output is read elsewhere: folding would change it
  ValueId c2 = b.node("Conv", {x, b.constant(ftensor({1, 1, 1, 1}, {2.0f}))});
  b.output(b.node("BatchNormalization", {c2, p(1), p(0), p(0), p(1)}, {a_int("training_mode", 1)}));
  Graph h = b.graph();
  opt::PassManager pm;
  pm.add(opt::make_conv_bn_pass());
  opt::OptimizeStats st;
  ASSERT_TRUE(pm.run(h, {}, &st).is_ok());
  EXPECT_EQ(st.count("conv_bn"), 0);
}
