#include "router/circuit_breaker.hpp"

namespace petrel::router {

const char* circuit_state_name(CircuitState s) {
  switch (s) {
    case CircuitState::kClosed: return "closed";
    case CircuitState::kOpen: return "open";
    case CircuitState::kHalfOpen: return "half_open";
  }
  return "unknown";
}

bool CircuitBreaker::allow(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  switch (state_) {
    case CircuitState::kClosed:
      return true;
    case CircuitState::kOpen:
      if (now < open_until_) return false;
      state_ = CircuitState::kHalfOpen;
      probe_in_flight_ = true;
      return true;
    case CircuitState::kHalfOpen:
      if (probe_in_flight_) return false;  // one probe at a time
      probe_in_flight_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::on_success() {
  std::lock_guard<std::mutex> lock(mu_);
  state_ = CircuitState::kClosed;
  consecutive_failures_ = 0;
  probe_in_flight_ = false;
}

void CircuitBreaker::on_failure(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  probe_in_flight_ = false;
  const int threshold = o_.failure_threshold < 1 ? 1 : o_.failure_threshold;
  if (state_ == CircuitState::kHalfOpen || ++consecutive_failures_ >= threshold) {
    // A failure reported by a call that started before the breaker opened only extends it.
    if (state_ != CircuitState::kOpen) ++opened_;
    state_ = CircuitState::kOpen;
    open_until_ = now + o_.cool_down;
    consecutive_failures_ = 0;
  }
}

CircuitState CircuitBreaker::state(Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == CircuitState::kOpen && now >= open_until_) return CircuitState::kHalfOpen;
  return state_;
}

uint64_t CircuitBreaker::times_opened() const {
  std::lock_guard<std::mutex> lock(mu_);
  return opened_;
}

}  // namespace petrel::router
