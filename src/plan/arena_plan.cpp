#include "plan/arena_plan.hpp"

#include <algorithm>
#include <numeric>

namespace petrel {

ArenaPlan plan_arena(const std::vector<BufferRequest>& req) {
  ArenaPlan plan;
  plan.offsets.assign(req.size(), 0);
  std::vector<size_t> order(req.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return req[a].bytes > req[b].bytes; });
  auto aligned = [](size_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; };
  std::vector<size_t> placed;
  std::vector<std::pair<size_t, size_t>> busy;  // [begin, end) of overlapping placed buffers
  for (size_t i : order) {
    const size_t size = aligned(req[i].bytes);
    busy.clear();
    for (size_t j : placed)
      if (req[j].first <= req[i].last && req[i].first <= req[j].last)
        busy.emplace_back(plan.offsets[j], plan.offsets[j] + aligned(req[j].bytes));
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (auto& [b, e] : busy) {
      if (offset + size <= b) break;
      offset = std::max(offset, e);
    }
    plan.offsets[i] = offset;
    plan.total_bytes = std::max(plan.total_bytes, offset + size);
    placed.push_back(i);
  }
  return plan;
}

}  // namespace petrel
