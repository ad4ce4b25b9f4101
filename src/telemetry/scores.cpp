#include "telemetry/scores.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace petrel::telemetry {

const char* score_kind_name(ScoreKind k) { return k == ScoreKind::kLogits ? "logits" : "probabilities"; }

bool looks_like_probabilities(const float* x, int64_t n) {
  if (n < 1) return false;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!(x[i] >= 0.0f && x[i] <= 1.0f)) return false;  // also rejects NaN
    sum += x[i];
  }
  return std::fabs(sum - 1.0) <= 1e-3;
}

RowScores score_row(ScoreKind kind, const float* x, int64_t n) {
  RowScores r;
  if (n < 1) return r;
  r.top = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[r.top]) r.top = i;
  const double mx = x[r.top];
  if (kind == ScoreKind::kProbabilities) {
    r.confidence = mx;
    return r;
  }
  if (!std::isfinite(mx)) {
    r.confidence = r.energy = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  // logsumexp with the max factored out; softmax(top) = exp(max - lse) = 1 / sum exp(x - max).
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(double(x[i]) - mx);
  r.confidence = 1.0 / s;
  r.energy = -(mx + std::log(s));
  return r;
}

bool is_numeric(DataType t) {
  switch (t) {
    case DataType::kFloat: case DataType::kDouble: case DataType::kFloat16: case DataType::kBFloat16:
    case DataType::kUInt8: case DataType::kInt8: case DataType::kUInt16: case DataType::kInt16:
    case DataType::kInt32: case DataType::kUInt32: case DataType::kInt64: case DataType::kUInt64:
    case DataType::kBool:
      return true;
    default:
      return false;
  }
}

double element_at(DataType t, const void* data, int64_t i) {
  const auto* b = static_cast<const uint8_t*>(data);
  auto load = [&](auto tag) {
    decltype(tag) v;
    std::memcpy(&v, b + size_t(i) * sizeof(v), sizeof(v));  // request bytes may be unaligned
    return v;
  };
  switch (t) {
    case DataType::kFloat: return load(float{});
    case DataType::kDouble: return load(double{});
    case DataType::kFloat16: return Float16::to_float(load(uint16_t{}));
    case DataType::kBFloat16: { BFloat16 h; h.bits = load(uint16_t{}); return float(h); }
    case DataType::kUInt8: return load(uint8_t{});
    case DataType::kInt8: return load(int8_t{});
    case DataType::kUInt16: return load(uint16_t{});
    case DataType::kInt16: return load(int16_t{});
    case DataType::kInt32: return load(int32_t{});
    case DataType::kUInt32: return load(uint32_t{});
    case DataType::kInt64: return double(load(int64_t{}));
    case DataType::kUInt64: return double(load(uint64_t{}));
    case DataType::kBool: return load(uint8_t{}) != 0;
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

double mean_of(DataType t, const void* data, int64_t begin, int64_t end) {
  if (end <= begin) return std::numeric_limits<double>::quiet_NaN();
  double s = 0;
  if (t == DataType::kFloat) {
    const auto* b = static_cast<const uint8_t*>(data);
    for (int64_t i = begin; i < end; ++i) {
      float v;
      std::memcpy(&v, b + size_t(i) * 4, 4);
      s += v;
    }
  } else {
    for (int64_t i = begin; i < end; ++i) s += element_at(t, data, i);
  }
  return s / double(end - begin);
}

}  // namespace petrel::telemetry
