// qdq_pool_fusion + petrel.QGlobalAveragePool / QAveragePool / QConcat: golden tests. Each graph
// is the fake-quant float path (QuantizeLinear / DequantizeLinear around the float op, on the
// reference kernels); after the pass the fused op must give the same quantized result within one
// output quantization step (a Concat of equal parameters: exactly), at every x86 level.
#include "kernels/x86/isa.hpp"
#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {

Tensor zp_of(DataType dt, int64_t v) {
  Tensor t = Tensor::allocate(dt, {}).value();
  if (dt == DataType::kUInt8) t.as<uint8_t>()[0] = uint8_t(v);
  else t.as<int8_t>()[0] = int8_t(v);
  return t;
}

struct B {
  GraphBuilder b;
  ValueId q(ValueId x, float s, int64_t zp, DataType t) {
    return b.node("QuantizeLinear", {x, b.constant(fscalar(s)), b.constant(zp_of(t, zp))});
  }
  ValueId qdq(ValueId x, float s, int64_t zp, DataType t) {
    ValueId sv = b.constant(fscalar(s)), zv = b.constant(zp_of(t, zp));
    return b.node("DequantizeLinear", {b.node("QuantizeLinear", {x, sv, zv}), sv, zv});
  }
};

std::vector<x86::Isa> levels() {
  std::vector<x86::Isa> v;
  for (x86::Isa i : {x86::Isa::kPortable, x86::Isa::kAvx2, x86::Isa::kAvx512})
    if (x86::isa_supported(i)) v.push_back(i);
  return v;
}

// Runs g before and after qdq_fusion + qdq_pool_fusion; outputs within `step` (0: equal).
Graph check(const Graph& g, const std::vector<Tensor>& in, double step, const std::string& want_op, int want_count = 1) {
  const std::vector<Tensor> want = run_graph(g, in);
  Graph h = g;
  opt::PassManager pm;
  pm.add(opt::make_qdq_fusion_pass());
  pm.add(opt::make_qdq_pool_fusion_pass());
  pm.add(opt::make_dead_node_pass());
  opt::OptimizeStats st;
  EXPECT_TRUE(pm.run(h, {}, &st).is_ok());
  EXPECT_TRUE(st.rejected.empty());
  const auto o = ops(h);
  EXPECT_EQ(o.count(want_op) ? o.at(want_op) : 0, want_count) << want_op;
  for (x86::Isa isa : levels()) {
    x86::set_isa(isa);
    const std::vector<Tensor> got = run_graph(h, in);
    EXPECT_EQ(got.size(), want.size());
    for (size_t k = 0; k < got.size() && k < want.size(); ++k) {
      EXPECT_EQ(got[k].shape, want[k].shape);
      EXPECT_EQ(got[k].dtype, want[k].dtype);
      int bad = 0;
      for (int64_t i = 0; i < want[k].numel() && i < got[k].numel(); ++i) {
        const double x = element_as_double(got[k], i), y = element_as_double(want[k], i);
        if (std::fabs(x - y) > step * 1.001 && bad++ < 5)
          ADD_FAILURE() << x86::isa_name(isa) << " " << want_op << " element " << i << ": " << x << " vs " << y;
      }
    }
  }
  x86::reset_isa();
  return h;
}

void global_pool(const Shape& xs, DataType t) {
  B q;
  ValueId x = q.b.input("x", xs);
  const int64_t zx = t == DataType::kUInt8 ? 120 : -7, zy = t == DataType::kUInt8 ? 131 : 3;
  // Quantized output straight out (no trailing DQ): the int8 results themselves are compared.
  q.b.output(q.q(q.b.node("GlobalAveragePool", {q.qdq(x, 4.0f / 255, zx, t)}), 1.5f / 255, zy, t));
  int64_t n = 1;
  for (int64_t d : xs) n *= d;
  check(q.b.graph(), {ftensor(xs, ramp(n, 1.0f, 3))}, 1.0, "petrel.QGlobalAveragePool");
}

void avg_pool(const Shape& xs, int64_t k, int64_t s, int64_t pad, int64_t cip, int64_t ceil, DataType t) {
  B q;
  ValueId x = q.b.input("x", xs);
  const int64_t z = t == DataType::kUInt8 ? 128 : 0;
  std::vector<Attribute> at = {a_ints("kernel_shape", {k, k}), a_ints("strides", {s, s}), a_ints("pads", {pad, pad, pad, pad}),
                               a_int("count_include_pad", cip), a_int("ceil_mode", ceil)};
  q.b.output(q.q(q.b.node("AveragePool", {q.qdq(x, 4.0f / 255, z, t)}, at), 3.0f / 255, z, t));
  int64_t n = 1;
  for (int64_t d : xs) n *= d;
  check(q.b.graph(), {ftensor(xs, ramp(n, 1.0f, 4))}, 1.0, "petrel.QAveragePool");
}

}  // namespace

TEST(QdqPoolFusion, GlobalAveragePool) {
  global_pool({2, 5, 7, 9}, DataType::kUInt8);
  global_pool({1, 3, 1, 1}, DataType::kUInt8);
  global_pool({1, 17, 13, 13}, DataType::kInt8);
  global_pool({2, 4, 30}, DataType::kInt8);  // 1-D spatial
}

TEST(QdqPoolFusion, AveragePool) {
  avg_pool({1, 3, 9, 11}, 3, 2, 1, 0, 0, DataType::kUInt8);
  avg_pool({1, 3, 9, 11}, 3, 2, 1, 1, 0, DataType::kUInt8);
  avg_pool({2, 2, 10, 7}, 3, 2, 1, 0, 1, DataType::kInt8);  // ceil_mode: windows past the padding
  avg_pool({2, 2, 10, 7}, 3, 2, 1, 1, 1, DataType::kUInt8);
  avg_pool({1, 4, 8, 8}, 2, 2, 0, 0, 0, DataType::kInt8);
}

TEST(QdqPoolFusion, ConcatEqualParametersIsACopy) {
  B q;
  const DataType t = DataType::kUInt8;
  ValueId a = q.b.input("a", {2, 3, 4}), b = q.b.input("b", {2, 5, 4});
  ValueId c = q.b.node("Concat", {q.qdq(a, 0.02f, 100, t), q.qdq(b, 0.02f, 100, t)}, {a_int("axis", 1)});
  q.b.output(q.q(c, 0.02f, 100, t));
  check(q.b.graph(), {ftensor({2, 3, 4}, ramp(24, 1.0f, 1)), ftensor({2, 5, 4}, ramp(40, 1.0f, 2))}, 0.0, "petrel.QConcat");
}

TEST(QdqPoolFusion, ConcatRequantizes) {
  for (int64_t axis : {0, 1, -1}) {
    B q;
    ValueId a = q.b.input("a", {3, 4, 5}), b = q.b.input("b", {3, 4, 5}), c = q.b.input("c", {3, 4, 5});
    // Different scales, zero points and even types; the output s8.
    ValueId cat = q.b.node("Concat", {q.qdq(a, 0.02f, 100, DataType::kUInt8), q.qdq(b, 0.013f, -5, DataType::kInt8),
                                      q.qdq(c, 0.02f, 3, DataType::kInt8)},
                           {a_int("axis", axis)});
    q.b.output(q.q(cat, 0.02f, 3, DataType::kInt8));
    check(q.b.graph(), {ftensor({3, 4, 5}, ramp(60, 1.5f, 1)), ftensor({3, 4, 5}, ramp(60, 1.0f, 2)), ftensor({3, 4, 5}, ramp(60, 1.0f, 3))}, 1.0,
          "petrel.QConcat");
  }
}

TEST(QdqPoolFusion, ChainsAfterQConv) {
  // Conv -> Q -> DQ -> GlobalAveragePool -> Q: qdq_fusion makes the QConv first, whose output
  // dtype the optimizer does not know; the pool still fuses.
  B q;
  const DataType t = DataType::kUInt8;
  ValueId x = q.b.input("x", {1, 4, 6, 6});
  Tensor w = Tensor::allocate(DataType::kInt8, {8, 4, 3, 3}).value();
  std::vector<float> r = ramp(w.numel(), 1.0f, 9);
  for (int64_t i = 0; i < w.numel(); ++i) w.as<int8_t>()[i] = int8_t(std::lround(r[size_t(i)] * 60));
  ValueId wv = q.b.node("DequantizeLinear", {q.b.constant(std::move(w)), q.b.constant(fscalar(0.01f))});
  ValueId y = q.b.node("Conv", {q.qdq(x, 4.0f / 255, 128, t), wv}, {a_ints("pads", {1, 1, 1, 1})});
  ValueId p = q.b.node("GlobalAveragePool", {q.qdq(y, 0.05f, 128, t)});
  q.b.output(q.q(p, 0.02f, 128, t));
  Graph h = check(q.b.graph(), {ftensor({1, 4, 6, 6}, ramp(144, 1.0f, 8))}, 1.0, "petrel.QGlobalAveragePool");
  EXPECT_EQ(ops(h).count("petrel.QConv"), 1u);
}

TEST(QdqPoolFusion, LeavesFloatResultsAndPerChannelAlone) {
  B q;
  ValueId x = q.b.input("x", {1, 3, 4, 4});
  q.b.output(q.b.node("GlobalAveragePool", {q.qdq(x, 0.02f, 128, DataType::kUInt8)}));  // float out
  Graph h = q.b.graph();
  opt::PassManager pm;
  pm.add(opt::make_qdq_pool_fusion_pass());
  opt::OptimizeStats st;
  ASSERT_TRUE(pm.run(h, {}, &st).is_ok());
  EXPECT_EQ(st.count("qdq_pool_fusion"), 0);
}
