// LayerNormalization, MeanVarianceNormalization, LpNormalization, LRN.
#include <cmath>
#include <memory>
#include <vector>

#include "kernels/reference/nn_common.hpp"

namespace petrel::ref::nn {
namespace {

// ---- LayerNormalization: normalises over the axes [axis, rank). ----
class LayerNormKernel final : public Kernel {
 public:
  LayerNormKernel(int64_t axis, float eps, DataType stash) : axis_(axis), eps_(eps), stash_(stash) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 1));
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype)) return ctx.error("X must be a float tensor");
    PETREL_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node(), axis_, x.rank()));
    const Shape norm(x.shape.begin() + axis, x.shape.end());
    for (int i = 1; i <= 2; ++i) {
      if (!ctx.has_input(i)) {
        if (i == 1) return ctx.error("Scale is required");
        continue;
      }
      const Tensor& p = ctx.input(i);
      if (p.dtype != x.dtype) return ctx.error("Scale and B must have X's dtype");
      // Unidirectional broadcast to the normalised shape.
      if (p.rank() > int(norm.size())) return ctx.error("Scale/B rank exceeds the normalised rank");
      for (int d = 0; d < p.rank(); ++d) {
        const int64_t pd = p.shape[p.rank() - 1 - d], nd = norm[norm.size() - 1 - d];
        if (pd != nd && pd != 1) return ctx.error("Scale/B do not broadcast to the normalised shape");
      }
    }
    PETREL_RETURN_IF_ERROR(ctx.set_output(0, x.dtype, x.shape));
    Shape stat = x.shape;
    for (size_t d = size_t(axis); d < stat.size(); ++d) stat[d] = 1;
    if (ctx.has_output(1)) PETREL_RETURN_IF_ERROR(ctx.set_output(1, stash_, stat));
    if (ctx.has_output(2)) PETREL_RETURN_IF_ERROR(ctx.set_output(2, stash_, stat));
    return Status::ok();
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    PETREL_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node(), axis_, x.rank()));
    const Shape norm(x.shape.begin() + axis, x.shape.end());
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.shape[d];
    for (int64_t d : norm) inner *= d;
    // Flat offsets of Scale/B for each normalised position (broadcast).
    std::vector<int64_t> soff(static_cast<size_t>(inner), 0), boff(static_cast<size_t>(inner), 0);
    auto offsets = [&](const Tensor& p, std::vector<int64_t>& off) {
      const auto st = broadcast_strides(p.shape, norm);
      BroadcastIter it(norm, {st});
      it.for_each([&](int64_t o, const int64_t* offs) { off[size_t(o)] = offs[0]; });
    };
    offsets(ctx.input(1), soff);
    const bool has_b = ctx.has_input(2);
    if (has_b) offsets(ctx.input(2), boff);
    return dispatch_x(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      const T* xd = x.as<T>();
      const T* sd = ctx.input(1).as<T>();
      const T* bd = has_b ? ctx.input(2).as<T>() : nullptr;
      T* yd = ctx.output(0).as<T>();
      for (int64_t o = 0; o < outer; ++o) {
        const T* xr = xd + o * inner;
        double s = 0;
        for (int64_t i = 0; i < inner; ++i) s += double(load(xr[i]));
        const double mean = inner > 0 ? s / double(inner) : 0.0;
        double q = 0;
        for (int64_t i = 0; i < inner; ++i) { const double d = double(load(xr[i])) - mean; q += d * d; }
        const double var = inner > 0 ? q / double(inner) : 0.0;
        const double inv = 1.0 / std::sqrt(var + double(eps_));
        for (int64_t i = 0; i < inner; ++i) {
          double v = (double(load(xr[i])) - mean) * inv * double(load(sd[soff[size_t(i)]]));
          if (bd) v += double(load(bd[boff[size_t(i)]]));
          yd[o * inner + i] = store<T>(ComputeType<T>(v));
        }
        if (ctx.has_output(1)) put_float(ctx.output(1), o, mean);
        if (ctx.has_output(2)) put_float(ctx.output(2), o, inv);
      }
      return Status::ok();
    });
  }

 private:
  int64_t axis_;
  float eps_;
  DataType stash_;
};

// ---- MeanVarianceNormalization: (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9) over `axes`. ----
class MvnKernel final : public Kernel {
 public:
  explicit MvnKernel(std::vector<int64_t> axes) : axes_(std::move(axes)) {}

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 1));
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype)) return ctx.error("X must be a float tensor");
    std::vector<bool> red;
    PETREL_RETURN_IF_ERROR(reduced(ctx, red));
    return ctx.set_output(0, x.dtype, x.shape);
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    std::vector<bool> red;
    PETREL_RETURN_IF_ERROR(reduced(ctx, red));
    // Group id of each element = its index over the kept axes.
    Shape kept_shape = x.shape;
    for (size_t d = 0; d < red.size(); ++d)
      if (red[d]) kept_shape[d] = 1;
    int64_t groups = 1;
    for (int64_t d : kept_shape) groups *= d;
    const int64_t total = x.numel();
    std::vector<int64_t> gid(static_cast<size_t>(total));
    BroadcastIter it(x.shape, {broadcast_strides(kept_shape, x.shape)});
    it.for_each([&](int64_t o, const int64_t* offs) { gid[size_t(o)] = offs[0]; });
    std::vector<double> sum(static_cast<size_t>(groups), 0.0), sq(sum), cnt(sum);
    return dispatch_x(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      const T* xd = x.as<T>();
      T* yd = ctx.output(0).as<T>();
      for (int64_t i = 0; i < total; ++i) {
        const double v = double(load(xd[i]));
        sum[size_t(gid[size_t(i)])] += v;
        sq[size_t(gid[size_t(i)])] += v * v;
        cnt[size_t(gid[size_t(i)])] += 1;
      }
      for (int64_t g = 0; g < groups; ++g) {
        if (cnt[size_t(g)] == 0) continue;
        sum[size_t(g)] /= cnt[size_t(g)];
        const double var = sq[size_t(g)] / cnt[size_t(g)] - sum[size_t(g)] * sum[size_t(g)];
        sq[size_t(g)] = std::sqrt(std::max(var, 0.0)) + 1e-9;
      }
      for (int64_t i = 0; i < total; ++i) {
        const size_t g = size_t(gid[size_t(i)]);
        yd[i] = store<T>(ComputeType<T>((double(load(xd[i])) - sum[g]) / sq[g]));
      }
      return Status::ok();
    });
  }

 private:
  Status reduced(const OpContext& ctx, std::vector<bool>& red) const {
    const int64_t r = ctx.input(0).rank();
    red.assign(size_t(r), false);
    for (int64_t a : axes_) {
      PETREL_ASSIGN_OR_RETURN(int64_t ax, normalize_axis(ctx.node(), a, r));
      red[size_t(ax)] = true;
    }
    return Status::ok();
  }
  std::vector<int64_t> axes_;
};

// ---- LpNormalization: x / ||x||_p along one axis (p = 1 or 2). ----
class LpNormKernel final : public Kernel {
 public:
  LpNormKernel(int64_t axis, int64_t p) : axis_(axis), p_(p) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 1));
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype)) return ctx.error("X must be a float tensor");
    PETREL_RETURN_IF_ERROR(normalize_axis(ctx.node(), axis_, x.rank()).status());
    return ctx.set_output(0, x.dtype, x.shape);
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    PETREL_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node(), axis_, x.rank()));
    int64_t outer = 1, inner = 1;
    const int64_t n = x.shape[size_t(axis)];
    for (int64_t d = 0; d < axis; ++d) outer *= x.shape[size_t(d)];
    for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.shape[size_t(d)];
    return dispatch_x(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      const T* xd = x.as<T>();
      T* yd = ctx.output(0).as<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t base = o * n * inner + i;
          double norm = 0;
          for (int64_t k = 0; k < n; ++k) {
            const double v = double(load(xd[base + k * inner]));
            norm += p_ == 1 ? std::fabs(v) : v * v;
          }
          if (p_ == 2) norm = std::sqrt(norm);
          // A zero vector stays zero instead of becoming NaN.
          for (int64_t k = 0; k < n; ++k) {
            const double v = double(load(xd[base + k * inner]));
            yd[base + k * inner] = store<T>(ComputeType<T>(norm > 0 ? v / norm : 0.0));
          }
        }
      return Status::ok();
    });
  }

 private:
  int64_t axis_, p_;
};

// ---- LRN across channels: x / (bias + alpha / size * sum(x^2 over the window))^beta. ----
class LrnKernel final : public Kernel {
 public:
  LrnKernel(float alpha, float beta, float bias, int64_t size) : alpha_(alpha), beta_(beta), bias_(bias), size_(size) {}
  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(require_inputs(ctx, 1));
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype)) return ctx.error("X must be a float tensor");
    if (x.rank() < 2) return ctx.error("X must have rank >= 2");
    return ctx.set_output(0, x.dtype, x.shape);
  }
  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t N = x.shape[0], C = x.shape[1];
    int64_t inner = 1;
    for (int d = 2; d < x.rank(); ++d) inner *= x.shape[size_t(d)];
    const int64_t before = (size_ - 1) / 2, after = size_ - 1 - before;
    return dispatch_x(x.dtype, [&](auto tag) -> Status {
      using T = typename decltype(tag)::type;
      const T* xd = x.as<T>();
      T* yd = ctx.output(0).as<T>();
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c) {
          const int64_t c0 = std::max<int64_t>(0, c - before), c1 = std::min<int64_t>(C - 1, c + after);
          for (int64_t i = 0; i < inner; ++i) {
            double sq = 0;
            for (int64_t k = c0; k <= c1; ++k) {
              const double v = double(load(xd[(n * C + k) * inner + i]));
              sq += v * v;
            }
            const int64_t at = (n * C + c) * inner + i;
            const double den = std::pow(double(bias_) + double(alpha_) / double(size_) * sq, double(beta_));
            yd[at] = store<T>(ComputeType<T>(double(load(xd[at])) / den));
          }
        }
      return Status::ok();
    });
  }

 private:
  float alpha_, beta_, bias_;
  int64_t size_;
};

}  // namespace
}  // namespace petrel::ref::nn

namespace petrel::ref {

Result<std::unique_ptr<Kernel>> make_layer_norm(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", -1));
  PETREL_ASSIGN_OR_RETURN(float eps, attr_float(n, "epsilon", 1e-5f));
  PETREL_ASSIGN_OR_RETURN(int64_t stash, attr_int(n, "stash_type", 1));
  if (stash < 0 || stash > kMaxDataType || !dtype_is_float(DataType(stash)))
    return unsupported(n.label() + ": stash_type " + std::to_string(stash));
  return std::unique_ptr<Kernel>(new nn::LayerNormKernel(axis, eps, DataType(stash)));
}

Result<std::unique_ptr<Kernel>> make_mvn(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(auto axes, attr_ints(n, "axes", {0, 2, 3}));
  return std::unique_ptr<Kernel>(new nn::MvnKernel(std::move(axes)));
}

Result<std::unique_ptr<Kernel>> make_lp_norm(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t axis, attr_int(n, "axis", -1));
  PETREL_ASSIGN_OR_RETURN(int64_t p, attr_int(n, "p", 2));
  if (p != 1 && p != 2) return unsupported(n.label() + ": p must be 1 or 2");
  return std::unique_ptr<Kernel>(new nn::LpNormKernel(axis, p));
}

Result<std::unique_ptr<Kernel>> make_lrn(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(float alpha, attr_float(n, "alpha", 1e-4f));
  PETREL_ASSIGN_OR_RETURN(float beta, attr_float(n, "beta", 0.75f));
  PETREL_ASSIGN_OR_RETURN(float bias, attr_float(n, "bias", 1.0f));
  PETREL_ASSIGN_OR_RETURN(int64_t size, attr_int_required(n, "size"));
  if (size <= 0) return invalid_model(n.label() + ": size must be positive");
  return std::unique_ptr<Kernel>(new nn::LrnKernel(alpha, beta, bias, size));
}

}  // namespace petrel::ref
