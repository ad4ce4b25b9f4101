#include "kernels/xnnpack/lower.hpp"

#include <cmath>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <unordered_map>

#include <sys/mman.h>

#include "core/fused_activation.hpp"
#include "kernels/reference/common.hpp"
#include "kernels/x86/isa.hpp"

namespace petrel::xnnpack {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Asks the kernel to reclaim the whole pages inside [p, p+n): clean file-backed pages of the
// mapped model are dropped (and re-read on a later touch); content is never lost.
void release_pages(const void* p, size_t n) {
#ifdef MADV_PAGEOUT
  const uintptr_t page = 4096, b = (uintptr_t(p) + page - 1) & ~(page - 1), e = (uintptr_t(p) + n) & ~(page - 1);
  if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_PAGEOUT);
#else
  (void)p, (void)n;
#endif
}


struct Builder {
  const Graph& sub;
  const std::vector<Shape>& shapes;
  xnn_subgraph_t sg = nullptr;
  Lowered* out = nullptr;
  std::unordered_map<ValueId, uint32_t> ids;
  // The current stage's external values: inner value -> (external id, flags).
  std::unordered_map<ValueId, std::pair<uint32_t, uint32_t>> ext;

  Status fail(const Node& n, const std::string& why) const { return unsupported(n.label() + ": " + why); }

  const Shape& shape(ValueId v) const { return shapes[size_t(v)]; }
  static bool is4(const Shape& s) { return s.size() == 4; }
  // XNNPACK dims of a value: rank-4 values are NHWC inside a partition.
  static std::vector<size_t> xdims(const Shape& s) {
    if (s.size() == 4) return {size_t(s[0]), size_t(s[2]), size_t(s[3]), size_t(s[1])};
    return std::vector<size_t>(s.begin(), s.end());
  }

  float* own(size_t n) {
    out->owned.emplace_back(new float[n + 16]());  // + XNN_EXTRA_BYTES of readable slack
    return out->owned.back().get();
  }
  // Weights XNNPACK reads only while it packs them (runtime creation): freed right after.
  std::vector<std::unique_ptr<float[]>> packing_only;
  std::vector<const Tensor*> packed_sources;
  float* for_packing(size_t n) {
    packing_only.emplace_back(new float[n]);
    return packing_only.back().get();
  }

  Result<uint32_t> define(const std::vector<size_t>& dims, const void* data, uint32_t ext, uint32_t flags) {
    uint32_t id = 0;
    if (xnn_define_tensor_value(sg, xnn_datatype_fp32, dims.size(), dims.data(), data, ext, flags, &id) != xnn_status_success)
      return unsupported("XNNPACK rejected a tensor");
    return id;
  }

  // The XNNPACK id of a runtime value (activation), defining it on first use.
  Result<uint32_t> value(ValueId v) {
    auto it = ids.find(v);
    if (it != ids.end()) return it->second;
    if (sub.constant(v) != nullptr) return unsupported("constant used as an activation");
    const Shape& s = shape(v);
    if (s.empty() || s.size() > 6) return unsupported("rank " + std::to_string(s.size()) + " is not supported");
    uint32_t eid = XNN_INVALID_VALUE_ID, flags = 0;
    if (auto e = ext.find(v); e != ext.end()) eid = e->second.first, flags = e->second.second;
    PETREL_ASSIGN_OR_RETURN(uint32_t id, define(xdims(s), nullptr, eid, flags));
    ids[v] = id;
    return id;
  }
  Result<uint32_t> temp(const Shape& s) { return define(xdims(s), nullptr, XNN_INVALID_VALUE_ID, 0); }

  // A constant operand of an element-wise op whose output is `out_shape`: broadcast-padded to
  // the output rank and, for rank 4, permuted to NHWC.
  Result<uint32_t> constant_operand(const Tensor& t, const Shape& out_shape) {
    if (t.dtype != DataType::kFloat) return unsupported("non-float constant");
    if (t.shape.size() > out_shape.size()) return unsupported("constant of higher rank than the output");
    Shape s(out_shape.size() - t.shape.size(), 1);
    s.insert(s.end(), t.shape.begin(), t.shape.end());
    const int64_t n = t.numel();
    float* d = own(size_t(n));
    if (s.size() == 4) nchw_to_nhwc(t.as<float>(), d, s);
    else std::memcpy(d, t.data, size_t(n) * sizeof(float));
    return define(xdims(s), d, XNN_INVALID_VALUE_ID, 0);
  }

  Result<uint32_t> operand(const Node& n, int i) {
    const ValueId v = n.inputs[size_t(i)];
    if (const Tensor* c = sub.constant(v)) return constant_operand(*c, shape(n.outputs[0]));
    // A runtime operand of lower rank than a rank-4 output would broadcast against W/H in
    // NCHW but against C in NHWC: only scalars are layout-free.
    const Shape& s = shape(v);
    if (is4(shape(n.outputs[0])) && !is4(s)) {
      int64_t numel = 1;
      for (int64_t d : s) numel *= d;
      if (numel != 1) return fail(n, "broadcast of a lower-rank operand in NHWC");
    }
    return value(v);
  }

  // Applies a fused activation that XNNPACK has no clamp for, after the op wrote `raw`.
  Status activation_tail(const Node& n, const FusedActivation& fa, uint32_t raw, uint32_t outid, const Shape& s) {
    switch (fa.kind) {
      case Activation::kSigmoid: return ok(xnn_define_sigmoid(sg, raw, outid, 0), n);
      case Activation::kHardSwish: return ok(xnn_define_hardswish(sg, raw, outid, 0), n);
      case Activation::kLeakyRelu: return ok(xnn_define_leaky_relu(sg, fa.p0, raw, outid, 0), n);
      case Activation::kSwish: {
        PETREL_ASSIGN_OR_RETURN(uint32_t sig, temp(s));
        PETREL_RETURN_IF_ERROR(ok(xnn_define_sigmoid(sg, raw, sig, 0), n));
        return ok(xnn_define_multiply2(sg, -kInf, kInf, raw, sig, outid, 0), n);
      }
      case Activation::kHardSigmoid: return hard_sigmoid(n, fa.p0, fa.p1, raw, outid, s);
      default: return fail(n, std::string("fused activation ") + fa.name() + " is not supported by XNNPACK");
    }
  }
  // clamp(alpha * x + beta, 0, 1) as a multiply and a clamped add of scalar constants.
  Status hard_sigmoid(const Node& n, float alpha, float beta, uint32_t x, uint32_t y, const Shape& s) {
    float* ab = own(2);
    ab[0] = alpha, ab[1] = beta;
    const std::vector<size_t> one(s.size(), 1);
    PETREL_ASSIGN_OR_RETURN(uint32_t a, define(one, ab, XNN_INVALID_VALUE_ID, 0));
    PETREL_ASSIGN_OR_RETURN(uint32_t b, define(one, ab + 1, XNN_INVALID_VALUE_ID, 0));
    PETREL_ASSIGN_OR_RETURN(uint32_t t, temp(s));
    PETREL_RETURN_IF_ERROR(ok(xnn_define_multiply2(sg, -kInf, kInf, x, a, t, 0), n));
    return ok(xnn_define_add2(sg, 0.0f, 1.0f, t, b, y, 0), n);
  }
  Status ok(xnn_status st, const Node& n) const {
    return st == xnn_status_success ? Status::ok() : fail(n, "XNNPACK rejected the node (status " + std::to_string(int(st)) + ")");
  }

  // For ops with an output clamp: the clamp range of the fused activation, and whether a tail
  // node is needed. `out_id` receives the id the op itself should write.
  Status with_activation(const Node& n, float& lo, float& hi, uint32_t& op_out, bool& tail, FusedActivation& fa) {
    PETREL_ASSIGN_OR_RETURN(fa, FusedActivation::from_node(n));
    lo = -kInf, hi = kInf, tail = false;
    PETREL_ASSIGN_OR_RETURN(uint32_t outid, value(n.outputs[0]));
    op_out = outid;
    if (fa.kind == Activation::kRelu) lo = 0;
    else if (fa.kind == Activation::kClip) lo = fa.p0, hi = fa.p1;
    else if (!fa.none()) {
      tail = true;
      PETREL_ASSIGN_OR_RETURN(op_out, temp(shape(n.outputs[0])));
    }
    return Status::ok();
  }
  Status finish_activation(const Node& n, bool tail, const FusedActivation& fa, uint32_t op_out) {
    if (!tail) return Status::ok();
    PETREL_ASSIGN_OR_RETURN(uint32_t outid, value(n.outputs[0]));
    return activation_tail(n, fa, op_out, outid, shape(n.outputs[0]));
  }

  // Pads {top, left, bottom, right} for a 2-D window op from pads/auto_pad.
  Status pads_2d(const Node& n, const Shape& in, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
                 uint32_t p[4]) {
    PETREL_ASSIGN_OR_RETURN(std::string ap, ref::attr_string(n, "auto_pad", "NOTSET"));
    if (ap == "NOTSET") {
      PETREL_ASSIGN_OR_RETURN(auto pads, ref::attr_ints(n, "pads", {0, 0, 0, 0}));
      if (pads.size() != 4) return fail(n, "pads must have 4 values");
      for (int i = 0; i < 4; ++i) {
        if (pads[size_t(i)] < 0 || pads[size_t(i)] > 1 << 20) return fail(n, "bad pads");
        p[i] = uint32_t(pads[size_t(i)]);
      }
      return Status::ok();
    }
    p[0] = p[1] = p[2] = p[3] = 0;
    if (ap == "VALID") return Status::ok();
    if (ap != "SAME_UPPER" && ap != "SAME_LOWER") return fail(n, "auto_pad " + ap);
    const int64_t k[2] = {(kh - 1) * dh + 1, (kw - 1) * dw + 1}, s[2] = {sh, sw}, x[2] = {in[2], in[3]};
    for (int a = 0; a < 2; ++a) {
      const int64_t o = (x[a] + s[a] - 1) / s[a];
      const int64_t total = std::max<int64_t>(0, (o - 1) * s[a] + k[a] - x[a]);
      const int64_t small = total / 2, big = total - small;
      p[a] = uint32_t(ap == "SAME_UPPER" ? small : big);
      p[a + 2] = uint32_t(ap == "SAME_UPPER" ? big : small);
    }
    return Status::ok();
  }

  Status conv(const Node& n) {
    const Tensor* w = sub.constant(n.inputs[1]);
    const Tensor* b = n.inputs.size() > 2 && n.inputs[2] != kNoValue ? sub.constant(n.inputs[2]) : nullptr;
    const Shape& in = shape(n.inputs[0]);
    if (w == nullptr || w->rank() != 4 || !is4(in)) return fail(n, "only 2-D convolution with constant weights");
    PETREL_ASSIGN_OR_RETURN(int64_t g, ref::attr_int(n, "group", 1));
    PETREL_ASSIGN_OR_RETURN(auto st, ref::attr_ints(n, "strides", {1, 1}));
    PETREL_ASSIGN_OR_RETURN(auto dl, ref::attr_ints(n, "dilations", {1, 1}));
    if (st.size() != 2 || dl.size() != 2) return fail(n, "strides/dilations");
    const int64_t co = w->shape[0], cig = w->shape[1], kh = w->shape[2], kw = w->shape[3], ci = in[1];
    if (g < 1 || ci != cig * g || co % g != 0) return fail(n, "channel counts");
    uint32_t p[4];
    PETREL_RETURN_IF_ERROR(pads_2d(n, in, kh, kw, st[0], st[1], dl[0], dl[1], p));
    float lo, hi;
    uint32_t op_out;
    bool tail;
    FusedActivation fa;
    PETREL_ASSIGN_OR_RETURN(uint32_t x, value(n.inputs[0]));
    PETREL_RETURN_IF_ERROR(with_activation(n, lo, hi, op_out, tail, fa));
    const float* W = w->as<float>();
    uint32_t bid = XNN_INVALID_VALUE_ID;
    if (b != nullptr) {
      if (b->numel() != co) return fail(n, "bias size");
      float* bd = own(size_t(co));
      std::memcpy(bd, b->data, size_t(co) * sizeof(float));
      PETREL_ASSIGN_OR_RETURN(bid, define({size_t(co)}, bd, XNN_INVALID_VALUE_ID, 0));
    }
    const bool depthwise = g > 1 && cig == 1;
    float* f = for_packing(size_t(co * cig * kh * kw));
    xnn_status s;
    if (depthwise) {
      // [Co, 1, kh, kw] -> [1, kh, kw, Co]
      for (int64_t o = 0; o < co; ++o)
        for (int64_t y = 0; y < kh * kw; ++y) f[y * co + o] = W[o * kh * kw + y];
      PETREL_ASSIGN_OR_RETURN(uint32_t fid, define({1, size_t(kh), size_t(kw), size_t(co)}, f, XNN_INVALID_VALUE_ID, 0));
      s = xnn_define_depthwise_convolution_2d(sg, p[0], p[3], p[2], p[1], uint32_t(kh), uint32_t(kw), uint32_t(st[0]),
                                              uint32_t(st[1]), uint32_t(dl[0]), uint32_t(dl[1]), uint32_t(co / g),
                                              size_t(ci), lo, hi, x, fid, bid, op_out, 0);
    } else {
      // [Co, Cin/g, kh, kw] -> [Co, kh, kw, Cin/g]
      for (int64_t o = 0; o < co; ++o)
        for (int64_t c = 0; c < cig; ++c)
          for (int64_t y = 0; y < kh * kw; ++y) f[(o * kh * kw + y) * cig + c] = W[(o * cig + c) * kh * kw + y];
      PETREL_ASSIGN_OR_RETURN(uint32_t fid, define({size_t(co), size_t(kh), size_t(kw), size_t(cig)}, f, XNN_INVALID_VALUE_ID, 0));
      s = xnn_define_convolution_2d(sg, p[0], p[3], p[2], p[1], uint32_t(kh), uint32_t(kw), uint32_t(st[0]),
                                    uint32_t(st[1]), uint32_t(dl[0]), uint32_t(dl[1]), uint32_t(g), size_t(cig),
                                    size_t(co / g), lo, hi, x, fid, bid, op_out, 0);
    }
    PETREL_RETURN_IF_ERROR(ok(s, n));
    release_pages(W, w->nbytes());  // XNNPACK packs from `f`: the model's copy is not read again
    return finish_activation(n, tail, fa, op_out);
  }

  // A Conv as a native stage on Petrel's NHWC convolution (native_conv_wanted checked the
  // operands): the filter is packed here, once.
  Status native_conv(const Node& n, Stage& stage, int threads) {
    const Tensor* w = sub.constant(n.inputs[1]);
    const Tensor* b = n.inputs.size() > 2 && n.inputs[2] != kNoValue ? sub.constant(n.inputs[2]) : nullptr;
    const Shape& in = shape(n.inputs[0]);
    const Shape& o = shape(n.outputs[0]);
    PETREL_ASSIGN_OR_RETURN(auto st, ref::attr_ints(n, "strides", {1, 1}));
    PETREL_ASSIGN_OR_RETURN(auto dl, ref::attr_ints(n, "dilations", {1, 1}));
    PETREL_ASSIGN_OR_RETURN(FusedActivation fa, FusedActivation::from_node(n));
    if (st.size() != 2 || dl.size() != 2 || o.size() != 4 || o[0] != in[0] || o[1] != w->shape[0]) return fail(n, "convolution geometry");
    uint32_t p[4];
    PETREL_RETURN_IF_ERROR(pads_2d(n, in, w->shape[2], w->shape[3], st[0], st[1], dl[0], dl[1], p));
    x86::ConvNhwcShape cs;
    cs.n = in[0], cs.c = in[1], cs.h = in[2], cs.w = in[3];
    cs.co = o[1], cs.oh = o[2], cs.ow = o[3];
    cs.kh = w->shape[2], cs.kw = w->shape[3], cs.sh = st[0], cs.sw = st[1], cs.dh = dl[0], cs.dw = dl[1];
    cs.pad_top = p[0], cs.pad_left = p[1];
    // The output size must be what the padding implies (the last window inside the padded input).
    if ((cs.oh - 1) * cs.sh + (cs.kh - 1) * cs.dh + 1 > cs.h + p[0] + p[2] ||
        (cs.ow - 1) * cs.sw + (cs.kw - 1) * cs.dw + 1 > cs.w + p[1] + p[3])
      return fail(n, "convolution output size");
    if (native_dwconv_wanted(n, sub, shapes)) {
      PETREL_ASSIGN_OR_RETURN(stage.dwconv, x86::DwConvNhwc::make(cs, w->as<float>(), b ? b->as<float>() : nullptr, fa));
      release_pages(w->data, w->nbytes());  // packed: the model's copy is not read again
      return Status::ok();
    }
    PETREL_ASSIGN_OR_RETURN(stage.conv, x86::ConvNhwc::make(cs, w->as<float>(), b ? b->as<float>() : nullptr, fa, threads));
    release_pages(w->data, w->nbytes());  // packed: the model's copy is not read again
    return Status::ok();
  }

  // Gemm (A 2-D, constant B, alpha = beta = 1, no transA) and MatMul / petrel.FusedMatMul with a
  // constant 2-D B: XNNPACK's fully-connected operator.
  Status fully_connected(const Node& n) {
    const bool gemm = n.op_type == "Gemm";
    const Tensor* w = sub.constant(n.inputs[1]);
    const Shape& a = shape(n.inputs[0]);
    if (w == nullptr || w->rank() != 2 || w->dtype != DataType::kFloat) return fail(n, "constant 2-D weights needed");
    if (a.size() < 2 || a.size() == 4) return fail(n, "input rank");
    PETREL_ASSIGN_OR_RETURN(int64_t tb, ref::attr_int(n, "transB", 0));
    if (!gemm) tb = 0;
    const int64_t k = tb ? w->shape[1] : w->shape[0], nout = tb ? w->shape[0] : w->shape[1];
    if (a.back() != k) return fail(n, "inner dimensions");
    uint32_t bid = XNN_INVALID_VALUE_ID;
    if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
      const Tensor* c = sub.constant(n.inputs[2]);
      if (c == nullptr || c->dtype != DataType::kFloat || c->numel() != nout) return fail(n, "bias must be a constant [N]");
      float* bd = own(size_t(nout));
      std::memcpy(bd, c->data, size_t(nout) * sizeof(float));
      PETREL_ASSIGN_OR_RETURN(bid, define({size_t(nout)}, bd, XNN_INVALID_VALUE_ID, 0));
    }
    // Packed at runtime creation straight from the model's bytes.
    const float* wd = w->as<float>();
    packed_sources.push_back(w);
    std::vector<size_t> wdims = tb ? std::vector<size_t>{size_t(nout), size_t(k)} : std::vector<size_t>{size_t(k), size_t(nout)};
    PETREL_ASSIGN_OR_RETURN(uint32_t wid, define(wdims, wd, XNN_INVALID_VALUE_ID, 0));
    float lo, hi;
    uint32_t op_out;
    bool tail;
    FusedActivation fa;
    PETREL_ASSIGN_OR_RETURN(uint32_t x, value(n.inputs[0]));
    PETREL_RETURN_IF_ERROR(with_activation(n, lo, hi, op_out, tail, fa));
    PETREL_RETURN_IF_ERROR(ok(xnn_define_fully_connected(sg, lo, hi, x, wid, bid, op_out, tb ? 0 : XNN_FLAG_TRANSPOSE_WEIGHTS), n));
    return finish_activation(n, tail, fa, op_out);
  }

  Status pool(const Node& n) {
    const Shape& in = shape(n.inputs[0]);
    if (!is4(in)) return fail(n, "only 2-D pooling");
    PETREL_ASSIGN_OR_RETURN(uint32_t x, value(n.inputs[0]));
    PETREL_ASSIGN_OR_RETURN(uint32_t y, value(n.outputs[0]));
    if (n.op_type == "GlobalAveragePool") return ok(xnn_define_global_average_pooling_2d(sg, -kInf, kInf, x, y, 0), n);
    if (n.op_type == "ReduceMean") {  // over H and W (checked when claimed)
      const Shape& o = shape(n.outputs[0]);
      if (o.size() == 4) return ok(xnn_define_global_average_pooling_2d(sg, -kInf, kInf, x, y, 0), n);
      if (o.size() != 2) return fail(n, "ReduceMean output rank");
      PETREL_ASSIGN_OR_RETURN(uint32_t t, temp({in[0], in[1], 1, 1}));
      PETREL_RETURN_IF_ERROR(ok(xnn_define_global_average_pooling_2d(sg, -kInf, kInf, x, t, 0), n));
      const size_t dims[2] = {size_t(o[0]), size_t(o[1])};
      return ok(xnn_define_static_reshape(sg, 2, dims, t, y, 0), n);
    }
    PETREL_ASSIGN_OR_RETURN(auto ks, ref::attr_ints(n, "kernel_shape"));
    PETREL_ASSIGN_OR_RETURN(auto st, ref::attr_ints(n, "strides", {1, 1}));
    PETREL_ASSIGN_OR_RETURN(auto dl, ref::attr_ints(n, "dilations", {1, 1}));
    if (ks.size() != 2 || st.size() != 2 || dl.size() != 2) return fail(n, "kernel_shape/strides/dilations");
    uint32_t p[4];
    PETREL_RETURN_IF_ERROR(pads_2d(n, in, ks[0], ks[1], st[0], st[1], dl[0], dl[1], p));
    PETREL_ASSIGN_OR_RETURN(int64_t ceil_mode, ref::attr_int(n, "ceil_mode", 0));
    if (ceil_mode) {
      // Rounding the output size up = extra padding at the bottom/right; max pooling never
      // reads padding, so this is exact. The output size itself comes from shape inference.
      if (n.op_type != "MaxPool") return fail(n, "ceil_mode average pooling");
      const Shape& o = shape(n.outputs[0]);
      for (int a = 0; a < 2; ++a) {
        const int64_t need = (o[size_t(2 + a)] - 1) * st[size_t(a)] + (ks[size_t(a)] - 1) * dl[size_t(a)] + 1;
        const int64_t have = in[size_t(2 + a)] + p[a] + p[a + 2];
        if (need > have) p[a + 2] += uint32_t(need - have);
      }
    }
    if (n.op_type == "MaxPool")
      return ok(xnn_define_max_pooling_2d(sg, p[0], p[3], p[2], p[1], uint32_t(ks[0]), uint32_t(ks[1]), uint32_t(st[0]),
                                          uint32_t(st[1]), uint32_t(dl[0]), uint32_t(dl[1]), -kInf, kInf, x, y, 0), n);
    // AveragePool: claimed only without padding, where both divisor conventions agree.
    if (p[0] || p[1] || p[2] || p[3] || dl[0] != 1 || dl[1] != 1) return fail(n, "padded or dilated average pooling");
    return ok(xnn_define_average_pooling_2d(sg, 0, 0, 0, 0, uint32_t(ks[0]), uint32_t(ks[1]), uint32_t(st[0]), uint32_t(st[1]),
                                            -kInf, kInf, x, y, 0), n);
  }

  Status unary(const Node& n) {
    PETREL_ASSIGN_OR_RETURN(uint32_t x, value(n.inputs[0]));
    PETREL_ASSIGN_OR_RETURN(uint32_t y, value(n.outputs[0]));
    const std::string& op = n.op_type;
    if (op == "Relu") return ok(xnn_define_clamp(sg, 0, kInf, x, y, 0), n);
    if (op == "Clip") {
      float lo = -kInf, hi = kInf;
      for (int i = 1; i <= 2; ++i) {
        if (int(n.inputs.size()) <= i || n.inputs[size_t(i)] == kNoValue) continue;
        const Tensor* c = sub.constant(n.inputs[size_t(i)]);
        if (c == nullptr || c->dtype != DataType::kFloat || c->numel() != 1) return fail(n, "Clip bounds must be constant");
        (i == 1 ? lo : hi) = c->as<float>()[0];
      }
      return ok(xnn_define_clamp(sg, lo, hi, x, y, 0), n);
    }
    if (op == "Sigmoid") return ok(xnn_define_sigmoid(sg, x, y, 0), n);
    if (op == "HardSigmoid") {
      PETREL_ASSIGN_OR_RETURN(float alpha, ref::attr_float(n, "alpha", 0.2f));
      PETREL_ASSIGN_OR_RETURN(float beta, ref::attr_float(n, "beta", 0.5f));
      return hard_sigmoid(n, alpha, beta, x, y, shape(n.outputs[0]));
    }
    if (op == "Flatten") {  // claimed only after a global pooling: [N,C,1,1] is the same bytes in NHWC
      const Shape& in = shape(n.inputs[0]);
      const Shape& o = shape(n.outputs[0]);
      if (in.size() != 4 || in[2] * in[3] != 1 || o.size() != 2) return fail(n, "Flatten of a non-pooled tensor");
      const size_t dims[2] = {size_t(o[0]), size_t(o[1])};
      return ok(xnn_define_static_reshape(sg, 2, dims, x, y, 0), n);
    }
    if (op == "HardSwish") return ok(xnn_define_hardswish(sg, x, y, 0), n);
    if (op == "LeakyRelu") {
      PETREL_ASSIGN_OR_RETURN(float alpha, ref::attr_float(n, "alpha", 0.01f));
      return ok(xnn_define_leaky_relu(sg, alpha, x, y, 0), n);
    }
    if (op == "Elu") {
      PETREL_ASSIGN_OR_RETURN(float alpha, ref::attr_float(n, "alpha", 1.0f));
      return ok(xnn_define_elu(sg, alpha, x, y, 0), n);
    }
    if (op == "Abs") return ok(xnn_define_abs(sg, x, y, 0), n);
    if (op == "Neg") return ok(xnn_define_negate(sg, x, y, 0), n);
    if (op == "Floor") return ok(xnn_define_floor(sg, x, y, 0), n);
    if (op == "Ceil") return ok(xnn_define_ceiling(sg, x, y, 0), n);
    if (op == "Sqrt") return ok(xnn_define_square_root(sg, x, y, 0), n);
    return fail(n, "not lowered");
  }

  Status binary(const Node& n) {
    PETREL_ASSIGN_OR_RETURN(uint32_t a, operand(n, 0));
    PETREL_ASSIGN_OR_RETURN(uint32_t b, operand(n, 1));
    PETREL_ASSIGN_OR_RETURN(uint32_t y, value(n.outputs[0]));
    const std::string& op = n.op_type;
    if (op == "Add") return ok(xnn_define_add2(sg, -kInf, kInf, a, b, y, 0), n);
    if (op == "Mul") return ok(xnn_define_multiply2(sg, -kInf, kInf, a, b, y, 0), n);
    if (op == "Sub") return ok(xnn_define_subtract(sg, -kInf, kInf, a, b, y, 0), n);
    if (op == "Div") return ok(xnn_define_divide(sg, -kInf, kInf, a, b, y, 0), n);
    if (op == "Max") return ok(xnn_define_maximum2(sg, a, b, y, 0), n);
    if (op == "Min") return ok(xnn_define_minimum2(sg, a, b, y, 0), n);
    return fail(n, "not lowered");
  }

  Status node(const Node& n) {
    for (ValueId v : n.outputs)
      if (v == kNoValue) return fail(n, "omitted output");
    const std::string& op = n.op_type;
    if (op == "Conv") return conv(n);
    if (op == "Gemm" || op == "MatMul" || op == "FusedMatMul") return fully_connected(n);
    if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" || op == "ReduceMean") return pool(n);
    if (op == "Add" || op == "Mul" || op == "Sub" || op == "Div" || op == "Max" || op == "Min") return binary(n);
    return unary(n);
  }
};

}  // namespace

Lowered::~Lowered() {
  for (Stage& st : stages)
    if (st.runtime != nullptr) xnn_delete_runtime(st.runtime);
}

bool is_native(const Node& n) {
  return n.op_type == "Concat" || n.op_type == "Slice" || (n.domain == "petrel" && n.op_type == "ChannelShuffle");
}

bool native_conv_wanted(const Node& n, const Graph& sub, const std::vector<Shape>& shapes) {
  // 0: never; 1: the measured shapes (AVX-512 only); 2: every dense convolution.
  static const int mode = [] {
    const char* e = std::getenv("PETREL_NATIVE_CONV");
    if (e == nullptr) return 1;
    return std::strcmp(e, "0") == 0 ? 0 : std::strcmp(e, "all") == 0 ? 2 : 1;
  }();
  if (mode == 0 || n.op_type != "Conv" || !n.domain.empty() || n.inputs.size() < 2 || n.outputs.size() != 1) return false;
  const Tensor* w = sub.constant(n.inputs[1]);
  if (w == nullptr || w->dtype != DataType::kFloat || w->rank() != 4) return false;
  if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
    const Tensor* b = sub.constant(n.inputs[2]);
    if (b == nullptr || b->dtype != DataType::kFloat || b->numel() != w->shape[0]) return false;
  }
  auto g = ref::attr_int(n, "group", 1);
  const Shape& in = shapes[size_t(n.inputs[0])];
  if (!g || g.value() != 1 || in.size() != 4 || in[1] != w->shape[1]) return false;
  if (mode == 2) return x86::active_isa() >= x86::Isa::kAvx2;
  if (x86::active_isa() != x86::Isa::kAvx512) return false;
  // Measured on Zen 4 against Debian 12's XNNPACK (docs/benchmarks.md, 2026-12-02 NHWC
  // convolution): ours wins (175-210 against 150-180 GFLOP/s) once the product is deep and wide
  // enough to hide packing A, and loses on shallow or narrow ones (K < 192 with Cout < 256,
  // Cout < 64, Cout wasting > 15% of the 32-wide tile).
  // In depthwise-separable networks (MobileNet, MnasNet, EfficientNet, ShuffleNet) every
  // pointwise Conv sits between two depthwise ones. While those stayed in XNNPACK, each native
  // Conv split a runtime in two and the faster GEMM did not pay (mobilenet_v3_large 4-9%
  // slower): a partition with a depthwise Conv that stays in XNNPACK keeps XNNPACK. Where the
  // depthwise Convs run natively (native_dwconv_wanted) the runtimes are split anyway, and
  // native pointwise Convs of the shapes below measured 2-10% faster as a whole
  // (docs/benchmarks.md, native depthwise section).
  for (const Node& other : sub.nodes) {
    if (other.op_type != "Conv" || other.inputs.size() < 2) continue;
    auto og = ref::attr_int(other, "group", 1);
    if (og && og.value() > 1 && !native_dwconv_wanted(other, sub, shapes)) return false;
  }
  const int64_t co = w->shape[0], ci = w->shape[1], k = ci * w->shape[2] * w->shape[3];
  const double tile_use = double(co) / double((co + 31) / 32 * 32);
  if (co < 64 || tile_use < 0.85) return false;
  if (ci < 16) {
    // A network's 3-channel stem: packed a whole filter row (kw * C floats) at a time, which
    // needs no dilation along W and a row of at least 16 floats; ResNet's 7x7 stem measured
    // 118 GFLOP/s against XNNPACK's 97-113.
    auto dl = ref::attr_ints(n, "dilations", {1, 1});
    return dl && dl.value().size() == 2 && dl.value()[1] == 1 && w->shape[3] * ci >= 16 && k >= 128;
  }
  if (k >= 192) return true;
  if (co < 256 || k < 64) return false;
  // A shallow product leaves little FMA work per output to hide a transcendental activation in
  // the epilogue: efficientnet_b0 (Swish expansions, K = 80-192) ran 2-5% slower with them here.
  auto fa = FusedActivation::from_node(n);
  return fa && (fa.value().none() || fa.value().kind == Activation::kRelu || fa.value().kind == Activation::kClip);
}

namespace {

// Dim d of a value in its partition layout (NHWC for rank 4, as XNNPACK holds it).
int64_t layout_dim(const Shape& s, size_t d) {
  static const size_t nhwc[4] = {0, 2, 3, 1};
  return s.size() == 4 ? s[nhwc[d]] : s[d];
}

// The layout axis a rank-`rank` ONNX axis becomes (-1 when out of range).
int64_t layout_axis(int64_t axis, size_t rank) {
  if (axis < 0) axis += int64_t(rank);
  if (axis < 0 || axis >= int64_t(rank)) return -1;
  static const int64_t to_nhwc[4] = {0, 3, 1, 2};
  return rank == 4 ? to_nhwc[axis] : axis;
}

// Product of the layout dims [from, to).
int64_t layout_count(const Shape& s, int64_t from, int64_t to) {
  int64_t n = 1;
  for (int64_t d = from; d < to; ++d) n *= layout_dim(s, size_t(d));
  return n;
}

// Fixes a native stage's geometry from the (ONNX-layout) shapes; errors for what it can't do.
Status plan_native(const Graph& sub, const std::vector<Shape>& shapes, const Node& n, Stage& st) {
  if (n.inputs.empty() || n.outputs.size() != 1 || n.outputs[0] == kNoValue) return unsupported(n.label() + ": native node arity");
  const Shape& xs = shapes[size_t(n.inputs[0])];
  const Shape& ys = shapes[size_t(n.outputs[0])];
  if (n.op_type == "Concat") {
    auto axis_attr = n.attr("axis");
    const int64_t a = layout_axis(axis_attr ? axis_attr->i : 0, ys.size());
    if (a < 0) return unsupported(n.label() + ": axis");
    st.outer = layout_count(ys, 0, a);
    st.out_row = layout_count(ys, a, int64_t(ys.size()));
    return Status::ok();
  }
  if (n.op_type == "ChannelShuffle") {
    auto g = n.attr("groups");
    if (xs.size() != 4 || g == nullptr || g->i <= 0 || xs[1] % g->i != 0) return unsupported(n.label() + ": shape");
    st.outer = xs[0] * xs[2] * xs[3];
    st.in_row = xs[1];
    st.groups = g->i;
    return Status::ok();
  }
  // Slice along one axis, step 1, constant parameters.
  if (n.inputs.size() < 3 || n.inputs.size() > 5) return unsupported(n.label() + ": arity");
  std::vector<int64_t> p[4];
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    const Tensor* t = n.inputs[i] == kNoValue ? nullptr : sub.constant(n.inputs[i]);
    if (t == nullptr) return unsupported(n.label() + ": non-constant slice parameters");
    PETREL_ASSIGN_OR_RETURN(p[i - 1], tensor_to_int64s(*t));
  }
  if (p[0].size() != 1 || p[1].size() != 1 || p[2].size() > 1 || p[3].size() > 1) return unsupported(n.label() + ": more than one axis");
  if (!p[3].empty() && p[3][0] != 1) return unsupported(n.label() + ": step");
  int64_t axis = p[2].empty() ? 0 : p[2][0];
  if (axis < 0) axis += int64_t(xs.size());
  if (axis < 0 || axis >= int64_t(xs.size()) || ys.size() != xs.size()) return unsupported(n.label() + ": axis");
  const int64_t dim = xs[size_t(axis)];
  int64_t start = p[0][0];
  if (start < 0) start += dim;
  start = std::clamp<int64_t>(start, 0, dim);
  if (start + ys[size_t(axis)] > dim) return unsupported(n.label() + ": bounds");
  const int64_t a = layout_axis(axis, xs.size());
  const int64_t inner = layout_count(xs, a + 1, int64_t(xs.size()));
  st.outer = layout_count(xs, 0, a);
  st.in_row = dim * inner;
  st.out_row = ys[size_t(axis)] * inner;
  st.offset = start * inner;
  return Status::ok();
}

}  // namespace

void run_native(const Stage& st, const Lowered& low, float* const* addr, ThreadPool* pool) {
  const Node& n = *st.native;
  float* y = addr[size_t(n.outputs[0])];
  if (st.dwconv) {
    st.dwconv->run(addr[size_t(n.inputs[0])], y, pool);
    return;
  }
  if (st.conv) {
    const float* residual = n.inputs.size() > 3 ? addr[size_t(n.inputs[3])] : nullptr;
    st.conv->run(addr[size_t(n.inputs[0])], y, residual, pool);
    return;
  }
  if (n.op_type == "Concat") {
    // Along the axis, each input contributes a contiguous block of its own row per outer index.
    int64_t at = 0;
    for (ValueId v : n.inputs) {
      const Shape& s = low.shapes[size_t(v)];
      const int64_t row = layout_count(s, 0, int64_t(s.size())) / std::max<int64_t>(st.outer, 1);
      const float* x = addr[size_t(v)];
      for (int64_t o = 0; o < st.outer; ++o) std::memcpy(y + o * st.out_row + at, x + o * row, size_t(row) * sizeof(float));
      at += row;
    }
    return;
  }
  const float* x = addr[size_t(n.inputs[0])];
  if (n.op_type == "ChannelShuffle") {
    // Per pixel: output channel j*g + i reads input channel i*(C/g) + j.
    const int64_t c = st.in_row, g = st.groups, b = c / g;
    for (int64_t o = 0; o < st.outer; ++o) {
      const float* in = x + o * c;
      float* out = y + o * c;
      for (int64_t i = 0; i < g; ++i)
        for (int64_t j = 0; j < b; ++j) out[j * g + i] = in[i * b + j];
    }
    return;
  }
  for (int64_t o = 0; o < st.outer; ++o)  // Slice
    std::memcpy(y + o * st.out_row, x + o * st.in_row + st.offset, size_t(st.out_row) * sizeof(float));
}

namespace {

// Fills `order` (see lower) and whether each of its nodes is native. A fused node is a copy of
// the Conv with the residual as a fourth input, the Add's (or the Relu's) output as its output
// and Relu as its fused activation; Lowered keeps it. PETREL_NATIVE_CONV_FUSE=0 turns this off
// (to measure it).
void fuse_residuals(const Graph& sub, const std::vector<Shape>& shapes, Lowered& low, std::vector<const Node*>& order,
                    std::vector<bool>& native) {
  const size_t nn = sub.nodes.size();
  std::vector<int> uses(sub.values.size(), 0), consumer(sub.values.size(), -1);
  for (size_t i = 0; i < nn; ++i)
    for (ValueId v : sub.nodes[i].inputs)
      if (v != kNoValue) ++uses[size_t(v)], consumer[size_t(v)] = int(i);
  for (ValueId v : sub.outputs) uses[size_t(v)] += 2;  // a partition output is never fused away
  std::vector<bool> wanted(nn), skip(nn);
  std::vector<const Node*> at(nn, nullptr);  // at an Add: the fused node that replaces it
  for (size_t i = 0; i < nn; ++i)
    wanted[i] = !is_native(sub.nodes[i]) &&
                (native_conv_wanted(sub.nodes[i], sub, shapes) || native_dwconv_wanted(sub.nodes[i], sub, shapes));
  static const bool fuse = [] {
    const char* e = std::getenv("PETREL_NATIVE_CONV_FUSE");
    return e == nullptr || std::strcmp(e, "0") != 0;
  }();
  for (size_t i = 0; fuse && i < nn; ++i) {
    const Node& c = sub.nodes[i];
    if (!wanted[i] || c.outputs[0] == kNoValue || c.inputs.size() > 3 || native_dwconv_wanted(c, sub, shapes)) continue;
    auto fa = FusedActivation::from_node(c);
    const ValueId v = c.outputs[0];
    if (!fa || !fa.value().none() || uses[size_t(v)] != 1) continue;
    const size_t a = size_t(consumer[size_t(v)]);
    const Node& add = sub.nodes[a];
    if (add.op_type != "Add" || !add.domain.empty() || add.inputs.size() != 2 || add.outputs.size() != 1 || skip[a] || at[a])
      continue;
    const ValueId r = add.inputs[0] == v ? add.inputs[1] : add.inputs[0];
    ValueId y = add.outputs[0];
    if (r == v || r == kNoValue || y == kNoValue || sub.constant(r) != nullptr || shapes[size_t(r)] != shapes[size_t(v)] ||
        shapes[size_t(y)] != shapes[size_t(v)])
      continue;
    Node f = c;
    f.inputs.resize(3, kNoValue);
    f.inputs.push_back(r);
    if (uses[size_t(y)] == 1) {
      const size_t k = size_t(consumer[size_t(y)]);
      const Node& relu = sub.nodes[k];
      if (relu.op_type == "Relu" && relu.domain.empty() && relu.outputs.size() == 1 && relu.outputs[0] != kNoValue) {
        FusedActivation act;
        act.kind = Activation::kRelu;
        act.write_to(f);
        y = relu.outputs[0];
        skip[k] = true;
      }
    }
    f.outputs = {y};
    low.fused.push_back(std::move(f));
    at[a] = &low.fused.back();
    skip[i] = true;
  }
  for (size_t i = 0; i < nn; ++i) {
    if (at[i] != nullptr) {
      order.push_back(at[i]);
      native.push_back(true);
    } else if (!skip[i]) {
      order.push_back(&sub.nodes[i]);
      native.push_back(wanted[i] || is_native(sub.nodes[i]));
    }
  }
}

}  // namespace

Result<std::unique_ptr<Lowered>> lower(const Graph& sub, const std::vector<Shape>& shapes, pthreadpool_t pool,
                                       int threads) {
  auto out = std::make_unique<Lowered>();
  out->shapes = shapes;
  // The nodes in the order their stages run: the partition's, except that a native Conv whose
  // output only feeds an Add (-> Relu) becomes one fused node at the Add's place (the Add's
  // other operand, e.g. a downsample branch, may be computed after the Conv).
  std::vector<const Node*> order;
  std::vector<bool> native;
  fuse_residuals(sub, shapes, *out, order, native);
  // Stages: maximal runs of XNNPACK nodes, and one stage per native node.
  std::vector<std::pair<size_t, size_t>> runs;
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    if (!native[i])
      while (j < order.size() && !native[j]) ++j;
    runs.emplace_back(i, j);
    i = j;
  }
  // Which stage produces each value (-1: a partition input or constant), and whether a value
  // is read by a stage other than its producer (or leaves the partition).
  std::vector<int> producer(sub.values.size(), -1);
  std::vector<bool> crosses(sub.values.size(), false);
  for (size_t r = 0; r < runs.size(); ++r)
    for (size_t i = runs[r].first; i < runs[r].second; ++i)
      for (ValueId v : order[i]->outputs)
        if (v != kNoValue) producer[size_t(v)] = int(r);
  for (size_t r = 0; r < runs.size(); ++r)
    for (size_t i = runs[r].first; i < runs[r].second; ++i)
      for (ValueId v : order[i]->inputs)
        if (v != kNoValue && sub.constant(v) == nullptr && producer[size_t(v)] != int(r)) crosses[size_t(v)] = true;
  for (ValueId v : sub.outputs) crosses[size_t(v)] = true;
  // Buffers of the values passed between stages, reused once a value is dead (as XNNPACK reuses
  // its arena inside a runtime): a value written by stage p and last read by stage q holds its
  // buffer over [p, q]. With one buffer per value every stage wrote to cold memory.
  std::vector<int> last(sub.values.size(), -1);
  for (size_t r = 0; r < runs.size(); ++r)
    for (size_t i = runs[r].first; i < runs[r].second; ++i)
      for (ValueId v : order[i]->inputs)
        if (v != kNoValue && crosses[size_t(v)] && producer[size_t(v)] != int(r)) last[size_t(v)] = std::max(last[size_t(v)], int(r));
  std::vector<std::pair<int64_t, float*>> free_bufs;  // (capacity in floats, buffer)
  std::vector<std::pair<int64_t, float*>> held(sub.values.size(), {0, nullptr});
  for (size_t r = 0; r < runs.size(); ++r) {
    for (size_t v = 0; v < sub.values.size(); ++v) {
      if (producer[v] != int(r) || !crosses[v]) continue;
      if (std::find(sub.outputs.begin(), sub.outputs.end(), ValueId(v)) != sub.outputs.end()) continue;
      int64_t n = 16;  // + XNN_EXTRA_BYTES of readable slack
      int64_t numel = 1;
      for (int64_t d : shapes[v]) numel *= d;
      n += numel;
      // The smallest free buffer that fits, else a new one.
      size_t best = free_bufs.size();
      for (size_t b = 0; b < free_bufs.size(); ++b)
        if (free_bufs[b].first >= n && (best == free_bufs.size() || free_bufs[b].first < free_bufs[best].first)) best = b;
      if (best < free_bufs.size()) {
        held[v] = free_bufs[best];
        free_bufs.erase(free_bufs.begin() + std::ptrdiff_t(best));
      } else {
        AlignedFloats a = aligned_floats(size_t(n));  // cache-line aligned (see AlignedFloats)
        held[v] = {n, a.get()};
        out->owned.push_back(std::move(a.raw));
      }
      out->buffers.emplace_back(ValueId(v), held[v].second);
    }
    for (size_t v = 0; v < sub.values.size(); ++v)
      if (held[v].second != nullptr && last[v] == int(r)) free_bufs.push_back(held[v]), held[v] = {0, nullptr};
  }
  std::vector<const Tensor*> packed_sources;
  for (size_t r = 0; r < runs.size(); ++r) {
    Stage st;
    const Node& first = *order[runs[r].first];
    if (native[runs[r].first]) {
      // Data inputs (all of Concat's, the first of Slice's, Conv's first and residual) come
      // from other stages.
      const size_t data = first.op_type == "Concat" ? first.inputs.size() : 1;
      for (size_t i = 0; i < first.inputs.size(); ++i) {
        if (i >= data && !(first.op_type == "Conv" && i == 3)) continue;
        const ValueId v = first.inputs[i];
        if (v == kNoValue || sub.constant(v) != nullptr || shapes[size_t(v)].empty()) return unsupported(first.label() + ": native inputs");
      }
      st.native = &first;
      st.what = first.op_type;
      if (first.op_type == "Conv") {
        Builder b{sub, shapes, nullptr, out.get(), {}, {}, {}, {}};
        PETREL_RETURN_IF_ERROR(b.native_conv(first, st, threads));
        if (st.conv) {  // a dense conv (a depthwise one has st.dwconv instead)
          const x86::ConvNhwcShape& cs = st.conv->shape();
          st.what += " " + std::to_string(cs.h) + "x" + std::to_string(cs.w) + "x" + std::to_string(cs.c) + "->" +
                     std::to_string(cs.co) + " k" + std::to_string(cs.kh) + " s" + std::to_string(cs.sh) +
                     (first.inputs.size() > 3 ? " +res" : "");
        } else if (st.dwconv) {
          st.what += " depthwise";
        }
      } else {
        PETREL_RETURN_IF_ERROR(plan_native(sub, shapes, first, st));
      }
      out->stages.push_back(std::move(st));
      continue;
    }
    Builder b{sub, shapes, nullptr, out.get(), {}, {}, {}, {}};
    for (size_t i = runs[r].first; i < runs[r].second; ++i) {
      for (ValueId v : order[i]->inputs)
        if (v != kNoValue && crosses[size_t(v)] && producer[size_t(v)] != int(r) && !b.ext.count(v)) {
          const uint32_t id = uint32_t(b.ext.size());
          b.ext.emplace(v, std::make_pair(id, uint32_t(XNN_VALUE_FLAG_EXTERNAL_INPUT)));
        }
      for (ValueId v : order[i]->outputs)
        if (v != kNoValue && crosses[size_t(v)]) {
          const uint32_t id = uint32_t(b.ext.size());
          b.ext.emplace(v, std::make_pair(id, uint32_t(XNN_VALUE_FLAG_EXTERNAL_OUTPUT)));
        }
    }
    if (xnn_create_subgraph(uint32_t(b.ext.size()), 0, &b.sg) != xnn_status_success)
      return unsupported("XNNPACK: cannot create a subgraph");
    struct Guard {
      xnn_subgraph_t s;
      ~Guard() { xnn_delete_subgraph(s); }
    } guard{b.sg};
    for (auto& [v, e] : b.ext) {  // external values first, so that their ids are the reserved ones
      PETREL_RETURN_IF_ERROR(b.value(v).status());
      st.externals.emplace_back(e.first, v);
    }
    for (size_t i = runs[r].first; i < runs[r].second; ++i) {
      PETREL_RETURN_IF_ERROR(b.node(*order[i]));
      st.what += (st.what.empty() ? "xnnpack: " : ",") + order[i]->op_type;
    }
    // YIELD_WORKERS: the pool's threads sleep as soon as the stage is done (no spinning).
    const xnn_status cs = xnn_create_runtime_v2(b.sg, pool, XNN_FLAG_YIELD_WORKERS, &st.runtime);
    // XNNPACK now holds packed copies: the re-laid-out filters go with the builder.
    packed_sources.insert(packed_sources.end(), b.packed_sources.begin(), b.packed_sources.end());
    if (cs != xnn_status_success) return unsupported("XNNPACK: cannot create the runtime");
    out->stages.push_back(std::move(st));
  }
  // The model's own weight pages go back to the kernel (file pages are re-read if a later
  // re-plan needs them).
  for (const Tensor* t : packed_sources) release_pages(t->data, t->nbytes());
  return out;
}

// A network's input image (C = 3): one pass, the channel count known to the compiler.
template <int64_t C>
static void interleave_channels(const float* in, float* out, int64_t hw) {
  const float* planes[C];
  for (int64_t c = 0; c < C; ++c) planes[c] = in + c * hw;
  for (int64_t p = 0; p < hw; ++p)
    for (int64_t c = 0; c < C; ++c) out[p * C + c] = planes[c][p];
}

void nchw_to_nhwc(const float* src, float* dst, const Shape& s) {
  const int64_t N = s[0], C = s[1], HW = s[2] * s[3];
  for (int64_t n = 0; n < N; ++n) {
    const float* in = src + n * C * HW;
    float* out = dst + n * C * HW;
    if (C == 3) {
      interleave_channels<3>(in, out, HW);
      continue;
    }
    // Blocks of channels keep both the reads and the writes in cache lines.
    for (int64_t c0 = 0; c0 < C; c0 += 16) {
      const int64_t c1 = std::min(C, c0 + 16);
      for (int64_t p = 0; p < HW; ++p)
        for (int64_t c = c0; c < c1; ++c) out[p * C + c] = in[c * HW + p];
    }
  }
}

void nhwc_to_nchw(const float* src, float* dst, const Shape& s) {
  const int64_t N = s[0], C = s[1], HW = s[2] * s[3];
  for (int64_t n = 0; n < N; ++n) {
    const float* in = src + n * C * HW;
    float* out = dst + n * C * HW;
    for (int64_t p0 = 0; p0 < HW; p0 += 16) {
      const int64_t p1 = std::min(HW, p0 + 16);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t p = p0; p < p1; ++p) out[c * HW + p] = in[p * C + c];
    }
  }
}

}  // namespace petrel::xnnpack
