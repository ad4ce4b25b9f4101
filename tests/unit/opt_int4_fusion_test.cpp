// int4_fusion + petrel.Int4MatMul (4-bit weights unpacked inside the GEMM): golden tests against
// the graph it replaces — the reference DequantizeLinear (blocked, opset 21) then MatMul/Gemm —
// at every x86 level this CPU has, with K and N around the block sizes and the panel widths
// (8/16/32 columns), INT4 and UINT4, with and without zero points, biases, a fused activation
// and threads.
#include "core/int4.hpp"
#include "core/thread_pool.hpp"
#include "kernels/x86/isa.hpp"
#include "kernels/x86/sgemm.hpp"
#include "opt_test_util.hpp"

using namespace petrel;
using namespace petrel::test;

namespace {

std::vector<x86::Isa> levels() {
  std::vector<x86::Isa> v;
  for (x86::Isa i : {x86::Isa::kPortable, x86::Isa::kAvx2, x86::Isa::kAvx512})
    if (x86::isa_supported(i)) v.push_back(i);
  return v;
}

// A 4-bit tensor of `shape` with pseudo-random values over the type's whole range.
Tensor int4_tensor(DataType dt, const Shape& shape, uint32_t seed) {
  Tensor t = Tensor::allocate(dt, shape).value();
  std::fill(t.as<uint8_t>(), t.as<uint8_t>() + t.nbytes(), uint8_t(0));
  uint32_t s = seed * 2654435761u + 7u;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s = s * 1664525u + 1013904223u;
    int4_set(t.as<uint8_t>(), i, int32_t(s >> 28));  // 0..15; as INT4: -8..7
  }
  return t;
}

struct Case {
  int64_t M, K, N, block;
  bool gemm = false, trans_b = false;
  DataType type = DataType::kInt4;
  bool zp = false, bias = false;
  const char* act = "";  // "" or "Relu"
  Shape a_lead = {};     // extra leading dims of A (MatMul)
};

Graph build(const Case& c) {
  GraphBuilder b;
  Shape as = c.a_lead;
  as.push_back(c.M);
  as.push_back(c.K);
  ValueId a = b.input("a", as);
  const Shape ws = c.trans_b ? Shape{c.N, c.K} : Shape{c.K, c.N};
  const int64_t axis = c.trans_b ? 1 : 0, blocks = (c.K + c.block - 1) / c.block;
  const Shape ss = c.trans_b ? Shape{c.N, blocks} : Shape{blocks, c.N};
  int64_t sn = 1;
  for (int64_t d : ss) sn *= d;
  std::vector<float> sv = ramp(sn, 0.02f, 11);
  for (float& v : sv) v = std::fabs(v) + 0.001f;
  std::vector<ValueId> dq_in = {b.constant(int4_tensor(c.type, ws, 5)), b.constant(ftensor(ss, sv))};
  if (c.zp) dq_in.push_back(b.constant(int4_tensor(c.type, ss, 9)));
  ValueId w = b.node("DequantizeLinear", dq_in, {a_int("axis", axis), a_int("block_size", c.block)});
  ValueId y;
  if (c.gemm) {
    std::vector<ValueId> in = {a, w};
    if (c.bias) in.push_back(b.constant(ftensor({c.N}, ramp(c.N, 1.0f, 3))));
    y = b.node("Gemm", in, {a_int("transB", c.trans_b ? 1 : 0)});
  } else {
    y = b.node("MatMul", {a, w});
    if (c.bias) y = b.node("Add", {y, b.constant(ftensor({c.N}, ramp(c.N, 1.0f, 3)))});
  }
  if (std::string(c.act) == "Relu") y = b.node("Relu", {y});
  b.output(y);
  return b.graph();
}

// Runs on `pool` (may be null).
std::vector<Tensor> run_on(const Graph& g, const std::vector<Tensor>& inputs, ThreadPool* pool) {
  auto ex = GraphExecutor::create(std::make_shared<Graph>(g), true);
  EXPECT_TRUE(ex.is_ok());
  if (!ex) return {};
  ex.value()->set_thread_pool(pool);
  std::vector<Value> in, out;
  for (const Tensor& t : inputs) in.push_back(Value::of(t));
  Status st = ex.value()->run(in, {}, out);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  std::vector<Tensor> res;
  for (const Value& v : out) res.push_back(v.tensor.clone().value());
  return res;
}

void check(const Case& c, ThreadPool* pool = nullptr) {
  const Graph g = build(c);
  int64_t an = c.M * c.K;
  for (int64_t d : c.a_lead) an *= d;
  Shape as = c.a_lead;
  as.push_back(c.M);
  as.push_back(c.K);
  const std::vector<Tensor> in = {ftensor(as, ramp(an, 1.0f, 4))};
  const std::vector<Tensor> want = run_graph(g, in);  // DequantizeLinear + MatMul/Gemm
  Graph h = g;
  opt::PassManager pm;
  pm.add(opt::make_int4_fusion_pass());
  pm.add(opt::make_activation_fusion_pass());
  pm.add(opt::make_dead_node_pass());
  opt::OptimizeStats st;
  ASSERT_TRUE(pm.run(h, {}, &st).is_ok());
  EXPECT_TRUE(st.rejected.empty());
  const auto o = ops(h);
  const std::string fused = std::string("petrel.Int4MatMul") + (c.act[0] ? "+" : "") + c.act;
  EXPECT_EQ(o.count(fused) ? o.at(fused) : 0, 1) << c.M << "x" << c.K << "x" << c.N;
  EXPECT_EQ(o.count("DequantizeLinear"), 0u);
  EXPECT_EQ(o.size(), 1u) << "the bias Add and the activation are absorbed";
  // Tolerance: the sums of K products (|a| <= 2, |w| <= 15·0.04) in another order.
  const double tol = 1e-5 * double(c.K) * 2.0;
  for (x86::Isa isa : levels()) {
    ASSERT_TRUE(x86::set_isa(isa));
    const std::vector<Tensor> got = run_on(h, in, pool);
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(got[0].shape, want[0].shape);
    int bad = 0;
    for (int64_t i = 0; i < want[0].numel(); ++i) {
      const double x = got[0].as<float>()[i], y = want[0].as<float>()[i];
      if (std::fabs(x - y) > tol && bad++ < 5)
        ADD_FAILURE() << x86::isa_name(isa) << " " << c.M << "x" << c.K << "x" << c.N << " block " << c.block << " element " << i
                      << ": " << x << " vs " << y;
    }
  }
  x86::reset_isa();
}

}  // namespace

TEST(Int4Fusion, MatMulShapesAroundBlocksAndPanels) {
  for (int64_t K : {1, 15, 31, 32, 33, 64, 65, 200, 300})
    for (int64_t N : {1, 7, 8, 9, 16, 17, 31, 32, 33, 63})
      check({3, K, N, 32});
  for (int64_t block : {16, 64, 128}) check({17, 129, 47, block});
}

TEST(Int4Fusion, RowsAroundTiles) {
  // Tiles are 4 (portable), 6 (AVX2) and 14 (AVX-512) rows; work items 4·mc rows.
  for (int64_t M : {1, 2, 5, 6, 7, 13, 14, 15, 29, 128, 500}) check({M, 65, 40, 32});
}

TEST(Int4Fusion, BiasActivationLeadingDims) {
  check({5, 96, 33, 32, false, false, DataType::kInt4, false, true, "Relu"});
  check({7, 64, 20, 16, false, false, DataType::kInt4, false, true, "", {2, 3}});
}

TEST(Int4Fusion, ZeroPointsAndUInt4) {
  check({9, 70, 35, 32, false, false, DataType::kUInt4, true, true});
  check({9, 70, 35, 32, false, false, DataType::kInt4, true});
  check({4, 33, 17, 16, false, false, DataType::kUInt4, false});
}

TEST(Int4Fusion, GemmTransB) {
  check({6, 65, 33, 32, true, true, DataType::kInt4, false, true});
  check({6, 65, 33, 64, true, false, DataType::kUInt4, true, true, "Relu"});
  check({1, 257, 9, 32, true, true, DataType::kInt4, true, false});
}

TEST(Int4Fusion, Threads) {
  ThreadPool pool(3);
  const x86::ParallelPolicy keep = x86::parallel_policy();
  x86::set_parallel_policy({1.0, 1});  // split even these small products
  check({40, 200, 100, 32}, &pool);     // column blocks
  check({1000, 64, 40, 32}, &pool);     // row blocks
  x86::set_parallel_policy(keep);
}

TEST(Int4Fusion, LeavesOtherPatternsAlone) {
  // Blocks along N (not the reduction axis), an activation-input weight, 8-bit weights.
  for (int variant = 0; variant < 3; ++variant) {
    GraphBuilder b;
    ValueId a = b.input("a", {4, 64});
    ValueId w;
    if (variant == 0) {
      w = b.node("DequantizeLinear", {b.constant(int4_tensor(DataType::kInt4, {64, 64}, 1)), b.constant(ftensor({64, 2}, std::vector<float>(128, 0.1f)))},
                 {a_int("axis", 1), a_int("block_size", 32)});
    } else if (variant == 1) {
      ValueId q = b.input("q", {64, 64}, DataType::kInt4);
      w = b.node("DequantizeLinear", {q, b.constant(ftensor({2, 64}, std::vector<float>(128, 0.1f)))}, {a_int("axis", 0), a_int("block_size", 32)});
    } else {
      Tensor q = Tensor::allocate(DataType::kInt8, {64, 64}).value();
      w = b.node("DequantizeLinear", {b.constant(std::move(q)), b.constant(ftensor({2, 64}, std::vector<float>(128, 0.1f)))},
                 {a_int("axis", 0), a_int("block_size", 32)});
    }
    b.output(b.node("MatMul", {a, w}));
    Graph h = b.graph();
    opt::PassManager pm;
    pm.add(opt::make_int4_fusion_pass());
    opt::OptimizeStats st;
    ASSERT_TRUE(pm.run(h, {}, &st).is_ok());
    EXPECT_EQ(st.count("int4_fusion"), 0) << variant;
    EXPECT_EQ(ops(h).count("petrel.Int4MatMul"), 0u) << variant;
  }
}
