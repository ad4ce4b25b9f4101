#include "quantize/quant_params.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/int4.hpp"

namespace petrel::quant {
namespace {

// x / s rounded half to even, as QuantizeLinear does (float32 division, then rint).
inline double qround(float x, float s) { return std::nearbyint(double(x / s)); }

// [outer, dim, inner] view around `axis`.
Status axis_view(const Tensor& w, int64_t axis, int64_t& outer, int64_t& dim, int64_t& inner) {
  if (axis < 0 || axis >= w.rank()) return invalid_argument("axis " + std::to_string(axis) + " out of range for shape " + shape_to_string(w.shape));
  outer = inner = 1;
  for (int64_t d = 0; d < w.rank(); ++d) {
    if (d < axis) outer *= w.shape[size_t(d)];
    else if (d > axis) inner *= w.shape[size_t(d)];
  }
  dim = w.shape[size_t(axis)];
  return Status::ok();
}

}  // namespace

void activation_qrange(bool unsigned_act, bool reduce_range, int32_t& qmin, int32_t& qmax) {
  if (unsigned_act) { qmin = 0; qmax = reduce_range ? 127 : 255; }
  else { qmin = reduce_range ? -64 : -128; qmax = reduce_range ? 63 : 127; }
}

QParams activation_params(Range r, bool unsigned_act, bool reduce_range) {
  QParams p;
  p.dtype = unsigned_act ? DataType::kUInt8 : DataType::kInt8;
  int32_t qmin, qmax;
  activation_qrange(unsigned_act, reduce_range, qmin, qmax);
  const double lo = std::min(0.0, double(r.lo)), hi = std::max(0.0, double(r.hi));
  const double scale = (hi - lo) / double(qmax - qmin);
  if (!(scale > 0) || !std::isfinite(scale) || float(scale) < std::numeric_limits<float>::min()) {
    p.scale = 1;
    p.zero_point = unsigned_act ? 0 : 0;
    return p;
  }
  p.scale = float(scale);
  const double zp = std::nearbyint(double(qmin) - lo / double(p.scale));
  p.zero_point = int32_t(std::clamp(zp, double(qmin), double(qmax)));
  return p;
}

Result<WeightQuant> quantize_weight_int8(const Tensor& w, int64_t axis) {
  if (w.dtype != DataType::kFloat) return unsupported("weights of type " + std::string(dtype_name(w.dtype)));
  int64_t outer = 1, dim = 1, inner = w.numel();
  if (axis >= 0) PETREL_RETURN_IF_ERROR(axis_view(w, axis, outer, dim, inner));
  else { outer = 1; dim = 1; inner = w.numel(); }
  WeightQuant out;
  PETREL_ASSIGN_OR_RETURN(out.q, Tensor::allocate(DataType::kInt8, w.shape));
  out.scales.assign(size_t(dim), 0.f);
  const float* x = w.as<float>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < dim; ++c)
      for (int64_t i = 0; i < inner; ++i) {
        const float v = x[(o * dim + c) * inner + i];
        if (std::isfinite(v)) out.scales[size_t(c)] = std::max(out.scales[size_t(c)], std::fabs(v));
      }
  for (float& s : out.scales) s = s > 0 ? s / 127.f : 1.f;
  int8_t* q = out.q.as<int8_t>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < dim; ++c)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t e = (o * dim + c) * inner + i;
        const double r = std::isnan(x[e]) ? 0.0 : qround(x[e], out.scales[size_t(c)]);
        q[e] = int8_t(std::clamp(r, -127.0, 127.0));
      }
  return out;
}

Result<BiasQuant> quantize_bias_int32(const Tensor& b, float s_x, const std::vector<float>& s_w) {
  if (b.dtype != DataType::kFloat || b.rank() != 1) return unsupported("bias must be a 1-D float32 tensor");
  const int64_t n = b.numel();
  if (!(s_w.size() == 1 || int64_t(s_w.size()) == n))
    return invalid_argument("bias has " + std::to_string(n) + " values but the weights have " + std::to_string(s_w.size()) + " scales");
  BiasQuant out;
  PETREL_ASSIGN_OR_RETURN(out.q, Tensor::allocate(DataType::kInt32, b.shape));
  out.scales.resize(size_t(n));
  for (int64_t c = 0; c < n; ++c) {
    float s = s_x * s_w[s_w.size() == 1 ? 0 : size_t(c)];
    if (!(s > 0) || !std::isfinite(s)) s = 1;
    out.scales[size_t(c)] = s;
    const float v = b.as<float>()[c];
    const double r = std::isnan(v) ? 0.0 : qround(v, s);
    out.q.as<int32_t>()[c] = int32_t(std::clamp(r, -2147483647.0, 2147483647.0));
  }
  return out;
}

Result<BlockQuant> quantize_blocked_int4(const Tensor& w, int64_t axis, int64_t block) {
  if (w.dtype != DataType::kFloat) return unsupported("weights of type " + std::string(dtype_name(w.dtype)));
  if (block < 1) return invalid_argument("block size must be >= 1");
  int64_t outer, dim, inner;
  PETREL_RETURN_IF_ERROR(axis_view(w, axis, outer, dim, inner));
  const int64_t nb = (dim + block - 1) / block;
  Shape sshape = w.shape;
  sshape[size_t(axis)] = nb;
  BlockQuant out;
  PETREL_ASSIGN_OR_RETURN(out.q, Tensor::allocate(DataType::kInt4, w.shape));
  PETREL_ASSIGN_OR_RETURN(out.scales, Tensor::allocate(DataType::kFloat, sshape));
  const float* x = w.as<float>();
  uint8_t* q = out.q.as<uint8_t>();
  float* sc = out.scales.as<float>();
  auto at = [&](int64_t o, int64_t a, int64_t i) { return (o * dim + a) * inner + i; };
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t b = 0; b < nb; ++b)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t a0 = b * block, a1 = std::min(dim, a0 + block);
        float amax = 0;
        for (int64_t a = a0; a < a1; ++a)
          if (std::isfinite(x[at(o, a, i)])) amax = std::max(amax, std::fabs(x[at(o, a, i)]));
        float best_s = amax > 0 ? amax / 7.f : 1.f;
        if (amax > 0) {
          double best_err = std::numeric_limits<double>::infinity();
          for (int k = 0; k <= 40; ++k) {
            const float s = amax * (1.0f - 0.0125f * float(k)) / 7.f;
            double err = 0;
            for (int64_t a = a0; a < a1; ++a) {
              const float v = x[at(o, a, i)];
              if (!std::isfinite(v)) continue;
              const double r = std::clamp(qround(v, s), -8.0, 7.0) * s - v;
              err += r * r;
            }
            if (err < best_err) { best_err = err; best_s = s; }
          }
        }
        sc[(o * nb + b) * inner + i] = best_s;
        for (int64_t a = a0; a < a1; ++a) {
          const float v = x[at(o, a, i)];
          const double r = std::isnan(v) ? 0.0 : std::clamp(qround(v, best_s), -8.0, 7.0);
          int4_set(q, at(o, a, i), int32_t(r));
        }
      }
  return out;
}

Result<ConstQuant> quantize_constant(const Tensor& c, bool unsigned_act) {
  if (c.dtype != DataType::kFloat) return unsupported("constant of type " + std::string(dtype_name(c.dtype)));
  Range r;
  for (int64_t i = 0; i < c.numel(); ++i) {
    const float v = c.as<float>()[i];
    if (!std::isfinite(v)) continue;
    r.lo = std::min(r.lo, v);
    r.hi = std::max(r.hi, v);
  }
  ConstQuant out;
  out.p = activation_params(r, unsigned_act, false);
  PETREL_ASSIGN_OR_RETURN(out.q, Tensor::allocate(out.p.dtype, c.shape));
  int32_t qmin, qmax;
  activation_qrange(unsigned_act, false, qmin, qmax);
  for (int64_t i = 0; i < c.numel(); ++i) {
    const float v = c.as<float>()[i];
    const double q = std::clamp((std::isnan(v) ? 0.0 : qround(v, out.p.scale)) + out.p.zero_point, double(qmin), double(qmax));
    if (unsigned_act) out.q.as<uint8_t>()[i] = uint8_t(q);
    else out.q.as<int8_t>()[i] = int8_t(q);
  }
  return out;
}

}  // namespace petrel::quant
