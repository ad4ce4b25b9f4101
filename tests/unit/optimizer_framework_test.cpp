// The optimizer's patch model: application, ordering, verification, rejection of bad patches.
#include <gtest/gtest.h>

#include <functional>

#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {

// A pass that proposes fixed patches once (built by a callback from the view).
class ScriptedPass final : public opt::Pass {
 public:
  using Fn = std::function<void(const opt::GraphView&, opt::PatchList&)>;
  explicit ScriptedPass(Fn f) : f_(std::move(f)) {}
  const char* name() const override { return "scripted"; }
  void run(const opt::GraphView& v, opt::PatchList& out) override {
    if (done_) return;
    done_ = true;
    f_(v, out);
  }

 private:
  Fn f_;
  bool done_ = false;
};

// x -> Relu -> Neg -> Abs -> y
GraphBuilder chain() {
  GraphBuilder b;
  ValueId x = b.input("x", {2, 3});
  ValueId r = b.node("Relu", {x});
  ValueId n = b.node("Neg", {r});
  b.output(b.node("Abs", {n}));
  return b;
}

}  // namespace

TEST(OptimizerFramework, VerifyCatchesBrokenGraphs) {
  GraphBuilder b = chain();
  EXPECT_TRUE(opt::verify_graph(b.graph()).is_ok());
  Graph g = b.graph();
  std::swap(g.nodes[0], g.nodes[1]);  // Neg before the Relu it reads
  EXPECT_FALSE(opt::verify_graph(g).is_ok());
  Graph h = b.graph();
  h.nodes.pop_back();  // the graph output is no longer produced
  EXPECT_FALSE(opt::verify_graph(h).is_ok());
  Graph d = b.graph();
  d.nodes[1].outputs[0] = d.nodes[0].outputs[0];  // defined twice
  EXPECT_FALSE(opt::verify_graph(d).is_ok());
}

TEST(OptimizerFramework, BrokenPatchIsRejectedAndGraphStaysValid) {
  GraphBuilder b = chain();
  opt::PassManager pm;
  pm.add(std::make_unique<ScriptedPass>([](const opt::GraphView& v, opt::PatchList& out) {
    opt::Patch bad;  // removes Neg while Abs still reads it
    bad.rule = "bad";
    bad.remove.push_back(1);
    out.propose(std::move(bad));
    opt::Patch good;  // renames Abs: harmless, must still apply
    good.rule = "good";
    Node abs = v.node(2);
    abs.name = "renamed";
    good.replace.emplace_back(2, abs);
    out.propose(std::move(good));
  }));
  opt::OptimizeStats st;
  Graph g = b.graph();
  ASSERT_TRUE(pm.run(g, {}, &st).is_ok());
  ASSERT_EQ(st.rejected.size(), 1u);
  EXPECT_NE(st.rejected[0].find("bad"), std::string::npos);
  ASSERT_EQ(g.nodes.size(), 3u);
  EXPECT_EQ(g.nodes[2].name, "renamed");
  EXPECT_TRUE(opt::verify_graph(g).is_ok());
}

TEST(OptimizerFramework, RewiresComposeAndNewNodesAreSorted) {
  GraphBuilder b;
  ValueId x = b.input("x", {4});
  ValueId i1 = b.node("Identity", {x});
  ValueId i2 = b.node("Identity", {i1});
  b.output(b.node("Neg", {i2}));
  Graph g = b.graph();
  opt::PassManager pm;
  pm.add(std::make_unique<ScriptedPass>([&](const opt::GraphView& v, opt::PatchList& out) {
    // Two patches from one snapshot: i2 -> i1 and i1 -> x must resolve to x.
    opt::Patch p1, p2;
    p1.remove.push_back(1);
    p1.rewire.emplace_back(i2, i1);
    p2.remove.push_back(0);
    p2.rewire.emplace_back(i1, x);
    out.propose(std::move(p1));
    out.propose(std::move(p2));
    // A new node added at the end but read by an existing node's replacement: re-sorted.
    opt::Patch p3;
    const ValueId t = out.new_value("tmp");
    Node abs = v.node(2);
    abs.op_type = "Identity";  // -x computed by the added node, passed through
    abs.inputs = {t};
    p3.replace.emplace_back(2, abs);
    Node neg;
    neg.name = "added";
    neg.op_type = "Neg";
    neg.inputs = {i2};
    neg.outputs = {t};
    p3.add.emplace_back(3, neg);
    out.propose(std::move(p3));
  }));
  opt::OptimizeStats st;
  ASSERT_TRUE(pm.run(g, {}, &st).is_ok());
  EXPECT_TRUE(st.rejected.empty()) << st.rejected[0];
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].name, "added");
  EXPECT_EQ(g.nodes[0].inputs[0], x);
  EXPECT_EQ(g.outputs, b.graph().outputs);
  auto in = ftensor({4}, {1, -2, 3, -4});
  expect_close(run_graph(g, {in}), run_graph(b.graph(), {in}));
}

TEST(OptimizerFramework, GraphOutputsAndCapturedValuesCannotBeRewired) {
  GraphBuilder b;
  ValueId x = b.input("x", {4});
  ValueId y = b.node("Identity", {x});
  b.output(y);
  Graph g = b.graph();
  opt::PassManager pm;
  pm.add(std::make_unique<ScriptedPass>([&](const opt::GraphView&, opt::PatchList& out) {
    opt::Patch p;
    p.rule = "rewire-output";
    p.remove.push_back(0);
    p.rewire.emplace_back(y, x);
    out.propose(std::move(p));
  }));
  opt::OptimizeStats st;
  ASSERT_TRUE(pm.run(g, {}, &st).is_ok());
  EXPECT_EQ(st.rejected.size(), 1u);
  EXPECT_EQ(g.nodes.size(), 1u);
}

TEST(OptimizerFramework, ConflictingPatchesWaitForTheNextRound) {
  GraphBuilder b = chain();
  Graph g = b.graph();
  int calls = 0;
  opt::PassManager pm;
  class Twice final : public opt::Pass {
   public:
    explicit Twice(int& calls) : calls_(calls) {}
    const char* name() const override { return "twice"; }
    void run(const opt::GraphView& v, opt::PatchList& out) override {
      ++calls_;
      // Both patches touch node 0 (the Relu): only the first may apply in one round.
      for (int k = 0; k < 2 && v.num_nodes() == 3; ++k) {
        opt::Patch p;
        p.rule = "touch";
        Node n = v.node(0);
        n.name.append("_").append(std::to_string(k));
        p.replace.emplace_back(0, n);
        out.propose(std::move(p));
      }
    }
   private:
    int& calls_;
  };
  pm.add(std::make_unique<Twice>(calls));
  opt::OptimizeStats st;
  opt::OptimizeOptions o;
  o.max_iterations = 3;
  ASSERT_TRUE(pm.run(g, o, &st).is_ok());
  EXPECT_EQ(g.nodes[0].name.back(), '0');
  EXPECT_EQ(st.iterations, 3);  // it keeps proposing: bounded by max_iterations
  EXPECT_EQ(calls, 3);
}

TEST(OptimizerFramework, DefaultPipelineOnTheShippedModelKeepsItsInterface) {
  // Fashion-MNIST: Conv+Relu fuse, outputs keep their names and ids.
  GraphBuilder b;
  ValueId x = b.input("x", {-1, 1, 6, 6});
  ValueId w = b.constant(ftensor({2, 1, 3, 3}, ramp(18)));
  ValueId c = b.node("Conv", {x, w}, {a_ints("pads", {1, 1, 1, 1})});
  b.output(b.node("Relu", {c}));
  Graph g = b.graph();
  opt::OptimizeStats st;
  ASSERT_TRUE(opt::optimize_graph(g, &st).is_ok());
  EXPECT_EQ(ops(g)["Conv+Relu"], 1);
  EXPECT_EQ(g.outputs, b.graph().outputs);
  EXPECT_EQ(st.count("activation_fusion"), 1);
  auto in = ftensor({2, 1, 6, 6}, ramp(72));
  expect_close(run_graph(g, {in}), run_graph(b.graph(), {in}));
}
