// Differential tests of the x86 kernels (src/kernels/x86) against the reference kernels, run
// at every ISA level this CPU has (forced with x86::set_isa). Sizes sit around the register
// tiles (14 x 32 AVX-512, 6 x 16 AVX2, 4 x 8 portable) and the cache blocks (kc = 256).
// Tolerance: |got - ref| <= 1e-5 sqrt(K) (|ref| + mean |ref|).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/fused_activation.hpp"
#include "core/thread_pool.hpp"
#include "kernels/reference/registry.hpp"
#include "kernels/x86/isa.hpp"
#include "kernels/x86/kernels.hpp"
#include "kernels/x86/sgemm.hpp"
#include "kernels/x86/simd.hpp"

namespace petrel {
namespace {

using x86::Isa;

Attribute ai(const std::string& n, int64_t v) { Attribute a; a.name = n; a.type = AttrType::kInt; a.i = v; return a; }
Attribute af(const std::string& n, float v) { Attribute a; a.name = n; a.type = AttrType::kFloat; a.f = v; return a; }

Tensor random_tensor(const Shape& s, uint64_t seed, float scale = 1.0f) {
  Tensor t = Tensor::allocate(DataType::kFloat, s).value();
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 12345;
  for (int64_t i = 0; i < t.numel(); ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    t.as<float>()[i] = scale * (float(x % 20001) / 10000.0f - 1.0f);
  }
  return t;
}

// Every ISA level this CPU supports; the active one is restored after each test.
std::vector<Isa> levels() {
  std::vector<Isa> v;
  for (Isa i : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512})
    if (x86::isa_supported(i)) v.push_back(i);
  return v;
}

struct IsaGuard {
  ~IsaGuard() { x86::reset_isa(); }
};

// With more than one thread, split even the smallest products and rows (the default policy
// keeps small work on one thread), so that every split path runs on these sizes.
struct SplitEverything {
  x86::ParallelPolicy saved = x86::parallel_policy();
  SplitEverything() { x86::set_parallel_policy({1.0, 1}); }
  ~SplitEverything() { x86::set_parallel_policy(saved); }
};

Node make_node(const std::string& domain, const std::string& op, int n_in, std::vector<Attribute> attrs, int opset = 17,
               int n_out = 1) {
  Node n;
  n.name = op + "_under_test";
  n.domain = domain;
  n.op_type = op;
  n.opset = opset;
  for (int i = 0; i < n_in; ++i) n.inputs.push_back(ValueId(i));
  for (int i = 0; i < n_out; ++i) n.outputs.push_back(ValueId(n_in + i));
  n.attrs = std::move(attrs);
  return n;
}

// Runs infer (with `known[i]` saying whether input i counts as a plan-time constant) and
// compute; returns the outputs. An omitted input is an empty tensor in `inputs`.
struct Harness {
  std::vector<Value> in, out;
  std::vector<const Value*> in_ptrs;
  std::vector<Value*> out_ptrs;
  std::unique_ptr<bool[]> known;

  Status run(Kernel& k, const Node& n, const std::vector<Tensor>& inputs, const std::vector<bool>& known_in,
             ThreadPool* pool, bool re_infer = true) {
    in.assign(inputs.size(), Value{});
    in_ptrs.assign(inputs.size(), nullptr);
    known.reset(new bool[inputs.size() + 1]);
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].dtype == DataType::kUndefined) continue;
      in[i] = Value::of(inputs[i]);
      in_ptrs[i] = &in[i];
      known[i] = i < known_in.size() && known_in[i];
    }
    if (re_infer) {
      out.assign(n.outputs.size(), Value{});
      out_ptrs.clear();
      for (Value& v : out) out_ptrs.push_back(&v);
      OpContext ictx(n, OpContext::Phase::kInfer, in_ptrs.data(), known.get(), out_ptrs.data());
      PETREL_RETURN_IF_ERROR(k.infer(ictx));
      for (Value& v : out) {
        PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(v.tensor.dtype, v.tensor.shape));
        v.tensor = std::move(t);
      }
    }
    OpContext cctx(n, OpContext::Phase::kCompute, in_ptrs.data(), nullptr, out_ptrs.data());
    cctx.pool = pool;
    return k.compute(cctx);
  }
};

std::unique_ptr<Kernel> x86_kernel(const Node& n) {
  KernelFactory f = x86::find_kernel(n.domain, n.op_type);
  EXPECT_NE(f, nullptr) << n.op_type;
  auto k = f(n);
  EXPECT_TRUE(k.is_ok()) << k.status().to_string();
  return std::move(k).value();
}

std::unique_ptr<Kernel> ref_kernel(const Node& n) {
  auto k = ref::find_kernel(n.domain, n.op_type)(n);
  EXPECT_TRUE(k.is_ok()) << k.status().to_string();
  return std::move(k).value();
}

void expect_close(const Tensor& want, const Tensor& got, double rtol, const std::string& what) {
  ASSERT_EQ(want.shape, got.shape) << what;
  double mean_abs = 0;
  int64_t finite = 0;
  for (int64_t i = 0; i < want.numel(); ++i)
    if (std::isfinite(want.as<float>()[i])) mean_abs += std::fabs(double(want.as<float>()[i])), ++finite;
  mean_abs = finite ? mean_abs / double(finite) : 0.0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    const double w = want.as<float>()[i], g = got.as<float>()[i];
    if (std::isnan(w)) {
      ASSERT_TRUE(std::isnan(g)) << what << " element " << i;
      continue;
    }
    ASSERT_NEAR(w, g, rtol * (std::fabs(w) + mean_abs) + 1e-30) << what << " element " << i;
  }
}

// Runs node `n` on the reference kernel and, at every ISA level, on the x86 kernel; compares
// every output. `fast` says whether the x86 kernel must take its SIMD path.
void check(const Node& n, const std::vector<Tensor>& inputs, const std::vector<bool>& known, double rtol, bool fast = true,
           int threads = 1, const std::string& what = "") {
  IsaGuard guard;
  Harness rh;
  auto rk = ref_kernel(n);
  Status st = rh.run(*rk, n, inputs, known, nullptr);
  ASSERT_TRUE(st.is_ok()) << st.to_string();
  ThreadPool pool(threads);
  std::unique_ptr<SplitEverything> split;
  if (threads > 1) split = std::make_unique<SplitEverything>();
  for (Isa isa : levels()) {
    ASSERT_TRUE(x86::set_isa(isa));
    Harness xh;
    auto xk = x86_kernel(n);
    st = xh.run(*xk, n, inputs, known, &pool);
    ASSERT_TRUE(st.is_ok()) << st.to_string();
    EXPECT_EQ(x86::uses_fast_path(*xk), fast) << what;
    for (size_t o = 0; o < rh.out.size(); ++o)
      expect_close(rh.out[o].tensor, xh.out[o].tensor, rtol, what + " isa " + x86::isa_name(isa) + " output " + std::to_string(o));
    // A second run at the same shapes (constant B reused from the first pack).
    st = xh.run(*xk, n, inputs, known, &pool, false);
    ASSERT_TRUE(st.is_ok()) << st.to_string();
    for (size_t o = 0; o < rh.out.size(); ++o)
      expect_close(rh.out[o].tensor, xh.out[o].tensor, rtol, what + " (second run) isa " + x86::isa_name(isa));
  }
}

double gemm_rtol(int64_t K) { return 1e-5 * std::sqrt(double(std::max<int64_t>(K, 1))); }

// ---- MatMul ---------------------------------------------------------------------------

TEST(X86MatMul, SizesAroundTheTiles) {
  const int64_t dims[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65};
  const Node n = make_node("", "MatMul", 2, {});
  uint64_t seed = 1;
  for (int64_t K : {1, 3, 16, 17, 33, 65})
    for (int64_t M : dims)
      for (int64_t N : dims) {
        const std::string what = std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
        const Tensor a = random_tensor({M, K}, seed++), b = random_tensor({K, N}, seed++);
        // B constant (packed once) for odd seeds, B an activation (packed per run) otherwise.
        check(n, {a, b}, {false, (seed & 2) != 0}, gemm_rtol(K), true, 1, what);
        if (HasFatalFailure()) return;
      }
}

TEST(X86MatMul, DeepKAcrossCacheBlocks) {
  const Node n = make_node("", "MatMul", 2, {});
  for (int64_t K : {255, 256, 257, 513, 1000})
    for (bool b_const : {false, true}) {
      check(n, {random_tensor({45, K}, K), random_tensor({K, 70}, K + 1)}, {false, b_const}, gemm_rtol(K), true, 1,
            "K " + std::to_string(K));
      if (HasFatalFailure()) return;
    }
}

TEST(X86MatMul, LargeProductOnTwoThreads) {
  const Node n = make_node("", "MatMul", 2, {});
  check(n, {random_tensor({384, 768}, 3), random_tensor({768, 3072}, 4)}, {false, true}, gemm_rtol(768), true, 2, "384x3072x768");
  check(n, {random_tensor({129, 300}, 5), random_tensor({300, 200}, 6)}, {false, false}, gemm_rtol(300), true, 3, "3 threads");
}

TEST(X86MatMul, DefaultSplitPolicyOnTwoThreads) {
  // The default policy: big products split, small ones stay on the calling thread.
  IsaGuard guard;
  const Node n = make_node("", "MatMul", 2, {});
  ThreadPool pool(2);
  for (Shape as : {Shape{512, 768}, Shape{4, 128, 64}, Shape{1, 2, 300}})
    for (bool b_const : {false, true}) {
      const Shape bs = as.size() == 3 ? Shape{as[0], as[2], 96} : Shape{768, 768};
      const Tensor a = random_tensor(as, 1), b = random_tensor(bs, 2);
      Harness xh, rh;
      auto xk = x86_kernel(n);
      auto rk = ref_kernel(n);
      ASSERT_TRUE(xh.run(*xk, n, {a, b}, {false, b_const}, &pool).is_ok());
      ASSERT_TRUE(rh.run(*rk, n, {a, b}, {false, b_const}, nullptr).is_ok());
      expect_close(rh.out[0].tensor, xh.out[0].tensor, gemm_rtol(as.back()), shape_to_string(as));
    }
}

TEST(X86MatMul, BatchedBroadcast) {
  const Node n = make_node("", "MatMul", 2, {});
  struct Case { Shape a, b; };
  const Case cases[] = {
      {{2, 3, 17, 33}, {3, 33, 15}},      // B broadcast over the outer batch
      {{17, 33}, {2, 33, 15}},            // A broadcast
      {{2, 1, 7, 16}, {1, 3, 16, 33}},    // both broadcast
      {{4, 128, 64}, {4, 64, 128}},       // attention Q·Kᵀ per head
      {{1, 4, 128, 128}, {1, 4, 128, 64}},  // attention P·V
      {{2, 5, 9, 31}, {31, 17}},          // one B: batches fold into rows
      {{33}, {33, 17}},                   // 1-D A
      {{3, 9, 33}, {33}},                 // 1-D B
      {{33}, {33}},                       // dot product
      {{2, 0, 8}, {8, 5}},                // empty
      {{3, 4, 0}, {0, 6}},                // K = 0: zeros
  };
  uint64_t seed = 100;
  for (const Case& c : cases)
    for (bool b_const : {false, true})
      for (int threads : {1, 2}) {
        check(n, {random_tensor(c.a, seed++), random_tensor(c.b, seed++)}, {false, b_const}, gemm_rtol(c.a.back()), true, threads,
              shape_to_string(c.a) + " x " + shape_to_string(c.b));
        if (HasFatalFailure()) return;
      }
}

TEST(X86MatMul, RowVectorsStreamB) {
  // M = 1, 2 with a B that changes per run: the unpacked path; with a constant B: packed.
  const Node n = make_node("", "MatMul", 2, {});
  for (int64_t M : {1, 2})
    for (int64_t N : {1, 15, 16, 17, 64, 65, 200, 1000})
      for (bool b_const : {false, true}) {
        check(n, {random_tensor({3, M, 70}, uint64_t(M + N)), random_tensor({3, 70, N}, uint64_t(N))}, {false, b_const}, gemm_rtol(70),
              true, 2, "M " + std::to_string(M) + " N " + std::to_string(N));
        if (HasFatalFailure()) return;
      }
}

FusedActivation act(Activation k, float p0 = 0, float p1 = 0) {
  FusedActivation fa;
  fa.kind = k;
  fa.p0 = p0;
  fa.p1 = p1;
  return fa;
}

std::vector<FusedActivation> all_activations() {
  return {act(Activation::kNone), act(Activation::kRelu), act(Activation::kClip, -0.5f, 0.7f), act(Activation::kLeakyRelu, 0.1f),
          act(Activation::kSigmoid), act(Activation::kHardSigmoid, 0.2f, 0.5f), act(Activation::kHardSwish),
          act(Activation::kSwish), act(Activation::kGelu), act(Activation::kGeluTanh)};
}

TEST(X86MatMul, FusedBiasAndEveryActivation) {
  for (const FusedActivation& fa : all_activations())
    for (bool bias : {false, true})
      for (int64_t M : {1, 2, 17, 64})
        for (int64_t K : {16, 300}) {
          Node n = make_node("petrel", "FusedMatMul", bias ? 3 : 2, {});
          fa.write_to(n);
          const int64_t N = 47;
          std::vector<Tensor> in = {random_tensor({2, M, K}, 7, 2.0f), random_tensor({K, N}, 8, 0.5f)};
          if (bias) in.push_back(random_tensor({N}, 9));
          for (bool b_const : {false, true}) {
            check(n, in, {false, b_const, true}, gemm_rtol(K), true, 1,
                  std::string(fa.name()) + (bias ? " bias" : "") + " M " + std::to_string(M) + " K " + std::to_string(K));
            if (HasFatalFailure()) return;
          }
        }
}

TEST(X86MatMul, PlainMatMulHonoursFusedActivation) {
  Node n = make_node("", "MatMul", 2, {});
  act(Activation::kGeluTanh).write_to(n);
  check(n, {random_tensor({33, 65}, 1, 3.0f), random_tensor({65, 31}, 2)}, {false, true}, gemm_rtol(65));
}

TEST(X86MatMul, NonFloatGoesToTheReference) {
  const Node n = make_node("", "MatMul", 2, {});
  Tensor a = Tensor::allocate(DataType::kInt32, {3, 4}).value(), b = Tensor::allocate(DataType::kInt32, {4, 2}).value();
  for (int i = 0; i < 12; ++i) a.as<int32_t>()[i] = i - 5;
  for (int i = 0; i < 8; ++i) b.as<int32_t>()[i] = 3 - i;
  Harness rh, xh;
  auto rk = ref_kernel(n);
  auto xk = x86_kernel(n);
  ASSERT_TRUE(rh.run(*rk, n, {a, b}, {}, nullptr).is_ok());
  ASSERT_TRUE(xh.run(*xk, n, {a, b}, {}, nullptr).is_ok());
  EXPECT_FALSE(x86::uses_fast_path(*xk));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(rh.out[0].tensor.as<int32_t>()[i], xh.out[0].tensor.as<int32_t>()[i]);
}

TEST(X86MatMul, ReplanAndIsaSwitchRepackConstantB) {
  IsaGuard guard;
  const Node n = make_node("", "MatMul", 2, {});
  auto xk = x86_kernel(n);
  auto rk = ref_kernel(n);
  ThreadPool pool(2);
  const Tensor b = random_tensor({40, 50}, 77);
  for (int round = 0; round < 2; ++round)
    for (Isa isa : levels())
      for (int64_t M : {5, 37}) {
        ASSERT_TRUE(x86::set_isa(isa));
        const Tensor a = random_tensor({M, 40}, uint64_t(M));
        Harness xh, rh;
        ASSERT_TRUE(xh.run(*xk, n, {a, b}, {false, true}, &pool).is_ok());
        ASSERT_TRUE(rh.run(*rk, n, {a, b}, {false, true}, nullptr).is_ok());
        expect_close(rh.out[0].tensor, xh.out[0].tensor, gemm_rtol(40), std::string("isa ") + x86::isa_name(isa));
        // The ISA changes between two computes of one plan: the packed B must follow.
        for (Isa other : levels()) {
          ASSERT_TRUE(x86::set_isa(other));
          ASSERT_TRUE(xh.run(*xk, n, {a, b}, {false, true}, &pool, false).is_ok());
          expect_close(rh.out[0].tensor, xh.out[0].tensor, gemm_rtol(40), std::string("switched to ") + x86::isa_name(other));
        }
      }
}

TEST(X86MatMul, NewPlanRepacksAConstantAtTheSameAddress) {
  // A re-plan may fold a constant into the same buffer with other contents: infer must drop
  // the packed copy even though the pointer is unchanged.
  IsaGuard guard;
  for (const char* op : {"MatMul", "Gemm"}) {
    const Node n = make_node("", op, 2, {});
    auto xk = x86_kernel(n);
    auto rk = ref_kernel(n);
    Tensor b = random_tensor({20, 30}, 1);
    const Tensor a = random_tensor({9, 20}, 2);
    for (int round = 0; round < 2; ++round) {
      if (round == 1)
        for (int64_t i = 0; i < b.numel(); ++i) b.as<float>()[i] *= -2.0f;
      Harness xh, rh;
      ASSERT_TRUE(xh.run(*xk, n, {a, b}, {false, true}, nullptr).is_ok());
      ASSERT_TRUE(rh.run(*rk, n, {a, b}, {false, true}, nullptr).is_ok());
      expect_close(rh.out[0].tensor, xh.out[0].tensor, gemm_rtol(20), std::string(op) + " round " + std::to_string(round));
    }
  }
}

TEST(X86MatMul, EverythingKnownMeansDynamicNotWeights) {
  // The dynamic path infers with every input known: B must not be taken for a weight packed
  // once (here its contents change between two computes of one infer).
  const Node n = make_node("", "MatMul", 2, {});
  auto xk = x86_kernel(n);
  auto rk = ref_kernel(n);
  Tensor b = random_tensor({20, 30}, 1);
  const Tensor a = random_tensor({9, 20}, 2);
  Harness xh, rh;
  ASSERT_TRUE(xh.run(*xk, n, {a, b}, {true, true}, nullptr).is_ok());
  for (int64_t i = 0; i < b.numel(); ++i) b.as<float>()[i] *= -2.0f;
  ASSERT_TRUE(xh.run(*xk, n, {a, b}, {true, true}, nullptr, false).is_ok());
  ASSERT_TRUE(rh.run(*rk, n, {a, b}, {true, true}, nullptr).is_ok());
  expect_close(rh.out[0].tensor, xh.out[0].tensor, gemm_rtol(20), "changed B");
}

// ---- Gemm -----------------------------------------------------------------------------

TEST(X86Gemm, TransposesAlphaBetaAndC) {
  uint64_t seed = 500;
  for (int ta : {0, 1})
    for (int tb : {0, 1})
      for (int64_t M : {1, 2, 17, 33})
        for (int64_t N : {1, 16, 47})
          for (int c_kind : {0, 1, 2, 3, 4, 5}) {  // none, [N], [1,N], [M,1], [M,N], scalar
            const int64_t K = 37;
            const float alpha = c_kind % 2 ? 1.0f : 0.75f, beta = c_kind == 1 ? 1.0f : -0.5f;
            Node n = make_node("", "Gemm", c_kind ? 3 : 2, {ai("transA", ta), ai("transB", tb), af("alpha", alpha), af("beta", beta)});
            std::vector<Tensor> in = {random_tensor(ta ? Shape{K, M} : Shape{M, K}, seed++), random_tensor(tb ? Shape{N, K} : Shape{K, N}, seed++)};
            const Shape cs[] = {{}, {N}, {1, N}, {M, 1}, {M, N}, {}};
            if (c_kind) in.push_back(random_tensor(cs[c_kind], seed++));
            for (bool b_const : {false, true}) {
              check(n, in, {false, b_const, true}, gemm_rtol(K), true, 2,
                    "ta " + std::to_string(ta) + " tb " + std::to_string(tb) + " M " + std::to_string(M) + " N " +
                        std::to_string(N) + " C kind " + std::to_string(c_kind));
              if (HasFatalFailure()) return;
            }
          }
}

TEST(X86Gemm, BiasWithActivation) {
  for (const FusedActivation& fa : all_activations()) {
    Node n = make_node("", "Gemm", 3, {ai("transB", 1)});
    fa.write_to(n);
    check(n, {random_tensor({9, 300}, 1), random_tensor({100, 300}, 2, 0.2f), random_tensor({100}, 3)}, {false, true, true},
          gemm_rtol(300), true, 1, fa.name());
    if (HasFatalFailure()) return;
  }
}

// ---- Softmax --------------------------------------------------------------------------

TEST(X86Softmax, LastAxisFastPath) {
  const Node n = make_node("", "Softmax", 1, {ai("axis", -1)});
  for (int64_t len : {1, 2, 7, 15, 16, 17, 31, 32, 33, 64, 128, 1000})
    for (int threads : {1, 2}) {
      check(n, {random_tensor({3, 5, len}, uint64_t(len), 8.0f)}, {false}, 2e-6, true, threads, "len " + std::to_string(len));
      if (HasFatalFailure()) return;
    }
}

TEST(X86Softmax, MaskedAndExtremeValues) {
  const Node n = make_node("", "Softmax", 1, {});
  Tensor x = random_tensor({4, 37}, 3, 30.0f);
  float* p = x.as<float>();
  for (int i = 0; i < 37; i += 3) p[i] = -1e9f;                  // additive attention mask
  for (int i = 37; i < 74; i += 2) p[i] = -INFINITY;             // a masked row part
  p[80] = 88.0f, p[81] = 200.0f, p[82] = -200.0f;                // beyond exp's range
  for (int i = 111; i < 148; ++i) p[i] = -INFINITY;              // a fully masked row: NaN
  check(n, {x}, {false}, 2e-6);
}

TEST(X86Softmax, Opset11RowsAndOtherAxes) {
  // Before opset 13: rows of prod(dims >= axis), any axis: fast.
  for (int64_t axis : {0, 1, 2, -1}) {
    const Node n = make_node("", "Softmax", 1, {ai("axis", axis)}, 11);
    check(n, {random_tensor({3, 4, 17}, 5, 4.0f)}, {false}, 2e-6, true, 1, "opset 11 axis " + std::to_string(axis));
  }
  // Opset 13, a middle axis: the reference.
  for (int64_t axis : {0, 1, -2}) {
    const Node n = make_node("", "Softmax", 1, {ai("axis", axis)});
    check(n, {random_tensor({3, 4, 17}, 6, 4.0f)}, {false}, 2e-6, false, 1, "axis " + std::to_string(axis));
  }
}

// ---- LayerNormalization -----------------------------------------------------------------

TEST(X86LayerNorm, LastAxisWithAndWithoutBias) {
  for (int64_t len : {1, 2, 7, 15, 16, 17, 31, 32, 33, 256, 768, 1000})
    for (bool bias : {false, true}) {
      const Node n = make_node("", "LayerNormalization", bias ? 3 : 2, {af("epsilon", 1e-12f)});
      std::vector<Tensor> in = {random_tensor({2, 9, len}, uint64_t(len), 3.0f), random_tensor({len}, 2), random_tensor({len}, 3)};
      if (!bias) in.pop_back();
      // A shifted input: the two-pass variance must not cancel.
      for (int64_t i = 0; i < in[0].numel(); ++i) in[0].as<float>()[i] += 10.0f;
      check(n, in, {false, true, true}, 1e-5, true, 2, "len " + std::to_string(len) + (bias ? " bias" : ""));
      if (HasFatalFailure()) return;
    }
}

TEST(X86LayerNorm, TrailingAxesStatsOutputsAndBroadcastFallback) {
  // axis -2 with Scale/B covering both trailing axes; mean and inv_std outputs.
  Node n = make_node("", "LayerNormalization", 3, {ai("axis", -2)}, 17, 3);
  check(n, {random_tensor({3, 5, 19}, 1), random_tensor({5, 19}, 2), random_tensor({5, 19}, 3)}, {false, true, true}, 1e-5);
  // Scale broadcast inside the normalised block: the reference.
  Node m = make_node("", "LayerNormalization", 2, {ai("axis", 1)});
  check(m, {random_tensor({3, 5, 19}, 4), random_tensor({19}, 5)}, {false, true}, 1e-5, false);
}

// ---- the vector math itself -----------------------------------------------------------

TEST(X86VectorMath, ActivationsMatchTheFormulasInDouble) {
  IsaGuard guard;
  std::vector<float> xs;
  for (float x = -12.0f; x <= 12.0f; x += 0.0371f) xs.push_back(x);
  for (float x : {0.0f, -0.0f, 1e-20f, -1e-20f, 88.0f, -88.0f, 1e6f, -1e6f}) xs.push_back(x);
  for (Isa isa : levels()) {
    ASSERT_TRUE(x86::set_isa(isa));
    for (const FusedActivation& fa : all_activations()) {
      std::vector<float> y = xs;
      x86::active_kernels().activate(fa, y.data(), int64_t(y.size()));
      for (size_t i = 0; i < xs.size(); ++i) {
        const double x = xs[i];
        double want = x;
        switch (fa.kind) {
          case Activation::kSigmoid: want = 1 / (1 + std::exp(-x)); break;
          case Activation::kSwish: want = x / (1 + std::exp(-x)); break;
          case Activation::kGelu: want = 0.5 * x * std::erfc(-x / std::sqrt(2.0)); break;
          case Activation::kGeluTanh:  // 0.5 x (1 + tanh(u)) without its cancellation for u << 0
            want = x / (1 + std::exp(-2 * std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
            break;
          default: want = fa.apply_one(xs[i]); break;
        }
        // Relative 2e-6 (results near the float underflow, |y| < 1e-36, absolutely). The portable level uses the contract's
        // float formulas, whose 1 + erf(x) / 1 + tanh(u) cancel in the negative tail: an
        // absolute error of about float epsilon times |x| there.
        // GeluTanh's exp argument 2u = 1.6 (x + 0.044715 x^3) is itself rounded to float (as in
        // the contract's formula): a relative error of ~ulp(2u) in the result.
        const double arg = fa.kind == Activation::kGeluTanh ? 1.6 * std::fabs(x + 0.044715 * x * x * x) : 0.0;
        const double tol = (2e-6 + 1.2e-7 * arg) * std::fabs(want) + 1e-36 + (isa == Isa::kPortable ? 1.2e-7 * std::fabs(x) : 0.0);
        ASSERT_NEAR(want, double(y[i]), tol) << fa.name() << " x = " << x << " isa " << x86::isa_name(isa);
      }
    }
  }
}

// ---- QuantizeLinear (f32 -> u8/s8, one scale) -------------------------------------------

Tensor f_scalar(float v) {
  Tensor t = Tensor::allocate(DataType::kFloat, {}).value();
  t.as<float>()[0] = v;
  return t;
}
Tensor zp_scalar(DataType dt, int v) {
  Tensor t = Tensor::allocate(dt, {}).value();
  if (dt == DataType::kUInt8) t.as<uint8_t>()[0] = uint8_t(v);
  else t.as<int8_t>()[0] = int8_t(v);
  return t;
}

// Bit-exact against the reference at every level: ties (x/s exactly k + 0.5 round to even),
// saturation on both sides, NaN (0), infinities, and lengths around the 16-lane vector.
TEST(X86QuantizeLinear, MatchesTheReferenceByteForByte) {
  IsaGuard guard;
  const Node n = make_node("", "QuantizeLinear", 3, {});
  for (DataType dt : {DataType::kUInt8, DataType::kInt8})
    for (int64_t len : {1, 15, 16, 17, 100, 1000}) {
      Tensor x = random_tensor({len}, uint64_t(len), 3.0f);
      const float s = 0.0125f;  // a power-of-two multiple: k + 0.5 steps are exact ties
      float* p = x.as<float>();
      for (int64_t i = 0; i < len; i += 7) p[i] = s * (float(i % 9) - 4.5f);
      if (len > 5) p[1] = NAN, p[2] = INFINITY, p[3] = -INFINITY, p[4] = 1e30f, p[5] = -1e30f;
      const std::vector<Tensor> in = {x, f_scalar(s), zp_scalar(dt, dt == DataType::kUInt8 ? 131 : -7)};
      Harness rh;
      auto rk = ref_kernel(n);
      ASSERT_TRUE(rh.run(*rk, n, in, {false, true, true}, nullptr).is_ok());
      for (Isa isa : levels()) {
        ASSERT_TRUE(x86::set_isa(isa));
        Harness xh;
        auto xk = x86_kernel(n);
        ASSERT_TRUE(xh.run(*xk, n, in, {false, true, true}, nullptr).is_ok());
        EXPECT_TRUE(x86::uses_fast_path(*xk));
        const Tensor& w = rh.out[0].tensor;
        const Tensor& g = xh.out[0].tensor;
        ASSERT_EQ(w.dtype, g.dtype);
        ASSERT_EQ(w.shape, g.shape);
        for (int64_t i = 0; i < len; ++i)
          ASSERT_EQ(w.as<uint8_t>()[i], g.as<uint8_t>()[i]) << x86::isa_name(isa) << " len " << len << " i " << i << " x " << p[i];
      }
    }
}

TEST(X86QuantizeLinear, PerAxisGoesToTheReference) {
  const Node n = make_node("", "QuantizeLinear", 3, {ai("axis", 1)});
  Tensor s = Tensor::allocate(DataType::kFloat, {3}).value();
  Tensor z = Tensor::allocate(DataType::kUInt8, {3}).value();
  for (int i = 0; i < 3; ++i) s.as<float>()[i] = 0.01f * float(i + 1), z.as<uint8_t>()[i] = uint8_t(100 + i);
  Harness xh;
  auto xk = x86_kernel(n);
  ASSERT_TRUE(xh.run(*xk, n, {random_tensor({2, 3, 4}, 5), s, z}, {false, true, true}, nullptr).is_ok());
  EXPECT_FALSE(x86::uses_fast_path(*xk));
  EXPECT_EQ(xh.out[0].tensor.as<uint8_t>()[4], uint8_t(std::clamp(std::nearbyint(random_tensor({2, 3, 4}, 5).as<float>()[4] / 0.02f) + 101.f, 0.f, 255.f)));
}

TEST(X86Isa, OverrideNamesAndLevels) {
  IsaGuard guard;
  EXPECT_EQ(x86::parse_isa("avx512"), Isa::kAvx512);
  EXPECT_EQ(x86::parse_isa("avx2"), Isa::kAvx2);
  EXPECT_EQ(x86::parse_isa("portable"), Isa::kPortable);
  EXPECT_FALSE(x86::parse_isa("sse9").has_value());
  EXPECT_TRUE(x86::set_isa(Isa::kPortable));
  EXPECT_EQ(x86::active_isa(), Isa::kPortable);
  EXPECT_EQ(x86::active_kernels().isa, Isa::kPortable);
  EXPECT_EQ(x86::set_isa(x86::detect_isa()), true);
  EXPECT_EQ(x86::active_kernels().isa, x86::detect_isa());
  std::printf("CPU level: %s; tested levels:", x86::isa_name(x86::detect_isa()));
  for (Isa i : levels()) std::printf(" %s", x86::isa_name(i));
  std::printf("\n");
}

}  // namespace
}  // namespace petrel
