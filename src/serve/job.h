// One request as the engine thread sees it — a completion or a verify call — and the channel
// its results come back on. The HTTP thread that made it waits on the channel; the engine thread
// pushes events; either side may be first to give up (cancelled, or the server stopping).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/grammar.h"
#include "engine/sampler.h"
#include "protocol/generation.h"
#include "protocol/rejection.h"
#include "serve/generation_service.h"
#include "serve/sessions.h"

namespace tandem::serve {

struct VerifyInput {
  std::shared_ptr<VerifySession> session;         // claimed by the caller for this call
  std::vector<int32_t> tokens;                    // context the server has not seen (>= 1)
  std::vector<int32_t> draft;                     // k draft tokens
  std::vector<protocol::SparseDist> draft_probs;  // k draft distributions (sampling only)
  SamplerParams sampling;
  bool seeded = false;  // sampling.seed seeds this call's draws; else the session's generator
  int top_logprobs = -1;  // >= 0: report the accepted and the server's tokens' log-probabilities
  // With a session grammar: its state after `tokens` (checked against it by the caller) and
  // after each of them.
  std::optional<GrammarMatcher> grammar;
  std::vector<GrammarMatcher::Checkpoint> grammar_states;
};

struct VerifyResult {
  int32_t accepted = 0;
  int32_t token = -1;
  size_t n_past = 0;  // tokens the session holds afterwards
  uint64_t hash = 0;  // their token_hash
  // With top_logprobs >= 0: the accepted drafts', then `token`'s.
  std::vector<protocol::TokenLogprob> logprobs;
};

class Job final : public Generation {
 public:
  enum class Kind { Completion, Verify };
  explicit Job(Kind k) : kind(k), t_arrival(std::chrono::steady_clock::now()) {}

  const Kind kind;
  const std::chrono::steady_clock::time_point t_arrival;
  // Completion input.
  std::vector<int32_t> prompt;
  protocol::GenerationParams gen;
  std::string user;  // slot affinity hint
  // Text that precedes the generated text but was not sent yet (a continuation's tail that may
  // begin a stop string; TextStream::hold): the stream starts holding it.
  std::string held_text;
  std::string grammar_prefix;  // GenerationRequest::grammar_prefix
  // Verify input.
  VerifyInput verify;

  // Set by the HTTP side when the client went away; the engine frees the slot at its next step.
  std::atomic<bool> cancelled{false};

  // Engine side.
  void push(StreamEvent e);
  // HTTP side: waits up to `timeout` for the next event.
  bool pop(StreamEvent* e, std::chrono::milliseconds timeout);
  bool next(StreamEvent* e, std::chrono::milliseconds timeout) override { return pop(e, timeout); }
  void cancel() override { cancelled = true; }
  GenerationUsage usage() const override { return {prompt_tokens, cached_tokens, completion_tokens}; }

  // Valid once the final event was popped.
  int32_t prompt_tokens = 0, cached_tokens = 0, completion_tokens = 0;
  VerifyResult verify_result;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<StreamEvent> events_;
};

}  // namespace tandem::serve
