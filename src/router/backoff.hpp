// Retry delays: exponential backoff with jitter, so that many edge devices that lost the cloud
// at the same moment do not retry in lock-step.
#pragma once

#include <chrono>

namespace petrel::router {

struct BackoffOptions {
  std::chrono::milliseconds base{50};   // delay before the first retry (before jitter)
  std::chrono::milliseconds cap{2000};  // no single delay exceeds this
};

// Delay before retry number `retry` (0 = the first retry): d = min(cap, base * 2^retry), then
// "equal jitter": d/2 + u * d/2 for u in [0, 1). Callers additionally cut it to what is left of
// their deadline.
std::chrono::milliseconds backoff_delay(const BackoffOptions& o, int retry, double u);

// A uniform number in [0, 1) from a per-thread generator seeded from std::random_device.
double jitter_uniform();

}  // namespace petrel::router
