#include "core/thread_pool.hpp"

#include <algorithm>

#ifdef PETREL_HAVE_PTHREADPOOL
#include <pthreadpool.h>
#endif

namespace petrel {

ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)) {
#ifdef PETREL_HAVE_PTHREADPOOL
  if (threads_ > 1) native_ = pthreadpool_create(size_t(threads_));
  if (native_ != nullptr || threads_ == 1) return;
#endif
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
#ifdef PETREL_HAVE_PTHREADPOOL
  if (native_ != nullptr) pthreadpool_destroy(static_cast<pthreadpool_t>(native_));
#endif
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::work_chunks() {
  for (;;) {
    const int64_t b = next_.fetch_add(chunk_, std::memory_order_relaxed);
    if (b >= n_) return;
    call_(ctx_, b, std::min(n_, b + chunk_));
  }
}

void ThreadPool::run(int64_t n, int64_t grain, Call call, void* ctx) {
#ifdef PETREL_HAVE_PTHREADPOOL
  if (native_ != nullptr) {
    struct Job {
      Call call;
      void* ctx;
    } job{call, ctx};
    const int64_t parts = int64_t(threads_) * 4;
    const int64_t chunk = std::max(grain, (n + parts - 1) / parts);
    pthreadpool_parallelize_1d_tile_1d(
        static_cast<pthreadpool_t>(native_),
        [](void* j, size_t start, size_t len) {
          auto* job = static_cast<Job*>(j);
          job->call(job->ctx, int64_t(start), int64_t(start + len));
        },
        &job, size_t(n), size_t(chunk), PTHREADPOOL_FLAG_YIELD_WORKERS);
    return;
  }
#endif
  {
    std::lock_guard<std::mutex> lock(mu_);
    call_ = call;
    ctx_ = ctx;
    n_ = n;
    // About four chunks per thread balances uneven chunks without much counter traffic.
    const int64_t parts = int64_t(size()) * 4;
    chunk_ = std::max(grain, (n + parts - 1) / parts);
    next_.store(0, std::memory_order_relaxed);
    busy_ = int(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  work_chunks();
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [this] { return busy_ == 0; });
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    work_chunks();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--busy_ == 0) done_.notify_one();
    }
  }
}

}  // namespace petrel
