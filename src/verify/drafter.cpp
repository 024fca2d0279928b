#include "verify/drafter.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "format/error.h"

namespace tandem::verify {

namespace {
ContextParams draft_params(int32_t n_ctx, int n_threads) {
  ContextParams cp;
  cp.n_ctx = n_ctx;
  cp.n_threads = n_threads;
  cp.n_outputs = 1;
  return cp;
}
}  // namespace

Drafter::Drafter(const LlamaModel& model, int32_t n_ctx, int n_threads, std::vector<LoraUse> loras)
    : ctx_(model, draft_params(n_ctx, n_threads)) {
  ctx_.set_loras(std::move(loras));
  held_.reserve(size_t(ctx_.n_ctx()));
}

const float* Drafter::logits_after(std::span<const int32_t> a, std::span<const int32_t> b, double* step_ms) {
  if (step_ms) *step_ms = -1;
  const size_t n = a.size() + b.size();
  if (n == 0) throw Error("the draft model needs at least one token of context");
  if (n > size_t(ctx_.n_ctx()))
    throw Error("the draft context of " + std::to_string(ctx_.n_ctx()) + " positions is full");
  auto at = [&](size_t i) { return i < a.size() ? a[i] : b[i - a.size()]; };
  size_t keep = 0;
  while (keep < held_.size() && keep < n && held_[keep] == at(keep)) ++keep;
  if (keep == n && held_.size() == n && logits_valid_) return logits_;
  // Something must be evaluated to have logits after the line's last token.
  keep = std::min(keep, n - 1);
  if (keep < held_.size()) {
    ctx_.truncate(0, int32_t(keep));
    held_.resize(keep);
  }
  // Evaluate the rest: a part of a, then a part of b (two spans, no copy).
  const size_t evaluated = n - keep;
  const auto t0 = std::chrono::steady_clock::now();
  if (keep < a.size()) {
    logits_ = ctx_.eval(0, a.subspan(keep));
    held_.insert(held_.end(), a.begin() + ptrdiff_t(keep), a.end());
    keep = a.size();
  }
  if (keep < n) {
    const auto rest = b.subspan(keep - a.size());
    logits_ = ctx_.eval(0, rest);
    held_.insert(held_.end(), rest.begin(), rest.end());
  }
  logits_valid_ = true;
  if (step_ms && evaluated == 1)
    *step_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return logits_;
}

double Drafter::measure_step_ms(int32_t token, int steps) {
  ctx_.truncate(0, 0);
  held_.clear();
  logits_valid_ = false;
  ctx_.eval(0, std::span<const int32_t>(&token, 1));  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) ctx_.eval(0, std::span<const int32_t>(&token, 1));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ctx_.truncate(0, 0);
  return ms / std::max(steps, 1);
}

float top_probability(const float* logits, int32_t n_vocab) {
  float mx = logits[0];
  for (int32_t i = 1; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(double(logits[i] - mx));
  return sum > 0 ? float(1.0 / sum) : 0.f;
}

DraftPick pick_draft_token(const float* logits, Sampler& sampler, size_t max_entries, SparseDist& q,
                           bool want_confidence) {
  DraftPick pick;
  const int32_t tok = sampler.sample(logits);
  if (sampler.params().temperature <= 0) {
    q.assign(1, {tok, 1.f});
    pick.token = tok;
    pick.confidence = want_confidence ? top_probability(logits, sampler.n_vocab()) : 1.f;
    return pick;
  }
  // q: the sampler's distribution, its most probable entries (ties to the lower id).
  const auto dist = sampler.last_distribution();
  q.assign(dist.begin(), dist.end());
  auto by_prob = [](const std::pair<int32_t, float>& x, const std::pair<int32_t, float>& y) {
    return x.second > y.second || (x.second == y.second && x.first < y.first);
  };
  const size_t keep = std::min(std::max<size_t>(max_entries, 1), q.size());
  std::partial_sort(q.begin(), q.begin() + ptrdiff_t(keep), q.end(), by_prob);
  q.resize(keep);
  while (!q.empty() && !(q.back().second > 0)) q.pop_back();
  if (q.empty()) {  // cannot happen for a valid distribution; fall back to the sampled token
    q.assign(1, {tok, 1.f});
    pick.token = tok;
    pick.confidence = 1;
    return pick;
  }
  double total = 0;
  for (const auto& e : q) total += e.second;
  for (auto& e : q) e.second = float(e.second / total);
  // Draw from exactly the q that is sent (walking it in its sorted order).
  const double u = sampler.rng().uniform();
  double cum = 0;
  pick.token = q.back().first;
  for (const auto& e : q) {
    cum += e.second;
    if (u < cum) {
      pick.token = e.first;
      break;
    }
  }
  pick.confidence = q.front().second;
  return pick;
}

int32_t forced_next(GrammarMatcher& g, GrammarStep& step) {
  g.fill_mask(step.allowed);
  return g.forced_token(step.allowed);
}

DraftPick pick_constrained_draft_token(GrammarMatcher& g, GrammarStep& step, const float* logits, Sampler& sampler,
                                       size_t max_entries, SparseDist& q, bool want_confidence) {
  const int32_t forced = forced_next(g, step);
  if (forced >= 0) {
    q.assign(1, {forced, 1.f});
    return DraftPick{forced, 1.f};
  }
  if (step.allowed.first() < 0) {
    if (g.can_end()) return DraftPick{};
    throw Error("no token of the vocabulary can continue the grammar here");
  }
  step.masked.assign(logits, logits + sampler.n_vocab());
  mask_logits(step.allowed, step.masked.data());
  return pick_draft_token(step.masked.data(), sampler, max_entries, q, want_confidence);
}

}  // namespace tandem::verify
