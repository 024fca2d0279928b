// Continuous batching: one engine thread owns the Context (n_parallel sequences = slots) and
// runs one forward pass per step over every active request's next tokens — one token per
// decoding slot, the tokens of verify calls, and chunks of new prompts up to n_batch. Requests
// wait in a bounded queue and join or leave between steps.
//
// Prompt cache (as llama-server's): an idle slot keeps its tokens and KV cache; a new request
// takes the idle slot sharing the longest prefix with its prompt, cuts the rest and evaluates only
// the new suffix.
//
// Numerics: every token is computed with the summation order `tandem run` would use for it (a
// prompt token as part of its prompt, a generated token as a single-token step; TokenOrder in
// model/forward.h), so a request's output does not depend on what else shares its batch. For
// models whose float weights make that order matter, a cached prefix is reused only as far as it
// was computed in the same order a fresh evaluation would use.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/context.h"
#include "engine/generate.h"
#include "engine/grammar.h"
#include "engine/vocab.h"
#include "serve/generation_service.h"
#include "serve/job.h"
#include "serve/metrics.h"
#include "serve/sessions.h"

namespace tandem::serve {

// The summation order tandem run uses for token i of an L-token prompt (it evaluates prompts
// in chunks of ContextParams::n_batch; a chunk of one token is a single-token step).
TokenOrder prompt_token_order(size_t i, size_t L);
// Whether a model's results depend on TokenOrder (some float weight matrix is summed in chunks).
bool order_sensitive(const LlamaModel& model);

class Scheduler final : public GenerationService {
 public:
  Scheduler(const LlamaModel& model, const Vocab& vocab, const SchedulerConfig& cfg, Metrics& metrics);
  ~Scheduler();  // stop()

  // Queues a job; false when the queue is full (the caller answers 429).
  bool submit(const std::shared_ptr<Job>& job);
  // A completion job for `req`, queued (GenerationService); null when the queue is full.
  std::shared_ptr<Generation> generate(GenerationRequest req) override;
  GenerationLoad load() const override;
  // Ends the engine thread: queued and running jobs get a final error event.
  void stop();
  // Running and queued jobs.
  size_t pending() const;

  int32_t n_ctx() const override { return n_ctx_; }
  int32_t n_parallel() const { return cfg_.n_parallel; }
  int32_t max_draft() const { return cfg_.max_draft; }
  size_t kv_row_elems() const;  // fp16 values per position of a session's KV rows
  bool order_sensitive() const { return order_sensitive_; }

 private:
  struct Slot;
  void loop();
  Slot* best_idle_slot(const Job& job);
  bool step();
  void start_completion(Slot& s);
  void start_verify(Slot& s);
  // The slot's grammar matcher, advanced over `prefix` (GenerationRequest::grammar_prefix);
  // false when the prefix breaks the constraint (the job has then failed and the slot is free).
  bool start_grammar(Slot& s, const protocol::OutputConstraint& c, const std::string& prefix);
  void after_logits(Slot& s);
  void emit_token(Slot& s, int32_t tok, const float* row);
  void finish_completion(Slot& s, const char* reason);
  void finish_verify(Slot& s);
  // The rejection rule over a verify call's logits (masked by the session's grammar, if any);
  // draft_states gets the grammar's state after each draft token it allows.
  protocol::VerifyOutcome verify_outcome(Slot& s, std::vector<GrammarMatcher::Checkpoint>& draft_states);
  // Keeps the call's context and accepted draft tokens in the session (KV rows, hashes, grammar
  // states); returns how many tokens it holds.
  size_t keep_verified(Slot& s, int32_t accepted, const std::vector<GrammarMatcher::Checkpoint>& draft_states);
  void fail(Slot& s, int status, const std::string& message);
  void release(Slot& s);
  void publish_gauges();

  const LlamaModel& model_;
  const Vocab& vocab_;
  SchedulerConfig cfg_;
  Metrics& metrics_;
  int32_t n_ctx_;
  bool order_sensitive_;
  std::unique_ptr<Context> ctx_;
  std::shared_ptr<const GrammarVocab> grammar_vocab_;  // built on the first constrained job
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<BatchToken> batch_;
  uint64_t tick_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  size_t active_ = 0;  // slots with a job (under mu_)
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tandem::serve
