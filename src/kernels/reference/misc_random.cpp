// Random ops: RandomNormal, RandomUniform, RandomNormalLike, RandomUniformLike, Multinomial,
// Bernoulli. The generator is std::mt19937_64 (bit-exact on every platform) with our own
// uniform/normal transforms, so a given seed gives the same values on ARM64, x86 and WASM.
// The generator state persists across runs of the same kernel, like other runtimes do.
#include <cmath>
#include <cstring>
#include <random>

#include "kernels/reference/misc_common.hpp"

namespace petrel::ref {
namespace {

constexpr double kPi = 3.14159265358979323846;

class Rng {
 public:
  explicit Rng(const Node& n) {
    const Attribute* s = n.attr("seed");
    if (s && (s->type == AttrType::kFloat || s->type == AttrType::kInt)) {
      // Seeded from the value's bits: any float is a valid seed.
      const double v = s->type == AttrType::kFloat ? double(s->f) : double(s->i);
      uint64_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      gen_.seed(bits ^ 0x9e3779b97f4a7c15ull);
    } else {
      std::random_device rd;
      gen_.seed((uint64_t(rd()) << 32) ^ uint64_t(rd()));
    }
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return double(gen_() >> 11) * (1.0 / 9007199254740992.0); }
  double normal() {  // Box-Muller; 1 - u keeps the log argument in (0, 1]
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * kPi * u2);
  }

 private:
  std::mt19937_64 gen_;
};

enum class Dist : uint8_t { kUniform, kNormal };

// RandomUniform / RandomNormal and their *Like variants (`like`: shape from input 0).
class RandomKernel final : public Kernel {
 public:
  RandomKernel(const Node& n, Dist dist, bool like, DataType dt, Shape shape, double a, double b)
      : rng_(n), dist_(dist), like_(like), dt_(dt), shape_(std::move(shape)), a_(a), b_(b) {}

  bool deterministic() const override { return false; }

  Status infer(OpContext& ctx) override {
    if (!like_) return ctx.set_output(0, dt_, shape_);
    PETREL_RETURN_IF_ERROR(need_inputs(ctx, 1));
    const Tensor& x = ctx.input(0);
    const DataType dt = dt_ == DataType::kUndefined ? x.dtype : dt_;
    if (!dtype_is_float(dt)) return ctx.error("output dtype must be a float type; set the dtype attribute");
    return ctx.set_output(0, dt, x.shape);
  }

  Status compute(OpContext& ctx) override {
    Tensor& y = ctx.output(0);
    return dispatch_float(y.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* p = y.as<T>();
      for (int64_t i = 0; i < y.numel(); ++i) {
        const double v = dist_ == Dist::kUniform ? a_ + (b_ - a_) * rng_.uniform() : a_ + b_ * rng_.normal();
        p[i] = store<T>(ComputeType<T>(v));
      }
      return Status::ok();
    });
  }

 private:
  Rng rng_;
  Dist dist_;
  bool like_;
  DataType dt_;  // kUndefined for *Like without a dtype attribute: the input's dtype
  Shape shape_;
  double a_, b_;  // (low, high) or (mean, scale)
};

// Samples class indices from unnormalised log-probabilities, one row per batch entry.
class MultinomialKernel final : public Kernel {
 public:
  MultinomialKernel(const Node& n, DataType dt, int64_t samples) : rng_(n), dt_(dt), samples_(samples) {}
  bool deterministic() const override { return false; }

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(need_inputs(ctx, 1));
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype)) return ctx.error("input must be a float tensor");
    if (x.rank() != 2) return ctx.error("input must have shape [batch, classes]");
    if (x.shape[1] < 1) return ctx.error("needs at least one class");
    return ctx.set_output(0, dt_, {x.shape[0], samples_});
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    const int64_t batch = x.shape[0], k = x.shape[1];
    std::vector<double> cdf(static_cast<size_t>(k));
    for (int64_t b = 0; b < batch; ++b) {
      double mx = -INFINITY;
      for (int64_t c = 0; c < k; ++c) mx = std::max(mx, element_as_double(x, b * k + c));
      double total = 0;
      for (int64_t c = 0; c < k; ++c) {
        const double l = element_as_double(x, b * k + c);
        total += std::isfinite(mx) && !std::isnan(l) ? std::exp(l - mx) : 0.0;
        cdf[size_t(c)] = total;
      }
      for (int64_t s = 0; s < samples_; ++s) {
        const double u = rng_.uniform() * total;
        int64_t c = 0;
        while (c < k - 1 && !(u < cdf[size_t(c)])) ++c;
        if (dt_ == DataType::kInt32) y.as<int32_t>()[b * samples_ + s] = int32_t(c);
        else y.as<int64_t>()[b * samples_ + s] = c;
      }
    }
    return Status::ok();
  }

 private:
  Rng rng_;
  DataType dt_;
  int64_t samples_;
};

// Bernoulli: 1 with probability x[i], else 0, in the dtype attribute's type (default: x's).
class BernoulliKernel final : public Kernel {
 public:
  BernoulliKernel(const Node& n, DataType dt) : rng_(n), dt_(dt) {}
  bool deterministic() const override { return false; }

  Status infer(OpContext& ctx) override {
    PETREL_RETURN_IF_ERROR(need_inputs(ctx, 1));
    const Tensor& x = ctx.input(0);
    if (!dtype_is_float(x.dtype)) return ctx.error("input must be a float tensor");
    return ctx.set_output(0, dt_ == DataType::kUndefined ? x.dtype : dt_, x.shape);
  }

  Status compute(OpContext& ctx) override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0);
    return dispatch_with_bool(y.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* p = y.as<T>();
      for (int64_t i = 0; i < y.numel(); ++i) {
        const bool one = rng_.uniform() < element_as_double(x, i);
        p[i] = store<T>(ComputeType<T>(one ? 1 : 0));
      }
      return Status::ok();
    });
  }

 private:
  Rng rng_;
  DataType dt_;
};

Result<DataType> float_dtype_attr(const Node& n, bool required_default) {
  if (!has_attr(n, "dtype") && !required_default) return DataType::kUndefined;
  PETREL_ASSIGN_OR_RETURN(int64_t dt, attr_int(n, "dtype", int64_t(DataType::kFloat)));
  if (dt < 1 || dt > kMaxDataType || !dtype_is_float(DataType(dt)))
    return unsupported(n.label() + ": dtype " + std::to_string(dt));
  return DataType(dt);
}

Result<std::unique_ptr<Kernel>> make_random(const Node& n, Dist dist, bool like) {
  PETREL_ASSIGN_OR_RETURN(DataType dt, float_dtype_attr(n, !like));
  Shape shape;
  if (!like) {
    if (!has_attr(n, "shape")) return invalid_model(n.label() + ": missing required attribute 'shape'");
    PETREL_ASSIGN_OR_RETURN(shape, attr_ints(n, "shape"));
    PETREL_RETURN_IF_ERROR(checked_numel(shape).status().with_context(n.label()));
  }
  double a, b;
  if (dist == Dist::kUniform) {
    PETREL_ASSIGN_OR_RETURN(float lo, attr_float(n, "low", 0.0f));
    PETREL_ASSIGN_OR_RETURN(float hi, attr_float(n, "high", 1.0f));
    a = lo, b = hi;
  } else {
    PETREL_ASSIGN_OR_RETURN(float mean, attr_float(n, "mean", 0.0f));
    PETREL_ASSIGN_OR_RETURN(float scale, attr_float(n, "scale", 1.0f));
    a = mean, b = scale;
  }
  PETREL_RETURN_IF_ERROR(attr_float(n, "seed", 0.0f).status());
  return std::unique_ptr<Kernel>(new RandomKernel(n, dist, like, dt, std::move(shape), a, b));
}

}  // namespace

Result<std::unique_ptr<Kernel>> make_random_uniform(const Node& n) { return make_random(n, Dist::kUniform, false); }
Result<std::unique_ptr<Kernel>> make_random_normal(const Node& n) { return make_random(n, Dist::kNormal, false); }
Result<std::unique_ptr<Kernel>> make_random_uniform_like(const Node& n) { return make_random(n, Dist::kUniform, true); }
Result<std::unique_ptr<Kernel>> make_random_normal_like(const Node& n) { return make_random(n, Dist::kNormal, true); }

Result<std::unique_ptr<Kernel>> make_multinomial(const Node& n) {
  PETREL_ASSIGN_OR_RETURN(int64_t dt, attr_int(n, "dtype", int64_t(DataType::kInt32)));
  PETREL_ASSIGN_OR_RETURN(int64_t samples, attr_int(n, "sample_size", 1));
  PETREL_RETURN_IF_ERROR(attr_float(n, "seed", 0.0f).status());
  if (dt != int64_t(DataType::kInt32) && dt != int64_t(DataType::kInt64))
    return unsupported(n.label() + ": dtype must be int32 or int64");
  if (samples < 1 || samples > kMaxElements) return invalid_model(n.label() + ": sample_size must be positive");
  return std::unique_ptr<Kernel>(new MultinomialKernel(n, DataType(dt), samples));
}

Result<std::unique_ptr<Kernel>> make_bernoulli(const Node& n) {
  DataType dt = DataType::kUndefined;
  if (has_attr(n, "dtype")) {
    PETREL_ASSIGN_OR_RETURN(int64_t d, attr_int(n, "dtype", 0));
    if (d < 1 || d > kMaxDataType ||
        !(dtype_is_float(DataType(d)) || dtype_is_integer(DataType(d)) || DataType(d) == DataType::kBool))
      return unsupported(n.label() + ": dtype " + std::to_string(d));
    dt = DataType(d);
  }
  PETREL_RETURN_IF_ERROR(attr_float(n, "seed", 0.0f).status());
  return std::unique_ptr<Kernel>(new BernoulliKernel(n, dt));
}

}  // namespace petrel::ref
