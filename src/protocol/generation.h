// What a generation request asks for and what each generated token reports, shared by every
// tier that generates text: the OpenAI routes of tandem serve and tandem edge, the device's
// in-process model, /v1/verify's log-probabilities and the speculative client.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/sampler.h"

namespace tandem::protocol {

struct GenerationParams {
  SamplerParams sampling;
  int32_t max_tokens = 16;
  std::vector<std::string> stop;
  int top_logprobs = -1;  // -1: no logprobs; else the number of alternatives per token (0..20)
  bool ignore_eos = false;
};

// One generated token's log-probability, with its most likely alternatives, by token id.
struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;  // most likely alternatives, best first
};

// The log-softmax of raw logits (temperature 1) at `token`, with the top_n most likely tokens
// (ties: lower id first): what completions report as logprobs, and /v1/verify too.
TokenLogprob token_logprob(const float* row, int32_t n_vocab, int32_t token, int top_n);

// A sampling seed for a request that gives none (std::random_device, shared by all threads).
uint64_t random_seed();

}  // namespace tandem::protocol
