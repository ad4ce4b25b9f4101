// A thread-safe LRU map from a 32-byte digest to a shared, immutable value, bounded by entry
// count and by total bytes (each value's size is given when it is put). Values are shared_ptr
// so a hit copies a pointer under the lock, not the value.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace petrel::router {

using Digest = std::array<uint8_t, 32>;

struct DigestHash {
  size_t operator()(const Digest& d) const {
    size_t h;
    std::memcpy(&h, d.data(), sizeof h);  // the digest is already uniformly distributed
    return h;
  }
};

template <typename V>
class LruCache {
 public:
  // capacity 0 disables the cache (get misses, put drops).
  LruCache(size_t capacity, size_t max_bytes) : capacity_(capacity), max_bytes_(max_bytes) {}

  std::shared_ptr<const V> get(const Digest& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    items_.splice(items_.begin(), items_, it->second);  // most recently used first
    return it->second->value;
  }

  // Inserts or replaces; evicts least recently used entries past either bound. A value larger
  // than max_bytes on its own is not cached.
  void put(const Digest& key, std::shared_ptr<const V> value, size_t bytes) {
    if (capacity_ == 0 || bytes > max_bytes_) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it != map_.end()) {
      bytes_ -= it->second->bytes;
      items_.erase(it->second);
      map_.erase(it);
    }
    items_.push_front(Item{key, std::move(value), bytes});
    map_[key] = items_.begin();
    bytes_ += bytes;
    while (items_.size() > capacity_ || bytes_ > max_bytes_) {
      bytes_ -= items_.back().bytes;
      map_.erase(items_.back().key);
      items_.pop_back();
    }
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }
  size_t bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }

 private:
  struct Item {
    Digest key;
    std::shared_ptr<const V> value;
    size_t bytes;
  };
  const size_t capacity_, max_bytes_;
  mutable std::mutex mu_;
  std::list<Item> items_;
  std::unordered_map<Digest, typename std::list<Item>::iterator, DigestHash> map_;
  size_t bytes_ = 0;
};

}  // namespace petrel::router
