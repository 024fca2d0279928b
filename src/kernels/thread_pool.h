// A fixed pool of worker threads for data-parallel loops. Dispatch takes a plain function
// pointer and context, so running a loop allocates nothing (decoding must not allocate).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace tandem {

class ThreadPool {
 public:
  using Task = void (*)(void* ctx, int thread, int n_threads);

  explicit ThreadPool(int n_threads);  // n_threads >= 1; the caller's thread is thread 0
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs task(ctx, i, n) for i in [0, n) on all threads and returns when every call has finished.
  void run(Task task, void* ctx);

  // Convenience: calls fn(begin, end) on contiguous slices of [0, n) (a lambda by reference).
  template <typename Fn>
  void parallel_for(size_t n, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    struct Ctx { size_t n; F* fn; } c{n, &fn};
    run([](void* p, int t, int nt) {
          auto* c = static_cast<Ctx*>(p);
          size_t b = c->n * size_t(t) / size_t(nt), e = c->n * size_t(t + 1) / size_t(nt);
          if (b < e) (*c->fn)(b, e);
        }, &c);
  }

 private:
  void worker(int index);

  int n_threads_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  Task task_ = nullptr;
  void* ctx_ = nullptr;
  std::atomic<uint64_t> generation_{0};  // bumped per run; workers spin, then sleep, until it moves
  std::atomic<int> pending_{0};
  bool stop_ = false;
};

}  // namespace tandem
