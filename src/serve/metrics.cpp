#include "serve/metrics.h"

#include <cstdio>

namespace tandem::serve {

namespace {

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

template <typename T>
void scalar(std::string& out, const char* name, const char* type, const char* help, const std::atomic<T>& v) {
  header(out, name, type, help);
  out += name;
  out += ' ';
  out += std::to_string(v.load());
  out += '\n';
}

std::vector<double> exp_bounds(double first, double factor, int n) {
  std::vector<double> b;
  for (double v = first; int(b.size()) < n; v *= factor) b.push_back(v);
  return b;
}

}  // namespace

void Histogram::observe(double v) {
  std::lock_guard<std::mutex> lk(mu_);
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++n_;
}

void Histogram::render(std::string& out, const std::string& name) const {
  std::lock_guard<std::mutex> lk(mu_);
  uint64_t cum = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cum += counts_[i];
    out += name + "_bucket{le=\"" + (i < bounds_.size() ? num(bounds_[i]) : std::string("+Inf")) + "\"} " +
           std::to_string(cum) + "\n";
  }
  out += name + "_sum " + num(sum_) + "\n";
  out += name + "_count " + std::to_string(n_) + "\n";
}

Metrics::Metrics()
    : batch_tokens({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048}),
      batch_sequences({1, 2, 4, 8, 16, 32, 64, 128, 256}),
      ttft_seconds(exp_bounds(0.005, 2, 14)),
      itl_seconds(exp_bounds(0.001, 2, 14)),
      verify_seconds(exp_bounds(0.001, 2, 14)) {}

void Metrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> lk(mu_);
  ++requests_[{endpoint, status}];
}

std::string Metrics::render() const {
  std::string out;
  header(out, "tandem_requests_total", "counter", "HTTP requests by endpoint and status code.");
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& [key, n] : requests_)
      out += "tandem_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
             std::to_string(n) + "\n";
  }
  scalar(out, "tandem_prompt_tokens_total", "counter", "Prompt tokens of admitted requests.", prompt_tokens);
  scalar(out, "tandem_prompt_tokens_evaluated_total", "counter", "Prompt tokens run through the model.",
         prompt_tokens_evaluated);
  scalar(out, "tandem_prompt_tokens_cached_total", "counter",
         "Prompt tokens reused from a slot's KV cache instead of being evaluated.", prompt_tokens_cached);
  scalar(out, "tandem_generated_tokens_total", "counter", "Tokens generated for completions.", generated_tokens);
  scalar(out, "tandem_forward_passes_total", "counter", "Forward passes (engine steps).", forward_passes);
  scalar(out, "tandem_constrained_requests_total", "counter",
         "Completions decoded under a grammar (response_format, json_schema or grammar).", constrained_requests);
  scalar(out, "tandem_grammar_forced_tokens_total", "counter",
         "Generated tokens the grammar forced (the only allowed token, taken without sampling).",
         grammar_forced_tokens);
  scalar(out, "tandem_queue_depth", "gauge", "Requests waiting for a slot.", queue_depth);
  scalar(out, "tandem_active_sequences", "gauge", "Requests holding a slot (prefill, decode or verify).",
         active_sequences);
  scalar(out, "tandem_kv_cache_tokens", "gauge", "Positions of the slots' KV cache in use (active and cached).",
         kv_tokens_used);
  scalar(out, "tandem_kv_cache_capacity_tokens", "gauge", "Positions of KV cache over all slots.", kv_tokens_capacity);
  header(out, "tandem_batch_tokens", "histogram", "Tokens per forward pass.");
  batch_tokens.render(out, "tandem_batch_tokens");
  header(out, "tandem_batch_sequences", "histogram", "Sequences per forward pass.");
  batch_sequences.render(out, "tandem_batch_sequences");
  header(out, "tandem_time_to_first_token_seconds", "histogram", "Request arrival to its first generated token.");
  ttft_seconds.render(out, "tandem_time_to_first_token_seconds");
  header(out, "tandem_inter_token_latency_seconds", "histogram", "Time between consecutive tokens of a request.");
  itl_seconds.render(out, "tandem_inter_token_latency_seconds");
  scalar(out, "tandem_verify_rounds_total", "counter", "Verify calls answered.", verify_rounds);
  scalar(out, "tandem_verify_draft_tokens_total", "counter", "Draft tokens sent to verify.", verify_draft_tokens);
  scalar(out, "tandem_verify_accepted_tokens_total", "counter", "Draft tokens accepted by verify.",
         verify_accepted_tokens);
  header(out, "tandem_verify_seconds", "histogram", "Engine time of one verify call (queue to answer).");
  verify_seconds.render(out, "tandem_verify_seconds");
  scalar(out, "tandem_verify_sessions", "gauge", "Verify sessions held.", verify_sessions);
  scalar(out, "tandem_verify_session_bytes", "gauge", "Bytes of KV cache held by verify sessions.",
         verify_session_bytes);
  scalar(out, "tandem_verify_sessions_evicted_total", "counter",
         "Verify sessions dropped for their TTL or the memory budget.", sessions_evicted);
  return out;
}

}  // namespace tandem::serve
