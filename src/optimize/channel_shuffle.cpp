// ShuffleNet's channel shuffle, Reshape [N, g, C/g, H, W] -> Transpose [0, 2, 1, 3, 4] ->
// Reshape [N, C, H, W], becomes one petrel.ChannelShuffle{groups = g}. Three nodes that move the
// tensor twice become one that moves it once, and (what matters more) one the XNNPACK provider
// runs natively on NHWC data, so a ShuffleNet block no longer breaks its partition in three.
// Fires only when all three shapes are static and consistent.
#include "optimize/pass.hpp"
#include "optimize/rewrite_util.hpp"

namespace petrel::opt {
namespace {

class ChannelShufflePass final : public Pass {
 public:
  const char* name() const override { return "channel_shuffle"; }
  void run(const GraphView& view, PatchList& out) override {
    for (int t = 0; t < view.num_nodes(); ++t) {
      const Node& tn = view.node(t);
      if (!is_op(tn, "Transpose") || tn.inputs.size() != 1 || tn.outputs.size() != 1) continue;
      auto perm = attr_is(tn, "perm");
      if (!perm || *perm != std::vector<int64_t>{0, 2, 1, 3, 4}) continue;
      const int r1 = view.producer(tn.inputs[0]);
      const int r2 = view.sole_consumer(tn.outputs[0]);
      if (r1 < 0 || r2 < 0 || view.sole_consumer(tn.inputs[0]) != t) continue;
      const Node& a = view.node(r1);
      const Node& b = view.node(r2);
      if (!is_op(a, "Reshape") || !is_op(b, "Reshape") || a.inputs.empty() || a.outputs.size() != 1 || b.outputs.size() != 1) continue;
      const StaticInfo& x = view.info(a.inputs[0]);
      const StaticInfo& mid = view.info(a.outputs[0]);
      const StaticInfo& y = view.info(b.outputs[0]);
      if (!x.has_shape || !mid.has_shape || !y.has_shape || x.shape.size() != 4 || mid.shape.size() != 5) continue;
      const Shape& s = x.shape;
      const int64_t g = mid.shape[1];
      if (g <= 0 || s[1] % g != 0) continue;
      if (mid.shape != Shape{s[0], g, s[1] / g, s[2], s[3]} || y.shape != s) continue;
      Patch p;
      p.rule = "ChannelShuffle";
      p.remove = {r1, t};
      Node cs = make_node("ChannelShuffle", kPetrelDomain, {a.inputs[0]}, b.outputs, b.name);
      cs.attrs.push_back(make_attr_int("groups", g));
      p.replace.emplace_back(r2, std::move(cs));
      out.propose(std::move(p));
    }
  }
};

}  // namespace

std::unique_ptr<Pass> make_channel_shuffle_pass() { return std::make_unique<ChannelShufflePass>(); }

}  // namespace petrel::opt
