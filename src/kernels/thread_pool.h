// A fixed pool of worker threads for data-parallel loops. A loop is split into chunks that the
// threads claim one at a time, so a thread the OS has not scheduled (another process on the
// core) leaves its share to the others instead of stalling the loop. Dispatch takes a plain
// function pointer and context, so running a loop allocates nothing (decoding must not allocate).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace tandem {

class ThreadPool {
 public:
  // fn(ctx, chunk, thread): runs chunk `chunk` of a loop on thread `thread` (0 = the caller).
  using ChunkFn = void (*)(void* ctx, size_t chunk, int thread);

  explicit ThreadPool(int n_threads);  // n_threads >= 1; the caller's thread is thread 0
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(ctx, c, thread) for every chunk c in [0, n_chunks), each exactly once, on whichever
  // threads claim them, and returns when all have finished. Not reentrant: one loop at a time.
  void run_chunks(size_t n_chunks, ChunkFn fn, void* ctx);

  // Calls fn(begin, end) or fn(begin, end, thread) on slices of [0, n) whose bounds are
  // multiples of `grain` (except the end), a few slices per thread.
  template <typename Fn>
  void parallel_for(size_t n, size_t grain, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    if (n == 0) return;
    if (grain == 0) grain = 1;
    const size_t units = (n + grain - 1) / grain;
    const size_t per_thread = n_threads_ == 1 ? 1 : 4;
    const size_t chunks = units < per_thread * size_t(n_threads_) ? units : per_thread * size_t(n_threads_);
    struct Ctx { size_t n, grain, units, chunks; F* fn; } c{n, grain, units, chunks, &fn};
    run_chunks(chunks, [](void* p, size_t i, int thread) {
      auto* c = static_cast<Ctx*>(p);
      const size_t b = c->units * i / c->chunks * c->grain;
      size_t e = c->units * (i + 1) / c->chunks * c->grain;
      if (e > c->n) e = c->n;
      if (b >= e) return;
      if constexpr (std::is_invocable_v<F&, size_t, size_t, int>) (*c->fn)(b, e, thread);
      else (*c->fn)(b, e);
    }, &c);
  }
  template <typename Fn>
  void parallel_for(size_t n, Fn&& fn) { parallel_for(n, 1, std::forward<Fn>(fn)); }

 private:
  void worker(int index);
  void claim_chunks(uint32_t generation, int thread);

  int n_threads_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  // The current loop. Written by the caller before it publishes the loop in work_.
  std::atomic<ChunkFn> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<uint32_t> n_chunks_{0};
  // (generation << 32) | next unclaimed chunk: claiming is a compare-and-swap on both, so a
  // thread that wakes late can never claim a chunk of a loop it did not read.
  std::atomic<uint64_t> work_{0};
  std::atomic<uint32_t> done_{0};        // chunks finished in the current loop
  std::atomic<uint32_t> generation_{0};  // bumped per loop; idle workers spin, then sleep, until it moves
  uint32_t last_generation_ = 0;         // the caller's copy
};

}  // namespace tandem
