// The router's building blocks without any network: circuit breaker state machine (with a
// fake clock), jittered backoff bounds, LRU cache bounds and recency.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "router/backoff.hpp"
#include "router/circuit_breaker.hpp"
#include "router/lru_cache.hpp"

namespace petrel::router {
namespace {

using namespace std::chrono_literals;
using Clock = CircuitBreaker::Clock;

TEST(CircuitBreaker, OpensAfterThresholdThenHalfOpenProbe) {
  CircuitBreaker b(BreakerOptions{3, 1000ms});
  const Clock::time_point t0{};
  EXPECT_EQ(b.state(t0), CircuitState::kClosed);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.allow(t0));
    b.on_failure(t0);
  }
  EXPECT_EQ(b.state(t0), CircuitState::kClosed);  // 2 < 3
  b.on_success();                                  // resets the consecutive count
  for (int i = 0; i < 2; ++i) b.on_failure(t0);
  EXPECT_EQ(b.state(t0), CircuitState::kClosed);
  b.on_failure(t0);
  EXPECT_EQ(b.state(t0), CircuitState::kOpen);
  EXPECT_EQ(b.times_opened(), 1u);
  EXPECT_FALSE(b.allow(t0 + 999ms));
  // Cool-down over: one probe only.
  EXPECT_EQ(b.state(t0 + 1000ms), CircuitState::kHalfOpen);
  EXPECT_TRUE(b.allow(t0 + 1000ms));
  EXPECT_FALSE(b.allow(t0 + 1001ms));
  // The probe fails: open again for a full cool-down from now.
  b.on_failure(t0 + 1100ms);
  EXPECT_EQ(b.state(t0 + 1200ms), CircuitState::kOpen);
  EXPECT_EQ(b.times_opened(), 2u);
  EXPECT_FALSE(b.allow(t0 + 2099ms));
  EXPECT_TRUE(b.allow(t0 + 2100ms));
  b.on_success();
  EXPECT_EQ(b.state(t0 + 2100ms), CircuitState::kClosed);
  EXPECT_TRUE(b.allow(t0 + 2100ms));
  EXPECT_TRUE(b.allow(t0 + 2100ms));
}

TEST(CircuitBreaker, ConcurrentCallersGetOneProbe) {
  CircuitBreaker b(BreakerOptions{1, 10ms});
  b.on_failure(Clock::time_point{});
  std::atomic<int> allowed{0};
  std::vector<std::thread> ts;
  const Clock::time_point later = Clock::time_point{} + 20ms;
  for (int i = 0; i < 8; ++i) ts.emplace_back([&] { allowed += b.allow(later) ? 1 : 0; });
  for (auto& t : ts) t.join();
  EXPECT_EQ(allowed.load(), 1);
}

TEST(Backoff, ExponentialWithEqualJitterAndCap) {
  BackoffOptions o{100ms, 1000ms};
  EXPECT_EQ(backoff_delay(o, 0, 0.0), 50ms);    // 100/2
  EXPECT_EQ(backoff_delay(o, 0, 0.999), 99ms);
  EXPECT_EQ(backoff_delay(o, 2, 0.5), 300ms);   // 400/2 + 0.5*400/2
  EXPECT_EQ(backoff_delay(o, 5, 1.0), 1000ms);  // capped
  EXPECT_EQ(backoff_delay(o, 500, 0.0), 500ms); // huge retry numbers stay at the cap
  for (int i = 0; i < 100; ++i) {
    const double u = jitter_uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

Digest key(uint8_t k) {
  Digest d{};
  d[0] = k;
  d[31] = k;
  return d;
}

TEST(LruCache, EvictsLeastRecentlyUsedByCountAndBytes) {
  LruCache<int> c(3, 100);
  for (uint8_t k = 1; k <= 3; ++k) c.put(key(k), std::make_shared<const int>(k), 10);
  ASSERT_TRUE(c.get(key(1)));  // 1 is now most recent; 2 is the oldest
  c.put(key(4), std::make_shared<const int>(4), 10);
  EXPECT_EQ(c.size(), 3u);
  EXPECT_FALSE(c.get(key(2)));
  EXPECT_EQ(*c.get(key(1)), 1);
  EXPECT_EQ(*c.get(key(4)), 4);
  // Bytes: [4, 1, 3] hold 30; a 75-byte value makes 105 > 100, so the oldest (3) goes: 95.
  c.put(key(5), std::make_shared<const int>(5), 75);
  EXPECT_EQ(c.bytes(), 95u);
  EXPECT_FALSE(c.get(key(3)));
  EXPECT_TRUE(c.get(key(5)));
  EXPECT_TRUE(c.get(key(1)));
  EXPECT_TRUE(c.get(key(4)));  // recency now 4, 1, 5
  // Too large on its own: not cached, nothing evicted.
  c.put(key(6), std::make_shared<const int>(6), 101);
  EXPECT_FALSE(c.get(key(6)));
  EXPECT_EQ(c.size(), 3u);
  // Replacing a key updates value and bytes: 95 - 10 + 5.
  c.put(key(4), std::make_shared<const int>(40), 5);
  EXPECT_EQ(*c.get(key(4)), 40);
  EXPECT_EQ(c.bytes(), 90u);
  // Growing 1 to 21 bytes (90 - 10 + 21 = 101 > 100) evicts the least recent, 5: 26 left.
  c.put(key(1), std::make_shared<const int>(1), 21);
  EXPECT_FALSE(c.get(key(5)));
  EXPECT_EQ(c.bytes(), 26u);
  LruCache<int> off(0, 100);
  off.put(key(1), std::make_shared<const int>(1), 1);
  EXPECT_FALSE(off.get(key(1)));
}

}  // namespace
}  // namespace petrel::router
