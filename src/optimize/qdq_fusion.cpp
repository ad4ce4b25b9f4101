// QDQ fusion: turns the quantized patterns `petrel quantize` writes (docs/quantization.md) into
// ops that consume and produce quantized tensors and run on the int8 GEMM (src/kernels/x86):
//
//   DQ(x_q) , DQ(w_s8 const, per-channel) [, DQ(b_i32 const)] -> Conv [-> Relu|Clip] -> Q
//       => petrel.QConv(x_q, x_s, x_zp, w_q, w_s, b_q, y_s, y_zp)      (y u8/s8)
//   same without the Q (a float graph output): y float32, the activation left as it was
//   the same with Gemm (transA = 0, alpha = beta = 1) or MatMul (2-D weight) => petrel.QGemm
//   DQ(a) + DQ(b) [-> Relu|Clip] -> Q (same shapes)  => petrel.QAdd(a_q, a_s, a_zp, b_q, ...)
//   DQ(x_q, s, zp) -> MaxPool -> Q(s, zp) (2-D)       => petrel.QMaxPool(x_q)
//   (DQ -> GlobalAveragePool/AveragePool/Concat -> Q: the qdq_pool_fusion pass, which runs next)
//   DQ(x_q, s, zp) -> Flatten -> Q(s, zp)             => Flatten(x_q)
//   DynamicQuantizeLinear(x) -> MatMulInteger(x_q, W_s8 const, x_zp, 0) -> Cast(float)
//       -> Mul(x_s · w_s) [-> Add(bias const)]    => petrel.DynQMatMul(x, W, w_s[, bias]) (f32)
//
// A fused Relu/Clip becomes the float attributes act_min/act_max: the kernels clamp the
// quantized result to them. Every test below is a reason to leave a pattern alone (a zero point
// on weights, a bias whose scale is not s_x·s_w, a per-channel axis that is not the output
// channel, a value the fused op would swallow that something else reads): anything not
// recognised stays exactly as it was and runs in float. It runs before constant folding, which
// would otherwise turn the weights' DequantizeLinear into float constants. PETREL_NO_QDQ_FUSION=1
// turns the pass off (to compare against the float QDQ path).
#include <cmath>
#include <cstdlib>
#include <optional>

#include "optimize/pass.hpp"
#include "optimize/rewrite_util.hpp"

namespace petrel::opt {
namespace {

bool is_8bit(DataType t) { return t == DataType::kUInt8 || t == DataType::kInt8; }

bool all_zero(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (element_as_double(t, i) != 0.0) return false;
  return true;
}

// A per-tensor DequantizeLinear of an 8-bit activation.
struct QAct {
  ValueId q = kNoValue, scale = kNoValue, zp = kNoValue;
  float s = 0.f;
};
std::optional<QAct> match_dq_act(const GraphView& view, ValueId v) {
  const int p = view.producer(v);
  if (p < 0) return std::nullopt;
  const Node& dq = view.node(p);
  if (!is_op(dq, "DequantizeLinear") || dq.inputs.size() < 2 || dq.outputs.size() != 1) return std::nullopt;
  QAct a;
  a.q = dq.inputs[0], a.scale = dq.inputs[1], a.zp = dq.inputs.size() > 2 ? dq.inputs[2] : kNoValue;
  const Tensor* st = view.constant(a.scale);
  if (st == nullptr || st->dtype != DataType::kFloat || st->numel() != 1) return std::nullopt;
  a.s = st->as<float>()[0];
  if (!(a.s > 0.f) || !std::isfinite(a.s)) return std::nullopt;
  DataType qt = DataType::kUInt8;
  if (a.zp != kNoValue) {
    const Tensor* zt = view.constant(a.zp);
    if (zt == nullptr || zt->numel() != 1 || !is_8bit(zt->dtype)) return std::nullopt;
    qt = zt->dtype;
  }
  const StaticInfo& qi = view.info(a.q);
  if (qi.dtype != qt || view.constant(a.q) != nullptr) return std::nullopt;
  return a;
}

// A DequantizeLinear of a constant int8 weight, symmetric, with one scale or one per index of
// `axis` (size n).
struct QWeight {
  ValueId q = kNoValue, scale = kNoValue;
  const Tensor* t = nullptr;
  const Tensor* s = nullptr;
};
std::optional<QWeight> match_dq_weight(const GraphView& view, ValueId v, int rank, int64_t axis) {
  const int p = view.producer(v);
  if (p < 0) return std::nullopt;
  const Node& dq = view.node(p);
  if (!is_op(dq, "DequantizeLinear") || dq.inputs.size() < 2 || dq.outputs.size() != 1) return std::nullopt;
  QWeight w;
  w.q = dq.inputs[0], w.scale = dq.inputs[1];
  w.t = view.constant(w.q);
  w.s = view.constant(w.scale);
  if (w.t == nullptr || w.t->dtype != DataType::kInt8 || w.t->rank() != rank) return std::nullopt;
  if (w.s == nullptr || w.s->dtype != DataType::kFloat) return std::nullopt;
  if (dq.inputs.size() > 2 && dq.inputs[2] != kNoValue) {
    const Tensor* zt = view.constant(dq.inputs[2]);
    if (zt == nullptr || !all_zero(*zt)) return std::nullopt;
  }
  if (w.s->numel() == 1 && w.s->rank() <= 1) return w;
  auto ax = attr_i(dq, "axis", 1);
  if (!ax || attr_i(dq, "block_size", 0).value_or(1) != 0) return std::nullopt;
  const int64_t a = *ax < 0 ? *ax + rank : *ax;
  if (a != axis || w.s->rank() != 1 || w.s->numel() != w.t->shape[size_t(axis)]) return std::nullopt;
  for (int64_t i = 0; i < w.s->numel(); ++i)
    if (!(w.s->as<float>()[i] > 0.f) || !std::isfinite(w.s->as<float>()[i])) return std::nullopt;
  return w;
}

float wscale(const QWeight& w, int64_t c) { return w.s->numel() == 1 ? w.s->as<float>()[0] : w.s->as<float>()[c]; }

// DQ(int32 bias const, scale s_x·s_w[c], zero point 0) of n elements; the int32 value.
std::optional<ValueId> match_dq_bias(const GraphView& view, ValueId v, int64_t n, float sx, const QWeight& w) {
  const int p = view.producer(v);
  if (p < 0) return std::nullopt;
  const Node& dq = view.node(p);
  if (!is_op(dq, "DequantizeLinear") || dq.inputs.size() < 2 || dq.outputs.size() != 1) return std::nullopt;
  const Tensor* bt = view.constant(dq.inputs[0]);
  const Tensor* st = view.constant(dq.inputs[1]);
  if (bt == nullptr || bt->dtype != DataType::kInt32 || bt->rank() != 1 || bt->numel() != n) return std::nullopt;
  if (st == nullptr || st->dtype != DataType::kFloat || (st->numel() != 1 && st->numel() != n)) return std::nullopt;
  if (dq.inputs.size() > 2 && dq.inputs[2] != kNoValue) {
    const Tensor* zt = view.constant(dq.inputs[2]);
    if (zt == nullptr || !all_zero(*zt)) return std::nullopt;
  }
  for (int64_t c = 0; c < n; ++c) {
    const float s = st->as<float>()[st->numel() == 1 ? 0 : c];
    const double want = double(sx) * wscale(w, c);  // relative: scales are far below 1
    if (std::fabs(double(s) - want) > 1e-4 * want) return std::nullopt;
  }
  return dq.inputs[0];
}

// What follows a fusable op's output y: an optional Relu/Clip and a per-tensor QuantizeLinear.
struct Tail {
  std::vector<int> remove;
  ValueId out = kNoValue;
  ValueId ys = kNoValue, yzp = kNoValue;
  bool act = false;
  float lo = 0.f, hi = 0.f;
  bool has_lo = false, has_hi = false;
};
std::optional<QAct> match_q(const GraphView& view, const Node& q) {
  if (!is_op(q, "QuantizeLinear") || q.inputs.size() < 2 || q.outputs.size() != 1) return std::nullopt;
  QAct a;
  a.scale = q.inputs[1], a.zp = q.inputs.size() > 2 ? q.inputs[2] : kNoValue;
  const Tensor* st = view.constant(a.scale);
  if (st == nullptr || st->dtype != DataType::kFloat || st->numel() != 1) return std::nullopt;
  a.s = st->as<float>()[0];
  if (!(a.s > 0.f) || !std::isfinite(a.s)) return std::nullopt;
  if (a.zp != kNoValue) {
    const Tensor* zt = view.constant(a.zp);
    if (zt == nullptr || zt->numel() != 1 || !is_8bit(zt->dtype)) return std::nullopt;
  }
  if (attr_i(q, "saturate", 1).value_or(0) != 1) return std::nullopt;
  return a;
}
Tail match_tail(const GraphView& view, ValueId y) {
  Tail t;
  t.out = y;
  int c = view.sole_consumer(y);
  if (c < 0) return t;
  const Node* n = &view.node(c);
  Tail withact = t;
  if (is_op(*n, "Relu") && n->outputs.size() == 1) {
    withact.act = true, withact.has_lo = true, withact.lo = 0.f;
  } else if (is_op(*n, "Clip") && n->outputs.size() == 1 && !n->inputs.empty() && n->inputs[0] == y) {
    withact.act = true;
    for (size_t i = 1; i < n->inputs.size() && i < 3; ++i) {
      if (n->inputs[i] == kNoValue) continue;
      const Tensor* b = view.constant(n->inputs[i]);
      if (b == nullptr || b->dtype != DataType::kFloat || b->numel() != 1) return t;
      (i == 1 ? withact.lo : withact.hi) = b->as<float>()[0];
      (i == 1 ? withact.has_lo : withact.has_hi) = true;
    }
  }
  if (withact.act) {
    withact.remove.push_back(c);
    const ValueId a = n->outputs[0];
    c = view.sole_consumer(a);
    if (c < 0) return t;  // an activation whose result is read as float: leave it
    n = &view.node(c);
  }
  auto q = match_q(view, *n);
  if (!q || n->inputs[0] != (withact.act ? view.node(withact.remove[0]).outputs[0] : y)) return t;
  withact.remove.push_back(c);
  withact.out = n->outputs[0];
  withact.ys = q->scale, withact.yzp = q->zp;
  return withact;
}

void add_tail_attrs(Node& f, const Tail& t) {
  if (t.has_lo) f.attrs.push_back(make_attr_float("act_min", t.lo));
  if (t.has_hi) f.attrs.push_back(make_attr_float("act_max", t.hi));
}

class QdqFusionPass final : public Pass {
 public:
  const char* name() const override { return "qdq_fusion"; }
  void run(const GraphView& view, PatchList& out) override {
    const char* off = std::getenv("PETREL_NO_QDQ_FUSION");
    if (off != nullptr && *off != '\0' && *off != '0') return;
    for (int i = 0; i < view.num_nodes(); ++i) {
      const Node& n = view.node(i);
      if (is_op(n, "Conv")) fuse_conv(view, i, out);
      else if (is_op(n, "Gemm") || is_op(n, "MatMul")) fuse_gemm(view, i, out);
      else if (is_op(n, "Add")) fuse_add(view, i, out);
      else if (is_op(n, "MatMulInteger")) fuse_dynamic(view, i, out);
      else if (is_op(n, "MaxPool")) fuse_max_pool(view, i, out);
      else if (is_op(n, "Flatten")) fuse_flatten(view, i, out);
    }
  }

 private:
  static void finish(const GraphView& view, int i, Node f, const Tail& t, const char* rule, PatchList& out) {
    (void)view;
    Patch p;
    p.rule = rule;
    f.outputs = {t.out};
    add_tail_attrs(f, t);
    p.replace.emplace_back(i, std::move(f));
    p.remove = t.remove;
    out.propose(std::move(p));
  }

  static void fuse_conv(const GraphView& view, int i, PatchList& out) {
    const Node& conv = view.node(i);
    if (conv.inputs.size() < 2 || conv.outputs.size() != 1) return;
    auto x = match_dq_act(view, conv.inputs[0]);
    if (!x) return;
    auto w = match_dq_weight(view, conv.inputs[1], 4, 0);
    if (!w) return;
    const int64_t M = w->t->shape[0];
    // group 1, or depthwise (one input channel per group, as many groups as output channels)
    const auto group = attr_i(conv, "group", 1);
    if (!group || !(*group == 1 || (w->t->shape[1] == 1 && *group == M))) return;
    ValueId bias = kNoValue;
    if (conv.inputs.size() > 2 && conv.inputs[2] != kNoValue) {
      auto b = match_dq_bias(view, conv.inputs[2], M, x->s, *w);
      if (!b) return;
      bias = *b;
    }
    const Tail t = match_tail(view, conv.outputs[0]);
    Node f = conv;
    f.op_type = "QConv";
    f.domain = kPetrelDomain;
    f.inputs = {x->q, x->scale, x->zp, w->q, w->scale, bias, t.ys, t.yzp};
    finish(view, i, std::move(f), t, "Conv", out);
  }

  static void fuse_gemm(const GraphView& view, int i, PatchList& out) {
    const Node& g = view.node(i);
    const bool gemm = is_op(g, "Gemm");
    if (g.inputs.size() < 2 || g.outputs.size() != 1) return;
    int64_t tb = 0;
    if (gemm) {
      auto ta = attr_i(g, "transA", 0);
      auto tbv = attr_i(g, "transB", 0);
      auto al = attr_f(g, "alpha", 1.f);
      auto be = attr_f(g, "beta", 1.f);
      if (!ta || *ta != 0 || !tbv || !al || *al != 1.f || !be || *be != 1.f) return;
      tb = *tbv;
    } else if (g.inputs.size() != 2) {
      return;
    }
    auto x = match_dq_act(view, g.inputs[0]);
    if (!x) return;
    const StaticInfo& xi = view.info(g.inputs[0]);
    if (!xi.has_shape || xi.shape.size() < 2 || (gemm && xi.shape.size() != 2)) return;
    auto w = match_dq_weight(view, g.inputs[1], 2, tb ? 0 : 1);
    if (!w) return;
    const int64_t N = w->t->shape[tb ? 0 : 1];
    ValueId bias = kNoValue;
    if (gemm && g.inputs.size() > 2 && g.inputs[2] != kNoValue) {
      auto b = match_dq_bias(view, g.inputs[2], N, x->s, *w);
      if (!b) return;
      bias = *b;
    }
    const Tail t = match_tail(view, g.outputs[0]);
    Node f = make_node("QGemm", kPetrelDomain, {x->q, x->scale, x->zp, w->q, w->scale, bias, t.ys, t.yzp}, {}, g.name);
    f.attrs.push_back(make_attr_int("transB", tb));
    finish(view, i, std::move(f), t, gemm ? "Gemm" : "MatMul", out);
  }

  static void fuse_add(const GraphView& view, int i, PatchList& out) {
    const Node& add = view.node(i);
    if (add.inputs.size() != 2 || add.outputs.size() != 1) return;
    auto a = match_dq_act(view, add.inputs[0]);
    auto b = match_dq_act(view, add.inputs[1]);
    if (!a || !b) return;
    const StaticInfo& ai = view.info(add.inputs[0]);
    const StaticInfo& bi = view.info(add.inputs[1]);
    if (!ai.has_shape || !bi.has_shape || ai.shape != bi.shape) return;
    const Tail t = match_tail(view, add.outputs[0]);
    if (t.ys == kNoValue) return;  // float result: nothing gained
    Node f = make_node("QAdd", kPetrelDomain, {a->q, a->scale, a->zp, b->q, b->scale, b->zp, t.ys, t.yzp}, {}, add.name);
    finish(view, i, std::move(f), t, "Add", out);
  }

  // DQ(x_q, s, zp) -> MaxPool -> Q(s, zp): the maximum commutes with a monotonic (de)quantization
  // that uses the same parameters on both sides, so the pool runs on the quantized values.
  static void fuse_max_pool(const GraphView& view, int i, PatchList& out) {
    const Node& mp = view.node(i);
    if (mp.inputs.size() != 1 || mp.outputs.size() != 1) return;
    auto x = match_dq_act(view, mp.inputs[0]);
    if (!x) return;
    const StaticInfo& xi = view.info(mp.inputs[0]);
    if (!xi.has_shape || xi.shape.size() != 4) return;
    const int c = view.sole_consumer(mp.outputs[0]);
    if (c < 0) return;
    auto q = match_q(view, view.node(c));
    if (!q || q->s != x->s) return;
    const Tensor* za = view.constant(x->zp);
    const Tensor* zb = view.constant(q->zp);
    if ((za == nullptr) != (zb == nullptr)) return;
    if (za != nullptr && (za->dtype != zb->dtype || element_as_double(*za, 0) != element_as_double(*zb, 0))) return;
    Patch p;
    p.rule = "MaxPool";
    Node f = mp;
    f.op_type = "QMaxPool";
    f.domain = kPetrelDomain;
    f.inputs = {x->q};
    f.outputs = {view.node(c).outputs[0]};
    p.replace.emplace_back(i, std::move(f));
    p.remove.push_back(c);
    out.propose(std::move(p));
  }

  // DQ(x_q, s, zp) -> Flatten -> Q(s, zp): moving bytes commutes with the (de)quantization, so
  // the Flatten runs on the quantized tensor.
  static void fuse_flatten(const GraphView& view, int i, PatchList& out) {
    const Node& fl = view.node(i);
    if (fl.inputs.size() != 1 || fl.outputs.size() != 1) return;
    auto x = match_dq_act(view, fl.inputs[0]);
    if (!x) return;
    const int c = view.sole_consumer(fl.outputs[0]);
    if (c < 0) return;
    auto q = match_q(view, view.node(c));
    if (!q || q->s != x->s || !same_zero_point(view, x->zp, q->zp)) return;
    Patch p;
    p.rule = "Flatten";
    Node f = fl;
    f.inputs = {x->q};
    f.outputs = {view.node(c).outputs[0]};
    p.replace.emplace_back(i, std::move(f));
    p.remove.push_back(c);
    out.propose(std::move(p));
  }

  static bool same_zero_point(const GraphView& view, ValueId a, ValueId b) {
    const Tensor* za = view.constant(a);
    const Tensor* zb = view.constant(b);
    if ((za == nullptr) != (zb == nullptr)) return false;
    return za == nullptr || (za->dtype == zb->dtype && element_as_double(*za, 0) == element_as_double(*zb, 0));
  }

  // DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(scale) [-> Add(bias)].
  static void fuse_dynamic(const GraphView& view, int i, PatchList& out) {
    const Node& mmi = view.node(i);
    if (mmi.inputs.size() < 3 || mmi.outputs.size() != 1) return;
    const int d = view.producer(mmi.inputs[0]);
    if (d < 0 || !is_op(view.node(d), "DynamicQuantizeLinear")) return;
    const Node& dql = view.node(d);
    if (dql.outputs.size() != 3 || mmi.inputs[2] != dql.outputs[2] || dql.outputs[0] != mmi.inputs[0]) return;
    // The quantized x and its zero point feed only this MatMulInteger; the scale only the Mul.
    if (view.sole_consumer(dql.outputs[0]) != i || view.sole_consumer(dql.outputs[2]) != i) return;
    const Tensor* w = view.constant(mmi.inputs[1]);
    if (w == nullptr || w->dtype != DataType::kInt8 || w->rank() != 2) return;
    if (mmi.inputs.size() > 3 && mmi.inputs[3] != kNoValue) {
      const Tensor* wz = view.constant(mmi.inputs[3]);
      if (wz == nullptr || !all_zero(*wz)) return;
    }
    const int64_t N = w->shape[1];
    const int c = view.sole_consumer(mmi.outputs[0]);
    if (c < 0 || !is_op(view.node(c), "Cast") || attr_i(view.node(c), "to", 0).value_or(0) != int64_t(DataType::kFloat)) return;
    const Node& cast = view.node(c);
    const int m = view.sole_consumer(cast.outputs[0]);
    if (m < 0 || !is_op(view.node(m), "Mul")) return;
    const Node& mul = view.node(m);
    const ValueId sv = other_input(mul, cast.outputs[0]);
    // sv = Mul(x_scale, w_scale const) read only here.
    const int sm = view.producer(sv);
    if (sm < 0 || view.sole_consumer(sv) != m || !is_op(view.node(sm), "Mul")) return;
    const Node& smul = view.node(sm);
    if (view.sole_consumer(dql.outputs[1]) != sm) return;
    const ValueId wsv = other_input(smul, dql.outputs[1]);
    const Tensor* ws = view.constant(wsv);
    if (ws == nullptr || ws->dtype != DataType::kFloat || !(ws->numel() == 1 || (ws->rank() == 1 && ws->numel() == N))) return;
    Patch p;
    p.rule = "DynamicQuantizeLinear+MatMulInteger";
    ValueId y = mul.outputs[0];
    ValueId bias = kNoValue;
    const int a = view.sole_consumer(y);
    if (a >= 0 && is_op(view.node(a), "Add")) {
      const Tensor* bt = view.constant(other_input(view.node(a), y));
      if (bt != nullptr && bt->dtype == DataType::kFloat && bt->rank() == 1 && bt->numel() == N) {
        bias = other_input(view.node(a), y);
        y = view.node(a).outputs[0];
        p.remove.push_back(a);
      }
    }
    Node f = make_node("DynQMatMul", kPetrelDomain, {dql.inputs[0], mmi.inputs[1], wsv, bias}, {y}, mmi.name);
    p.replace.emplace_back(i, std::move(f));
    for (int r : {d, c, m, sm}) p.remove.push_back(r);
    out.propose(std::move(p));
  }
};

}  // namespace

std::unique_ptr<Pass> make_qdq_fusion_pass() { return std::make_unique<QdqFusionPass>(); }

}  // namespace petrel::opt
