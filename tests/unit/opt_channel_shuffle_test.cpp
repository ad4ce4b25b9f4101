// Reshape [N, g, C/g, H, W] -> Transpose [0, 2, 1, 3, 4] -> Reshape [N, C, H, W] becomes
// petrel.ChannelShuffle; outputs must not change, and near-misses must be left alone.
#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {

// x [2, 6, 3, 5] shuffled in `g` groups through the three nodes, then Neg so the result is
// not the graph's input.
ValueId shuffle(GraphBuilder& b, ValueId x, int64_t g, std::vector<int64_t> perm = {0, 2, 1, 3, 4}) {
  ValueId r1 = b.node("Reshape", {x, b.constant(itensor({5}, {2, g, 6 / g, 3, 5}))});
  ValueId t = b.node("Transpose", {r1}, {a_ints("perm", std::move(perm))});
  return b.node("Reshape", {t, b.constant(itensor({4}, {2, 6, 3, 5}))});
}

}  // namespace

TEST(ChannelShuffle, ThreeNodesBecomeOne) {
  for (int64_t g : {2, 3}) {
    GraphBuilder b;
    ValueId x = b.input("x", {2, 6, 3, 5});
    b.output(b.node("Neg", {shuffle(b, b.node("Relu", {x}), g)}));
    opt::OptimizeStats st;
    Graph h = optimize_and_compare(b.graph(), passes(opt::make_channel_shuffle_pass()), {ftensor({2, 6, 3, 5}, ramp(180))}, &st);
    EXPECT_EQ(ops(h), (std::map<std::string, int>{{"Relu", 1}, {"petrel.ChannelShuffle", 1}, {"Neg", 1}})) << "groups " << g;
    EXPECT_EQ(st.count("channel_shuffle"), 1);
  }
}

TEST(ChannelShuffle, OtherPermutationsAndSharedValuesStay) {
  GraphBuilder b;
  ValueId x = b.input("x", {2, 6, 3, 5});
  b.output(b.node("Neg", {shuffle(b, x, 2, {0, 1, 2, 4, 3})}));  // not a channel shuffle
  opt::OptimizeStats st;
  optimize_and_compare(b.graph(), passes(opt::make_channel_shuffle_pass()), {ftensor({2, 6, 3, 5}, ramp(180))}, &st);
  EXPECT_EQ(st.count("channel_shuffle"), 0);

  GraphBuilder c;
  ValueId y = c.input("y", {2, 6, 3, 5});
  ValueId r1 = c.node("Reshape", {y, c.constant(itensor({5}, {2, 2, 3, 3, 5}))});
  ValueId t = c.node("Transpose", {r1}, {a_ints("perm", {0, 2, 1, 3, 4})});
  c.output(c.node("Reshape", {t, c.constant(itensor({4}, {2, 6, 3, 5}))}));
  c.output(c.node("Abs", {r1}));  // the 5-D view is read elsewhere: the pattern must stay
  opt::OptimizeStats st2;
  optimize_and_compare(c.graph(), passes(opt::make_channel_shuffle_pass()), {ftensor({2, 6, 3, 5}, ramp(180))}, &st2);
  EXPECT_EQ(st2.count("channel_shuffle"), 0);
}
