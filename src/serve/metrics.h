// Server metrics in Prometheus' text exposition format (GET /metrics). Counters and histograms
// are updated from the HTTP threads and the engine thread; rendering takes a consistent-enough
// snapshot under one mutex.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tandem::serve {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double v);
  // Appends NAME_bucket{le=...}, NAME_sum and NAME_count lines.
  void render(std::string& out, const std::string& name) const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last: +Inf
  double sum_ = 0;
  uint64_t n_ = 0;
};

class Metrics {
 public:
  Metrics();

  void count_request(const std::string& endpoint, int status);

  std::atomic<uint64_t> prompt_tokens{0};      // prompt tokens of finished requests
  std::atomic<uint64_t> prompt_tokens_evaluated{0};  // prompt tokens run through the model
  std::atomic<uint64_t> prompt_tokens_cached{0};     // prompt tokens reused from a slot's KV cache
  std::atomic<uint64_t> generated_tokens{0};
  std::atomic<uint64_t> forward_passes{0};
  std::atomic<uint64_t> constrained_requests{0};    // completions decoded under a grammar
  std::atomic<uint64_t> grammar_forced_tokens{0};   // tokens the grammar forced (not sampled)
  std::atomic<uint64_t> verify_rounds{0};
  std::atomic<uint64_t> verify_draft_tokens{0};
  std::atomic<uint64_t> verify_accepted_tokens{0};
  std::atomic<uint64_t> sessions_evicted{0};
  std::atomic<int64_t> queue_depth{0};
  std::atomic<int64_t> active_sequences{0};
  std::atomic<int64_t> kv_tokens_used{0};
  std::atomic<int64_t> kv_tokens_capacity{0};
  std::atomic<int64_t> verify_sessions{0};
  std::atomic<int64_t> verify_session_bytes{0};

  Histogram batch_tokens;     // tokens per forward pass
  Histogram batch_sequences;  // sequences per forward pass
  Histogram ttft_seconds;     // request arrival to first token
  Histogram itl_seconds;      // between consecutive tokens of one request
  Histogram verify_seconds;   // one verify call in the engine

  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
};

}  // namespace tandem::serve
