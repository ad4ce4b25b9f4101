// The kernel of an XnnpackPartition node. infer() runs the reference kernels' shape inference
// over the partition's nodes; the first compute() at new input shapes lowers the partition to
// an XNNPACK runtime (weights re-laid-out and packed once) and sizes the boundary buffers, so
// later runs allocate nothing. If lowering fails, the partition's nodes run on the reference
// kernels (heap outputs; slow but always correct).
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <map>
#include <mutex>

#include <pthreadpool.h>

#include "kernels/reference/registry.hpp"
#include "kernels/xnnpack/lower.hpp"
#include "kernels/xnnpack/provider.hpp"

namespace petrel::xnnpack {
namespace {

// The session's pool when it is a pthreadpool (one set of threads for the whole session);
// otherwise one pthreadpool per thread count, shared by the process.
pthreadpool_t pool_of(ThreadPool* tp) {
  if (tp == nullptr || tp->size() <= 1) return nullptr;
  if (tp->native_handle() != nullptr) return static_cast<pthreadpool_t>(tp->native_handle());
  static std::mutex mu;
  static std::map<int, pthreadpool_t> pools;
  std::lock_guard<std::mutex> lock(mu);
  auto& p = pools[tp->size()];
  if (p == nullptr) p = pthreadpool_create(size_t(tp->size()));
  return p;
}

bool needs_transpose(const Shape& s) { return s.size() == 4 && s[1] != 1 && s[2] * s[3] != 1; }

class PartitionKernel final : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> make(const Node& node) {
    const Attribute* a = node.attr(kSubgraphAttr);
    if (a == nullptr || a->g == nullptr) return invalid_model(node.label() + ": partition without a subgraph");
    auto k = std::make_unique<PartitionKernel>();
    k->sub_ = a->g;
    for (const Node& n : k->sub_->nodes) {
      KernelFactory f = ref::find_kernel(n.domain, n.op_type);
      if (f == nullptr) return unsupported(n.label() + ": no kernel");
      PETREL_ASSIGN_OR_RETURN(auto rk, f(n));
      k->ref_.push_back(std::move(rk));
    }
    k->vals_.resize(k->sub_->values.size());
    for (const auto& [id, t] : k->sub_->constants) k->vals_[size_t(id)] = Value::of(t);
    return std::unique_ptr<Kernel>(std::move(k));
  }

  Status infer(OpContext& ctx) override {
    const Graph& s = *sub_;
    for (size_t i = 0; i < s.inputs.size(); ++i) {
      if (!ctx.has_input(int(i)) || !ctx.input_value(int(i)).is_tensor()) return ctx.error("input is not a tensor");
      const Tensor& t = ctx.input(int(i));
      vals_[size_t(s.inputs[i])] = Value::of(Tensor{t.dtype, t.shape, nullptr, nullptr});
    }
    PETREL_RETURN_IF_ERROR(run_reference(false));
    for (size_t j = 0; j < s.outputs.size(); ++j) {
      const Tensor& t = vals_[size_t(s.outputs[j])].tensor;
      PETREL_RETURN_IF_ERROR(ctx.set_output(int(j), t.dtype, t.shape));
    }
    return Status::ok();
  }

  Status compute(OpContext& ctx) override {
    const Graph& s = *sub_;
    pthreadpool_t pool = pool_of(ctx.pool);
    if (!built_ || pool != built_pool_ || !same_input_shapes(ctx)) PETREL_RETURN_IF_ERROR(build(ctx, pool));
    if (low_ == nullptr) {
      if (!warned_ && std::getenv("PETREL_XNNPACK_VERBOSE") != nullptr) {
        std::fprintf(stderr, "petrel: %s runs on the reference kernels: %s\n", ctx.node().label().c_str(), why_.c_str());
        warned_ = true;
      }
      return compute_reference(ctx);
    }
    Clock clock(prof_.empty() ? nullptr : &prof_);
    for (size_t i = 0; i < s.inputs.size(); ++i) {
      const Tensor& t = ctx.input(int(i));
      if (needs_transpose(t.shape)) nchw_to_nhwc(t.as<float>(), in_buf_[i].get(), t.shape);
      else std::memcpy(in_buf_[i].get(), t.data, t.nbytes());
    }
    clock.lap(0);
    for (size_t j = 0; j < s.outputs.size(); ++j)
      addr_[size_t(s.outputs[j])] = out_buf_[j] ? out_buf_[j].get() : ctx.output(int(j)).as<float>();
    for (size_t si = 0; si < low_->stages.size(); ++si) {
      Stage& st = low_->stages[si];
      if (st.native != nullptr) {
        run_native(st, *low_, addr_.data(), ctx.pool);
        clock.lap(si + 1);
        continue;
      }
      // Setup only when a buffer moved (in steady state: never): it rebuilds XNNPACK's
      // indirection data.
      bool changed = st.bound.size() != st.externals.size();
      st.bound.resize(st.externals.size());
      for (size_t e = 0; e < st.externals.size(); ++e) {
        void* p = addr_[size_t(st.externals[e].second)];
        if (st.bound[e].id != st.externals[e].first || st.bound[e].data != p) changed = true;
        st.bound[e] = xnn_external_value{st.externals[e].first, p};
      }
      if (changed && xnn_setup_runtime(st.runtime, st.bound.size(), st.bound.data()) != xnn_status_success)
        return ctx.error("XNNPACK setup failed");
      if (xnn_invoke_runtime(st.runtime) != xnn_status_success) return ctx.error("XNNPACK run failed");
      clock.lap(si + 1);
    }
    for (size_t j = 0; j < s.outputs.size(); ++j) {
      if (!out_buf_[j]) continue;
      Tensor& o = ctx.output(int(j));
      if (needs_transpose(o.shape)) nhwc_to_nchw(out_buf_[j].get(), o.as<float>(), o.shape);
      else std::memcpy(o.data, out_buf_[j].get(), o.nbytes());
    }
    clock.lap(prof_.empty() ? 0 : prof_.size() - 1);
    if (!prof_.empty() && prof_runs_++ < 0) std::fill(prof_.begin(), prof_.end(), 0.0);
    return Status::ok();
  }

  ~PartitionKernel() override { print_profile(); }

  // PETREL_STAGE_PROFILE=1: time per stage (entry transposes, each stage, exit transposes),
  // printed to stderr when the session closes. Off: one branch per stage.
  struct Clock {
    std::vector<double>* acc;
    std::chrono::steady_clock::time_point t;
    explicit Clock(std::vector<double>* a) : acc(a) {
      if (acc) t = std::chrono::steady_clock::now();
    }
    void lap(size_t i) {
      if (!acc) return;
      const auto now = std::chrono::steady_clock::now();
      (*acc)[i] += std::chrono::duration<double, std::milli>(now - t).count();
      t = now;
    }
  };
  void print_profile() {
    if (prof_runs_ <= 0 || prof_.empty() || low_ == nullptr) return;
    double total = 0;
    for (double v : prof_) total += v;
    std::fprintf(stderr, "stage profile (%lld runs, %.3f ms per run):\n", (long long)prof_runs_, total / double(prof_runs_));
    for (size_t i = 0; i < prof_.size(); ++i) {
      const std::string what = i == 0 ? "transpose in" : i == prof_.size() - 1 ? "transpose out" : low_->stages[i - 1].what;
      double gf = 0;
      if (i > 0 && i + 1 < prof_.size() && low_->stages[i - 1].conv)
        gf = 2.0 * low_->stages[i - 1].conv->macs() / (prof_[i] / double(prof_runs_) * 1e6);
      std::fprintf(stderr, "  %3zu %8.3f ms %5.1f%%  %s", i, prof_[i] / double(prof_runs_), 100.0 * prof_[i] / total, what.c_str());
      if (gf > 0) std::fprintf(stderr, "  %.0f GFLOP/s", gf);
      std::fprintf(stderr, "\n");
    }
  }

  const std::string& fallback_reason() const { return why_; }
  bool warned_ = false;

 private:
  bool same_input_shapes(OpContext& ctx) const {
    for (size_t i = 0; i < built_shapes_.size(); ++i)
      if (ctx.input(int(i)).shape != built_shapes_[i]) return false;
    return true;
  }

  Status build(OpContext& ctx, pthreadpool_t pool) {
    const Graph& s = *sub_;
    built_ = true;
    built_pool_ = pool;
    built_shapes_.clear();
    for (size_t i = 0; i < s.inputs.size(); ++i) built_shapes_.push_back(ctx.input(int(i)).shape);
    print_profile();
    prof_runs_ = 0;
    low_.reset();
    // Shapes of every inner value at these input shapes (infer ran at plan time for them).
    std::vector<Shape> shapes(s.values.size());
    bool all_float = true;
    for (size_t v = 0; v < s.values.size(); ++v) {
      const Value& val = vals_[v];
      if (!val.is_tensor()) continue;
      shapes[v] = val.tensor.shape;
      if (val.tensor.dtype != DataType::kFloat && s.constant(ValueId(v)) == nullptr) all_float = false;
    }
    if (!all_float) {
      why_ = "a value is not float32";
      return Status::ok();
    }
    auto low = lower(s, shapes, pool, ctx.pool != nullptr ? ctx.pool->size() : 1);
    if (!low) {
      why_ = low.status().message();
      return Status::ok();
    }
    low_ = std::move(low).value();
    in_buf_.clear();
    out_buf_.clear();
    addr_.assign(s.values.size(), nullptr);
    for (size_t i = 0; i < s.inputs.size(); ++i) {
      // Slack past the end: XNNPACK kernels may read (never use) up to XNN_EXTRA_BYTES more.
      in_buf_.push_back(aligned_floats(size_t(ctx.input(int(i)).numel()) + 16));
      addr_[size_t(s.inputs[i])] = in_buf_.back().get();
    }
    for (size_t j = 0; j < s.outputs.size(); ++j) {
      // Outputs that need a layout change, or that later stages read (XNNPACK may read past
      // the end of an input), get a buffer of their own and are copied out at the end.
      const Tensor& t = ctx.output(int(j));
      bool read_inside = false;
      for (const Node& n : s.nodes)
        for (ValueId v : n.inputs) read_inside |= v == s.outputs[j];
      const bool own = needs_transpose(t.shape) || read_inside;
      out_buf_.push_back(own ? aligned_floats(size_t(t.numel()) + 16) : AlignedFloats{});
    }
    for (auto& [v, p] : low_->buffers) addr_[size_t(v)] = p;
    prof_.clear();
    prof_runs_ = -1;  // the first run (cold caches) is not counted
    if (const char* e = std::getenv("PETREL_STAGE_PROFILE"); e != nullptr && std::strcmp(e, "0") != 0)
      prof_.assign(low_->stages.size() + 2, 0.0);
    return Status::ok();
  }

  // Runs the inner nodes with the reference kernels: infer only (compute == false), or infer,
  // heap allocation and compute.
  Status run_reference(bool compute) {
    const Graph& s = *sub_;
    std::vector<const Value*> ins;
    std::vector<Value*> outs;
    Value scratch;
    for (size_t j = 0; j < s.nodes.size(); ++j) {
      const Node& n = s.nodes[j];
      ins.clear(), outs.clear();
      std::unique_ptr<bool[]> known(new bool[n.inputs.size() + 1]);
      for (size_t i = 0; i < n.inputs.size(); ++i) {
        const ValueId v = n.inputs[i];
        ins.push_back(v == kNoValue ? nullptr : &vals_[size_t(v)]);
        known[i] = compute || (v != kNoValue && s.constant(v) != nullptr);
      }
      for (ValueId v : n.outputs) outs.push_back(v == kNoValue ? &scratch : &vals_[size_t(v)]);
      OpContext ictx(n, OpContext::Phase::kInfer, ins.data(), known.get(), outs.data());
      PETREL_RETURN_IF_ERROR(ref_[j]->infer(ictx));
      if (!compute) continue;
      for (Value* o : outs) {
        if (!o->is_tensor()) continue;
        PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(o->tensor.dtype, o->tensor.shape));
        o->tensor = std::move(t);
      }
      OpContext cctx(n, OpContext::Phase::kCompute, ins.data(), nullptr, outs.data());
      PETREL_RETURN_IF_ERROR(ref_[j]->compute(cctx));
    }
    return Status::ok();
  }

  Status compute_reference(OpContext& ctx) {
    const Graph& s = *sub_;
    for (size_t i = 0; i < s.inputs.size(); ++i) vals_[size_t(s.inputs[i])] = ctx.input_value(int(i));
    PETREL_RETURN_IF_ERROR(run_reference(true));
    for (size_t j = 0; j < s.outputs.size(); ++j) {
      const Tensor& t = vals_[size_t(s.outputs[j])].tensor;
      Tensor& o = ctx.output(int(j));
      if (t.nbytes() != o.nbytes()) return ctx.error("partition output size changed");
      if (t.nbytes() > 0) std::memcpy(o.data, t.data, t.nbytes());
    }
    return Status::ok();
  }

  std::shared_ptr<const Graph> sub_;
  std::vector<std::unique_ptr<Kernel>> ref_;
  std::vector<Value> vals_;
  bool built_ = false;
  pthreadpool_t built_pool_ = nullptr;
  std::vector<Shape> built_shapes_;
  std::unique_ptr<Lowered> low_;
  std::string why_;
  std::vector<AlignedFloats> in_buf_, out_buf_;  // 64-byte aligned
  std::vector<float*> addr_;  // per inner value: its NHWC buffer during compute
  std::vector<double> prof_;  // PETREL_STAGE_PROFILE: ms per stage, summed over runs
  long long prof_runs_ = 0;
};

std::once_flag init_once;
bool init_ok = false;

}  // namespace

bool available() {
  if (std::getenv("PETREL_NO_XNNPACK") != nullptr) return false;
  std::call_once(init_once, [] { init_ok = xnn_initialize(nullptr) == xnn_status_success; });
  return init_ok;
}

KernelFactory find_kernel(const std::string& domain, const std::string& op_type) {
  if (domain == kPartitionDomain && op_type == kPartitionOp) return &PartitionKernel::make;
  return nullptr;
}

}  // namespace petrel::xnnpack
