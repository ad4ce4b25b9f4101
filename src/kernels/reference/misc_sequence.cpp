// Sequence ops: SequenceEmpty, SequenceConstruct, SequenceAt, SequenceInsert, SequenceErase,
// SequenceLength. A sequence is a shared vector of tensors; tensors put into a sequence are
// cloned because the sequence may outlive the arena slot the input tensor lives in. Existing
// elements are shared between the input and output sequence (sequences are never mutated in
// place: every op builds a new vector).
#include "kernels/reference/misc_common.hpp"

namespace petrel::ref {
namespace {

Status need_sequence(const OpContext& ctx, int i) {
  if (!has_value(ctx, i) || !ctx.input_value(i).is_sequence())
    return ctx.error("input " + std::to_string(i) + " must be a sequence");
  return Status::ok();
}

// Maps a possibly negative position into [0, n) (or [0, n] when `allow_end`).
Result<int64_t> sequence_position(const OpContext& ctx, int64_t pos, int64_t n, bool allow_end) {
  const int64_t hi = allow_end ? n : n - 1;
  if (pos < -n || pos > hi)
    return ctx.error("position " + std::to_string(pos) + " out of range for a sequence of length " + std::to_string(n));
  return pos < 0 ? pos + n : pos;
}

class SequenceEmptyKernel final : public DynamicKernel {
 public:
  explicit SequenceEmptyKernel(DataType dt) : dt_(dt) {}
  Status compute(OpContext& ctx) override {
    ctx.set_output_value(0, Value::of_sequence({}, dt_));
    return Status::ok();
  }

 private:
  DataType dt_;
};

class SequenceConstructKernel final : public DynamicKernel {
 public:
  Status compute(OpContext& ctx) override {
    std::vector<Tensor> items;
    DataType dt = DataType::kUndefined;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      if (!has_value(ctx, i) || !ctx.input_value(i).is_tensor()) return ctx.error("inputs must be tensors");
      const Tensor& t = ctx.input(i);
      if (i == 0) dt = t.dtype;
      else if (t.dtype != dt) return ctx.error("all inputs must have the same dtype");
      PETREL_ASSIGN_OR_RETURN(Tensor c, t.clone());
      items.push_back(std::move(c));
    }
    if (items.empty()) return ctx.error("needs at least one input");
    ctx.set_output_value(0, Value::of_sequence(std::move(items), dt));
    return Status::ok();
  }
};

class SequenceAtKernel final : public DynamicKernel {
 public:
  Status compute(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(need_sequence(ctx, 0));
    PETREL_RETURN_IF_ERROR(need_inputs(ctx, 2));
    const auto& seq = *ctx.input_value(0).sequence;
    PETREL_ASSIGN_OR_RETURN(int64_t pos, read_scalar_int(ctx, 1, "position"));
    PETREL_ASSIGN_OR_RETURN(int64_t p, sequence_position(ctx, pos, int64_t(seq.size()), false));
    const Tensor& e = seq[size_t(p)];
    // Elements that own their storage are shared; views (e.g. of caller memory) are copied.
    if (e.owner) {
      ctx.set_output_value(0, Value::of(e));
    } else {
      PETREL_ASSIGN_OR_RETURN(Tensor c, e.clone());
      ctx.set_output_value(0, Value::of(std::move(c)));
    }
    return Status::ok();
  }
};

class SequenceInsertKernel final : public DynamicKernel {
 public:
  Status compute(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(need_sequence(ctx, 0));
    const Value& in = ctx.input_value(0);
    if (!has_value(ctx, 1) || !ctx.input_value(1).is_tensor()) return ctx.error("input 1 must be a tensor");
    const Tensor& t = ctx.input(1);
    DataType dt = in.elem_dtype;
    if (dt == DataType::kUndefined && !in.sequence->empty()) dt = in.sequence->front().dtype;
    if (dt != DataType::kUndefined && t.dtype != dt)
      return ctx.error("tensor dtype " + std::string(dtype_name(t.dtype)) + " does not match the sequence's " +
                       std::string(dtype_name(dt)));
    const int64_t n = int64_t(in.sequence->size());
    int64_t p = n;
    if (has_value(ctx, 2)) {
      PETREL_ASSIGN_OR_RETURN(int64_t pos, read_scalar_int(ctx, 2, "position"));
      PETREL_ASSIGN_OR_RETURN(p, sequence_position(ctx, pos, n, true));
    }
    PETREL_ASSIGN_OR_RETURN(Tensor c, t.clone());
    std::vector<Tensor> items = *in.sequence;
    items.insert(items.begin() + p, std::move(c));
    ctx.set_output_value(0, Value::of_sequence(std::move(items), t.dtype));
    return Status::ok();
  }
};

class SequenceEraseKernel final : public DynamicKernel {
 public:
  Status compute(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(need_sequence(ctx, 0));
    const Value& in = ctx.input_value(0);
    const int64_t n = int64_t(in.sequence->size());
    int64_t pos = -1;
    if (has_value(ctx, 1)) {
      PETREL_ASSIGN_OR_RETURN(pos, read_scalar_int(ctx, 1, "position"));
    }
    PETREL_ASSIGN_OR_RETURN(int64_t p, sequence_position(ctx, pos, n, false));
    std::vector<Tensor> items = *in.sequence;
    items.erase(items.begin() + p);
    ctx.set_output_value(0, Value::of_sequence(std::move(items), in.elem_dtype));
    return Status::ok();
  }
};

class SequenceLengthKernel final : public DynamicKernel {
 public:
  Status compute(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(need_sequence(ctx, 0));
    PETREL_ASSIGN_OR_RETURN(Tensor * out, ctx.allocate_output(0, DataType::kInt64, {}));
    out->as<int64_t>()[0] = int64_t(ctx.input_value(0).sequence->size());
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_sequence_empty(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t dt, attr_int(n, "dtype", int64_t(DataType::kFloat)));
  if (dt < 1 || dt > kMaxDataType || (dt != int64_t(DataType::kString) && dtype_size(DataType(dt)) == 0))
    return unsupported(n.label() + ": dtype " + std::to_string(dt));
  return std::unique_ptr<Kernel>(new SequenceEmptyKernel(DataType(dt)));
}
Result<std::unique_ptr<Kernel>> make_sequence_construct(const Node&) {
  return std::unique_ptr<Kernel>(new SequenceConstructKernel());
}
Result<std::unique_ptr<Kernel>> make_sequence_at(const Node&) { return std::unique_ptr<Kernel>(new SequenceAtKernel()); }
Result<std::unique_ptr<Kernel>> make_sequence_insert(const Node&) {
  return std::unique_ptr<Kernel>(new SequenceInsertKernel());
}
Result<std::unique_ptr<Kernel>> make_sequence_erase(const Node&) {
  return std::unique_ptr<Kernel>(new SequenceEraseKernel());
}
Result<std::unique_ptr<Kernel>> make_sequence_length(const Node&) {
  return std::unique_ptr<Kernel>(new SequenceLengthKernel());
}

}  // namespace petrel::ref
