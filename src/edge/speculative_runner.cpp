#include "edge/speculative_runner.h"

#include <chrono>

#include "edge/cloud_client.h"
#include "edge/connectivity.h"
#include "format/error.h"
#include "protocol/text_stream.h"
#include "verify/speculative.h"

namespace tandem::edge {

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The verify session for one request through its endpoint.
verify::SpeculativeConfig session_config(const SpeculativeRunnerConfig& cfg, const std::vector<LoraUse>& loras,
                                         const SpeculativeRequest& req) {
  verify::SpeculativeConfig sc;
  sc.url = req.endpoint->url;
  sc.api_key = req.api_key;
  sc.tls = req.endpoint->tls;
  sc.draft_max = cfg.draft_max;
  sc.adaptive = cfg.adaptive;
  sc.n_threads = cfg.n_threads;
  sc.n_ctx = int32_t(req.prompt_tokens.size()) + req.gen.max_tokens + 8;
  sc.loras = loras;
  sc.read_timeout_s = cfg.read_timeout_s;
  sc.max_retries = cfg.max_retries;
  sc.stream_tokens = req.gen.max_tokens;
  return sc;
}

}  // namespace

void VerifySpeculativeRunner::bind_device(const LlamaModel& model, const Vocab& vocab,
                                          const std::vector<LoraUse>& loras) {
  model_ = &model;
  vocab_ = &vocab;
  loras_ = loras;
}

// The endpoint's cost model: the last request's measurements, or a fresh calibration (the
// client's connect() measures the round trip and the draft model's step) when there are none
// or they are old. None when the endpoint cannot be reached or speaks another vocabulary.
std::optional<verify::CostModel> VerifySpeculativeRunner::cost_model(const EndpointConfig& endpoint) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = calibrations_.find(endpoint.name);
    if (it != calibrations_.end() && now_s() - it->second.at_s < cfg_.calibration_ttl_s) return it->second.model;
    auto f = failed_at_s_.find(endpoint.name);
    if (f != failed_at_s_.end() && now_s() - f->second < cfg_.calibration_retry_s) return std::nullopt;
  }
  if (!model_) return std::nullopt;
  verify::SpeculativeConfig sc;
  sc.url = endpoint.url;
  sc.api_key = endpoint_api_key(endpoint);
  sc.tls = endpoint.tls;
  sc.n_threads = cfg_.n_threads;
  sc.n_ctx = 64;
  sc.loras = loras_;  // the step time measured is the adapted model's
  sc.connect_timeout_s = sc.read_timeout_s = sc.write_timeout_s = cfg_.calibration_timeout_s;
  sc.max_retries = 0;
  try {
    verify::SpeculativeSession s(*model_, *vocab_, sc);
    s.connect();
    const verify::CostModel m = s.policy().model();
    std::lock_guard<std::mutex> lk(mu_);
    calibrations_[endpoint.name] = {m, s.policy(), now_s()};
    failed_at_s_.erase(endpoint.name);
    return m;
  } catch (const std::exception&) {
    std::lock_guard<std::mutex> lk(mu_);
    failed_at_s_[endpoint.name] = now_s();
    return std::nullopt;
  }
}

std::optional<SpeculationEstimate> VerifySpeculativeRunner::estimate(const EndpointConfig& endpoint, double rtt_ms,
                                                                     int64_t prompt_tokens, int64_t max_tokens) {
  std::optional<verify::CostModel> m = cost_model(endpoint);
  if (!m || max_tokens <= 0) return std::nullopt;
  if (rtt_ms > 0) m->rtt_ms = rtt_ms;  // the gateway's running measurement is fresher
  const verify::Estimate e = verify::estimate(*m, cfg_.draft_max, int(max_tokens));
  if (e.spec_tps <= 0 || e.cloud_tps <= 0) return std::nullopt;
  SpeculationEstimate out;
  out.endpoint = endpoint.name;
  out.speculative_ms = 1000.0 * double(max_tokens) / e.spec_tps;
  out.cloud_ms = 1000.0 * double(max_tokens) / e.cloud_tps;
  return out;
}

SpeculativeResult VerifySpeculativeRunner::run(const SpeculativeRequest& req) {
  SpeculativeResult out;
  if (!model_ || !req.endpoint || req.prompt_tokens.empty()) {
    out.failure = Failure::Connection;
    return out;
  }
  verify::SpeculativeSession session(*model_, *vocab_, session_config(cfg_, loras_, req));
  {
    // Start from what the last generation through this endpoint measured, while it is fresh.
    std::lock_guard<std::mutex> lk(mu_);
    auto it = calibrations_.find(req.endpoint->name);
    if (it != calibrations_.end() && it->second.policy && now_s() - it->second.at_s < cfg_.calibration_ttl_s)
      session.adopt_policy(*it->second.policy);
  }
  try {
    session.connect();
  } catch (const std::exception&) {
    out.failure = Failure::Connection;  // unreachable, or another vocabulary: the gateway falls back
    return out;
  }
  protocol::TextStream text(req.gen.stop);
  bool app_gone = false;
  const auto emit = [&](const std::string& t) {
    if (t.empty() || app_gone) return;
    out.text += t;
    if (req.on_text && !req.on_text(t)) app_gone = true;
  };
  verify::SpeculativeGeneration r;
  try {
    r = session.generate(
        req.prompt_tokens, req.gen.sampling, req.gen.max_tokens,
        [&](int32_t, std::string_view piece) {
          emit(text.push(piece));
          return !app_gone && !text.stopped();
        },
        /*stop_at_eog=*/!req.gen.ignore_eos,
        req.on_logprobs && req.gen.top_logprobs >= 0
            ? verify::LogprobCallback([&](const protocol::TokenLogprob& t) {
                req.on_logprobs(protocol::with_text(std::span<const protocol::TokenLogprob>(&t, 1), *vocab_));
              })
            : verify::LogprobCallback(),
        std::max(0, req.gen.top_logprobs), req.gen.constraint.active() ? &*req.gen.constraint.grammar : nullptr);
  } catch (const std::exception&) {
    // The server refused a call it will never accept: before any text the gateway falls back,
    // after some it continues on the device from that text.
    out.failure = Failure::Http4xx;
    out.prompt_tokens_device = int64_t(req.prompt_tokens.size());
    out.held_text = text.held();
    return out;
  }
  if (!app_gone && !text.stopped()) emit(text.flush());
  out.finish_reason = text.stopped() ? "stop" : r.finish_reason;

  const auto& st = r.stats;
  const int64_t n = int64_t(r.tokens.size());
  const int64_t with_cloud = r.degraded_from >= 0 ? r.degraded_from : n;
  out.rounds = st.rounds;
  out.drafted = st.drafted;
  out.accepted = st.accepted;
  out.prompt_tokens_device = int64_t(req.prompt_tokens.size());
  out.prompt_tokens_cloud = int64_t(req.prompt_tokens.size()) + st.drafted;
  out.completion_tokens_cloud = std::min(st.rounds, with_cloud);
  out.completion_tokens_device = n - out.completion_tokens_cloud;
  {
    std::lock_guard<std::mutex> lk(mu_);
    calibrations_[req.endpoint->name] = {session.policy().model(), session.policy(), now_s()};
  }
  session.close();
  return out;
}

}  // namespace tandem::edge
