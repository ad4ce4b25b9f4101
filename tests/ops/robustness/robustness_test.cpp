// Robustness sweep over every registered reference kernel: nodes with 0..5 inputs, some omitted
// (nullptr) or present-but-empty (an empty optional), small tensors of many dtypes and ranks 0..4
// (including a 0-sized dim and scalars), sequences where tensors are expected, huge and negative
// values in shape-like inputs, 0..5 outputs (some omitted), and a few attribute sets. Each case
// runs factory -> infer -> allocate -> compute as the executor does (dynamic kernels: compute
// only), plus the plan-time infer with unknown input data (data == nullptr). The test asserts
// only that every call returns, whatever its Status: run it under ASan+UBSan
// (-DPETREL_SANITIZE=ON) to catch out-of-bounds accesses and UB.
//
// ROBUSTNESS_VERBOSE=1 prints every case before running it (to find the one that crashes);
// ROBUSTNESS_OP=Name restricts the sweep to one op.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "kernels/reference/registry.hpp"

namespace petrel::test {
namespace {

struct Named {
  std::string name;
  Value value;
};

template <typename T> Value tensor_of(DataType dt, Shape shape, std::vector<T> data) {
  auto t = Tensor::allocate(dt, shape);
  EXPECT_TRUE(t.is_ok());
  const int64_t n = t->numel();
  for (int64_t i = 0; i < n && !data.empty(); ++i) t->template as<T>()[i] = data[size_t(i) % data.size()];
  return Value::of(std::move(t).value());
}

Value f32(Shape s, std::vector<float> v = {1.5f, -2.f, 3.f, 0.f, 0.5f, 7.f}) { return tensor_of<float>(DataType::kFloat, std::move(s), std::move(v)); }
Value i64(Shape s, std::vector<int64_t> v) { return tensor_of<int64_t>(DataType::kInt64, std::move(s), std::move(v)); }

std::vector<Named> make_pool() {
  const int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
  std::vector<Named> p;
  p.push_back({"f32[]", f32({})});
  p.push_back({"f32[3]", f32({3})});
  p.push_back({"f32[2,3]", f32({2, 3})});
  p.push_back({"f32[1,2,3]", f32({1, 2, 3})});
  p.push_back({"f32[1,2,2,2]", f32({1, 2, 2, 2})});
  p.push_back({"f32[2,0,3]", f32({2, 0, 3})});
  p.push_back({"f32[0]", f32({0})});
  p.push_back({"f32[2]", f32({2})});
  p.push_back({"f32[3,2]", f32({3, 2})});
  p.push_back({"f32[1,2]", f32({1, 2})});
  p.push_back({"f32[1,4]", f32({1, 4})});
  p.push_back({"f32[1,2,2]", f32({1, 2, 2})});
  p.push_back({"f32[1,2,4]", f32({1, 2, 4}, {0, 0, 1, 1, 0.5f, 0.5f, 2, 2})});
  p.push_back({"f32[1,1,2]", f32({1, 1, 2})});
  p.push_back({"f32[1,2,1,1]", f32({1, 2, 1, 1})});
  p.push_back({"f32[2,1,1,1]", f32({2, 1, 1, 1})});
  p.push_back({"f32[2,3]nan", f32({2, 3}, {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), -1e30f})});
  p.push_back({"f64[2,3]", tensor_of<double>(DataType::kDouble, {2, 3}, {1, 2, -3})});
  p.push_back({"f16[2,3]", tensor_of<Float16>(DataType::kFloat16, {2, 3}, {Float16(1.f), Float16(-2.f)})});
  p.push_back({"i64[]", i64({}, {1})});
  p.push_back({"i64[]neg", i64({}, {-7})});
  p.push_back({"i64[2]", i64({2}, {1, 2})});
  p.push_back({"i64[3]odd", i64({3}, {0, -1, kMin})});
  p.push_back({"i64[2]big", i64({2}, {int64_t(1) << 40, int64_t(1) << 40})});
  p.push_back({"i64[2]huge", i64({2}, {kMax, -2})});
  p.push_back({"i64[4]", i64({4}, {1, 2, 1, 1})});
  p.push_back({"i64[2,3]", i64({2, 3}, {0, 1, 2, 3, 4, 5})});
  p.push_back({"i64[0]", i64({0}, {})});
  p.push_back({"i64[1]", i64({1}, {2})});
  p.push_back({"u8[]", tensor_of<uint8_t>(DataType::kUInt8, {}, {3})});
  p.push_back({"u8[3,2]", tensor_of<uint8_t>(DataType::kUInt8, {3, 2}, {1, 200, 7})});
  p.push_back({"u8[1,2,2,2]", tensor_of<uint8_t>(DataType::kUInt8, {1, 2, 2, 2}, {1, 200, 7})});
  p.push_back({"u8[1,2,1,1]", tensor_of<uint8_t>(DataType::kUInt8, {1, 2, 1, 1}, {1, 2})});
  p.push_back({"bool[2]", tensor_of<uint8_t>(DataType::kBool, {2}, {1, 0})});
  p.push_back({"i32[2]", tensor_of<int32_t>(DataType::kInt32, {2}, {1, 2})});
  p.push_back({"i32[2]neg", tensor_of<int32_t>(DataType::kInt32, {2}, {std::numeric_limits<int32_t>::min(), -1})});
  p.push_back({"u8[2,3]", tensor_of<uint8_t>(DataType::kUInt8, {2, 3}, {0, 255, 7})});
  p.push_back({"i8[2]", tensor_of<int8_t>(DataType::kInt8, {2}, {-128, -1})});
  p.push_back({"bool[]", tensor_of<uint8_t>(DataType::kBool, {}, {1})});
  p.push_back({"bool[2,3]", tensor_of<uint8_t>(DataType::kBool, {2, 3}, {1, 0})});
  p.push_back({"str[2]", tensor_of<std::string>(DataType::kString, {2}, {"ab", "Cd e"})});
  p.push_back({"str[]", tensor_of<std::string>(DataType::kString, {}, {"x"})});
  {
    std::vector<Tensor> items;
    items.push_back(f32({2, 3}).tensor);
    items.push_back(f32({2, 3}).tensor);
    p.push_back({"seq<f32>", Value::of_sequence(std::move(items), DataType::kFloat)});
  }
  p.push_back({"seq<>", Value::of_sequence({}, DataType::kFloat)});
  p.push_back({"optional(empty)", Value{}});  // present but empty: has_input() is true
  return p;
}

Attribute attr_i(const std::string& name, int64_t v) { Attribute a; a.name = name; a.type = AttrType::kInt; a.i = v; return a; }
Attribute attr_f(const std::string& name, float v) { Attribute a; a.name = name; a.type = AttrType::kFloat; a.f = v; return a; }
Attribute attr_is(const std::string& name, std::vector<int64_t> v) { Attribute a; a.name = name; a.type = AttrType::kInts; a.ints = std::move(v); return a; }
Attribute attr_s(const std::string& name, std::string v) { Attribute a; a.name = name; a.type = AttrType::kString; a.s = std::move(v); return a; }
Attribute attr_t(const std::string& name, Tensor t) { Attribute a; a.name = name; a.type = AttrType::kTensor; a.t = std::move(t); return a; }

// Attribute sets tried for every op: none, plausible common ones, and out-of-range ones.
std::vector<std::vector<Attribute>> attr_sets(std::string_view op) {
  std::vector<std::vector<Attribute>> s;
  s.push_back({});
  s.push_back({attr_i("axis", 1), attr_is("axes", {0}), attr_i("to", 7), attr_s("equation", "ij,jk->ik"),
               attr_t("value", f32({1}).tensor), attr_is("perm", {1, 0}), attr_i("blocksize", 2),
               attr_is("kernel_shape", {1, 1}), attr_i("k", 1), attr_i("num_outputs", 2),
               attr_is("split", {1, 1}), attr_i("batch_dims", 0), attr_i("select_last_index", 1),
               attr_f("seed", 1.f), attr_is("shape", {2, 2}), attr_is("sizes", {1, 1})});
  s.push_back({attr_i("axis", -7), attr_is("axes", {5, -9}), attr_i("to", 8), attr_s("equation", "i...,->..."),
               attr_t("value", i64({}, {3}).tensor), attr_is("perm", {0, 0}), attr_i("blocksize", 0),
               attr_i("k", -1), attr_i("num_outputs", 0), attr_is("split", {-1}), attr_i("batch_dims", 3),
               attr_i("keepdims", 0), attr_is("shape", {-1}), attr_i("upper", 1)});
  // Ops whose factory needs attributes the sets above lack.
  if (op == "BitShift") s.push_back({attr_s("direction", "LEFT")}), s.push_back({attr_s("direction", "RIGHT")});
  if (op == "GroupNormalization") s.push_back({attr_i("num_groups", 1)}), s.push_back({attr_i("num_groups", 2)});
  if (op == "LRN") s.push_back({attr_i("size", 3)});
  if (op == "ChannelShuffle") s.push_back({attr_i("groups", 2)}), s.push_back({attr_i("groups", 0)});
  if (op == "MaxRoiPool") s.push_back({attr_is("pooled_shape", {1, 1})});
  if (op == "Momentum")
    s.push_back({attr_f("alpha", 0.9f), attr_f("beta", 0.1f), attr_s("mode", "standard"), attr_f("norm_coefficient", 0.f)});
  if (op == "TfIdfVectorizer") {
    s.push_back({attr_i("max_gram_length", 2), attr_i("min_gram_length", 1), attr_i("max_skip_count", 1), attr_s("mode", "TF"),
                 attr_is("ngram_counts", {0, 2}), attr_is("ngram_indexes", {0, 1, 2}), attr_is("pool_int64s", {1, 2, 1, 2})});
    Attribute strs;
    strs.name = "pool_strings";
    strs.type = AttrType::kStrings;
    strs.strings = {"ab", "x", "ab", "x"};
    s.push_back({attr_i("max_gram_length", 2), attr_i("min_gram_length", 1), attr_i("max_skip_count", 0), attr_s("mode", "TFIDF"),
                 attr_is("ngram_counts", {0, 2}), attr_is("ngram_indexes", {0, 1, 2}), strs});
  }
  if (op == "Cast" || op == "CastLike") s.push_back({attr_i("to", 1)}), s.push_back({attr_i("to", 9)}), s.push_back({attr_i("to", 16)});
  return s;
}

// Plausible input lists (pool names; "-" = omitted) for ops whose inputs must fit together to
// get past infer; each is then mutated one input at a time over the whole pool.
const std::map<std::string, std::vector<std::vector<std::string>>>& plausible() {
  static const std::map<std::string, std::vector<std::vector<std::string>>> m = {
      {"Gemm", {{"f32[2,3]", "f32[3,2]", "f32[2]"}}},
      {"MatMulInteger", {{"u8[2,3]", "u8[3,2]", "u8[]", "u8[]"}}},
      {"QLinearMatMul", {{"u8[2,3]", "f32[]", "u8[]", "u8[3,2]", "f32[]", "u8[]", "f32[]", "u8[]"}}},
      {"QuantizeLinear", {{"f32[2,3]", "f32[]", "u8[]"}}},
      {"DequantizeLinear", {{"u8[2,3]", "f32[]", "u8[]"}, {"u8[2,3]", "f32[2]", "u8[]"}}},
      {"BatchNormalization", {{"f32[1,2,2,2]", "f32[2]", "f32[2]", "f32[2]", "f32[2]"}}},
      {"InstanceNormalization", {{"f32[1,2,2,2]", "f32[2]", "f32[2]"}}},
      {"GroupNormalization", {{"f32[1,2,2,2]", "f32[2]", "f32[2]"}}},
      {"Conv", {{"f32[1,2,2,2]", "f32[1,2,1,1]", "f32[]"}, {"f32[1,2,2,2]", "f32[2,1,1,1]"}}},
      {"ConvInteger", {{"u8[1,2,2,2]", "u8[1,2,1,1]", "u8[]", "u8[]"}}},
      {"QLinearConv", {{"u8[1,2,2,2]", "f32[]", "u8[]", "u8[1,2,1,1]", "f32[]", "u8[]", "f32[]", "u8[]"}}},
      {"ConvTranspose", {{"f32[1,2,2,2]", "f32[2,1,1,1]", "f32[]"}}},
      {"RNN", {{"f32[1,2,3]", "f32[1,2,3]", "f32[1,2,2]", "f32[1,4]", "-", "f32[1,2,2]"}}},
      {"Compress", {{"f32[2,3]", "bool[2]"}}},
      {"NonMaxSuppression", {{"f32[1,2,4]", "f32[1,1,2]", "i64[]", "f32[]", "f32[]"}}},
      {"SequenceAt", {{"seq<f32>", "i64[]"}}},
      {"SequenceInsert", {{"seq<f32>", "f32[2,3]", "i64[]"}}},
      {"SequenceErase", {{"seq<f32>", "i64[]neg"}}},
      {"ConcatFromSequence", {{"seq<f32>"}}},
      {"TopK", {{"f32[2,3]", "i64[1]"}}},
      {"ReverseSequence", {{"f32[2,3]", "i64[2]"}}},
      {"Range", {{"i64[]", "i64[4]", "i64[]"}, {"f32[]", "f32[]", "f32[]"}}},
      {"OneHot", {{"i64[2]", "i64[]", "f32[2]"}}},
      {"Gather", {{"f32[2,3]", "i64[2]"}}},
      {"GatherElements", {{"f32[2,3]", "i64[2,3]"}}},
      {"GatherND", {{"f32[2,3]", "i64[2]"}}},
      {"ScatterElements", {{"f32[2,3]", "i64[2,3]", "f32[2,3]"}}},
      {"ScatterND", {{"f32[2,3]", "i64[2]", "f32[]"}}},
      {"Einsum", {{"f32[2,3]", "f32[3,2]"}}},
      {"Where", {{"bool[2,3]", "f32[2,3]", "f32[]"}}},
      {"Pad", {{"f32[2,3]", "i64[4]", "f32[]"}}},
      {"Slice", {{"f32[2,3]", "i64[1]", "i64[1]", "i64[1]", "i64[1]"}}},
      {"Expand", {{"f32[1,2,3]", "i64[2]"}}},
      {"Tile", {{"f32[2,3]", "i64[2]"}}},
      {"Resize", {{"f32[1,2,2,2]", "-", "-", "i64[4]"}}},
      {"MaxUnpool", {{"f32[1,2,2,2]", "i64[2,3]"}}},
      {"DFT", {{"f32[1,2,3]", "i64[]", "i64[]"}}},
      {"STFT", {{"f32[1,2,3]", "i64[]", "f32[2]", "i64[]"}}},
      {"SoftmaxCrossEntropyLoss", {{"f32[2,3]", "i64[2]", "f32[3,2]"}}},
      {"NegativeLogLikelihoodLoss", {{"f32[2,3]", "i64[2]", "f32[3,2]"}}},
      {"RoiAlign", {{"f32[1,2,2,2]", "f32[1,4]", "i64[1]"}}},
      {"MaxRoiPool", {{"f32[1,2,2,2]", "f32[1,4]"}}},
      {"Adagrad", {{"f32[]", "i64[]", "f32[2]", "f32[2]", "f32[2]"}}},
      {"Adam", {{"f32[]", "i64[]", "f32[2]", "f32[2]", "f32[2]", "f32[2]"}}},
      {"Momentum", {{"f32[]", "i64[]", "f32[2]", "f32[2]", "f32[2]"}}},
  };
  return m;
}

struct Counters {
  int64_t cases = 0, factory_ok = 0, infer_ok = 0, compute_ok = 0;
};

bool verbose() {
  static const bool v = std::getenv("ROBUSTNESS_VERBOSE") != nullptr;
  return v;
}

std::string describe(const Node& n, const std::vector<const Named*>& ins, int attr_set) {
  // Appends only: g++ 12 warns falsely (-Wrestrict) on `const char* + std::string` here.
  std::string s = n.op_type;
  s.append(" attrs#").append(std::to_string(attr_set)).append(" in(");
  for (size_t i = 0; i < ins.size(); ++i) {
    if (i) s.append(", ");
    s.append(ins[i] ? ins[i]->name : std::string("omitted"));
  }
  s.append(") out(");
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    if (i) s.append(",");
    s.append(n.outputs[i] == kNoValue ? "-" : "o");
  }
  s.append(")");
  return s;
}

// As tests/ops/op_test_util.hpp's run_kernel (and the executor's dynamic path), with inputs
// given as pointers (nullptr = omitted). Also runs the plan-time infer with unknown data.
void run_case(KernelFactory f, const Node& node, const std::vector<const Named*>& ins, int attr_set, Counters& c) {
  ++c.cases;
  if (verbose()) std::fprintf(stderr, "case: %s\n", describe(node, ins, attr_set).c_str());
  auto made = f(node);
  if (!made) return;
  ++c.factory_ok;
  Kernel& k = **made;
  std::vector<const Value*> in(ins.size());
  for (size_t i = 0; i < ins.size(); ++i) in[i] = ins[i] ? &ins[i]->value : nullptr;

  // At least one slot so that an out-of-range output index is caught by ASan, not by luck.
  std::vector<Value> out(node.outputs.size());
  std::vector<Value*> out_ptrs(out.size());
  for (size_t i = 0; i < out.size(); ++i) out_ptrs[i] = &out[i];

  if (k.dynamic_outputs()) {
    OpContext ctx(node, OpContext::Phase::kCompute, in.data(), nullptr, out_ptrs.data());
    if (k.compute(ctx).is_ok()) ++c.compute_ok;
    return;
  }

  // Plan time: tensor inputs with shapes but no data (known = false), as GraphExecutor::plan.
  bool all_tensors = true;
  for (const Value* v : in) all_tensors &= v == nullptr || v->is_tensor();
  if (all_tensors) {
    std::vector<Value> shapes(in.size());
    std::vector<const Value*> sp(in.size());
    std::unique_ptr<bool[]> known(new bool[in.size() + 1]);
    for (size_t i = 0; i < in.size(); ++i) {
      known[i] = false;
      if (!in[i]) { sp[i] = nullptr; continue; }
      shapes[i] = Value::of(Tensor{in[i]->tensor.dtype, in[i]->tensor.shape, nullptr, nullptr});
      sp[i] = &shapes[i];
    }
    OpContext pctx(node, OpContext::Phase::kInfer, sp.data(), known.get(), out_ptrs.data());
    (void)k.infer(pctx);
    for (auto& v : out) v = Value{};
  }

  OpContext ictx(node, OpContext::Phase::kInfer, in.data(), nullptr, out_ptrs.data());
  if (!k.infer(ictx).is_ok()) return;
  ++c.infer_ok;
  for (auto& v : out) {
    if (!v.is_tensor()) continue;
    auto t = Tensor::allocate(v.tensor.dtype, v.tensor.shape);
    if (!t) return;
    v.tensor = std::move(t).value();
  }
  OpContext cctx(node, OpContext::Phase::kCompute, in.data(), nullptr, out_ptrs.data());
  if (k.compute(cctx).is_ok()) ++c.compute_ok;
}

Node make_node(std::string_view domain, std::string_view op, int n_in, int n_out, std::vector<Attribute> attrs) {
  Node n;
  n.name = "robust";
  n.op_type = std::string(op);
  n.domain = std::string(domain);
  n.opset = 21;
  for (int i = 0; i < n_in; ++i) n.inputs.push_back(i);
  for (int i = 0; i < n_out; ++i) n.outputs.push_back(n_in + i);
  n.attrs = std::move(attrs);
  return n;
}

KernelFactory find_any_domain(std::string_view op, std::string_view& domain) {
  for (std::string_view d : {"", "ai.onnx.preview.training", "ai.onnx.ml", "com.microsoft", "petrel"}) {
    if (KernelFactory f = ref::find_kernel(d, op)) { domain = d; return f; }
  }
  return nullptr;
}

void sweep_op(std::string_view op, const std::vector<Named>& pool, Counters& c) {
  std::string_view domain;
  KernelFactory f = find_any_domain(op, domain);
  ASSERT_NE(f, nullptr) << op;
  auto find = [&](const char* name) {
    for (const Named& p : pool)
      if (p.name == name) return &p;
    ADD_FAILURE() << "no pool entry " << name;
    return &pool[0];
  };
  const Named* f23 = find("f32[2,3]");
  const Named* i2 = find("i64[2]");
  const auto sets = attr_sets(op);
  std::mt19937 rng(std::hash<std::string_view>{}(op));
  for (size_t a = 0; a < sets.size(); ++a) {
    auto run = [&](int n_in, int n_out, const std::vector<const Named*>& ins, uint32_t omit_out = 0) {
      Node n = make_node(domain, op, n_in, n_out, sets[a]);
      for (int j = 0; j < n_out; ++j)
        if (omit_out >> j & 1) n.outputs[size_t(j)] = kNoValue;
      run_case(f, n, ins, int(a), c);
    };
    // (a) every input the same pool entry, 0..5 inputs.
    for (int n_in = 0; n_in <= 5; ++n_in)
      for (const Named& p : pool) run(n_in, 1, std::vector<const Named*>(size_t(n_in), &p));
    // (b) input 0 varies, the others plausible (int64 vector or float matrix); several outputs.
    for (int n_in = 1; n_in <= 5; ++n_in)
      for (const Named& p : pool)
        for (const Named* rest : {i2, f23}) {
          std::vector<const Named*> ins(size_t(n_in), rest);
          ins[0] = &p;
          run(n_in, 3, ins);
        }
    // (c) input k (k >= 1) varies, the others plausible.
    for (int n_in = 2; n_in <= 5; ++n_in)
      for (int k = 1; k < n_in; ++k)
        for (const Named& p : pool) {
          std::vector<const Named*> ins(size_t(n_in), i2);
          ins[0] = f23;
          ins[size_t(k)] = &p;
          run(n_in, 2, ins);
        }
    // (d) every omission pattern of 1..5 inputs.
    for (int n_in = 1; n_in <= 5; ++n_in)
      for (uint32_t mask = 1; mask < (1u << n_in); ++mask)
        for (const Named* fill : {f23, i2}) {
          std::vector<const Named*> ins(size_t(n_in), fill);
          ins[0] = f23;
          for (int k = 0; k < n_in; ++k)
            if (mask >> k & 1) ins[size_t(k)] = nullptr;
          run(n_in, 1, ins);
        }
    // (e) output counts 0..5, some omitted.
    for (int n_out = 0; n_out <= 5; ++n_out)
      for (uint32_t om = 0; om < (1u << n_out); om += (n_out > 2 ? 3 : 1)) {
        run(1, n_out, {f23}, om);
        run(2, n_out, {f23, i2}, om);
        run(3, n_out, {f23, f23, f23}, om);
      }
    // (f) plausible inputs, then each input replaced by every pool entry or omitted.
    if (auto it = plausible().find(std::string(op)); it != plausible().end()) {
      auto by_name = [&](const std::string& name) -> const Named* {
        for (const Named& p : pool)
          if (p.name == name) return &p;
        return nullptr;  // "-": omitted
      };
      for (const auto& base_names : it->second) {
        std::vector<const Named*> base;
        for (const auto& nm : base_names) base.push_back(by_name(nm));
        const int n_in = int(base.size());
        for (int n_out = 1; n_out <= 5; ++n_out) run(n_in, n_out, base);
        for (int k = 0; k < n_in; ++k) {
          std::vector<const Named*> ins = base;
          ins[size_t(k)] = nullptr;
          run(n_in, 3, ins);
          for (const Named& p : pool) {
            ins[size_t(k)] = &p;
            run(n_in, 3, ins);
          }
        }
        for (int drop = 0; drop < n_in; ++drop)  // fewer inputs than plausible
          run(drop, 1, std::vector<const Named*>(base.begin(), base.begin() + drop));
      }
    }
    // (g) random mixes.
    std::uniform_int_distribution<int> nin(0, 5), pick(0, int(pool.size())), nout(0, 5);
    for (int r = 0; r < 250; ++r) {
      const int n_in = nin(rng), n_out = nout(rng);
      std::vector<const Named*> ins(static_cast<size_t>(n_in));
      for (auto& p : ins) {
        int k = pick(rng);
        p = k == int(pool.size()) ? nullptr : &pool[size_t(k)];
      }
      run(n_in, n_out, ins, uint32_t(rng()) & uint32_t(rng()));
    }
  }
}

TEST(Robustness, EveryOpSurvivesBadInputs) {
  const std::vector<Named> pool = make_pool();
  const char* only = std::getenv("ROBUSTNESS_OP");
  const auto t0 = std::chrono::steady_clock::now();
  Counters total;
  int ops = 0;
  for (std::string_view op : ref::registered_ops()) {
    if (only && op != only) continue;
    Counters c;
    sweep_op(op, pool, c);
    ++ops;
    if (verbose()) std::fprintf(stderr, "%.*s: %lld cases, %lld made, %lld inferred, %lld computed\n", int(op.size()), op.data(),
                                (long long)c.cases, (long long)c.factory_ok, (long long)c.infer_ok, (long long)c.compute_ok);
    // Every op must be exercised past its factory by at least one attribute set.
    EXPECT_GT(c.factory_ok, 0) << op << ": the factory rejected every attribute set";
    total.cases += c.cases;
    total.factory_ok += c.factory_ok;
    total.infer_ok += c.infer_ok;
    total.compute_ok += c.compute_ok;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("robustness: %d ops, %lld cases, %lld made, %lld inferred, %lld computed, %.1f s\n", ops,
              (long long)total.cases, (long long)total.factory_ok, (long long)total.infer_ok, (long long)total.compute_ok, s);
  EXPECT_GT(ops, 0);
}

}  // namespace
}  // namespace petrel::test
