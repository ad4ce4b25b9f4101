// One pool of worker threads per session. parallel_for splits a range into chunks that the
// calling thread and the workers share. Between jobs, workers sleep: nothing spins once a run
// ends (spinning costs battery and starves other processes on small devices). parallel_for
// allocates nothing.
//
// Where the build has pthreadpool (Debian libpthreadpool-dev, which XNNPACK runs on), the pool
// *is* a pthreadpool, so that our kernels and XNNPACK share one set of threads; every job is
// issued with PTHREADPOOL_FLAG_YIELD_WORKERS (workers sleep on a futex right after it).
// Otherwise it is a small pool of std::threads blocking on a condition variable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace petrel {

class ThreadPool {
 public:
  // `threads` >= 1 counts the calling thread: a pool of 1 runs everything inline.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return threads_; }
  // The pthreadpool_t behind this pool (null when single-threaded or built without it).
  void* native_handle() const { return native_; }

  // Calls f(begin, end) on disjoint chunks covering [0, n), each at least `grain` long (except
  // the last), and returns when all are done. Not reentrant: call it from one thread at a time.
  template <typename F>
  void parallel_for(int64_t n, int64_t grain, F&& f) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (threads_ <= 1 || n <= grain) {
      f(int64_t(0), n);
      return;
    }
    using Fn = std::remove_reference_t<F>;
    run(n, grain, [](void* ctx, int64_t b, int64_t e) { (*static_cast<Fn*>(ctx))(b, e); }, const_cast<void*>(static_cast<const void*>(&f)));
  }

 private:
  using Call = void (*)(void*, int64_t, int64_t);
  void run(int64_t n, int64_t grain, Call call, void* ctx);
  void work_chunks();
  void worker_loop();

  int threads_ = 1;
  void* native_ = nullptr;  // pthreadpool_t
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  uint64_t generation_ = 0;
  int busy_ = 0;
  bool stop_ = false;
  // The current job.
  Call call_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0, chunk_ = 1;
  std::atomic<int64_t> next_{0};
};

}  // namespace petrel
