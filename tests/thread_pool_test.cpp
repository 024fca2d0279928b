// The thread pool: every index is visited exactly once per loop, loops run back to back
// without lost wake-ups, and the pool shuts down cleanly (TSan checks the synchronization).
#include <atomic>
#include <vector>

#include "kernels/thread_pool.h"
#include "test_util.h"

using namespace tandem;

TEST(ThreadPool, EveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (size_t n : {0u, 1u, 2u, 7u, 100u, 1001u}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) hits[i].fetch_add(1);
      });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "threads " << threads << " n " << n;
    }
  }
}

TEST(ThreadPool, ManyShortLoopsBackToBack) {
  ThreadPool pool(3);
  std::atomic<long> total{0};
  for (int iter = 0; iter < 4000; ++iter)
    pool.run_chunks(3, [](void* p, size_t c, int) { static_cast<std::atomic<long>*>(p)->fetch_add(long(c) + 1); }, &total);
  EXPECT_EQ(total.load(), 4000L * (1 + 2 + 3));
}

TEST(ThreadPool, ResultsWrittenByWorkersAreVisibleAfterRun) {
  ThreadPool pool(2);
  std::vector<int> out(4096, 0);
  for (int iter = 1; iter <= 200; ++iter) {
    pool.parallel_for(out.size(), [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) out[i] = iter;
    });
    for (int v : out) ASSERT_EQ(v, iter);
  }
}

TEST(ThreadPool, SlicesFollowTheGrainAndThreadIndicesAreValid) {
  ThreadPool pool(3);
  for (size_t n : {1u, 8u, 9u, 100u, 2560u}) {
    std::vector<std::atomic<int>> hits(n);
    std::atomic<bool> ok{true};
    pool.parallel_for(n, 8, [&](size_t b, size_t e, int thread) {
      if (b % 8 != 0 || (e % 8 != 0 && e != n) || thread < 0 || thread >= 3) ok = false;
      for (size_t i = b; i < e; ++i) hits[i].fetch_add(1);
    });
    EXPECT_TRUE(ok.load()) << "n " << n;
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n " << n;
  }
}

// A worker still inside the previous loop must not claim a chunk of the next one while the caller
// is publishing it. It once could when the next loop had more chunks: it ran a chunk twice and
// counted it twice, and the caller then waited forever for a count it had passed (CI hung 12
// minutes in `tandem bench --verify-curve`). Loops alternate few and many chunks to open that window.
TEST(ThreadPool, AlternatingLoopSizesRunEachChunkOnce) {
  ThreadPool pool(2);
  struct Loop { std::atomic<int> hits[64]; };
  for (int iter = 0; iter < 50000; ++iter) {
    Loop loop;
    for (auto& h : loop.hits) h.store(0, std::memory_order_relaxed);
    const size_t n = iter % 2 ? 64 : 2;
    pool.run_chunks(n, [](void* p, size_t c, int) { static_cast<Loop*>(p)->hits[c].fetch_add(1); }, &loop);
    for (size_t c = 0; c < 64; ++c) ASSERT_EQ(loop.hits[c].load(), c < n ? 1 : 0) << "iteration " << iter << " chunk " << c;
  }
}
