#include "runtime/executor.hpp"

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "plan/arena_plan.hpp"

namespace petrel {

// Prefixes the node's label to an error unless the kernel already named the node.
static Status in_node(const Status& st, const Node& n) {
  if (st.is_ok() || st.message().rfind(n.label(), 0) == 0) return st;
  return st.with_context(n.label());
}

GraphExecutor::~GraphExecutor() { std::free(arena_); }

Result<std::unique_ptr<GraphExecutor>> GraphExecutor::create(std::shared_ptr<const Graph> graph, bool static_plan) {
  std::unique_ptr<GraphExecutor> ex(new GraphExecutor());
  ex->graph_ = std::move(graph);
  ex->static_plan_ = static_plan;
  for (const Node& n : ex->graph_->nodes) {
    PETREL_ASSIGN_OR_RETURN(auto k, create_kernel(n, *ex->graph_));
    ex->kernels_.push_back(std::move(k));
  }
  return ex;
}

static std::string value_desc(const Value& v) {
  if (v.is_sequence()) return "a sequence";
  if (v.is_empty()) return "an empty optional";
  return std::string(dtype_name(v.tensor.dtype)) + shape_to_string(v.tensor.shape);
}

Status GraphExecutor::validate_inputs(const std::vector<Value>& inputs) const {
  const Graph& g = *graph_;
  if (inputs.size() != g.inputs.size())
    return invalid_argument("expected " + std::to_string(g.inputs.size()) + " inputs, got " + std::to_string(inputs.size()));
  for (size_t k = 0; k < inputs.size(); ++k) {
    const ValueInfo& vi = g.values[size_t(g.inputs[k])];
    const Value& v = inputs[k];
    const TypeInfo& t = vi.type;
    auto bad = [&](const std::string& why) {
      return invalid_argument("input '" + vi.name + "': expected " + t.to_string() + ", got " + value_desc(v) + " (" + why + ")");
    };
    if (t.kind == TypeInfo::Kind::kTensor) {
      if (!v.is_tensor()) return bad("not a tensor");
      if (t.dtype != DataType::kUndefined && t.dtype != v.tensor.dtype) return bad("wrong dtype");
      if (t.has_shape) {
        if (t.shape.size() != v.tensor.shape.size()) return bad("wrong rank");
        for (size_t d = 0; d < t.shape.size(); ++d)
          if (t.shape[d].is_static() && t.shape[d].value != v.tensor.shape[d]) return bad("dimension " + std::to_string(d) + " differs");
      }
      if (!checked_numel(v.tensor.shape)) return bad("too many elements");
      if (v.tensor.data == nullptr && v.tensor.numel() > 0) return bad("no data");
    } else if (t.kind == TypeInfo::Kind::kSequence && !v.is_sequence()) {
      return bad("not a sequence");
    }
  }
  return Status::ok();
}

bool GraphExecutor::same_shapes(const std::vector<Value>& inputs) const {
  if (planned_shapes_.size() != inputs.size()) return false;
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].is_tensor()) return false;  // sequences and optionals always re-plan
    if (inputs[k].tensor.shape != planned_shapes_[k] || inputs[k].tensor.dtype != planned_dtypes_[k]) return false;
  }
  return true;
}

Status GraphExecutor::plan(const std::vector<Value>& inputs) {
  PETREL_RETURN_IF_ERROR(validate_inputs(inputs));
  const Graph& g = *graph_;
  const size_t nv = g.values.size(), nn = g.nodes.size();
  planned_ = false;
  stats_ = {};
  vals_.assign(nv, Value{});
  constant_.assign(nv, 0);
  std::vector<uint8_t> shape_known(nv, 0);
  for (const auto& [id, t] : g.constants) {
    vals_[size_t(id)] = Value::of(t);
    constant_[size_t(id)] = shape_known[size_t(id)] = 1;
  }
  planned_shapes_.clear();
  planned_dtypes_.clear();
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Value& v = inputs[k];
    planned_shapes_.push_back(v.tensor.shape);
    planned_dtypes_.push_back(v.tensor.dtype);
    if (v.is_tensor()) {
      vals_[size_t(g.inputs[k])] = Value::of(Tensor{v.tensor.dtype, v.tensor.shape, nullptr, nullptr});
      shape_known[size_t(g.inputs[k])] = 1;
    }
  }
  size_t n_out = 0;
  for (const Node& n : g.nodes) n_out += n.outputs.size();
  scratch_outputs_.assign(n_out, Value{});
  mode_.assign(nn, Mode::kDynamic);
  in_ptrs_.assign(nn, {});
  out_ptrs_.assign(nn, {});
  implicit_ptrs_.assign(nn, {});
  size_t scratch = 0;
  for (size_t i = 0; i < nn; ++i) {
    const Node& n = g.nodes[i];
    for (ValueId id : n.inputs) in_ptrs_[i].push_back(id == kNoValue ? nullptr : &vals_[size_t(id)]);
    for (ValueId id : n.outputs) out_ptrs_[i].push_back(id == kNoValue ? &scratch_outputs_[scratch++] : &vals_[size_t(id)]);
    for (ValueId id : n.implicit_inputs) implicit_ptrs_[i].push_back(&vals_[size_t(id)]);
  }

  std::vector<int> last_use(nv, -1);
  for (size_t i = 0; i < nn; ++i) {
    for (ValueId id : g.nodes[i].inputs) if (id != kNoValue) last_use[size_t(id)] = int(i);
    for (ValueId id : g.nodes[i].implicit_inputs) last_use[size_t(id)] = int(i);
  }
  for (ValueId id : g.outputs) last_use[size_t(id)] = int(nn);

  std::vector<BufferRequest> requests;
  std::vector<ValueId> request_value;
  std::unique_ptr<bool[]> known(new bool[64]);
  size_t known_cap = 64;
  for (size_t i = 0; i < nn; ++i) {
    const Node& n = g.nodes[i];
    Kernel& k = *kernels_[i];
    if (!static_plan_) continue;
    bool all_shapes = true, all_const = true;
    for (ValueId id : n.inputs) {
      if (id == kNoValue) continue;
      all_shapes &= shape_known[size_t(id)] != 0;
      all_const &= constant_[size_t(id)] != 0;
    }
    if (!all_shapes || !n.implicit_inputs.empty()) continue;
    if (all_const && k.deterministic()) {
      PETREL_RETURN_IF_ERROR(run_node(i, true));
      mode_[i] = Mode::kFolded;
      ++stats_.folded_nodes;
      for (ValueId id : n.outputs)
        if (id != kNoValue) constant_[size_t(id)] = shape_known[size_t(id)] = 1;
      continue;
    }
    if (k.dynamic_outputs()) continue;
    if (n.inputs.size() > known_cap) { known_cap = n.inputs.size(); known.reset(new bool[known_cap]); }
    for (size_t j = 0; j < n.inputs.size(); ++j) known[j] = n.inputs[j] != kNoValue && constant_[size_t(n.inputs[j])];
    OpContext ctx(n, OpContext::Phase::kInfer, in_ptrs_[i].data(), known.get(), out_ptrs_[i].data());
    Status st = k.infer(ctx);
    if (st.code() == StatusCode::kNeedsData) {
      for (Value* v : out_ptrs_[i]) *v = Value{};
      continue;
    }
    PETREL_RETURN_IF_ERROR(in_node(st, n));
    bool plannable = true;
    for (size_t j = 0; j < n.outputs.size(); ++j) {
      const Value& v = *out_ptrs_[i][j];
      if (n.outputs[j] != kNoValue && (!v.is_tensor() || v.tensor.dtype == DataType::kString)) plannable = false;
    }
    if (!plannable) {
      for (Value* v : out_ptrs_[i]) *v = Value{};
      continue;
    }
    mode_[i] = Mode::kStatic;
    for (size_t j = 0; j < n.outputs.size(); ++j) {
      ValueId id = n.outputs[j];
      const Tensor& t = out_ptrs_[i][j]->tensor;
      if (id != kNoValue) shape_known[size_t(id)] = 1;
      // Omitted outputs still need a buffer: the kernel may write them.
      int last = id == kNoValue ? int(i) : std::max(int(i), last_use[size_t(id)]);
      requests.push_back({t.nbytes(), int(i), last});
      request_value.push_back(id);
    }
  }
  for (size_t i = 0; i < nn; ++i) {
    if (mode_[i] == Mode::kStatic) ++stats_.static_nodes;
    else if (mode_[i] == Mode::kDynamic) ++stats_.dynamic_nodes;
  }
  ArenaPlan ap = plan_arena(requests);
  if (ap.total_bytes > arena_capacity_) {
    std::free(arena_);
    arena_ = std::aligned_alloc(kArenaAlignment, ap.total_bytes);
    if (!arena_) {
      arena_capacity_ = 0;
      return out_of_range("cannot allocate an arena of " + std::to_string(ap.total_bytes) + " bytes");
    }
    arena_capacity_ = ap.total_bytes;
  }
  // Point static outputs into the arena, in the same order the requests were made.
  size_t r = 0;
  for (size_t i = 0; i < nn; ++i) {
    if (mode_[i] != Mode::kStatic) continue;
    for (size_t j = 0; j < g.nodes[i].outputs.size(); ++j, ++r)
      out_ptrs_[i][j]->tensor.data = static_cast<uint8_t*>(arena_) + ap.offsets[r];
  }
  stats_.arena_bytes = ap.total_bytes;
  planned_ = true;
  return Status::ok();
}

Status GraphExecutor::run_node(size_t i, bool dynamic) {
  const Node& n = graph_->nodes[i];
  Kernel& k = *kernels_[i];
  const Value* const* ins = in_ptrs_[i].data();
  Value* const* outs = out_ptrs_[i].data();
  if (dynamic && !k.dynamic_outputs()) {
    OpContext ictx(n, OpContext::Phase::kInfer, ins, nullptr, outs);
    ictx.implicit_inputs = implicit_ptrs_[i].data();
    ictx.pool = pool_;
    PETREL_RETURN_IF_ERROR(in_node(k.infer(ictx), n));
    for (size_t j = 0; j < n.outputs.size(); ++j) {
      Value& v = *outs[j];
      if (!v.is_tensor()) continue;
      PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(v.tensor.dtype, v.tensor.shape));
      v.tensor = std::move(t);
    }
  }
  OpContext ctx(n, OpContext::Phase::kCompute, ins, nullptr, outs);
  ctx.implicit_inputs = implicit_ptrs_[i].data();
  ctx.pool = pool_;
  return in_node(k.compute(ctx), n);
}

Status GraphExecutor::run(const std::vector<Value>& inputs, const std::vector<const Value*>& outer,
                          std::vector<Value>& outputs) {
  const Graph& g = *graph_;
  if (!planned_ || !same_shapes(inputs)) {
    PETREL_RETURN_IF_ERROR(plan(inputs));
  } else {
    PETREL_RETURN_IF_ERROR(validate_inputs(inputs));
  }
  if (outer.size() != g.outer_refs.size()) return internal_error("outer scope values do not match the subgraph");
  for (size_t k = 0; k < inputs.size(); ++k) {
    Value& slot = vals_[size_t(g.inputs[k])];
    const Value& in = inputs[k];
    // Field-wise assignment keeps the slot's shape capacity: no allocation in steady state.
    slot.kind = in.kind;
    slot.tensor.dtype = in.tensor.dtype;
    slot.tensor.shape.assign(in.tensor.shape.begin(), in.tensor.shape.end());
    slot.tensor.data = in.tensor.data;
    slot.tensor.owner = in.tensor.owner;
    slot.sequence = in.sequence;
    slot.elem_dtype = in.elem_dtype;
  }
  for (size_t k = 0; k < outer.size(); ++k) vals_[size_t(g.outer_refs[k])] = *outer[k];
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (mode_[i] == Mode::kFolded) continue;
    if (!profiling_) {
      PETREL_RETURN_IF_ERROR(run_node(i, mode_[i] == Mode::kDynamic));
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    PETREL_RETURN_IF_ERROR(run_node(i, mode_[i] == Mode::kDynamic));
    node_ms_[i] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
  outputs.resize(g.outputs.size());
  for (size_t k = 0; k < g.outputs.size(); ++k) outputs[k] = vals_[size_t(g.outputs[k])];
  return Status::ok();
}

}  // namespace petrel
