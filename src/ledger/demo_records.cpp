#include "ledger/demo_records.h"

#include <cmath>
#include <random>

namespace tandem::ledger {

std::vector<Record> demo_records(int n, int64_t end_ms, int64_t span_ms, uint64_t seed, DemoPrices prices) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const auto lognormal = [&](double median, double sigma) {
    return median * std::exp(sigma * std::normal_distribution<double>(0, 1)(rng));
  };
  const char* apps[] = {"demo-notes", "demo-mail", "demo-assistant"};
  std::vector<Record> out;
  out.reserve(size_t(std::max(0, n)));
  for (int i = 0; i < n; ++i) {
    Record r;
    r.time_ms = end_ms - span_ms + int64_t(double(span_ms) * (double(i) + u(rng)) / double(n));
    r.app = apps[size_t(u(rng) * 3) % 3];
    r.endpoint = "demo-cloud";
    r.privacy_level = u(rng) < 0.2 ? "strict" : u(rng) < 0.9 ? "standard" : "open";
    r.stream = u(rng) < 0.6;
    const int64_t prompt = 20 + int64_t(u(rng) * 400), completion = 10 + int64_t(u(rng) * 250);
    r.prompt_tokens = prompt;
    r.completion_tokens = completion;
    const double pick = u(rng);
    r.route = pick < 0.55 ? "LOCAL" : pick < 0.80 ? "CLOUD" : pick < 0.92 ? "SPECULATIVE" : "CASCADE";
    r.reasons = {"synthetic demo record"};
    if (u(rng) < 0.1) {
      r.pii_found["EMAIL"] = 1;
      if (u(rng) < 0.5) r.pii_found["PHONE"] = 1;
    }
    const bool may_leave = r.privacy_level != "strict" || r.pii_found.empty();
    if (!may_leave) r.route = "LOCAL", r.reasons.push_back("privacy: strict and PII found");

    r.status = "ok";
    if (r.route == "LOCAL") {
      r.served_by = "device";
      r.prompt_tokens_device = prompt, r.completion_tokens_device = completion;
      r.ttft_ms = lognormal(35, 0.3);
      r.latency_ms = *r.ttft_ms + double(completion) * lognormal(1.2, 0.2);
    } else if (r.route == "CLOUD" || r.route == "CASCADE") {
      const bool failed = u(rng) < 0.08;
      if (r.route == "CASCADE") r.prompt_tokens_device = prompt;  // the device tried first
      if (failed) {  // the cloud timed out; the device answered
        r.status = "fallback";
        r.failure = u(rng) < 0.6 ? "timeout" : "http_5xx";
        r.served_by = "device";
        r.prompt_tokens_device = prompt, r.completion_tokens_device = completion;
        r.ttft_ms = lognormal(900, 0.2);
      } else {
        r.served_by = "demo-cloud";
        r.prompt_tokens_cloud = prompt, r.completion_tokens_cloud = completion;
        r.ttft_ms = lognormal(160, 0.35);
      }
      r.latency_ms = *r.ttft_ms + double(completion) * lognormal(0.8, 0.3);
      if (u(rng) < 0.01) r.status = "error", r.failure = "connection", r.ttft_ms.reset();
    } else {  // SPECULATIVE: the device drafts, the cloud verifies
      r.served_by = "demo-cloud";
      r.prompt_tokens_device = prompt, r.prompt_tokens_cloud = prompt;
      r.spec_rounds = 1 + completion / 5;
      r.spec_drafted = r.spec_rounds * 6;
      r.spec_accepted = std::min<int64_t>(completion, int64_t(double(r.spec_drafted) * (0.5 + 0.3 * u(rng))));
      r.completion_tokens_device = r.spec_drafted;
      r.completion_tokens_cloud = completion - r.spec_accepted;
      r.ttft_ms = lognormal(120, 0.3);
      r.latency_ms = *r.ttft_ms + double(r.spec_rounds) * lognormal(18, 0.3);
    }
    r.data_left_device = r.prompt_tokens_cloud > 0 || r.route == "CLOUD" || r.route == "CASCADE";
    if (r.data_left_device && r.privacy_level == "standard")
      for (const auto& [type, k] : r.pii_found) r.pii_redacted[type] = k;
    // Charged to what computed; the counterfactual prices every app token at the cloud's rates.
    const auto cloud_cost = [&](int64_t p, int64_t c) { return (double(p) * prices.prompt + double(c) * prices.completion) / 1e6; };
    r.cost_usd = r.status == "error" ? 0 : cloud_cost(r.prompt_tokens_cloud, r.completion_tokens_cloud);
    r.all_cloud_cost_usd = r.status == "error" ? 0 : cloud_cost(prompt, completion);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tandem::ledger
