// Per-token log-probabilities as the gateway passes them on. Each tier reports its own — the
// device model's from its scheduler, an endpoint's from its stream (in OpenAI's completion or
// chat shape) — so an answer that moved between tiers (a failover mid-stream) carries each
// token's log-probability from the model that produced it. SPECULATIVE is not chosen for a
// request that asks for them: its tokens are the device's drafts, verified without the cloud
// model's log-probabilities.
#pragma once
#include <nlohmann/json.hpp>

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/vocab.h"
#include "protocol/generation.h"

namespace tandem::edge {

struct TokenProb {
  std::string token;
  double logprob = 0;
  std::vector<std::pair<std::string, double>> top;  // the most likely tokens, most likely first
};

// From an OpenAI logprobs object of either shape (chat: {"content": [...]}; completions:
// {"tokens", "token_logprobs", "top_logprobs"}). An endpoint's JSON is not trusted: malformed
// parts are skipped, never thrown on.
std::vector<TokenProb> token_probs_from_json(const nlohmann::json& logprobs);
// From a model's own tokens (the device's scheduler, the verify answer), their pieces in `vocab`.
std::vector<TokenProb> token_probs(std::span<const protocol::TokenLogprob> toks, const Vocab& vocab);

nlohmann::json chat_logprobs(const std::vector<TokenProb>& toks);
// text_offset: where the first token starts in the answer's text (echo included).
nlohmann::json completion_logprobs(const std::vector<TokenProb>& toks, size_t text_offset);

}  // namespace tandem::edge
