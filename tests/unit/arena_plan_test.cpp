#include <gtest/gtest.h>

#include "plan/arena_plan.hpp"

using namespace petrel;

static bool overlaps(const BufferRequest& a, size_t oa, const BufferRequest& b, size_t ob) {
  bool time = a.first <= b.last && b.first <= a.last;
  bool space = oa < ob + b.bytes && ob < oa + a.bytes;
  return time && space;
}

TEST(ArenaPlan, ReusesMemoryOfDeadBuffers) {
  // A chain: each buffer lives from its producer to its single consumer.
  std::vector<BufferRequest> r = {{1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}, {1000, 3, 4}};
  ArenaPlan p = plan_arena(r);
  EXPECT_EQ(p.total_bytes, 2 * 1024u);  // two live at a time, 64-byte aligned
}

TEST(ArenaPlan, NeverOverlapsLiveBuffers) {
  std::vector<BufferRequest> r;
  for (int i = 0; i < 200; ++i) r.push_back({size_t(37 * (i % 13) + 1), i % 17, i % 17 + i % 5});
  ArenaPlan p = plan_arena(r);
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(p.offsets[i] % kArenaAlignment, 0u);
    EXPECT_LE(p.offsets[i] + r[i].bytes, p.total_bytes);
    for (size_t j = i + 1; j < r.size(); ++j) EXPECT_FALSE(overlaps(r[i], p.offsets[i], r[j], p.offsets[j])) << i << " " << j;
  }
}
