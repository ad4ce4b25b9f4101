// The kernel contract. A kernel is made once per node at load (its factory parses and validates
// attributes), then used in two phases:
//   infer   — validate input dtypes/shapes and declare every output's dtype and shape with
//             ctx.set_output(). Runs at plan time, when an input's data may be unknown
//             (ctx.input_known(i) == false: its Tensor has dtype and shape but data == nullptr).
//             A kernel that needs unknown data to decide a shape returns ctx.needs_data().
//   compute — fill the outputs declared by infer (ctx.output(i) is already allocated, in the
//             session arena or on the heap). Must not re-validate what infer checked.
// Kernels whose output shapes depend on the computation itself (NonZero, Unique, Loop, sequence
// ops) override dynamic_outputs(); their compute allocates with ctx.allocate_output() /
// ctx.set_output_value().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/graph.hpp"
#include "core/status.hpp"
#include "core/tensor.hpp"
#include "core/thread_pool.hpp"

namespace petrel {

class Kernel;

class OpContext {
 public:
  enum class Phase : uint8_t { kInfer, kCompute };

  // `outputs[i]` points at the Value slot of output i (a scratch slot for omitted outputs).
  OpContext(const Node& node, Phase phase, const Value* const* inputs, const bool* known,
            Value* const* outputs)
      : node_(&node), phase_(phase), inputs_(inputs), known_(known), outputs_(outputs) {}

  const Node& node() const { return *node_; }
  Phase phase() const { return phase_; }
  bool inferring() const { return phase_ == Phase::kInfer; }

  int num_inputs() const { return int(node_->inputs.size()); }
  // True when input i exists (not omitted) — optional inputs may be absent.
  bool has_input(int i) const { return i < num_inputs() && inputs_[i] != nullptr; }
  const Value& input_value(int i) const { return *inputs_[i]; }
  // Input i as a tensor; call has_input(i) first for optional inputs.
  const Tensor& input(int i) const { return inputs_[i]->tensor; }
  // Whether input i's data can be read now (always true in compute).
  bool input_known(int i) const { return known_ == nullptr || known_[i]; }

  int num_outputs() const { return int(node_->outputs.size()); }
  bool has_output(int i) const { return i < num_outputs() && node_->outputs[i] != kNoValue; }

  // infer: declares output i (ignored when the output is omitted).
  Status set_output(int i, DataType dtype, Shape shape) {
    if (i >= num_outputs()) return invalid_model(node_->label() + ": too few outputs");
    for (int64_t d : shape)
      if (d < 0) return invalid_argument(node_->label() + ": output " + std::to_string(i) + " would have a negative dimension");
    *outputs_[i] = Value::of(Tensor{dtype, std::move(shape), nullptr, nullptr});
    return Status::ok();
  }
  // compute: the buffer for output i (allocated by the executor).
  Tensor& output(int i) { return outputs_[i]->tensor; }
  // compute, dynamic kernels: allocates output i on the heap and returns it.
  Result<Tensor*> allocate_output(int i, DataType dtype, const Shape& shape) {
    if (i >= num_outputs()) return invalid_model(node_->label() + ": too few outputs");
    PETREL_ASSIGN_OR_RETURN(Tensor t, Tensor::allocate(dtype, shape));
    *outputs_[i] = Value::of(std::move(t));
    return &outputs_[i]->tensor;
  }
  // compute, dynamic kernels: sets a non-tensor output (sequence, empty optional) or a tensor
  // that aliases an input. A node without output i (the model gave fewer) has nowhere to put
  // it: the value is dropped, as for an omitted output.
  void set_output_value(int i, Value v) {
    if (i < num_outputs()) *outputs_[i] = std::move(v);
  }
  Value& output_value(int i) { return *outputs_[i]; }

  // Returned from infer when a shape depends on data not known at plan time.
  static Status needs_data() { return Status(StatusCode::kNeedsData, "output shape depends on runtime data"); }

  // Error helpers that name the node.
  Status error(const std::string& msg) const { return invalid_argument(node_->label() + ": " + msg); }
  Status unsupported_error(const std::string& msg) const { return unsupported(node_->label() + ": " + msg); }

  // Set by the runtime: values of enclosing scopes read by this node's subgraphs, in
  // node.implicit_inputs order; the thread pool (may be null).
  const Value* const* implicit_inputs = nullptr;
  ThreadPool* pool = nullptr;

 private:
  const Node* node_;
  Phase phase_;
  const Value* const* inputs_;
  const bool* known_;
  Value* const* outputs_;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual Status infer(OpContext& ctx) = 0;
  virtual Status compute(OpContext& ctx) = 0;
  // Output shapes are only known after compute (see the file comment).
  virtual bool dynamic_outputs() const { return false; }
  // False for random ops: the planner must not fold them into constants.
  virtual bool deterministic() const { return true; }
};

using KernelFactory = Result<std::unique_ptr<Kernel>> (*)(const Node& node);

}  // namespace petrel
