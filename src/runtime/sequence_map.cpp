// SequenceMap (opset 17) and the batched opset-8 form of Scan.
#include <cstring>

#include "kernels/reference/common.hpp"
#include "runtime/subgraph.hpp"

namespace petrel {
namespace {

class SequenceMapKernel : public Kernel {
 public:
  Body body;
  Status infer(OpContext&) override { return OpContext::needs_data(); }
  bool dynamic_outputs() const override { return true; }
  Status compute(OpContext& ctx) override {
    for (int k = 0; k < ctx.num_inputs(); ++k)
      if (!ctx.has_input(k)) return ctx.error("input " + std::to_string(k) + " is required");
    if (!ctx.has_input(0) || !ctx.input_value(0).is_sequence()) return ctx.error("input 0 must be a sequence");
    const Graph& bg = body.exec->graph();
    if (bg.outputs.size() != size_t(ctx.num_outputs()))
      return ctx.error("body has " + std::to_string(bg.outputs.size()) + " outputs, the node has " + std::to_string(ctx.num_outputs()));
    const size_t len = ctx.input_value(0).sequence->size();
    for (int k = 1; k < ctx.num_inputs(); ++k)
      if (ctx.input_value(k).is_sequence() && ctx.input_value(k).sequence->size() != len)
        return ctx.error("input sequences have different lengths");
    std::vector<std::vector<Tensor>> outs(static_cast<size_t>(ctx.num_outputs()));
    std::vector<Value> in(static_cast<size_t>(ctx.num_inputs())), out;
    for (size_t i = 0; i < len; ++i) {
      for (int k = 0; k < ctx.num_inputs(); ++k) {
        const Value& v = ctx.input_value(k);
        in[size_t(k)] = v.is_sequence() ? Value::of((*v.sequence)[i]) : v;
      }
      PETREL_RETURN_IF_ERROR(body.run(ctx, in, out));
      if (int(out.size()) != ctx.num_outputs()) return ctx.error("body returns the wrong number of outputs");
      for (size_t o = 0; o < out.size(); ++o) {
        if (!out[o].is_tensor()) return ctx.error("body outputs must be tensors");
        PETREL_ASSIGN_OR_RETURN(Tensor t, out[o].tensor.clone());
        outs[o].push_back(std::move(t));
      }
    }
    for (size_t o = 0; o < outs.size(); ++o) {
      const TypeInfo& ti = bg.values[size_t(bg.outputs[o])].type;
      DataType dt = outs[o].empty() ? ti.dtype : outs[o][0].dtype;
      ctx.set_output_value(int(o), Value::of_sequence(std::move(outs[o]), dt));
    }
    return Status::ok();
  }
};

// Scan-8: input 0 is the optional sequence_lens; every input has a leading batch axis; scan
// inputs scan along axis 1.
class Scan8Kernel : public Kernel {
 public:
  Body body;
  int64_t num_scan_inputs = 0;
  std::vector<int64_t> directions;
  Status infer(OpContext&) override { return OpContext::needs_data(); }
  bool dynamic_outputs() const override { return true; }
  Status compute(OpContext& ctx) override {
    if (num_scan_inputs < 1 || num_scan_inputs > ctx.num_inputs() - 1)
      return ctx.error("num_scan_inputs " + std::to_string(num_scan_inputs) + " does not fit the " + std::to_string(ctx.num_inputs()) + " inputs");
    const int n_state = ctx.num_inputs() - 1 - int(num_scan_inputs);
    const int n_scan_out = ctx.num_outputs() - n_state;
    if (n_state < 0 || n_scan_out < 0) return ctx.error("inputs/outputs do not match num_scan_inputs");
    for (int k = 1; k < ctx.num_inputs(); ++k)
      if (!ctx.has_input(k) || !ctx.input_value(k).is_tensor()) return ctx.error("input " + std::to_string(k) + " is required and must be a tensor");
    if (ctx.has_input(0) && !ctx.input_value(0).is_tensor()) return ctx.error("sequence_lens must be a tensor");
    for (int k = 1; k < ctx.num_inputs(); ++k)  // row_view slices by element offsets: no packed 4-bit types
      if (ctx.input(k).dtype != DataType::kString && dtype_size(ctx.input(k).dtype) == 0)
        return ctx.unsupported_error("input " + std::to_string(k) + " has dtype " + std::string(dtype_name(ctx.input(k).dtype)));
    const Tensor& x0 = ctx.input(1 + n_state);
    if (x0.rank() < 2) return ctx.error("scan inputs need [batch, sequence, ...] shapes");
    const int64_t batch = x0.shape[0], len = x0.shape[1];
    for (int k = 1; k < ctx.num_inputs(); ++k) {
      const Tensor& t = ctx.input(k);
      if (t.rank() < 1 || t.shape[0] != batch || (k > n_state && (t.rank() < 2 || t.shape[1] != len)))
        return ctx.error("input " + std::to_string(k) + " does not share the batch and sequence sizes");
    }
    if (ctx.has_input(0)) {
      const Tensor& sl = ctx.input(0);
      for (int64_t b = 0; b < sl.numel(); ++b)
        if (element_as_int64(sl, b) != len) return ctx.unsupported_error("sequence_lens shorter than the sequence axis");
    }
    std::vector<std::vector<Tensor>> final_states(static_cast<size_t>(n_state)), scan_rows(static_cast<size_t>(n_scan_out));
    std::vector<Value> in(static_cast<size_t>(n_state + num_scan_inputs)), out;
    for (int64_t b = 0; b < batch; ++b) {
      std::vector<Value> state;
      for (int k = 0; k < n_state; ++k) state.push_back(Value::of(row_view(ctx.input(1 + k), b)));
      std::vector<std::vector<Tensor>> steps(static_cast<size_t>(n_scan_out));
      for (int64_t t = 0; t < len; ++t) {
        for (int k = 0; k < n_state; ++k) in[size_t(k)] = state[size_t(k)];
        for (int k = 0; k < num_scan_inputs; ++k) {
          bool rev = k < int64_t(directions.size()) && directions[size_t(k)] == 1;
          Tensor xb = row_view(ctx.input(1 + n_state + k), b);
          in[size_t(n_state + k)] = Value::of(row_view(xb, rev ? len - 1 - t : t));
        }
        PETREL_RETURN_IF_ERROR(body.run(ctx, in, out));
        if (int(out.size()) != n_state + n_scan_out) return ctx.error("scan body returns the wrong number of outputs");
        PETREL_RETURN_IF_ERROR(take_scan_step(out, n_state, state, steps));
      }
      for (int k = 0; k < n_state; ++k) {
        PETREL_ASSIGN_OR_RETURN(Tensor c, state[size_t(k)].tensor.clone());
        final_states[size_t(k)].push_back(std::move(c));
      }
      for (int s = 0; s < n_scan_out; ++s) {
        PETREL_ASSIGN_OR_RETURN(Tensor st, stack(steps[size_t(s)], DataType::kFloat));
        scan_rows[size_t(s)].push_back(std::move(st));
      }
    }
    for (int k = 0; k < n_state; ++k) {
      PETREL_ASSIGN_OR_RETURN(Tensor t, stack(final_states[size_t(k)], ctx.input(1 + k).dtype));
      ctx.set_output_value(k, Value::of(std::move(t)));
    }
    for (int s = 0; s < n_scan_out; ++s) {
      PETREL_ASSIGN_OR_RETURN(Tensor t, stack(scan_rows[size_t(s)], DataType::kFloat));
      ctx.set_output_value(n_state + s, Value::of(std::move(t)));
    }
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_sequence_map(const Node& n, const Graph& g) {
  auto k = std::make_unique<SequenceMapKernel>();
  PETREL_ASSIGN_OR_RETURN(auto bg, graph_attr(n, "body"));
  PETREL_ASSIGN_OR_RETURN(k->body, Body::make(bg, n, g));
  return std::unique_ptr<Kernel>(std::move(k));
}

Result<std::unique_ptr<Kernel>> make_scan8(const Node& n, const Graph& g) {
  auto k = std::make_unique<Scan8Kernel>();
  PETREL_ASSIGN_OR_RETURN(auto bg, graph_attr(n, "body"));
  PETREL_ASSIGN_OR_RETURN(k->body, Body::make(bg, n, g));
  PETREL_ASSIGN_OR_RETURN(k->num_scan_inputs, ref::attr_int_required(n, "num_scan_inputs"));
  PETREL_ASSIGN_OR_RETURN(k->directions, ref::attr_ints(n, "directions"));
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace petrel
