// One long-lived thread that runs the verify calls a session puts on the wire while it drafts
// ahead. Starting a thread per call (std::async) cost more than a whole verify call on loopback
// on a loaded two-core machine; a parked thread is woken instead.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

namespace tandem::verify {

class CallWorker {
 public:
  CallWorker() = default;
  CallWorker(const CallWorker&) = delete;
  CallWorker& operator=(const CallWorker&) = delete;
  ~CallWorker() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();  // runs what was posted first
  }

  // Runs fn on the worker thread, after whatever was posted before; its result (or exception)
  // arrives through the future. The thread starts on the first call.
  template <class F>
  auto post(F fn) -> std::future<decltype(fn())> {
    using R = decltype(fn());
    auto task = std::make_shared<std::packaged_task<R()>>(std::move(fn));
    std::future<R> f = task->get_future();
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
      tasks_.push_back([task] { (*task)(); });
    }
    cv_.notify_one();
    return f;
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> t;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;  // stopping, nothing left
        t = std::move(tasks_.front());
        tasks_.pop_front();
      }
      t();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tandem::verify
