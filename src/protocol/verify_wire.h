// The wire format of POST /v1/verify (docs/verify-protocol.md), both sides of it. The server's: a
// request parsed and validated into a struct (every problem a 400 ApiError naming its field), and
// the answers: the verdict, or a 409 saying what the session holds. The client's: the request
// written from the same struct, and the two answers read back. The token
// hash both sides compare is protocol/token_hash.h; the rule that accepts or rejects the draft
// is protocol/rejection.h.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/grammar.h"
#include "engine/sampler.h"
#include "protocol/generation.h"
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
  // The output's grammar, sent (as GBNF, Grammar::gbnf()) by the call that opens a session only:
  // the session keeps it. Tokens at positions before grammar_start (the prompt) are not under it.
  std::optional<Grammar> grammar;
  int64_t grammar_start = 0;
};

// A grammar is compiled here: one that does not compile is a 400 naming `grammar`.
VerifyRequest parse_verify_request(const nlohmann::json& body, int32_t n_vocab, int32_t max_draft);

// The draft tokens accepted, the target's own token after them, and the tokens the session holds
// now with their token_hash; `logprobs` (the accepted drafts', then the token's) only when the
// call asked for them.
struct VerifyAnswer {
  std::string session, model;
  int32_t accepted = 0, token = -1;
  uint64_t n_past = 0, past_hash = 0;
  const std::vector<TokenLogprob>* logprobs = nullptr;
};
nlohmann::json verify_answer_json(const VerifyAnswer& a);

// A 409's body: the error object and what the session holds (0 tokens for an unknown or busy one).
nlohmann::json verify_conflict_json(const ApiError& e, const std::string& session, uint64_t n_past, uint64_t past_hash);

// The request body: only what differs from the defaults (session and past_hash for a session
// that exists, the sampling fields and draft_probs only when sampling), as the client sends it.
nlohmann::json verify_request_json(const VerifyRequest& r);

// A 200's body read back. Throws std::exception when a field is missing or out of range; the
// log-probabilities are kept only when there is one per token returned (accepted + 1).
struct VerifyVerdict {
  std::string session;
  int32_t accepted = 0, token = -1;
  int64_t n_past = 0;
  std::string past_hash;  // as sent: compared with hash_hex of the client's own tokens
  std::vector<TokenLogprob> logprobs;
};
VerifyVerdict parse_verify_answer(const nlohmann::json& body);

// A 409's body read back: its error code and what the session holds (0 tokens, "" where the
// body does not say).
struct VerifyConflict {
  std::string code;
  int64_t n_past = 0;
  std::string past_hash;
};
VerifyConflict parse_verify_conflict(const nlohmann::json& body);

}  // namespace tandem::protocol
