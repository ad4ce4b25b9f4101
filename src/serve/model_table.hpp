// The models a server answers for: name -> the version now serving, swapped atomically.
//
// A request takes a snapshot (`get`): a shared_ptr to the Slot and, from it, a shared_ptr to the
// host. A swap (`set`) stores a new host; requests that already hold the old one finish on it,
// and the old host (its sessions, its mmap) is freed when the last of them ends.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "serve/model_host.hpp"

namespace petrel::serve {

struct ModelSlot {
  std::atomic<std::shared_ptr<const ModelHost>> host;
  std::atomic<int64_t> admitted{0};  // infer requests in flight (running or queued)
};

class ModelTable {
 public:
  std::shared_ptr<ModelSlot> get(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = slots_.find(name);
    return it == slots_.end() ? nullptr : it->second;
  }
  // Adds `name` or swaps its host; returns the host it replaced (nullptr if new).
  std::shared_ptr<const ModelHost> set(const std::string& name, std::shared_ptr<const ModelHost> host) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = slots_[name];
    if (!slot) slot = std::make_shared<ModelSlot>();
    return slot->host.exchange(std::move(host));
  }
  void remove(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    slots_.erase(name);
  }
  std::vector<std::string> names() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [n, s] : slots_) out.push_back(n);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<ModelSlot>> slots_;
};

}  // namespace petrel::serve
