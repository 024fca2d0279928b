#include "verify/speculative.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "engine/vocab_fingerprint.h"
#include "format/error.h"
#include "protocol/token_hash.h"

namespace tandem::verify {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// The seed of round r's server-side draws: a fixed function of the user's seed, so that a seeded
// generation is repeatable (a retried call reuses its round's seed).
uint64_t round_seed(uint64_t seed, uint64_t round) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (round + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

// The state of one generate() call.
struct SpeculativeSession::Run {
  std::vector<int32_t> ctx;  // prompt + committed tokens (the device's copy of the context)
  size_t prompt_len = 0;
  size_t limit = 0;          // most tokens ctx may hold (the smaller of both contexts)
  SamplerParams sp;
  std::unique_ptr<Sampler> sampler;  // the draft's choices (and device-only decoding)
  int32_t max_tokens = 0;
  bool stop_at_eog = true;
  const TokenCallback* on_token = nullptr;
  const LogprobCallback* on_logprob = nullptr;
  int top_logprobs = 0;
  const std::vector<protocol::TokenLogprob>* round_logprobs = nullptr;  // the tokens being committed
  SpeculativeGeneration result;
  bool done = false;
  bool degraded = false;
  // What the server holds: a prefix ctx[0, n_past) of the context, in `session`.
  std::string session;
  int64_t n_past = 0;
  uint64_t round = 0;
  Draft draft;                // the next call's draft
  Draft ahead;                // drafted while a call was on the wire: [guess of its token, next draft...]
  std::vector<int32_t> line;  // scratch: the tokens after ctx the drafter is asked about
  SparseDist q;               // scratch: one draft token's distribution
  const Grammar* grammar_def = nullptr;   // the output's grammar (sent when a session opens)
  std::optional<GrammarMatcher> grammar;  // its state after ctx
  GrammarStep step;                       // scratch: masks
  bool sampling() const { return sp.temperature > 0; }
  size_t generated() const { return result.tokens.size(); }
};

SpeculativeSession::SpeculativeSession(const LlamaModel& draft, const Vocab& vocab, SpeculativeConfig cfg)
    : model_(draft),
      vocab_(vocab),
      cfg_(std::move(cfg)),
      client_(ClientConfig{cfg_.url, cfg_.api_key, cfg_.connect_timeout_s, cfg_.read_timeout_s, cfg_.write_timeout_s, cfg_.tls}),
      drafter_(draft, cfg_.n_ctx, cfg_.n_threads, cfg_.loras),
      policy_(cfg_.policy),
      fingerprint_(vocab_fingerprint(vocab)) {
  if (cfg_.draft_max < 1) throw Error("the draft length must be at least 1");
  if (!(cfg_.min_prob >= 0 && cfg_.min_prob <= 1)) throw Error("the draft confidence threshold must be in [0, 1]");
  if (cfg_.max_retries < 0) throw Error("the retry count must not be negative");
  if (vocab_.n_tokens() != draft.hparams().n_vocab)
    throw Error("the draft model's vocabulary does not match its output size");
}

SpeculativeSession::~SpeculativeSession() {
  if (ending_.valid()) ending_.wait();
}

void SpeculativeSession::connect() {
  std::string why;
  if (!try_connect(&why)) throw Error("cannot reach the verify server at " + cfg_.url + ": " + why);
}

bool SpeculativeSession::try_connect(std::string* why) {
  if (ending_.valid()) ending_.get();  // the client is free again
  std::optional<ServerModel> m;
  for (int attempt = 0; !(m = client_.fetch_model(why)); ++attempt) {
    if (attempt >= cfg_.max_retries) return false;
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(cfg_.retry_backoff_ms * double(1 << std::min(attempt, 10))));
    client_.reconnect();
  }
  if (m->vocab_fingerprint != fingerprint_) throw Error(mismatch_message(*m));
  if (m->max_draft < 1 || m->context_length < 2) throw Error("the verify server accepts no drafts");
  server_ = *m;
  for (int i = 0; i < 3; ++i) policy_.observe_rtt(client_.ping());
  policy_.observe_draft_step(drafter_.measure_step_ms(vocab_.bos() >= 0 ? vocab_.bos() : 0));
  connected_ = true;
  return true;
}

std::string SpeculativeSession::mismatch_message(const ServerModel& m) const {
  return "the verify server's model '" + m.id + "' has another vocabulary than the draft model (" +
         m.vocab_fingerprint + " there, " + fingerprint_ +
         " here): its token ids mean different text, so it cannot verify these drafts";
}

Estimate SpeculativeSession::estimate() const {
  const int k_max = connected_ ? std::min(cfg_.draft_max, server_.max_draft) : cfg_.draft_max;
  return policy_.estimate(k_max, cfg_.stream_tokens);
}

void SpeculativeSession::close() {
  if (ending_.valid()) ending_.wait();
  if (!last_session_.empty()) client_.end_session(last_session_);
  last_session_.clear();
}

// A round's start, to learn the round's cost from when it is answered.
struct SpeculativeSession::RoundStart {
  Clock::time_point t;
  double fresh_draft_ms = 0;  // drafting done in this round (not ahead, during the last call)
  int64_t failed_before = 0;  // failed attempts before this round's call
};

// ---- the generation loop ----

// One round: draft, verify (retrying or degrading as needed), learn from the answer, commit.
SpeculativeGeneration SpeculativeSession::generate(std::span<const int32_t> prompt, const SamplerParams& sampling,
                                                   int32_t max_tokens, const TokenCallback& on_token,
                                                   bool stop_at_eog, const LogprobCallback& on_logprob,
                                                   int top_logprobs, const Grammar* grammar) {
  validate(sampling);
  if (sampling.repeat_penalty != 1.f && sampling.repeat_last_n != 0)
    throw Error("speculative decoding cannot apply a repetition penalty (the verify protocol has none)");
  if (prompt.empty()) throw Error("the prompt is empty (no tokens)");
  if (max_tokens < 0) throw Error("the number of tokens to generate must not be negative");
  if (ending_.valid()) ending_.get();  // the previous generation's session has been ended

  const auto t_start = Clock::now();
  Run run;
  run.sp = sampling;
  run.max_tokens = max_tokens;
  run.stop_at_eog = stop_at_eog;
  run.on_token = on_token ? &on_token : nullptr;
  run.on_logprob = on_logprob ? &on_logprob : nullptr;
  run.top_logprobs = std::max(0, top_logprobs);
  if (grammar) {
    if (!grammar_vocab_) grammar_vocab_ = GrammarVocab::build(vocab_);
    run.grammar_def = grammar;
    run.grammar.emplace(*grammar, grammar_vocab_);
  }
  start_run(run, prompt);
  append_forced(run);
  while (!run.done) {
    if (run.degraded) {
      run_device_only(run);
      break;
    }
    const RoundStart round = draft_round(run);
    VerifyCall call;
    VerifyReply r;
    if (!exchange(run, call, r)) continue;  // degraded
    learn_from_round(run, round, call, r);
    accept_round(run, call, r);
  }
  finish_run(run, ms_since(t_start));
  return std::move(run.result);
}

void SpeculativeSession::start_run(Run& run, std::span<const int32_t> prompt) {
  run.ctx.reserve(prompt.size() + size_t(run.max_tokens) + 1);
  run.ctx.assign(prompt.begin(), prompt.end());
  run.prompt_len = prompt.size();
  run.sampler = std::make_unique<Sampler>(run.sp, drafter_.n_vocab());
  run.result.finish_reason = "length";
  run.limit = size_t(drafter_.n_ctx());
  run.result.tokens.reserve(size_t(run.max_tokens));
  if (!connected_) {
    std::string why;
    if (!try_connect(&why)) degrade(run, "cannot reach the verify server: " + why);
  }
  if (connected_) run.limit = std::min(run.limit, size_t(server_.context_length));
  if (prompt.size() >= run.limit)
    throw Error("the prompt (" + std::to_string(prompt.size()) + " tokens) does not fit in the context of " +
                std::to_string(run.limit));
  if (run.max_tokens == 0) run.done = true;
}

// This round's draft: what was drafted ahead and confirmed, cut or extended to k.
SpeculativeSession::RoundStart SpeculativeSession::draft_round(Run& run) {
  RoundStart round;
  round.t = Clock::now();
  const int k = k_limit(run);
  if (run.draft.tokens.size() > size_t(k)) {
    run.draft.tokens.resize(size_t(k));
    run.draft.q.resize(size_t(k));
  }
  run.line = run.draft.tokens;
  auto& st = run.result.stats;
  const double draft_ms_before = st.draft_ms;
  extend_draft(run, run.draft, k, false, nullptr);
  round.fresh_draft_ms = st.draft_ms - draft_ms_before;
  round.failed_before = st.attempts_failed;
  return round;
}

// The policy and the statistics learn from an answered round. A call that carried more than the
// last token (the prompt, a resent context) is no sample of a draft round's cost, nor is a round
// that needed retries.
void SpeculativeSession::learn_from_round(Run& run, const RoundStart& round, const VerifyCall& call,
                                          const VerifyReply& r) {
  auto& st = run.result.stats;
  const int k_sent = int(call.draft.size());
  const bool typical = call.tokens.size() == 1 && st.attempts_failed == round.failed_before;
  policy_.observe_round(k_sent, r.accepted, typical ? r.wall_ms : -1);
  if (typical) policy_.observe_overhead(ms_since(round.t) - round.fresh_draft_ms - r.wall_ms);
  ++st.rounds;
  ++st.cloud_forward_passes;
  st.drafted += k_sent;
  st.accepted += r.accepted;
  const double rtt = policy_.model().rtt_ms;
  st.network_ms += std::min(r.wall_ms, rtt);
  st.verify_ms += std::max(r.wall_ms - rtt, 0.0);
}

// Commits the accepted drafts and the target's token; what was drafted ahead becomes the next
// round's draft when the answer confirms it.
void SpeculativeSession::accept_round(Run& run, const VerifyCall& call, const VerifyReply& r) {
  auto& st = run.result.stats;
  ++run.round;
  if (r.n_past == call.n_past + int64_t(call.tokens.size()) + r.accepted) {
    run.session = r.session;
    run.n_past = r.n_past;
  } else {  // the server's bookkeeping disagrees with ours: start over rather than guess
    run.session.clear();
    run.n_past = 0;
  }
  const bool ahead_confirmed =
      r.accepted == int(call.draft.size()) && !run.ahead.tokens.empty() && run.ahead.tokens[0] == r.token;
  run.line.assign(call.draft.begin(), call.draft.begin() + r.accepted);
  run.line.push_back(r.token);
  run.round_logprobs = r.logprobs.size() == run.line.size() ? &r.logprobs : nullptr;
  commit(run, run.line);
  run.round_logprobs = nullptr;
  if (ahead_confirmed && !run.done) {
    st.ahead_kept += int64_t(run.ahead.tokens.size());
    run.draft.tokens.assign(run.ahead.tokens.begin() + 1, run.ahead.tokens.end());
    run.draft.q.assign(run.ahead.q.begin() + 1, run.ahead.q.end());
  } else {
    st.ahead_discarded += int64_t(run.ahead.tokens.size());
    run.draft.clear();
  }
  run.ahead.clear();
  append_forced(run);
}

void SpeculativeSession::finish_run(Run& run, double total_ms) {
  last_session_ = run.degraded ? "" : run.session;
  run.result.stats.bytes_sent = client_.bytes_sent() - bytes_sent_before_;
  run.result.stats.bytes_received = client_.bytes_received() - bytes_received_before_;
  bytes_sent_before_ = client_.bytes_sent();
  bytes_received_before_ = client_.bytes_received();
  run.result.stats.total_ms = total_ms;
  // End the server session in the background: the tokens are all delivered already.
  if (!last_session_.empty())
    ending_ = worker_.post([this, id = last_session_] { client_.end_session(id); });
  last_session_.clear();
}

int SpeculativeSession::k_limit(const Run& run) const {
  const int64_t remaining = int64_t(run.max_tokens) - int64_t(run.generated());
  const int64_t room = int64_t(run.limit) - int64_t(run.ctx.size()) - 1;
  const int k_max = int(std::min<int64_t>({cfg_.draft_max, server_.max_draft, room}));
  if (k_max < 1) return 0;
  const int k = cfg_.adaptive ? policy_.choose_k(k_max) : k_max;
  // A round yields up to k + 1 tokens: draft no more than the generation still needs.
  return int(std::max<int64_t>(0, std::min<int64_t>(k, remaining - 1)));
}

void SpeculativeSession::extend_draft(Run& run, Draft& d, int k, bool guess_first,
                                      const std::future<VerifyReply>* stop_when_ready) {
  const auto t0 = Clock::now();
  // Under a grammar: its state after the line, drafting nothing past its end.
  std::optional<GrammarMatcher> g = run.grammar;
  bool ended = false;
  if (g)
    for (int32_t t : run.line) ended = ended || vocab_.is_eog(t) || !g->accept(t);
  while (d.tokens.size() < size_t(k) && !ended && !(g && g->is_finished())) {
    if (stop_when_ready && stop_when_ready->wait_for(std::chrono::seconds(0)) == std::future_status::ready) break;
    if (run.ctx.size() + run.line.size() > size_t(drafter_.n_ctx())) break;
    double step_ms = -1;
    const float* logits = drafter_.logits_after(run.ctx, run.line, &step_ms);
    if (step_ms >= 0) policy_.observe_draft_step(step_ms);
    const DraftPick pick =
        g ? pick_constrained_draft_token(*g, run.step, logits, *run.sampler, cfg_.max_q_entries, run.q, cfg_.min_prob > 0)
          : pick_draft_token(logits, *run.sampler, cfg_.max_q_entries, run.q, cfg_.min_prob > 0);
    if (pick.token < 0) break;
    // The first real draft token is always proposed; later ones only when the draft is sure.
    const size_t real = d.tokens.size() - (guess_first && !d.tokens.empty() ? 1 : 0);
    const bool is_guess = guess_first && d.tokens.empty();
    if (!is_guess && real >= 1 && pick.confidence < cfg_.min_prob) break;
    d.tokens.push_back(pick.token);
    d.q.push_back(run.q);
    run.line.push_back(pick.token);
    if (g) ended = vocab_.is_eog(pick.token) || !g->accept(pick.token);
  }
  run.result.stats.draft_ms += ms_since(t0);
}

VerifyCall SpeculativeSession::make_call(const Run& run, const Draft& d, bool prompt_only) const {
  VerifyCall c;
  c.n_past = run.session.empty() ? 0 : run.n_past;
  if (!run.session.empty()) {
    c.session = run.session;
    c.past_hash = protocol::token_hash(run.ctx.data(), size_t(c.n_past));
  }
  const size_t end = prompt_only ? run.prompt_len : run.ctx.size();
  c.tokens.assign(run.ctx.begin() + c.n_past, run.ctx.begin() + ptrdiff_t(end));
  if (!prompt_only) {
    c.draft = d.tokens;
    if (run.sampling()) c.draft_probs = d.q;
  }
  if (run.sampling()) {
    c.sampling = run.sp;
    c.sampling.seed = round_seed(run.sp.seed, run.round);
    c.seed_given = true;
  }
  if (run.on_logprob) c.top_logprobs = run.top_logprobs;
  if (run.grammar_def && !c.session) {  // a new session: it keeps the grammar
    c.grammar = *run.grammar_def;
    c.grammar_start = int64_t(run.prompt_len);
  }
  return c;
}

bool SpeculativeSession::exchange(Run& run, VerifyCall& call, VerifyReply& r) {
  int attempts = 0;
  bool first = true;
  for (;;) {
    if (run.session.empty() && run.ctx.size() > run.prompt_len && !run.grammar) {
      // A new session after a lost one. The prompt goes first, alone, and the generated tokens
      // follow in the next call: the server then evaluates them as it did the first time (the
      // prompt as a prompt, later tokens as single steps), so float targets give the same bits.
      // (A session with a grammar needs no such call: its grammar_start tells the server where
      // the prompt ends.)
      const VerifyCall prime = make_call(run, {}, true);
      const VerifyReply p = send(run, prime, false);
      if (p.kind != VerifyReply::Kind::Ok) {
        if (!recover(run, p, attempts)) return false;
        continue;
      }
      ++run.result.stats.cloud_forward_passes;
      if (p.n_past != int64_t(run.prompt_len))
        throw Error("the verify server holds " + std::to_string(p.n_past) + " tokens after a prompt of " +
                    std::to_string(run.prompt_len));
      run.session = p.session;
      run.n_past = p.n_past;
    }
    call = make_call(run, run.draft, false);
    r = send(run, call, first);
    first = false;
    if (r.kind == VerifyReply::Kind::Ok) return true;
    run.result.stats.ahead_discarded += int64_t(run.ahead.tokens.size());
    run.ahead.clear();
    if (!recover(run, r, attempts)) return false;
  }
}

VerifyReply SpeculativeSession::send(Run& run, const VerifyCall& call, bool pipelined) {
  auto& st = run.result.stats;
  run.ahead.clear();
  // Draft ahead only when the next round can use it: this round drafts, and tokens and context
  // are left after its best case.
  const size_t best_case = call.draft.size() + 1;
  const CostModel m = policy_.model();
  const double expected_wait_ms = m.rtt_ms + m.verify_fixed_ms + double(call.draft.size()) * m.verify_per_token_ms;
  pipelined = pipelined && cfg_.pipeline && expected_wait_ms >= cfg_.pipeline_min_wait_ms && !call.draft.empty() &&
              run.generated() + best_case < size_t(run.max_tokens) && run.ctx.size() + best_case + 1 < run.limit;
  if (!pipelined) {
    const auto t0 = Clock::now();
    VerifyReply r = client_.verify(call);
    st.wait_ms += ms_since(t0);
    return r;
  }
  std::future<VerifyReply> answer = worker_.post([this, &call] { return client_.verify(call); });
  // The call refers to `call`: should drafting throw, wait for it before the frame goes.
  struct WaitOnExit {
    std::future<VerifyReply>& f;
    ~WaitOnExit() {
      if (f.valid()) f.wait();
    }
  } wait_on_exit{answer};
  // The guess of the target's token (all k accepted), then the next round's draft after it.
  run.line = call.draft;
  extend_draft(run, run.ahead, 1 + k_limit(run), true, &answer);
  st.ahead_drafted += int64_t(run.ahead.tokens.size());
  const auto t0 = Clock::now();
  VerifyReply r = answer.get();
  st.wait_ms += ms_since(t0);
  return r;
}

bool SpeculativeSession::recover(Run& run, const VerifyReply& failed, int& attempts) {
  auto& st = run.result.stats;
  ++st.attempts_failed;
  using K = VerifyReply::Kind;
  if (failed.kind == K::Fatal)
    throw Error("the verify server at " + cfg_.url + " rejected the call (HTTP " + std::to_string(failed.status) +
                "): " + failed.message);
  if (++attempts > cfg_.max_retries) {
    char timeout[64];
    std::snprintf(timeout, sizeof timeout, "no answer within %g s", cfg_.read_timeout_s);
    const std::string last = failed.timed_out ? std::string(timeout)
                                              : std::string(kind_name(failed.kind)) +
                                                    (failed.message.empty() ? "" : ", " + failed.message);
    degrade(run, "the verify server failed " + std::to_string(attempts) + " times in a row (last: " + last + ")");
    return false;
  }
  switch (failed.kind) {
    case K::SessionUnknown:
      ++st.sessions_restarted;
      run.session.clear();
      run.n_past = 0;
      return true;
    case K::SessionStale: {
      // The server holds fewer tokens than we thought: resend from there if they are ours.
      const int64_t n = failed.server_n_past;
      if (n >= 1 && size_t(n) < run.ctx.size() &&
          failed.server_past_hash == protocol::hash_hex(protocol::token_hash(run.ctx.data(), size_t(n)))) {
        run.n_past = n;
      } else {
        ++st.sessions_restarted;
        run.session.clear();
        run.n_past = 0;
      }
      return true;
    }
    default: break;
  }
  // Busy (an earlier attempt still runs there), 429/5xx, or no answer: wait, then try again.
  if (failed.timed_out) ++st.timeouts;
  double wait = cfg_.retry_backoff_ms * double(1 << std::min(attempts - 1, 10));
  if (failed.retry_after_s > 0) wait = std::max(wait, failed.retry_after_s * 1000);
  std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(wait));
  if (failed.kind == K::Transport) {
    client_.reconnect();
    ++st.reconnects;
    // Whoever answers at the URL now must still share the draft's vocabulary (a failover
    // server with another model would verify garbage): check before speculating on.
    std::string why;
    try {
      const auto m = client_.fetch_model(&why);
      if (m && m->vocab_fingerprint != fingerprint_) {
        degrade(run, mismatch_message(*m));
        return false;
      }
      if (m) server_ = *m;
    } catch (const Error& e) {
      degrade(run, e.what());
      return false;
    }
  }
  return true;
}

bool SpeculativeSession::commit(Run& run, std::span<const int32_t> tokens) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t t = tokens[i];
    if (run.done) break;
    // Under a grammar, end-of-generation comes only where it may end, and always ends it.
    if ((run.stop_at_eog || run.grammar) && vocab_.is_eog(t)) {
      run.result.finish_reason = "stop";
      run.done = true;
      break;
    }
    if (run.grammar && !run.grammar->accept(t))
      throw Error("the verify server answered token " + std::to_string(t) + ", which the grammar does not allow");
    run.ctx.push_back(t);
    run.result.tokens.push_back(t);
    if (run.on_logprob && run.round_logprobs) (*run.on_logprob)((*run.round_logprobs)[i]);
    const std::string_view piece = vocab_.piece(t);
    run.result.text.append(piece);
    if (run.on_token && !(*run.on_token)(t, piece)) {
      run.result.finish_reason = "cancelled";
      run.done = true;
    } else if (run.grammar && run.grammar->is_finished()) {
      run.result.finish_reason = "stop";
      run.done = true;
    } else if (run.generated() >= size_t(run.max_tokens) || run.ctx.size() >= run.limit) {
      run.result.finish_reason = "length";
      run.done = true;
    }
  }
  return !run.done;
}

void SpeculativeSession::append_forced(Run& run) {
  while (run.grammar && !run.done) {
    const int32_t t = forced_next(*run.grammar, run.step);
    if (t < 0) return;
    std::vector<protocol::TokenLogprob> own;
    if (run.on_logprob)
      own.push_back(protocol::token_logprob(drafter_.logits_after(run.ctx, {}), drafter_.n_vocab(), t, run.top_logprobs));
    run.round_logprobs = run.on_logprob ? &own : nullptr;
    if (!vocab_.is_eog(t)) ++run.result.stats.forced;
    commit(run, std::span<const int32_t>(&t, 1));
    run.round_logprobs = nullptr;
    if (!run.draft.tokens.empty() && run.draft.tokens.front() == t) {
      run.draft.tokens.erase(run.draft.tokens.begin());
      run.draft.q.erase(run.draft.q.begin());
    } else {
      run.draft.clear();
    }
  }
}

void SpeculativeSession::degrade(Run& run, const std::string& why) {
  run.degraded = true;
  run.result.degraded_from = int64_t(run.generated());
  run.result.degraded_reason = why;
  run.result.stats.ahead_discarded += int64_t(run.ahead.tokens.size());
  run.ahead.clear();
  run.draft.clear();
}

void SpeculativeSession::run_device_only(Run& run) {
  const auto t0 = Clock::now();
  run.line.clear();
  while (!run.done) {
    const float* logits = drafter_.logits_after(run.ctx, run.line);
    const int32_t t = run.grammar ? next_constrained(*run.grammar, *run.sampler, logits, run.step)
                                  : run.sampler->sample(logits);
    if (t < 0) {  // the grammar is complete, and the vocabulary has no token to say so
      run.result.finish_reason = "stop";
      break;
    }
    std::vector<protocol::TokenLogprob> own;
    if (run.on_logprob) own.push_back(protocol::token_logprob(logits, drafter_.n_vocab(), t, run.top_logprobs));
    run.round_logprobs = run.on_logprob ? &own : nullptr;
    commit(run, std::span<const int32_t>(&t, 1));
    run.round_logprobs = nullptr;
  }
  run.result.stats.device_only_ms += ms_since(t0);
}

}  // namespace tandem::verify
