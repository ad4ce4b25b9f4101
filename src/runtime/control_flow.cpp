// If, Loop and Scan: kernels that run subgraphs with their own (dynamic) executors. Values
// the bodies read from enclosing scopes arrive as the node's implicit inputs.
#include <algorithm>
#include <cstring>

#include "kernels/reference/common.hpp"
#include "kernels/reference/registry.hpp"
#include "kernels/x86/kernels.hpp"
#ifdef PETREL_HAVE_XNNPACK
#include "kernels/xnnpack/provider.hpp"
#endif
#include "runtime/executor.hpp"
#include "runtime/subgraph.hpp"

namespace petrel {
namespace {

// Most Loop iterations one node may run. Fuzz builds lower it (tests/fuzz/CMakeLists.txt) so
// that a huge trip count ends in an error instead of a timeout.
#ifdef PETREL_FUZZ_LOOP_CAP
constexpr int64_t kMaxLoopIterations = PETREL_FUZZ_LOOP_CAP;
#else
constexpr int64_t kMaxLoopIterations = int64_t(1) << 31;
#endif

class IfKernel : public Kernel {
 public:
  Body then_b, else_b;
  Status infer(OpContext&) override { return OpContext::needs_data(); }
  bool dynamic_outputs() const override { return true; }
  Status compute(OpContext& ctx) override {
    if (!ctx.has_input(0) || !ctx.input_value(0).is_tensor()) return ctx.error("the condition input is required and must be a tensor");
    const Tensor& c = ctx.input(0);
    if (c.numel() != 1) return ctx.error("condition must have exactly one element");
    bool cond = element_as_int64(c, 0) != 0;
    std::vector<Value> out;
    PETREL_RETURN_IF_ERROR((cond ? then_b : else_b).run(ctx, {}, out));
    if (int(out.size()) != ctx.num_outputs()) return ctx.error("branch returns " + std::to_string(out.size()) + " outputs, node has " + std::to_string(ctx.num_outputs()));
    for (size_t k = 0; k < out.size(); ++k) PETREL_RETURN_IF_ERROR(own(ctx, int(k), out[k]));
    return Status::ok();
  }
  // Copies a body output (which may live in the body executor's storage) into the node output.
  static Status own(OpContext& ctx, int k, const Value& v) {
    if (v.is_tensor()) {
      PETREL_ASSIGN_OR_RETURN(Tensor t, v.tensor.clone());
      ctx.set_output_value(k, Value::of(std::move(t)));
    } else {
      ctx.set_output_value(k, v);
    }
    return Status::ok();
  }
};

class LoopKernel : public Kernel {
 public:
  Body body;
  Status infer(OpContext&) override { return OpContext::needs_data(); }
  bool dynamic_outputs() const override { return true; }
  Status compute(OpContext& ctx) override {
    if (ctx.num_inputs() < 2) return ctx.error("expects at least 2 inputs (M, cond), got " + std::to_string(ctx.num_inputs()));
    int64_t max_trip = INT64_MAX;
    if (ctx.has_input(0) && ctx.input(0).numel() > 0) max_trip = element_as_int64(ctx.input(0), 0);
    bool cond = true;
    if (ctx.has_input(1) && ctx.input(1).numel() > 0) cond = element_as_int64(ctx.input(1), 0) != 0;
    const int n_carried = ctx.num_inputs() - 2;
    std::vector<Value> carried;
    for (int k = 0; k < n_carried; ++k) carried.push_back(ctx.has_input(k + 2) ? ctx.input_value(k + 2) : Value{});
    const int n_scan = ctx.num_outputs() - n_carried;
    if (n_scan < 0) return ctx.error("fewer outputs than loop-carried values");
    // Checked before the first iteration: with zero iterations the body never runs, yet its
    // declared scan output types are read below.
    const Graph& bg = body.exec->graph();
    if (bg.outputs.size() != size_t(1 + n_carried + n_scan))
      return ctx.error("loop body has " + std::to_string(bg.outputs.size()) + " outputs, the node needs " +
                       std::to_string(1 + n_carried + n_scan));
    std::vector<std::vector<Tensor>> scans(static_cast<size_t>(n_scan));
    std::vector<Value> in(static_cast<size_t>(n_carried + 2)), out;
    PETREL_ASSIGN_OR_RETURN(Tensor iter, Tensor::allocate(DataType::kInt64, {}));
    PETREL_ASSIGN_OR_RETURN(Tensor cond_t, Tensor::allocate(DataType::kBool, {}));
    for (int64_t i = 0; i < max_trip && cond; ++i) {
      if (i >= kMaxLoopIterations) return ctx.error("loop exceeded " + std::to_string(kMaxLoopIterations) + " iterations");
      *iter.as<int64_t>() = i;
      *cond_t.as<uint8_t>() = 1;
      in[0] = Value::of(iter);
      in[1] = Value::of(cond_t);
      for (int k = 0; k < n_carried; ++k) in[size_t(k) + 2] = carried[size_t(k)];
      PETREL_RETURN_IF_ERROR(body.run(ctx, in, out));
      if (int(out.size()) != 1 + n_carried + n_scan) return ctx.error("loop body returns " + std::to_string(out.size()) + " outputs");
      if (!out[0].is_tensor() || out[0].tensor.numel() != 1) return ctx.error("loop body condition must be one element");
      cond = element_as_int64(out[0].tensor, 0) != 0;
      for (int k = 0; k < n_carried; ++k) {
        const Value& v = out[size_t(k) + 1];
        if (v.is_tensor()) {
          PETREL_ASSIGN_OR_RETURN(Tensor t, v.tensor.clone());
          carried[size_t(k)] = Value::of(std::move(t));
        } else {
          carried[size_t(k)] = v;
        }
      }
      for (int s = 0; s < n_scan; ++s) {
        const Value& v = out[size_t(1 + n_carried + s)];
        if (!v.is_tensor()) return ctx.error("scan outputs of Loop must be tensors");
        PETREL_ASSIGN_OR_RETURN(Tensor t, v.tensor.clone());
        scans[size_t(s)].push_back(std::move(t));
      }
    }
    for (int k = 0; k < n_carried; ++k) ctx.set_output_value(k, carried[size_t(k)]);
    for (int s = 0; s < n_scan; ++s) {
      DataType dt = DataType::kFloat;
      const TypeInfo& ti = bg.values[size_t(bg.outputs[size_t(1 + n_carried + s)])].type;
      if (ti.kind == TypeInfo::Kind::kTensor && ti.dtype != DataType::kUndefined) dt = ti.dtype;
      PETREL_ASSIGN_OR_RETURN(Tensor t, stack(scans[size_t(s)], dt));
      ctx.set_output_value(n_carried + s, Value::of(std::move(t)));
    }
    return Status::ok();
  }
};

// Scan (opset 9+): states, then scan inputs sliced along their axes.
class ScanKernel : public Kernel {
 public:
  Body body;
  int64_t num_scan_inputs = 0;
  std::vector<int64_t> in_dirs, out_dirs, in_axes, out_axes;
  Status infer(OpContext&) override { return OpContext::needs_data(); }
  bool dynamic_outputs() const override { return true; }
  Status compute(OpContext& ctx) override {
    const int n_in = ctx.num_inputs();
    if (num_scan_inputs < 0 || num_scan_inputs > n_in)
      return ctx.error("num_scan_inputs " + std::to_string(num_scan_inputs) + " does not fit the " + std::to_string(n_in) + " inputs");
    const int n_state = n_in - int(num_scan_inputs);
    for (int k = 0; k < n_in; ++k)
      if (!ctx.has_input(k) || !ctx.input_value(k).is_tensor()) return ctx.error("input " + std::to_string(k) + " is required and must be a tensor");
    for (int k = n_state; k < n_in; ++k)  // sliced by element offsets below: no packed 4-bit types
      if (ctx.input(k).dtype != DataType::kString && dtype_size(ctx.input(k).dtype) == 0)
        return ctx.unsupported_error("scan input " + std::to_string(k) + " has dtype " + std::string(dtype_name(ctx.input(k).dtype)));
    const int n_scan_out = ctx.num_outputs() - n_state;
    if (n_scan_out < 0) return ctx.error("fewer outputs than states");
    // Move each scan input's scan axis to the front (as a contiguous copy).
    std::vector<Tensor> xs;
    int64_t len = -1;
    for (int k = 0; k < num_scan_inputs; ++k) {
      const Tensor& x = ctx.input(n_state + k);
      int64_t ax = k < int64_t(in_axes.size()) ? in_axes[size_t(k)] : 0;
      PETREL_ASSIGN_OR_RETURN(ax, ref::normalize_axis(ctx.node(), ax, x.rank()));
      PETREL_ASSIGN_OR_RETURN(Tensor moved, move_axis(x, ax, 0));
      if (len >= 0 && moved.shape[0] != len) return ctx.error("scan inputs have different sequence lengths");
      len = moved.shape[0];
      xs.push_back(std::move(moved));
    }
    if (len < 0) len = 0;
    std::vector<Value> state;
    for (int k = 0; k < n_state; ++k) state.push_back(ctx.input_value(k));
    std::vector<std::vector<Tensor>> scans(static_cast<size_t>(n_scan_out));
    std::vector<Value> in(static_cast<size_t>(n_in)), out;
    for (int64_t t = 0; t < len; ++t) {
      for (int k = 0; k < n_state; ++k) in[size_t(k)] = state[size_t(k)];
      for (int k = 0; k < num_scan_inputs; ++k) {
        bool rev = k < int64_t(in_dirs.size()) && in_dirs[size_t(k)] == 1;
        int64_t it = rev ? len - 1 - t : t;
        const Tensor& x = xs[size_t(k)];
        in[size_t(n_state + k)] = Value::of(row_view(x, it));
      }
      PETREL_RETURN_IF_ERROR(body.run(ctx, in, out));
      if (int(out.size()) != n_state + n_scan_out) return ctx.error("scan body returns the wrong number of outputs");
      PETREL_RETURN_IF_ERROR(take_scan_step(out, n_state, state, scans));
    }
    for (int k = 0; k < n_state; ++k) ctx.set_output_value(k, state[size_t(k)]);
    for (int s = 0; s < n_scan_out; ++s) {
      auto& items = scans[size_t(s)];
      if (s < int64_t(out_dirs.size()) && out_dirs[size_t(s)] == 1) std::reverse(items.begin(), items.end());
      PETREL_ASSIGN_OR_RETURN(Tensor st, stack(items, DataType::kFloat));
      int64_t ax = s < int64_t(out_axes.size()) ? out_axes[size_t(s)] : 0;
      PETREL_ASSIGN_OR_RETURN(ax, ref::normalize_axis(ctx.node(), ax, st.rank()));
      PETREL_ASSIGN_OR_RETURN(Tensor moved, move_axis(st, 0, ax));
      ctx.set_output_value(n_state + s, Value::of(std::move(moved)));
    }
    return Status::ok();
  }

  // Copy of x with axis `from` moved to position `to`.
  static Result<Tensor> move_axis(const Tensor& x, int64_t from, int64_t to) {
    if (from == to) return x.clone();
    if (x.dtype != DataType::kString && dtype_size(x.dtype) == 0)
      return unsupported("Scan: cannot move the axis of a " + std::string(dtype_name(x.dtype)) + " tensor");
    std::vector<int64_t> perm;
    for (int64_t d = 0; d < x.rank(); ++d) if (d != from) perm.push_back(d);
    perm.insert(perm.begin() + to, from);
    Shape os;
    for (int64_t p : perm) os.push_back(x.shape[size_t(p)]);
    PETREL_ASSIGN_OR_RETURN(Tensor out, Tensor::allocate(x.dtype, os));
    auto is = ref::contiguous_strides(x.shape);
    const size_t es = dtype_size(x.dtype);
    std::vector<int64_t> idx(size_t(x.rank()), 0);
    for (int64_t o = 0; o < out.numel(); ++o) {
      int64_t src = 0;
      for (size_t d = 0; d < perm.size(); ++d) src += idx[d] * is[size_t(perm[d])];
      if (x.dtype == DataType::kString)  // std::string objects: assign, never memcpy
        out.as<std::string>()[o] = x.as<std::string>()[src];
      else
        std::memcpy(static_cast<uint8_t*>(out.data) + size_t(o) * es, static_cast<const uint8_t*>(x.data) + size_t(src) * es, es);
      for (size_t d = perm.size(); d-- > 0;) { if (++idx[d] < os[d]) break; idx[d] = 0; }
    }
    return out;
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> create_kernel(const Node& n, const Graph& g) {
  if (n.domain.empty() && n.op_type == "If") {
    auto k = std::make_unique<IfKernel>();
    PETREL_ASSIGN_OR_RETURN(auto tg, graph_attr(n, "then_branch"));
    PETREL_ASSIGN_OR_RETURN(auto eg, graph_attr(n, "else_branch"));
    PETREL_ASSIGN_OR_RETURN(k->then_b, Body::make(tg, n, g));
    PETREL_ASSIGN_OR_RETURN(k->else_b, Body::make(eg, n, g));
    return std::unique_ptr<Kernel>(std::move(k));
  }
  if (n.domain.empty() && n.op_type == "Loop") {
    auto k = std::make_unique<LoopKernel>();
    PETREL_ASSIGN_OR_RETURN(auto bg, graph_attr(n, "body"));
    PETREL_ASSIGN_OR_RETURN(k->body, Body::make(bg, n, g));
    return std::unique_ptr<Kernel>(std::move(k));
  }
  if (n.domain.empty() && n.op_type == "Scan") {
    if (n.opset < 9) return make_scan8(n, g);
    auto k = std::make_unique<ScanKernel>();
    PETREL_ASSIGN_OR_RETURN(auto bg, graph_attr(n, "body"));
    PETREL_ASSIGN_OR_RETURN(k->body, Body::make(bg, n, g));
    PETREL_ASSIGN_OR_RETURN(k->num_scan_inputs, ref::attr_int_required(n, "num_scan_inputs"));
    PETREL_ASSIGN_OR_RETURN(k->in_dirs, ref::attr_ints(n, "scan_input_directions"));
    PETREL_ASSIGN_OR_RETURN(k->out_dirs, ref::attr_ints(n, "scan_output_directions"));
    PETREL_ASSIGN_OR_RETURN(k->in_axes, ref::attr_ints(n, "scan_input_axes"));
    PETREL_ASSIGN_OR_RETURN(k->out_axes, ref::attr_ints(n, "scan_output_axes"));
    return std::unique_ptr<Kernel>(std::move(k));
  }
  if (n.domain.empty() && n.op_type == "SequenceMap") return make_sequence_map(n, g);
  KernelFactory f = nullptr;
#ifdef PETREL_HAVE_XNNPACK
  f = xnnpack::find_kernel(n.domain, n.op_type);
#endif
  if (!f) f = x86::find_kernel(n.domain, n.op_type);
  if (!f) f = ref::find_kernel(n.domain, n.op_type);
  if (!f) return unsupported(n.label() + ": operator '" + (n.domain.empty() ? "" : n.domain + ".") + n.op_type + "' is not implemented");
  auto r = f(n);
  if (!r && r.status().message().rfind(n.label(), 0) != 0) return r.status().with_context(n.label());
  return r;
}

}  // namespace petrel
