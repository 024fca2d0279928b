#include "edge/local_tier.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "engine/vocab.h"
#include "engine/vocab_fingerprint.h"
#include "format/error.h"
#include "model/llama_model.h"

namespace tandem::edge {

using Clock = std::chrono::steady_clock;

LocalTier::LocalTier(const EdgeConfig& cfg) {
  if (cfg.device_model.empty()) throw Error("config key 'device.model' is required (the device model's GGUF file)");
  model_ = LlamaModel::load(cfg.device_model);
  vocab_ = std::make_unique<Vocab>(Vocab::from_gguf(model_->gguf()));
  chat_ = std::make_unique<protocol::ChatFormatter>(model_->gguf(), cfg.device_chat_template, vocab_->add_bos());
  try {
    loras_ = serve::load_served_loras(cfg.device_lora, *model_);
  } catch (const Error& e) {
    throw Error(std::string("config key 'device.lora': ") + e.what());
  }
  serve::SchedulerConfig sc;
  sc.n_parallel = cfg.device_parallel;
  sc.n_ctx = cfg.device_ctx;
  sc.n_threads = cfg.device_threads;
  sc.loras = serve::lora_uses(loras_);
  generator_ = serve::start_generation_service(*model_, *vocab_, sc);
  fingerprint_ = tandem::vocab_fingerprint(*vocab_);
  model_id_ = std::filesystem::path(cfg.device_model).stem().string();
}

LocalTier::~LocalTier() = default;

std::string LocalTier::render_chat(const std::vector<protocol::ChatMessageIn>& messages) const {
  return chat_->format(messages);
}

std::vector<int32_t> LocalTier::tokenize(const std::string& text, bool chat) const {
  return vocab_->tokenize(text, vocab_->add_bos(), chat);
}

LocalResult LocalTier::generate(const std::vector<int32_t>& prompt, const protocol::GenerationParams& gen,
                                bool want_logprobs, const std::function<bool(const std::string&)>& on_text,
                                const std::string& held_text,
                                const std::function<void(const std::vector<protocol::TokenLogprob>&)>& on_tokens,
                                const std::string& grammar_prefix) {
  LocalResult r;
  serve::GenerationRequest req{prompt, gen, "", held_text, grammar_prefix};
  if (want_logprobs && req.gen.top_logprobs < 0) req.gen.top_logprobs = 0;
  const int64_t L = int64_t(prompt.size());
  if (L == 0) {
    r.error_status = 400;
    r.error = "the prompt is empty (no tokens)";
    return r;
  }
  if (L >= n_ctx()) {
    r.error_status = 400;
    r.error = "the prompt has " + std::to_string(L) + " tokens; the device model's context holds " +
              std::to_string(n_ctx());
    return r;
  }
  req.gen.max_tokens = int32_t(std::min<int64_t>(req.gen.max_tokens, n_ctx() - L));
  if (req.gen.max_tokens <= 0) {  // nothing left to generate (a continuation that used it all)
    r.finish_reason = "length";
    r.prompt_tokens = L;
    r.text = held_text;  // no stop string completed in it
    if (on_text && !r.text.empty() && !on_text(r.text)) r.cancelled = true;
    return r;
  }
  const std::shared_ptr<serve::Generation> job = generator_->generate(std::move(req));
  if (!job) {
    r.error_status = 429;
    r.error = "the device model is busy (queue full)";
    return r;
  }
  double logprob_sum = 0;
  int64_t n_lp = 0;
  Clock::time_point t_first{};
  serve::StreamEvent e;
  for (;;) {
    if (!job->next(&e, std::chrono::milliseconds(1000))) continue;
    for (const auto& t : e.tokens) {
      logprob_sum += t.logprob;
      ++n_lp;
    }
    if (!e.tokens.empty() && t_first == Clock::time_point{}) t_first = Clock::now();
    if (on_tokens && !e.tokens.empty()) on_tokens(e.tokens);
    if (!e.text.empty()) {
      r.text += e.text;
      if (on_text && !r.cancelled && !on_text(e.text)) {
        r.cancelled = true;
        job->cancel();
      }
    }
    if (e.final) break;
  }
  r.finish_reason = e.finish_reason;
  r.error_status = e.error_status;
  r.error = e.error;
  const serve::GenerationUsage usage = job->usage();
  r.prompt_tokens = usage.prompt_tokens;
  r.cached_tokens = usage.cached_tokens;
  r.completion_tokens = usage.completion_tokens;
  if (want_logprobs && n_lp > 0) r.mean_logprob = logprob_sum / double(n_lp);
  if (r.completion_tokens > 1 && t_first != Clock::time_point{}) {
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t_first).count() /
                      double(r.completion_tokens - 1);
    std::lock_guard<std::mutex> lk(mu_);
    ms_per_token_ = ms_per_token_ ? 0.3 * ms + 0.7 * *ms_per_token_ : ms;
  }
  return r;
}

std::optional<double> LocalTier::prompt_entropy(const std::vector<int32_t>& prompt) {
  if (prompt.empty() || int64_t(prompt.size()) >= n_ctx()) return std::nullopt;
  serve::GenerationRequest req;
  req.prompt = prompt;
  req.gen.max_tokens = 1;
  req.gen.sampling.temperature = 0;
  req.gen.ignore_eos = true;
  // The whole distribution for vocabularies up to 4096 tokens; beyond, the top 4096 and the rest
  // of the probability mass spread evenly over the remaining tokens (an upper estimate).
  const int32_t V = vocab_->n_tokens();
  req.gen.top_logprobs = std::min<int32_t>(V, 4096);
  const std::shared_ptr<serve::Generation> job = generator_->generate(std::move(req));
  if (!job) return std::nullopt;
  serve::StreamEvent e;
  std::vector<protocol::TokenLogprob> toks;
  for (;;) {
    if (!job->next(&e, std::chrono::milliseconds(1000))) continue;
    toks.insert(toks.end(), e.tokens.begin(), e.tokens.end());
    if (e.final) break;
  }
  if (e.error_status || toks.empty()) return std::nullopt;
  double h = 0, mass = 0;
  for (const auto& a : toks[0].top) {
    const double p = std::exp(a.logprob);
    mass += p;
    if (p > 0) h -= p * a.logprob;
  }
  const double rest = 1.0 - mass;
  const int64_t n_rest = int64_t(V) - int64_t(toks[0].top.size());
  if (rest > 1e-12 && n_rest > 0) h -= rest * std::log(rest / double(n_rest));
  return h;
}

std::optional<double> LocalTier::ms_per_token() const {
  std::lock_guard<std::mutex> lk(mu_);
  return ms_per_token_;
}

}  // namespace tandem::edge
