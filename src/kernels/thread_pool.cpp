#include "kernels/thread_pool.h"

#include <chrono>

namespace tandem {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  threads_.reserve(size_t(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::run_chunks(size_t n_chunks, ChunkFn fn, void* ctx) {
  if (n_chunks == 0) return;
  if (n_threads_ == 1 || n_chunks == 1) {
    for (size_t i = 0; i < n_chunks; ++i) fn(ctx, i, 0);
    return;
  }
  const uint32_t gen = ++last_generation_;
  // Close the previous loop before touching its fields. A worker that just finished its last
  // chunk may still be in claim_chunks holding (previous generation, n_previous); had it read
  // the new, larger n_chunks_ while work_ still held that value, its compare-and-swap would have
  // claimed a chunk of no loop, run it, and counted it, and the count below would never match.
  // With work_ closed first, any worker that sees the new n_chunks_ (release/acquire) also sees
  // work_ changed, so its compare-and-swap fails.
  work_.store((uint64_t(gen) << 32) | UINT32_MAX, std::memory_order_relaxed);
  fn_.store(fn, std::memory_order_relaxed);
  ctx_.store(ctx, std::memory_order_relaxed);
  n_chunks_.store(uint32_t(n_chunks), std::memory_order_release);
  done_.store(0, std::memory_order_relaxed);
  work_.store(uint64_t(gen) << 32, std::memory_order_release);
  {
    // Published under the lock so a worker about to sleep cannot miss it.
    std::lock_guard<std::mutex> lk(mu_);
    generation_.store(gen, std::memory_order_release);
  }
  cv_.notify_all();
  claim_chunks(gen, 0);
  // Only chunks other threads are running remain: spin briefly, then yield.
  for (unsigned spins = 0; done_.load(std::memory_order_acquire) != n_chunks;) {
    if (spins < 4000) ++spins, cpu_relax();
    else std::this_thread::yield();
  }
}

// Claims and runs chunks of loop `generation` until none is left. A chunk claimed means the loop
// is not finished, so the caller cannot have replaced fn_/ctx_ before this thread has read them.
void ThreadPool::claim_chunks(uint32_t generation, int thread) {
  uint64_t w = work_.load(std::memory_order_acquire);
  for (;;) {
    if (uint32_t(w >> 32) != generation) return;
    const uint32_t i = uint32_t(w);
    if (i >= n_chunks_.load(std::memory_order_acquire)) return;
    if (work_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
      fn_.load(std::memory_order_relaxed)(ctx_.load(std::memory_order_relaxed), i, thread);
      done_.fetch_add(1, std::memory_order_release);
      w = work_.load(std::memory_order_acquire);
    }
  }
}

void ThreadPool::worker(int index) {
  uint32_t seen = 0;
  for (;;) {
    // Decode dispatches a loop every few hundred microseconds: spin up to 2 ms before sleeping,
    // since a condition-variable wake-up (tens to hundreds of microseconds in a VM) costs more
    // than the loop. The limit is time, not a count of pauses: a pause's length varies by CPU
    // and hypervisor, and a count that ran out early left the worker asleep for most loops.
    const auto spin_start = std::chrono::steady_clock::now();
    for (unsigned spins = 1; generation_.load(std::memory_order_acquire) == seen; ++spins) {
      cpu_relax();
      if (spins % 256 == 0 && std::chrono::steady_clock::now() - spin_start > std::chrono::milliseconds(2)) break;
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] {
        return stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
      });
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    claim_chunks(seen, index);
  }
}

}  // namespace tandem
