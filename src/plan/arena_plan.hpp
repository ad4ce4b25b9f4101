// Static memory planning: places buffers with known sizes and lifetimes into one arena so that
// buffers whose lifetimes overlap never share bytes. Greedy by size (largest first), each buffer
// at the lowest offset that fits between the already-placed buffers it overlaps in time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace petrel {

struct BufferRequest {
  size_t bytes = 0;
  int first = 0;  // step that writes it
  int last = 0;   // last step that reads it (inclusive)
};

struct ArenaPlan {
  std::vector<size_t> offsets;  // per request
  size_t total_bytes = 0;       // arena size needed
};

constexpr size_t kArenaAlignment = 64;

ArenaPlan plan_arena(const std::vector<BufferRequest>& requests);

}  // namespace petrel
