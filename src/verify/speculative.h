// Cooperative speculative decoding, the device side (docs/speculative.md): a small draft model
// on the device proposes tokens, a `tandem serve` with the target model verifies them through
// POST /v1/verify (docs/verify-protocol.md). The output is the target's: token for token under
// greedy decoding, in distribution under sampling.
//
// One round: choose k (DraftPolicy), draft k tokens with their distributions q, send them with
// the context the server has not seen, and — while that call is on the wire — keep drafting on
// the assumption that all k are accepted and that the target's next token is the draft's guess;
// when the answer confirms both, that work becomes the next round's draft. Then commit the
// accepted drafts and the target's token, and roll the draft's KV cache back to them.
//
// Faults: a refused or reset connection, a timeout, 429/5xx are retried (with backoff, on a new
// connection) with the same call, which the server treats idempotently (it cuts a session that
// ran ahead back to n_past); a 409 for a lost session starts a new one and resends the context;
// when the server stays unreachable, generation goes on with the draft model alone and the
// result says from which token (`degraded_from`).
#pragma once
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/generate.h"
#include "engine/grammar.h"
#include "engine/sampler.h"
#include "engine/vocab.h"
#include "model/llama_model.h"
#include "verify/call_worker.h"
#include "verify/draft_policy.h"
#include "verify/drafter.h"
#include "verify/verify_client.h"

namespace tandem::verify {

struct SpeculativeConfig {
  std::string url;       // the verify server (http://host:port)
  std::string api_key;
  http::TlsClientConfig tls;  // https: trusted CAs and client certificate (verify_client.h)
  int draft_max = 8;     // most draft tokens per round (the server's max_draft caps it too)
  bool adaptive = true;  // false: always draft_max tokens (less when the draft model is unsure)
  float min_prob = 0;    // stop a draft at a token whose confidence is below this (0: never)
  bool pipeline = true;  // draft ahead while a verify call is on the wire
  // ... when the call is expected to take at least this long (round trip + verify, as the
  // policy measures them): a shorter wait hides less drafting than the hand-off to another
  // thread and the competition for cores cost (on loopback, pipelining halved tokens/s).
  double pipeline_min_wait_ms = 2.0;
  size_t max_q_entries = 32;  // sampling: most (token, probability) pairs sent per draft token
  double connect_timeout_s = 5, read_timeout_s = 30, write_timeout_s = 10;
  int max_retries = 4;          // failed attempts in a row before degrading to the device alone
  double retry_backoff_ms = 100;  // wait before the first retry, doubled for each next one
  int32_t n_ctx = 0;      // the draft's context (0: the model's training context, at most 4096)
  int n_threads = 2;
  std::vector<LoraUse> loras;  // LoRA adapters of the draft model (the device's adapted model)
  int stream_tokens = 128;  // the generation length the cloud-only estimate amortizes RTT over
  PolicyConfig policy;
};

struct SpeculativeStats {
  int64_t rounds = 0;           // verify calls answered (each one target forward pass)
  int64_t drafted = 0;          // draft tokens sent in answered calls
  int64_t accepted = 0;         // of those, accepted
  int64_t cloud_forward_passes = 0;  // rounds + calls that only (re)built a session
  int64_t attempts_failed = 0;  // transport failures, timeouts, 429/5xx, 409s
  int64_t timeouts = 0;
  int64_t reconnects = 0;
  int64_t sessions_restarted = 0;  // lost sessions rebuilt by resending the context
  int64_t forced = 0;           // tokens the grammar forced, appended without a verify call
  int64_t ahead_drafted = 0;    // tokens drafted while a call was on the wire
  int64_t ahead_kept = 0;       // of those, used as the next round's draft (incl. the guessed token)
  int64_t ahead_discarded = 0;
  uint64_t bytes_sent = 0, bytes_received = 0;
  double draft_ms = 0;          // the draft model's work (including drafting ahead)
  double wait_ms = 0;           // waiting for answers after drafting (what the network costs)
  double network_ms = 0;        // of the calls' wall time: the measured round trip's share
  double verify_ms = 0;         // of the calls' wall time: the rest (server work, estimated)
  double device_only_ms = 0;    // decoding alone after degrading
  double total_ms = 0;
  double mean_accepted() const { return rounds > 0 ? double(accepted) / double(rounds) : 0; }
  double acceptance_rate() const { return drafted > 0 ? double(accepted) / double(drafted) : 0; }
};

struct SpeculativeGeneration {
  std::vector<int32_t> tokens;
  std::string text;
  std::string finish_reason;   // "length", "stop" (end of generation) or "cancelled"
  int64_t degraded_from = -1;  // index of the first token the device model made alone (-1: none)
  std::string degraded_reason;
  SpeculativeStats stats;
};

// on_token: engine/generate.h's TokenCallback, called with each committed token and its text.
// Called before a committed token's TokenCallback with its log-probability: the cloud model's
// (from /v1/verify) for verified tokens, the device model's for tokens it decodes alone.
using LogprobCallback = std::function<void(const protocol::TokenLogprob&)>;

class SpeculativeSession {
 public:
  // The draft model and its vocabulary must outlive the session.
  SpeculativeSession(const LlamaModel& draft, const Vocab& vocab, SpeculativeConfig cfg);
  ~SpeculativeSession();

  // Reads the server's model (GET /v1/models) and refuses (throws Error) when its vocabulary
  // fingerprint differs from the draft's; measures the round trip and the draft's step time.
  // Throws Error when the server cannot be reached. generate() calls it when needed.
  void connect();
  bool connected() const { return connected_; }
  const ServerModel& server_model() const { return server_; }

  // Generates up to max_tokens tokens after the prompt. Sampling parameters: temperature,
  // top_k, top_p, min_p, seed (a repetition penalty is refused: the server's rejection rule does
  // not apply one). Throws Error on a vocabulary mismatch or a request the server rejects.
  // on_logprob (optional): each token's log-probability and top_logprobs alternatives.
  // grammar (optional): the output is the target's under this grammar (docs/structured-outputs.md):
  // the server verifies under it, the draft model drafts under it, a token it forces is appended
  // here without a verify call (it reaches the server as context of the next one; its
  // log-probability is the draft model's), and generation stops where the grammar ends.
  SpeculativeGeneration generate(std::span<const int32_t> prompt, const SamplerParams& sampling, int32_t max_tokens,
                                 const TokenCallback& on_token = {}, bool stop_at_eog = true,
                                 const LogprobCallback& on_logprob = {}, int top_logprobs = 0,
                                 const Grammar* grammar = nullptr);

  // Expected tokens/s of speculation, the cloud alone and the device alone, now.
  Estimate estimate() const;
  const DraftPolicy& policy() const { return policy_; }
  // Starts from what an earlier session measured on the same link (acceptance, round trip,
  // draft and verify speeds) instead of the priors: a device knows its link between requests.
  void adopt_policy(const DraftPolicy& learned) { policy_ = learned; }

  // Ends the server session of the last generation (best effort).
  void close();

 private:
  struct Draft {
    std::vector<int32_t> tokens;
    std::vector<SparseDist> q;
    void clear() { tokens.clear(); q.clear(); }
  };
  struct Run;         // one generate() call's state
  struct RoundStart;  // one round's start time and drafting cost

  bool try_connect(std::string* why);  // false: unreachable (why says how)
  std::string mismatch_message(const ServerModel& m) const;
  // generate()'s steps: set up the run (connecting if needed), draft a round, learn from its
  // answer, commit what it accepted, account for the whole generation.
  void start_run(Run& run, std::span<const int32_t> prompt);
  RoundStart draft_round(Run& run);
  void learn_from_round(Run& run, const RoundStart& round, const VerifyCall& call, const VerifyReply& r);
  void accept_round(Run& run, const VerifyCall& call, const VerifyReply& r);
  void finish_run(Run& run, double total_ms);
  int k_limit(const Run& run) const;
  // Drafts into d until it holds k tokens, the draft model is unsure, or (stop_when_ready) the
  // call on the wire is answered. run.line holds the tokens after the context so far.
  void extend_draft(Run& run, Draft& d, int k, bool guess_first, const std::future<VerifyReply>* stop_when_ready);
  VerifyCall make_call(const Run& run, const Draft& d, bool prompt_only) const;
  // Sends the round's call until it is answered (true), recovering from faults; false when the
  // generation had to degrade to the device alone.
  bool exchange(Run& run, VerifyCall& call, VerifyReply& r);
  // One attempt; pipelined: draft ahead into run.ahead while it is on the wire.
  VerifyReply send(Run& run, const VerifyCall& call, bool pipelined);
  // After a failed attempt: fix the session state and wait as needed (true: try again), or
  // degrade (false); throws on a call the server will never accept.
  bool recover(Run& run, const VerifyReply& failed, int& attempts);
  // Appends tokens to the output (stopping at end of generation, max_tokens, the context, or
  // when the callback says so); false once the generation is done.
  bool commit(Run& run, std::span<const int32_t> tokens);
  // Appends the tokens the grammar forces next (no verify call), dropping them from the front of
  // the next draft.
  void append_forced(Run& run);
  void degrade(Run& run, const std::string& why);
  void run_device_only(Run& run);

  const LlamaModel& model_;
  const Vocab& vocab_;
  SpeculativeConfig cfg_;
  VerifyClient client_;
  Drafter drafter_;
  DraftPolicy policy_;
  std::string fingerprint_;  // the draft's vocabulary fingerprint
  std::shared_ptr<const GrammarVocab> grammar_vocab_;  // built on the first constrained generation
  ServerModel server_;
  bool connected_ = false;
  std::string last_session_;
  std::future<void> ending_;  // the DELETE of the last generation's session, in the background
  // Last member: destroyed first, so its thread is joined while everything it uses is alive.
  CallWorker worker_;  // runs pipelined calls and the background DELETE
  uint64_t bytes_sent_before_ = 0, bytes_received_before_ = 0;
};

}  // namespace tandem::verify
