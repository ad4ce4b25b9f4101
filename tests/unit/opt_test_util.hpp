// Building small graphs in code for the optimizer tests, and running a graph before and after
// a pass through GraphExecutor to check that its outputs do not change.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "optimize/optimizer.hpp"
#include "runtime/executor.hpp"

namespace petrel::test {

inline Attribute a_int(const std::string& n, int64_t v) { Attribute a; a.name = n; a.type = AttrType::kInt; a.i = v; return a; }
inline Attribute a_float(const std::string& n, float v) { Attribute a; a.name = n; a.type = AttrType::kFloat; a.f = v; return a; }
inline Attribute a_ints(const std::string& n, std::vector<int64_t> v) { Attribute a; a.name = n; a.type = AttrType::kInts; a.ints = std::move(v); return a; }
inline Attribute a_str(const std::string& n, std::string v) { Attribute a; a.name = n; a.type = AttrType::kString; a.s = std::move(v); return a; }

// Deterministic values in [-2, 2) (some negative, so activations matter).
inline std::vector<float> ramp(int64_t n, float scale = 1.0f, int seed = 1) {
  std::vector<float> v;
  v.reserve(size_t(n));
  uint32_t s = uint32_t(seed) * 2654435761u + 12345u;
  for (int64_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    v.push_back(scale * (float(s >> 8) / float(1 << 24) * 4.0f - 2.0f));
  }
  return v;
}

inline Tensor ftensor(const Shape& shape, const std::vector<float>& data) {
  auto t = Tensor::allocate(DataType::kFloat, shape);
  EXPECT_TRUE(t.is_ok());
  for (size_t i = 0; i < data.size() && int64_t(i) < t->numel(); ++i) t->as<float>()[i] = data[i];
  return std::move(t).value();
}
inline Tensor itensor(const Shape& shape, const std::vector<int64_t>& data) {
  auto t = Tensor::allocate(DataType::kInt64, shape);
  EXPECT_TRUE(t.is_ok());
  for (size_t i = 0; i < data.size() && int64_t(i) < t->numel(); ++i) t->as<int64_t>()[i] = data[i];
  return std::move(t).value();
}
inline Tensor fscalar(float v) { return ftensor({}, {v}); }

class GraphBuilder {
 public:
  GraphBuilder() : g_(std::make_shared<Graph>()) {}

  // A graph input; dims < 0 are symbolic ("batch").
  ValueId input(const std::string& name, const Shape& shape, DataType dt = DataType::kFloat) {
    ValueId id = g_->add_value(name);
    TypeInfo& t = g_->values[size_t(id)].type;
    t.kind = TypeInfo::Kind::kTensor;
    t.dtype = dt;
    t.has_shape = true;
    for (int64_t d : shape) t.shape.push_back(d >= 0 ? Dim{d, ""} : Dim{-1, "batch"});
    g_->inputs.push_back(id);
    return id;
  }
  ValueId constant(const std::string& name, Tensor t) {
    ValueId id = g_->add_value(name);
    g_->constants[id] = std::move(t);
    return id;
  }
  ValueId constant(Tensor t) {
    std::string name = "c";
    name.append(std::to_string(g_->values.size()));
    return constant(name, std::move(t));
  }
  // Adds a node; returns its outputs (n_out of them).
  std::vector<ValueId> node_n(const std::string& op, std::vector<ValueId> in, int n_out, std::vector<Attribute> attrs = {},
                              const std::string& domain = "") {
    Node n;
    n.name = op;
    n.name.append("_").append(std::to_string(g_->nodes.size()));
    n.op_type = op;
    n.domain = domain;
    n.opset = 17;
    n.inputs = std::move(in);
    for (int k = 0; k < n_out; ++k) {
      std::string out = n.name;
      out.append("_out").append(std::to_string(k));
      n.outputs.push_back(g_->add_value(out));
    }
    n.attrs = std::move(attrs);
    g_->nodes.push_back(std::move(n));
    return g_->nodes.back().outputs;
  }
  ValueId node(const std::string& op, std::vector<ValueId> in, std::vector<Attribute> attrs = {}, const std::string& domain = "") {
    return node_n(op, std::move(in), 1, std::move(attrs), domain)[0];
  }
  void output(ValueId v) { g_->outputs.push_back(v); }
  Graph& graph() { return *g_; }
  std::shared_ptr<Graph> share() { return g_; }

 private:
  std::shared_ptr<Graph> g_;
};

// Runs `g` on `inputs` (in graph input order) and returns its outputs as owned tensors.
inline std::vector<Tensor> run_graph(const Graph& g, const std::vector<Tensor>& inputs) {
  auto copy = std::make_shared<Graph>(g);
  auto ex = GraphExecutor::create(copy, true);
  EXPECT_TRUE(ex.is_ok()) << ex.status().to_string();
  if (!ex) return {};
  std::vector<Value> in, out;
  for (const Tensor& t : inputs) in.push_back(Value::of(t));
  Status st = ex.value()->run(in, {}, out);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  std::vector<Tensor> res;
  for (const Value& v : out) {
    auto c = v.tensor.clone();
    EXPECT_TRUE(c.is_ok());
    if (c) res.push_back(std::move(c).value());
  }
  return res;
}

inline void expect_close(const std::vector<Tensor>& a, const std::vector<Tensor>& b, double tol = 1e-5) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    ASSERT_EQ(a[k].dtype, b[k].dtype);
    ASSERT_EQ(a[k].shape, b[k].shape);
    for (int64_t i = 0; i < a[k].numel(); ++i) {
      const double x = element_as_double(a[k], i), y = element_as_double(b[k], i);
      ASSERT_NEAR(x, y, tol * std::max(1.0, std::fabs(y))) << "output " << k << " element " << i;
    }
  }
}

// Op histogram: "Conv" or "Conv+Relu" (with a fused activation), domain-prefixed when not ONNX.
inline std::map<std::string, int> ops(const Graph& g) {
  std::map<std::string, int> m;
  for (const Node& n : g.nodes) {
    std::string k = n.domain.empty() ? n.op_type : n.domain + "." + n.op_type;
    if (const Attribute* a = n.attr("_petrel_activation")) k.append("+").append(a->s);
    m[k]++;
  }
  return m;
}

// Runs the given passes over a copy of `g` to a fixpoint (with dead-node elimination so that
// bypassed nodes disappear), checks that no patch was rejected and that outputs are unchanged.
inline Graph optimize_and_compare(const Graph& g, std::vector<std::unique_ptr<opt::Pass>> passes,
                                  const std::vector<Tensor>& inputs, opt::OptimizeStats* stats = nullptr, double tol = 1e-5) {
  std::vector<Tensor> before = run_graph(g, inputs);
  Graph h = g;
  opt::PassManager pm;
  for (auto& p : passes) pm.add(std::move(p));
  pm.add(opt::make_dead_node_pass());
  opt::OptimizeStats local;
  opt::OptimizeStats& st = stats ? *stats : local;
  Status s = pm.run(h, {}, &st);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_TRUE(st.rejected.empty()) << st.rejected[0];
  EXPECT_TRUE(opt::verify_graph(h).is_ok());
  EXPECT_EQ(h.outputs, g.outputs);
  EXPECT_EQ(h.inputs, g.inputs);
  std::vector<Tensor> after = run_graph(h, inputs);
  expect_close(after, before, tol);
  return h;
}

template <typename... P> std::vector<std::unique_ptr<opt::Pass>> passes(P... p) {
  std::vector<std::unique_ptr<opt::Pass>> v;
  (v.push_back(std::move(p)), ...);
  return v;
}

}  // namespace petrel::test
