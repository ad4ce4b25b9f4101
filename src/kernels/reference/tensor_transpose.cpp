// Transpose, DepthToSpace, SpaceToDepth: permutations of a (reshaped) input, done as one
// strided copy.
#include "kernels/reference/input_checks.hpp"
#include "kernels/reference/tensor_util.hpp"

namespace petrel::ref {
namespace {

using namespace tensor_detail;

// Copies a view of input 0 described by (shape, strides) into output 0.
Status copy_view(OpContext& ctx, const Shape& shape, const std::vector<int64_t>& strides) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  return dispatch_by_size(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    strided_copy(x.as<T>(), y.as<T>(), shape, strides, 0);
    return Status::ok();
  });
}

class TransposeKernel : public Kernel {
 public:
  explicit TransposeKernel(std::vector<int64_t> perm) : perm_(std::move(perm)) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 1));
    const Tensor& x = ctx.input(0);
    std::vector<int64_t> p;
    PETREL_RETURN_IF_ERROR(perm_for(ctx, x.rank(), p));
    Shape out(p.size());
    for (size_t i = 0; i < p.size(); ++i) out[i] = x.shape[size_t(p[i])];
    return ctx.set_output(0, x.dtype, std::move(out));
  }
  Status compute(OpContext& ctx) override {
    // infer validated the permutation; member scratch keeps steady-state runs allocation-free.
    const Tensor& x = ctx.input(0);
    const size_t r = size_t(x.rank());
    in_strides_.resize(r);
    st_.resize(r);
    int64_t s = 1;
    for (size_t d = r; d-- > 0;) in_strides_[d] = s, s *= x.shape[d];
    for (size_t i = 0; i < r; ++i) st_[i] = in_strides_[perm_.empty() ? r - 1 - i : size_t(perm_[i])];
    return copy_view(ctx, ctx.output(0).shape, st_);
  }

 private:
  Status perm_for(const OpContext& ctx, int rank, std::vector<int64_t>& p) const {
    if (perm_.empty()) {
      p.resize(size_t(rank));
      for (int i = 0; i < rank; ++i) p[size_t(i)] = rank - 1 - i;
      return Status::ok();
    }
    if (int(perm_.size()) != rank) return ctx.error("perm has " + std::to_string(perm_.size()) + " entries for rank " + std::to_string(rank));
    std::vector<bool> seen(size_t(rank), false);
    for (int64_t v : perm_) {
      if (v < 0 || v >= rank || seen[size_t(v)]) return ctx.error("perm is not a permutation");
      seen[size_t(v)] = true;
    }
    p = perm_;
    return Status::ok();
  }
  std::vector<int64_t> perm_;
  std::vector<int64_t> in_strides_, st_;
};

// DepthToSpace / SpaceToDepth on NCHW input, as a 6-D transposed view of the input.
class BlockKernel : public Kernel {
 public:
  BlockKernel(bool to_space, bool crd, int64_t b) : to_space_(to_space), crd_(crd), b_(b) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 1));
    const Tensor& x = ctx.input(0);
    if (x.rank() != 4) return ctx.error("input must be 4-D (NCHW)");
    const int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3], bb = b_ * b_;
    if (to_space_) {
      if (c % bb) return ctx.error("channels " + std::to_string(c) + " not divisible by blocksize^2");
      return ctx.set_output(0, x.dtype, {n, c / bb, h * b_, w * b_});
    }
    if (h % b_ || w % b_) return ctx.error("spatial dims not divisible by blocksize");
    return ctx.set_output(0, x.dtype, {n, c * bb, h / b_, w / b_});
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3], b = b_;
    Shape in6;
    std::vector<int64_t> perm;
    if (to_space_ && !crd_) {  // DCR: [N, b, b, C', H, W] -> [N, C', H, b, W, b]
      in6 = {n, b, b, c / (b * b), h, w};
      perm = {0, 3, 4, 1, 5, 2};
    } else if (to_space_) {    // CRD: [N, C', b, b, H, W] -> [N, C', H, b, W, b]
      in6 = {n, c / (b * b), b, b, h, w};
      perm = {0, 1, 4, 2, 5, 3};
    } else {                   // [N, C, H', b, W', b] -> [N, b, b, C, H', W']
      in6 = {n, c, h / b, b, w / b, b};
      perm = {0, 3, 5, 1, 2, 4};
    }
    auto cs = contiguous_strides(in6);
    Shape out6(6);
    std::vector<int64_t> st(6);
    for (size_t i = 0; i < 6; ++i) {
      out6[i] = in6[size_t(perm[i])];
      st[i] = cs[size_t(perm[i])];
    }
    return copy_view(ctx, out6, st);
  }

 private:
  bool to_space_, crd_;
  int64_t b_;
};

// petrel.ChannelShuffle{groups = g} on [N, C, H, W]: what ShuffleNet writes as
// Reshape [N, g, C/g, H, W] -> Transpose [0, 2, 1, 3, 4] -> Reshape [N, C, H, W]
// (the optimizer's channel_shuffle pass). Output channel j*g + i is input channel i*(C/g) + j.
class ChannelShuffleKernel : public Kernel {
 public:
  explicit ChannelShuffleKernel(int64_t g) : g_(g) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(check_tensor_inputs(ctx, 1, 1));
    const Tensor& x = ctx.input(0);
    if (x.rank() != 4) return ctx.error("input must be 4-D (NCHW)");
    if (x.shape[1] % g_) return ctx.error("channels " + std::to_string(x.shape[1]) + " not divisible by groups " + std::to_string(g_));
    return ctx.set_output(0, x.dtype, x.shape);
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t n = x.shape[0], c = x.shape[1], hw = x.shape[2] * x.shape[3];
    // As a 4-D view [N, C/g, g, HW]: output index (n, j, i, p) reads input (n, i, j, p).
    // Member scratch: steady-state runs allocate nothing.
    view_.resize(4);
    st_.resize(4);
    view_[0] = n, view_[1] = c / g_, view_[2] = g_, view_[3] = hw;
    st_[0] = c * hw, st_[1] = hw, st_[2] = (c / g_) * hw, st_[3] = 1;
    return copy_view(ctx, view_, st_);
  }

 private:
  int64_t g_;
  Shape view_;
  std::vector<int64_t> st_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_channel_shuffle(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t g, attr_int_required(n, "groups"));
  if (g <= 0 || g > (int64_t(1) << 20)) return invalid_model(n.label() + ": groups must be positive");
  return std::unique_ptr<Kernel>(new ChannelShuffleKernel(g));
}

Result<std::unique_ptr<Kernel>> make_transpose(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(auto perm, attr_ints(n, "perm"));
  return std::unique_ptr<Kernel>(new TransposeKernel(std::move(perm)));
}

Result<std::unique_ptr<Kernel>> make_depth_to_space(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t b, attr_int_required(n, "blocksize"));
  PETREL_ASSIGN_OR_RETURN(std::string mode, attr_string(n, "mode", "DCR"));
  if (b <= 0 || b > (int64_t(1) << 20)) return invalid_model(n.label() + ": blocksize must be positive");
  if (mode != "DCR" && mode != "CRD") return unsupported(n.label() + ": mode '" + mode + "'");
  return std::unique_ptr<Kernel>(new BlockKernel(true, mode == "CRD", b));
}

Result<std::unique_ptr<Kernel>> make_space_to_depth(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t b, attr_int_required(n, "blocksize"));
  if (b <= 0 || b > (int64_t(1) << 20)) return invalid_model(n.label() + ": blocksize must be positive");
  return std::unique_ptr<Kernel>(new BlockKernel(false, false, b));
}

}  // namespace petrel::ref
