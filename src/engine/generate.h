// The generation loop: prefill a prompt into a sequence, then sample and decode token by token.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/context.h"
#include "engine/grammar.h"
#include "engine/sampler.h"
#include "engine/vocab.h"

namespace tandem {

struct GenerateOptions {
  int32_t n_predict = 128;  // tokens to generate at most
  int32_t seq = 0;          // sequence of the context to use (cleared first)
  bool stop_at_eog = true;  // stop at end-of-generation tokens (not emitted)
  // When set, only tokens this matcher allows are sampled, and generation ends where the grammar
  // does (end-of-generation is allowed only there; a finished grammar always stops). A token
  // the grammar forces is taken without sampling. The matcher is advanced over the output.
  GrammarMatcher* grammar = nullptr;
};

struct GenerateResult {
  std::vector<int32_t> tokens;      // generated tokens
  std::string text;                 // their text
  std::string finish_reason;        // "length", "stop" (end of generation) or "cancelled"
  double prefill_ms = 0, decode_ms = 0;
  int32_t forced_tokens = 0;  // tokens the grammar forced (appended without sampling)
  double grammar_ms = 0;      // time spent computing token masks (part of decode_ms)
  double decode_tokens_per_s() const;
};

// Whether a request fits a context of n_ctx positions: the prompt must leave at least one position
// for the completion, and an explicit max_tokens (< 0: none given; the caller picks one within
// `room`) must fit beside it. Servers refuse what does not fit before queueing it; `model` names
// the model in the message ("this model", "the device model").
struct PromptFit {
  enum Problem { Fits, EmptyPrompt, PromptTooLong, CompletionTooLong } problem = Fits;
  std::string message;  // for the error reply; "" when it fits
  int64_t room = 0;     // positions left for the completion
  bool fits() const { return problem == Fits; }
};
PromptFit check_prompt_fits(int64_t prompt_tokens, int64_t max_tokens, int64_t n_ctx, std::string_view model);

// The buffers and counters of choosing tokens under a grammar, one per sequence (the buffers are
// sized on the first step and reused after).
struct GrammarStep {
  TokenBitset allowed;
  std::vector<float> masked;
  int32_t forced_tokens = 0;  // tokens the grammar forced (taken without sampling)
  double grammar_ms = 0;      // time spent computing token masks
};

// The next token under a grammar: the one it forces, or one sampled among the tokens it allows
// (the sampler sees -inf for the others); -1 when the grammar is complete and the vocabulary has
// no end-of-generation token to say so. Does not advance the matcher or the sampler. Throws Error
// when no token of the vocabulary can continue the grammar.
int32_t next_constrained(GrammarMatcher& g, Sampler& sampler, const float* logits, GrammarStep& step);

// Called with each token and its text as it is generated; return false to stop.
using TokenCallback = std::function<bool(int32_t token, std::string_view piece)>;

// Throws Error if the prompt is empty or prompt + n_predict does not fit in the context.
GenerateResult generate(Context& ctx, const Vocab& vocab, Sampler& sampler, std::span<const int32_t> prompt,
                        const GenerateOptions& opt, const TokenCallback& on_token = {});

}  // namespace tandem
