// What a generation request asks for and what each generated token reports, shared by every
// tier that generates text: the OpenAI routes of tandem serve and tandem edge, the device's
// in-process model, /v1/verify's log-probabilities and the speculative client.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/sampler.h"
#include "engine/vocab.h"
#include "protocol/output_constraint.h"

namespace tandem::protocol {

struct GenerationParams {
  SamplerParams sampling;
  int32_t max_tokens = 16;
  std::vector<std::string> stop;
  int top_logprobs = -1;  // -1: no logprobs; else the number of alternatives per token (0..20)
  bool ignore_eos = false;
  OutputConstraint constraint;  // the output's grammar, when the request asks for one
};

// One alternative to a generated token: its id (-1 when only its text is known: another
// server's answer) and log-probability, and its text once filled in.
struct TokenAlternative {
  int32_t token = -1;
  double logprob = 0;
  std::string text;
};

// One generated token's log-probability with its most likely alternatives: by id from a model run
// here (its text filled in from the vocabulary with with_text), by text from an endpoint's
// OpenAI logprobs object (token_logprobs_from_json, protocol/openai.h).
struct TokenLogprob {
  int32_t token = -1;
  double logprob = 0;
  std::vector<TokenAlternative> top;  // most likely alternatives, best first
  std::string text;
};

// The tokens with their texts (and their alternatives') as `vocab` spells them.
std::vector<TokenLogprob> with_text(std::span<const TokenLogprob> toks, const Vocab& vocab);

// The log-softmax of raw logits (temperature 1) at `token`, with the top_n most likely tokens
// (ties: lower id first): what completions report as logprobs, and /v1/verify too.
TokenLogprob token_logprob(const float* row, int32_t n_vocab, int32_t token, int top_n);

// A sampling seed for a request that gives none (std::random_device, shared by all threads).
uint64_t random_seed();

}  // namespace tandem::protocol
