#include "serve/scheduler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>
#include <span>

#include "format/error.h"
#include "kernels/quantize.h"
#include "protocol/text_stream.h"

namespace tandem::serve {

namespace {

using Clock = std::chrono::steady_clock;
double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

TokenOrder prompt_token_order(size_t i, size_t L) {
  const size_t chunk = size_t(ContextParams{}.n_batch);
  const size_t start = i / chunk * chunk;
  return std::min(chunk, L - start) >= 2 ? TokenOrder::Prompt : TokenOrder::Step;
}

bool order_sensitive(const LlamaModel& model) {
  auto sensitive = [](const WeightMatrix& w) {
    const TensorType at = activation_type(w.type);
    return (at == TensorType::F32 || at == TensorType::F16 || at == TensorType::BF16) && w.cols % 8 == 0 &&
           w.layout == kernels::WeightLayout::Rows;
  };
  if (sensitive(model.output())) return true;
  for (const auto& L : model.layers())
    for (const WeightMatrix* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
      if (sensitive(*w)) return true;
  return false;
}

struct Scheduler::Slot {
  int32_t seq = 0;
  // What the KV cache of this sequence holds: tokens and how each was computed.
  std::vector<int32_t> tokens;
  std::vector<TokenOrder> orders;
  std::string user;
  uint64_t last_used = 0;
  std::string session_id;  // the verify session these rows mirror (with its generation)
  uint64_t session_gen = 0;

  // The running job.
  std::shared_ptr<Job> job;
  uint64_t admitted = 0;
  std::vector<int32_t> pending;  // tokens still to evaluate; the last logits_tail want logits
  std::vector<TokenOrder> pending_orders;
  size_t logits_tail = 0;
  std::unique_ptr<Sampler> sampler;
  std::optional<GrammarMatcher> grammar;  // the output's constraint, when the job has one
  GrammarStep grammar_step;
  std::unique_ptr<protocol::TextStream> text;
  int32_t n_generated = 0;
  Clock::time_point t_last_token;

  // This step.
  size_t taken = 0;
  int32_t logits_row = -1;

  // How many leading tokens of a prompt the cached tokens can serve: all but the last at most
  // (its logits are needed), and on an order-sensitive model only those computed in the order a
  // fresh evaluation of this prompt would use.
  size_t reusable_prefix(std::span<const int32_t> prompt, bool order_sensitive) const {
    const size_t L = prompt.size();
    size_t reuse = 0;
    while (reuse < std::min(tokens.size(), L - 1) && tokens[reuse] == prompt[reuse] &&
           (!order_sensitive || orders[reuse] == prompt_token_order(reuse, L)))
      ++reuse;
    return reuse;
  }
  // Whether the cache holds the session's current tokens (so its rows need not be copied in).
  bool holds(const VerifySession& ses) const {
    return session_id == ses.id && session_gen == ses.generation && tokens.size() == ses.tokens.size();
  }
};

Scheduler::Scheduler(const LlamaModel& model, const Vocab& vocab, const SchedulerConfig& cfg, Metrics& metrics)
    : model_(model), vocab_(vocab), cfg_(cfg), metrics_(metrics), order_sensitive_(serve::order_sensitive(model)) {
  if (cfg.n_parallel < 1 || cfg.n_parallel > 1024) throw Error("--parallel must be in [1, 1024]");
  if (cfg.max_draft < 0 || cfg.max_draft > 256) throw Error("--max-draft must be in [0, 256]");
  if (cfg.queue_size < 0) throw Error("--queue must not be negative");
  if (cfg.n_batch < cfg.max_draft + 1)
    throw Error("the batch size (" + std::to_string(cfg.n_batch) + ") must hold a verify call of max-draft + 1 tokens");
  ContextParams cp;
  cp.n_ctx = cfg.n_ctx;
  cp.n_seq = cfg.n_parallel;
  cp.n_batch = cfg.n_batch;
  cp.n_outputs = std::min(cfg.n_batch, cfg.n_parallel + cfg.max_draft + 1);
  cp.n_threads = cfg.n_threads;
  ctx_ = std::make_unique<Context>(model, cp);
  ctx_->set_loras(cfg.loras);
  n_ctx_ = ctx_->n_ctx();
  batch_.reserve(size_t(cfg.n_batch));
  for (int32_t i = 0; i < cfg.n_parallel; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    slots_.back()->seq = i;
  }
  metrics_.kv_tokens_capacity = int64_t(n_ctx_) * cfg.n_parallel;
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { stop(); }

size_t Scheduler::kv_row_elems() const { return size_t(model_.hparams().n_layer) * size_t(model_.hparams().kv_dim()); }

bool Scheduler::submit(const std::shared_ptr<Job>& job) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stop_ || queue_.size() >= size_t(cfg_.queue_size) + (size_t(cfg_.n_parallel) - std::min(active_, size_t(cfg_.n_parallel))))
      return false;
    queue_.push_back(job);
    metrics_.queue_depth = int64_t(queue_.size());
  }
  cv_.notify_all();
  return true;
}

std::shared_ptr<Generation> Scheduler::generate(GenerationRequest req) {
  auto job = std::make_shared<Job>(Job::Kind::Completion);
  job->prompt = std::move(req.prompt);
  job->gen = std::move(req.gen);
  job->user = std::move(req.user);
  job->held_text = std::move(req.held_text);
  job->grammar_prefix = std::move(req.grammar_prefix);
  if (!submit(job)) return nullptr;
  return job;
}

GenerationLoad Scheduler::load() const { return {metrics_.active_sequences.load(), metrics_.queue_depth.load()}; }

std::shared_ptr<GenerationService> start_generation_service(const LlamaModel& model, const Vocab& vocab,
                                                            const SchedulerConfig& cfg) {
  // The metrics first: the scheduler writes to them from its constructor on.
  struct Metered {
    Metered(const LlamaModel& m, const Vocab& v, const SchedulerConfig& c) : scheduler(m, v, c, metrics) {}
    Metrics metrics;
    Scheduler scheduler;
  };
  auto both = std::make_shared<Metered>(model, vocab, cfg);
  return std::shared_ptr<GenerationService>(both, &both->scheduler);
}

size_t Scheduler::pending() const {
  std::lock_guard<std::mutex> lk(mu_);
  return queue_.size() + active_;
}

void Scheduler::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::loop() {
  for (;;) {
    std::vector<std::shared_ptr<Job>> admitted;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || active_ > 0 || !queue_.empty(); });
      if (stop_) break;
      while (active_ < slots_.size() && !queue_.empty()) {
        auto job = std::move(queue_.front());
        queue_.pop_front();
        if (job->cancelled) continue;
        admitted.push_back(std::move(job));
        ++active_;
      }
      metrics_.active_sequences = int64_t(active_);
      metrics_.queue_depth = int64_t(queue_.size());
    }
    for (auto& job : admitted) {
      Slot* best = best_idle_slot(*job);
      best->job = job;
      best->admitted = ++tick_;
      try {
        if (job->kind == Job::Kind::Verify) start_verify(*best);
        else start_completion(*best);
      } catch (const std::exception& e) {
        fail(*best, 500, std::string("could not start the request: ") + e.what());
      }
    }
    step();
    publish_gauges();
  }
  // Stopping: nobody is left to run the queued and running jobs.
  std::deque<std::shared_ptr<Job>> queued;
  {
    std::lock_guard<std::mutex> lk(mu_);
    queued.swap(queue_);
  }
  for (auto& job : queued) {
    StreamEvent e;
    e.final = true;
    e.error_status = 503;
    e.error = "the server is shutting down";
    job->push(std::move(e));
  }
  for (auto& s : slots_)
    if (s->job) fail(*s, 503, "the server is shutting down");
  publish_gauges();
}

// The idle slot that serves a job best (see scheduler.h): the most reusable cache, then the same
// user, then the least recently used. There is one: a job is admitted only for an idle slot.
Scheduler::Slot* Scheduler::best_idle_slot(const Job& job) {
  Slot* best = nullptr;
  size_t best_reuse = 0;
  bool best_user = false;
  for (auto& sp : slots_) {
    Slot& s = *sp;
    if (s.job) continue;
    size_t reuse = 0;
    bool user = false;
    if (job.kind == Job::Kind::Verify) {
      const auto& ses = *job.verify.session;
      reuse = s.holds(ses) ? ses.tokens.size() + 1 : 0;
    } else {
      reuse = s.reusable_prefix(job.prompt, order_sensitive_);
      user = !job.user.empty() && s.user == job.user;
    }
    if (!best || reuse > best_reuse || (reuse == best_reuse && user && !best_user) ||
        (reuse == best_reuse && user == best_user && s.last_used < best->last_used)) {
      best = &s;
      best_reuse = reuse;
      best_user = user;
    }
  }
  return best;
}

void Scheduler::start_completion(Slot& s) {
  Job& job = *s.job;
  const auto& p = job.prompt;
  const size_t L = p.size();
  std::vector<TokenOrder> want(L);
  for (size_t i = 0; i < L; ++i) want[i] = prompt_token_order(i, L);
  const size_t reuse = s.reusable_prefix(p, order_sensitive_);
  ctx_->truncate(s.seq, int32_t(reuse));
  s.tokens.resize(reuse);
  s.orders.resize(reuse);
  s.session_id.clear();
  s.user = job.user;
  s.pending.assign(p.begin() + ptrdiff_t(reuse), p.end());
  s.pending_orders.assign(want.begin() + ptrdiff_t(reuse), want.end());
  s.logits_tail = 1;
  s.sampler = std::make_unique<Sampler>(job.gen.sampling, ctx_->n_vocab());
  for (int32_t t : p) s.sampler->accept(t);  // the repetition penalty's history, as generate() does
  if (!start_grammar(s, job.gen.constraint, job.grammar_prefix)) return;
  if (s.grammar) metrics_.constrained_requests++;
  s.text = std::make_unique<protocol::TextStream>(job.gen.stop);
  s.text->hold(job.held_text);
  s.n_generated = 0;
  job.prompt_tokens = int32_t(L);
  job.cached_tokens = int32_t(reuse);
  metrics_.prompt_tokens += L;
  metrics_.prompt_tokens_cached += reuse;
  metrics_.prompt_tokens_evaluated += L - reuse;
  if (job.gen.max_tokens == 0) finish_completion(s, "length");
}

void Scheduler::start_verify(Slot& s) {
  Job& job = *s.job;
  VerifySession& ses = *job.verify.session;
  if (!s.holds(ses)) {  // copy the session's rows into this slot
    KvCache& kv = ctx_->kv();
    const int32_t n = int32_t(ses.tokens.size());
    kv.clear(s.seq);
    kv.copy_rows_in(s.seq, 0, n, ses.k, ses.v);
    kv.set_len(s.seq, n);
    s.tokens = ses.tokens;
    s.orders = ses.orders;
    s.session_id = ses.id;
    s.session_gen = ses.generation;
  }
  s.user.clear();
  const auto& in = job.verify;
  // A new session's tokens are its prompt, up to where a grammar's output begins: the tokens
  // after that (ones the grammar forced) are computed as generated tokens, as a completion would.
  const size_t prompt_len =
      !ses.tokens.empty() ? 0 : ses.grammar ? std::min(in.tokens.size(), ses.grammar_start) : in.tokens.size();
  s.pending = in.tokens;
  s.pending.insert(s.pending.end(), in.draft.begin(), in.draft.end());
  s.pending_orders.clear();
  for (size_t i = 0; i < prompt_len; ++i) s.pending_orders.push_back(prompt_token_order(i, prompt_len));
  s.pending_orders.resize(s.pending.size(), TokenOrder::Step);
  s.logits_tail = in.draft.size() + 1;
  job.prompt_tokens = int32_t(in.tokens.size());
}

bool Scheduler::step() {
  // Clients that went away free their slot now; what was evaluated stays as prompt cache.
  for (auto& sp : slots_)
    if (sp->job && sp->job->cancelled && sp->job->kind == Job::Kind::Completion) release(*sp);

  // Decoding slots first (latency), then prompt chunks in admission order.
  std::vector<Slot*> order;
  for (auto& sp : slots_)
    if (sp->job && !sp->pending.empty()) order.push_back(sp.get());
  std::stable_sort(order.begin(), order.end(), [](const Slot* a, const Slot* b) {
    const bool da = a->pending.size() <= a->logits_tail, db = b->pending.size() <= b->logits_tail;
    if (da != db) return da;
    return a->admitted < b->admitted;
  });
  batch_.clear();
  const size_t max_out = size_t(ctx_->params().n_outputs);
  size_t n_out = 0, n_seqs = 0;
  for (Slot* s : order) {
    const size_t n = s->pending.size(), tail_start = n - s->logits_tail;
    size_t take = std::min(n, size_t(cfg_.n_batch) - batch_.size());
    // The rows that want logits go in one forward pass, all together.
    if (take > tail_start && (take < n || n_out + s->logits_tail > max_out)) take = tail_start;
    if (take == 0) continue;
    const bool with_logits = take == n;
    for (size_t i = 0; i < take; ++i)
      batch_.push_back(BatchToken{s->pending[i], s->seq, int32_t(s->tokens.size() + i), with_logits && i >= tail_start,
                                  s->pending_orders[i]});
    s->taken = take;
    s->logits_row = with_logits ? int32_t(n_out) : -1;
    if (with_logits) n_out += s->logits_tail;
    ++n_seqs;
  }
  if (batch_.empty()) return false;
  try {
    ctx_->decode(batch_);
  } catch (const std::exception& e) {
    for (Slot* s : order)
      if (s->taken > 0) {
        ctx_->truncate(s->seq, 0);
        s->tokens.clear();
        s->orders.clear();
        s->session_id.clear();
        s->taken = 0;
        fail(*s, 500, std::string("forward pass failed: ") + e.what());
      }
    return true;
  }
  metrics_.forward_passes++;
  metrics_.batch_tokens.observe(double(batch_.size()));
  metrics_.batch_sequences.observe(double(n_seqs));
  for (Slot* s : order) {
    if (s->taken == 0) continue;
    s->tokens.insert(s->tokens.end(), s->pending.begin(), s->pending.begin() + ptrdiff_t(s->taken));
    s->orders.insert(s->orders.end(), s->pending_orders.begin(), s->pending_orders.begin() + ptrdiff_t(s->taken));
    s->pending.erase(s->pending.begin(), s->pending.begin() + ptrdiff_t(s->taken));
    s->pending_orders.erase(s->pending_orders.begin(), s->pending_orders.begin() + ptrdiff_t(s->taken));
    s->taken = 0;
    if (s->logits_row >= 0) {
      try {
        if (s->job->kind == Job::Kind::Verify) finish_verify(*s);
        else after_logits(*s);
      } catch (const std::exception& e) {
        fail(*s, 500, e.what());
      }
    }
    s->logits_row = -1;
  }
  return true;
}

bool Scheduler::start_grammar(Slot& s, const protocol::OutputConstraint& c, const std::string& prefix) {
  s.grammar.reset();
  s.grammar_step.forced_tokens = 0;
  s.grammar_step.grammar_ms = 0;
  if (!c.active()) return true;
  if (!grammar_vocab_) grammar_vocab_ = GrammarVocab::build(vocab_);  // once, on first use
  s.grammar.emplace(*c.grammar, grammar_vocab_);
  // A continuation: the grammar resumes where the text already produced left it. Byte by byte,
  // so that a refusal can say where.
  for (size_t i = 0; i < prefix.size(); ++i)
    if (!s.grammar->accept_bytes(std::string_view(prefix).substr(i, 1))) {
      const unsigned char b = static_cast<unsigned char>(prefix[i]);
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", unsigned(b));
      const std::string shown = b >= 0x20 && b < 0x7f ? "'" + std::string(1, char(b)) + "'" : std::string(hex);
      fail(s, kOutsideGrammarStatus,
           "the output so far breaks the " + c.kind + " constraint at byte " + std::to_string(i) + " of " +
               std::to_string(prefix.size()) + " (" + shown + ")");
      return false;
    }
  return true;
}

void Scheduler::after_logits(Slot& s) {
  Job& job = *s.job;
  const float* row = ctx_->logits(s.logits_row);
  if (s.grammar) {
    // End-of-generation comes only where the grammar may end, and then it always ends.
    const int32_t forced_before = s.grammar_step.forced_tokens;
    const int32_t tok = next_constrained(*s.grammar, *s.sampler, row, s.grammar_step);
    if (tok < 0 || vocab_.is_eog(tok)) return finish_completion(s, "stop");
    metrics_.grammar_forced_tokens += uint64_t(s.grammar_step.forced_tokens - forced_before);
    if (!s.grammar->accept(tok)) throw Error("the grammar rejected a token it allowed");
    return emit_token(s, tok, row);
  }
  const int32_t tok = s.sampler->sample(row);
  if (!job.gen.ignore_eos && vocab_.is_eog(tok)) return finish_completion(s, "stop");
  emit_token(s, tok, row);
}

void Scheduler::emit_token(Slot& s, int32_t tok, const float* row) {
  Job& job = *s.job;
  s.sampler->accept(tok);
  ++s.n_generated;
  metrics_.generated_tokens++;
  const auto now = Clock::now();
  if (s.n_generated == 1) metrics_.ttft_seconds.observe(seconds(now - job.t_arrival));
  else metrics_.itl_seconds.observe(seconds(now - s.t_last_token));
  s.t_last_token = now;
  StreamEvent e;
  e.text = s.text->push(vocab_.piece(tok));
  e.tokens.push_back(job.gen.top_logprobs >= 0 ? protocol::token_logprob(row, ctx_->n_vocab(), tok, job.gen.top_logprobs)
                                               : protocol::TokenLogprob{tok, 0, {}});
  job.push(std::move(e));
  // A finished grammar allows only end-of-generation: stop now rather than spend a step on it.
  if (s.text->stopped() || (s.grammar && s.grammar->is_finished())) return finish_completion(s, "stop");
  if (s.n_generated >= job.gen.max_tokens || s.tokens.size() >= size_t(n_ctx_)) return finish_completion(s, "length");
  s.pending.assign(1, tok);
  s.pending_orders.assign(1, TokenOrder::Step);
  s.logits_tail = 1;
}

void Scheduler::finish_completion(Slot& s, const char* reason) {
  Job& job = *s.job;
  StreamEvent e;
  e.text = s.text->flush();
  e.final = true;
  e.finish_reason = reason;
  job.completion_tokens = s.n_generated;
  const auto held = s.job;  // release first: a client holding its answer sees the slot free
  release(s);
  held->push(std::move(e));
}

protocol::VerifyOutcome Scheduler::verify_outcome(Slot& s, std::vector<GrammarMatcher::Checkpoint>& draft_states) {
  const VerifyInput& in = s.job->verify;
  const VerifySession& ses = *in.session;
  const size_t k = in.draft.size(), first = ses.tokens.size() + in.tokens.size();  // draft[0]'s position
  const int32_t n_vocab = ctx_->n_vocab();
  const bool greedy = in.sampling.temperature <= 0;
  std::optional<GrammarMatcher> g = in.grammar;
  Sampler target(in.sampling, n_vocab);
  GrammarStep step;
  std::vector<int32_t> best(k + 1, -1);
  std::vector<protocol::SparseDist> p(k + 1);
  // The target's choice at each position, masked where the grammar applies, up to the first
  // draft token that is rejected for sure (greedy: not the argmax; either: refused by the
  // grammar). Later positions are never looked at.
  size_t j = 0;
  for (;; ++j) {
    const float* row = ctx_->logits(s.logits_row + int32_t(j));
    const bool constrained = g && first + j >= ses.grammar_start;
    const int32_t forced_before = step.forced_tokens;
    const int32_t tok = constrained ? next_constrained(*g, target, row, step) : greedy ? argmax(row, n_vocab) : target.sample(row);
    if (tok < 0) throw Error("the grammar is complete and the vocabulary has no end-of-generation token");
    if (greedy) best[j] = tok;
    else if (step.forced_tokens != forced_before) p[j].assign(1, {tok, 1.f});
    else p[j].assign(target.last_distribution().begin(), target.last_distribution().end());
    if (j == k || (greedy && in.draft[j] != tok)) break;
    if (constrained && !g->accept(in.draft[j])) {
      if (greedy) throw Error("the grammar rejected a token it allowed");
      break;
    }
    if (g) draft_states.push_back(g->checkpoint());
  }
  if (greedy) return protocol::verify_greedy(std::span(in.draft).first(j), std::span(best).first(j + 1));
  Rng seeded(in.sampling.seed);
  return protocol::verify_sampled(in.draft, p, in.draft_probs, in.seeded ? seeded : in.session->rng);
}

size_t Scheduler::keep_verified(Slot& s, int32_t accepted, const std::vector<GrammarMatcher::Checkpoint>& draft_states) {
  const VerifyInput& in = s.job->verify;
  VerifySession& ses = *in.session;
  // Keep the context and the accepted draft tokens; drop the rest.
  const size_t base = ses.tokens.size(), n_in = in.tokens.size(), keep = base + n_in + size_t(accepted);
  ctx_->truncate(s.seq, int32_t(keep));
  s.tokens.resize(keep);
  s.orders.resize(keep);
  const size_t row = kv_row_elems();
  ses.k.resize(keep * row);
  ses.v.resize(keep * row);
  ctx_->kv().copy_rows_out(s.seq, int32_t(base), int32_t(keep), std::span(ses.k).subspan(base * row),
                           std::span(ses.v).subspan(base * row));
  for (size_t pos = base; pos < keep; ++pos) {
    ses.tokens.push_back(s.tokens[pos]);
    ses.orders.push_back(s.orders[pos]);
    ses.prefix_hash.push_back(protocol::token_hash_step(ses.prefix_hash.back(), s.tokens[pos]));
    if (ses.grammar)
      ses.grammar_states.push_back(pos - base < n_in ? in.grammar_states[pos - base] : draft_states[pos - base - n_in]);
  }
  ++ses.generation;
  s.session_id = ses.id;
  s.session_gen = ses.generation;
  return keep;
}

void Scheduler::finish_verify(Slot& s) {
  Job& job = *s.job;
  const VerifyInput& in = job.verify;
  const size_t k = in.draft.size();
  std::vector<GrammarMatcher::Checkpoint> draft_states;
  const protocol::VerifyOutcome out = verify_outcome(s, draft_states);
  const size_t keep = keep_verified(s, out.accepted, draft_states);
  job.verify_result = VerifyResult{out.accepted, out.token, keep, in.session->prefix_hash.back(), {}};
  if (in.top_logprobs >= 0)
    for (int32_t j = 0; j <= out.accepted; ++j)
      job.verify_result.logprobs.push_back(protocol::token_logprob(ctx_->logits(s.logits_row + j), ctx_->n_vocab(),
                                                         j < out.accepted ? in.draft[size_t(j)] : out.token,
                                                         in.top_logprobs));
  metrics_.verify_rounds++;
  metrics_.verify_draft_tokens += k;
  metrics_.verify_accepted_tokens += uint64_t(out.accepted);
  metrics_.verify_seconds.observe(seconds(Clock::now() - job.t_arrival));
  StreamEvent e;
  e.final = true;
  const auto held = s.job;
  release(s);
  held->push(std::move(e));
}

void Scheduler::fail(Slot& s, int status, const std::string& message) {
  StreamEvent e;
  e.final = true;
  e.error_status = status;
  e.error = message;
  const auto held = s.job;
  release(s);
  held->push(std::move(e));
}

void Scheduler::release(Slot& s) {
  s.job.reset();
  s.pending.clear();
  s.pending_orders.clear();
  s.sampler.reset();
  s.grammar.reset();
  s.text.reset();
  s.taken = 0;
  s.logits_row = -1;
  s.last_used = ++tick_;
  std::lock_guard<std::mutex> lk(mu_);
  --active_;
  metrics_.active_sequences = int64_t(active_);
}

void Scheduler::publish_gauges() {
  int64_t used = 0;
  for (const auto& s : slots_) used += int64_t(s->tokens.size());
  metrics_.kv_tokens_used = used;
  std::lock_guard<std::mutex> lk(mu_);
  metrics_.active_sequences = int64_t(active_);
  metrics_.queue_depth = int64_t(queue_.size());
}

}  // namespace tandem::serve
