// The wire format of POST /v1/verify (docs/verify-protocol.md), the server's side: a request
// parsed and validated into a struct, every problem a 400 ApiError naming its field. The token
// hash both sides compare is protocol/token_hash.h; the rule that accepts or rejects the draft
// is protocol/rejection.h.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/sampler.h"
#include "protocol/openai.h"
#include "protocol/rejection.h"

namespace tandem::protocol {

struct VerifyRequest {
  std::string model;
  std::optional<std::string> session;  // absent: start a new session
  int64_t n_past = 0;                  // tokens the client believes the server holds
  std::optional<uint64_t> past_hash;   // token_hash of those tokens
  std::vector<int32_t> tokens, draft;
  std::vector<SparseDist> draft_probs;
  SamplerParams sampling;
  bool seed_given = false;
  int top_logprobs = -1;  // "logprobs": N: the target's log-probabilities of the tokens returned
};

VerifyRequest parse_verify_request(const nlohmann::json& body, int32_t n_vocab, int32_t max_draft);

}  // namespace tandem::protocol
