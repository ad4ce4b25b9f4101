#include "router/backoff.hpp"

#include <algorithm>
#include <random>

namespace petrel::router {

std::chrono::milliseconds backoff_delay(const BackoffOptions& o, int retry, double u) {
  const double base = double(std::max<int64_t>(0, o.base.count()));
  const double cap = double(std::max<int64_t>(0, o.cap.count()));
  // 2^retry grows past any cap after ~60 doublings; clamp the exponent so the double stays finite.
  const double d = std::min(cap, base * double(uint64_t(1) << std::clamp(retry, 0, 62)));
  u = std::clamp(u, 0.0, 1.0);
  return std::chrono::milliseconds(int64_t(d / 2 + u * d / 2));
}

double jitter_uniform() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

}  // namespace petrel::router
