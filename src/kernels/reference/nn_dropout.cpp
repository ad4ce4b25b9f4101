// Dropout. Inference (no training_mode input, or training_mode false, or ratio 0) is the
// identity with an all-true mask. Training draws the mask like numpy's legacy generator
// (np.random.seed(seed); np.random.uniform(0, 1, shape) >= ratio): MT19937 seeded with `seed`,
// 53-bit doubles from two 32-bit draws, so a fixed seed reproduces the ONNX reference exactly.
#include <atomic>
#include <memory>
#include <random>

#include "kernels/reference/nn_common.hpp"
#include "kernels/reference/common.hpp"

namespace petrel::ref::nn {
namespace {

class DropoutKernel final : public Kernel {
 public:
  DropoutKernel(bool has_seed, int64_t seed, bool may_train)
      : has_seed_(has_seed), seed_(seed), may_train_(may_train), base_seed_(std::random_device{}()) {}

  bool deterministic() const override { return !may_train_; }

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 1));
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype)) return ctx.error("data must be a float tensor");
    if (ctx.has_input(1) && (!dtype_is_float(ctx.input(1).dtype) || ctx.input(1).numel() != 1))
      return ctx.error("ratio must be a float scalar");
    if (ctx.has_input(2) && (ctx.input(2).dtype != DataType::kBool || ctx.input(2).numel() != 1))
      return ctx.error("training_mode must be a bool scalar");
    PETREL_RETURN_IF_ERROR(ctx.set_output(0, x.dtype, x.shape));
    // Before opset 10 the mask had the data's type.
    if (ctx.has_output(1))
      PETREL_RETURN_IF_ERROR(ctx.set_output(1, ctx.node().opset < 10 ? x.dtype : DataType::kBool, x.shape));
    return Status::ok();
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const double ratio = ctx.has_input(1) ? element_as_double(ctx.input(1), 0) : 0.5;
    const bool training = ctx.has_input(2) && ctx.input(2).as<uint8_t>()[0] != 0;
    const bool drop = training && ratio != 0;
    if (drop && !(ratio > 0 && ratio < 1)) return ctx.error("ratio must be in [0, 1) when training");
    const int64_t n = x.numel();
    Tensor* mask = ctx.has_output(1) ? &ctx.output(1) : nullptr;
    std::mt19937 gen(uint32_t(has_seed_ ? uint64_t(seed_) : base_seed_ + calls_.fetch_add(1)));
    const float ratio_f = float(ratio);
    const float scale = drop ? 1.0f / (1.0f - ratio_f) : 1.0f;
    return dispatch_float(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      const T* xd = x.as<T>();
      T* yd = ctx.output(0).as<T>();
      for (int64_t i = 0; i < n; ++i) {
        bool keep = true;
        if (drop) {
          const uint32_t a = gen() >> 5, b = gen() >> 6;
          const double u = (double(a) * 67108864.0 + double(b)) / 9007199254740992.0;
          keep = u >= double(ratio_f);
        }
        yd[i] = drop ? store<T>(keep ? load(xd[i]) * scale : 0.0f) : xd[i];
        if (mask) {
          if (mask->dtype == DataType::kBool) mask->as<uint8_t>()[i] = keep ? 1 : 0;
          else mask->as<T>()[i] = store<T>(keep ? 1.0f : 0.0f);
        }
      }
      return Status::ok();
    });
  }

 private:
  bool has_seed_;
  int64_t seed_;
  bool may_train_;
  uint64_t base_seed_;
  std::atomic<uint64_t> calls_{0};
};

}  // namespace
}  // namespace petrel::ref::nn

namespace petrel::ref {

Result<std::unique_ptr<Kernel>> make_dropout(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t seed, attr_int(n, "seed", 0));
  // Only a node with a training_mode input can ever draw random numbers.
  const bool may_train = n.inputs.size() > 2 && n.inputs[2] != kNoValue;
  return std::unique_ptr<Kernel>(new nn::DropoutKernel(has_attr(n, "seed"), seed, may_train));
}

}  // namespace petrel::ref
