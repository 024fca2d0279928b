// The device model, run in-process through serve's generation service (serve/generation_service.h:
// continuous batching and its prompt cache), so LOCAL answers OpenAI requests exactly as
// `tandem serve` would over the same model.
// It also measures the two model-side signals of the policy: the next-token entropy after
// prefill (complexity; the prefill stays in the prompt cache, so LOCAL then reuses it) and the
// mean token log-probability of an answer (CASCADE's confidence).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "edge/config.h"
#include "protocol/chat_format.h"
#include "protocol/generation.h"
#include "protocol/openai.h"
#include "serve/generation_service.h"
#include "serve/lora_adapters.h"

namespace tandem {
class LlamaModel;
class Vocab;
}  // namespace tandem

namespace tandem::edge {

struct LocalResult {
  std::string text;
  std::string finish_reason;  // "stop" or "length"
  int64_t prompt_tokens = 0, cached_tokens = 0, completion_tokens = 0;
  std::optional<double> mean_logprob;  // with want_logprobs and at least one token
  int error_status = 0;                // the engine failed (HTTP status) ...
  std::string error;                   // ... with this message
  bool cancelled = false;              // on_text asked to stop
};

class LocalTier {
 public:
  explicit LocalTier(const EdgeConfig& cfg);
  ~LocalTier();

  // Chat messages to the device model's prompt text (its template; throws protocol::ApiError).
  std::string render_chat(const std::vector<protocol::ChatMessageIn>& messages) const;
  // Prompt text to tokens as serve does (BOS as the model asks; special tokens parsed for chat).
  std::vector<int32_t> tokenize(const std::string& text, bool chat) const;

  // Runs a completion. on_text gets each piece of text as it is produced (return false to stop).
  // held_text: the end of the prompt's text that the app has not been sent yet (it may begin a
  // stop string; serve::GenerationRequest::held_text): it comes first in the answer unless a stop string cuts it.
  // on_tokens (optional) gets each step's tokens with their log-probabilities (gen.top_logprobs
  // alternatives each) as they are produced.
  // grammar_prefix: a continuation's answer so far, held_text included: under gen.constraint the
  // grammar resumes from where it leaves it (serve::GenerationRequest::grammar_prefix; a prefix
  // the grammar refuses ends with error_status serve::kOutsideGrammarStatus).
  LocalResult generate(const std::vector<int32_t>& prompt, const protocol::GenerationParams& gen, bool want_logprobs,
                       const std::function<bool(const std::string&)>& on_text, const std::string& held_text = "",
                       const std::function<void(const std::vector<protocol::TokenLogprob>&)>& on_tokens = {},
                       const std::string& grammar_prefix = "");

  // Entropy (nats) of the next-token distribution after the prompt; nullopt on failure.
  std::optional<double> prompt_entropy(const std::vector<int32_t>& prompt);

  const Vocab& vocab() const { return *vocab_; }
  const LlamaModel& model() const { return *model_; }
  int32_t n_ctx() const { return generator_->n_ctx(); }
  const std::string& vocab_fingerprint() const { return fingerprint_; }
  const std::string& model_id() const { return model_id_; }
  // The LoRA adapters applied to the device model (device.lora), for /v1/models and /health,
  // and for the speculative drafter, which must draft with the same adapted model.
  const std::vector<serve::ServedLora>& loras() const { return loras_; }
  std::vector<LoraUse> lora_uses() const { return serve::lora_uses(loras_); }
  // Measured decode time per token (EWMA), once a generation has run.
  std::optional<double> ms_per_token() const;
  // Generations running and waiting (the mesh advert's slots and queue).
  serve::GenerationLoad load() const { return generator_->load(); }

 private:
  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<Vocab> vocab_;
  std::unique_ptr<protocol::ChatFormatter> chat_;
  std::vector<serve::ServedLora> loras_;
  std::shared_ptr<serve::GenerationService> generator_;
  std::string fingerprint_, model_id_;
  mutable std::mutex mu_;
  std::optional<double> ms_per_token_;
};

}  // namespace tandem::edge
