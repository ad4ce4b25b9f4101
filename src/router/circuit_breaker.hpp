// Circuit breaker for the cloud leg: after `failure_threshold` consecutive failed calls it
// opens and refuses calls for `cool_down`; then it is half-open and lets exactly one probe
// call through: its success closes the breaker, its failure opens it for another cool-down.
// Thread-safe. Time is passed in (defaulting to now) so tests need not sleep.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace petrel::router {

enum class CircuitState : int { kClosed = 0, kOpen = 1, kHalfOpen = 2 };  // numbers exported as a gauge
const char* circuit_state_name(CircuitState s);  // "closed", "open", "half_open"

struct BreakerOptions {
  int failure_threshold = 5;                     // consecutive failures that open it (>= 1)
  std::chrono::milliseconds cool_down{5000};     // open -> half-open after this long
};

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  explicit CircuitBreaker(const BreakerOptions& o = {}) : o_(o) {}

  // May a call go out now? Closed: yes. Open: no, until the cool-down has passed; then the
  // breaker turns half-open and this caller (only) gets yes: it carries the probe. Every yes
  // must be followed by on_success() or on_failure().
  bool allow(Clock::time_point now = Clock::now());
  void on_success();
  void on_failure(Clock::time_point now = Clock::now());

  // The state as of `now` (an open breaker whose cool-down has passed reports half-open).
  CircuitState state(Clock::time_point now = Clock::now()) const;
  uint64_t times_opened() const;

 private:
  BreakerOptions o_;
  mutable std::mutex mu_;
  CircuitState state_ = CircuitState::kClosed;
  int consecutive_failures_ = 0;
  bool probe_in_flight_ = false;
  Clock::time_point open_until_{};
  uint64_t opened_ = 0;
};

}  // namespace petrel::router
