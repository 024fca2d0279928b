#include "engine/text_scoring.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "format/error.h"

namespace tandem {

namespace {

// log-softmax of a logit row into out (double precision sums, as llama.cpp).
void log_softmax(const float* logits, int n, std::vector<double>& out) {
  float mx = logits[0];
  for (int i = 1; i < n; ++i) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += std::exp(double(logits[i] - mx));
  const double lse = std::log(sum) + mx;
  out.resize(size_t(n));
  for (int i = 0; i < n; ++i) out[size_t(i)] = double(logits[i]) - lse;
}

int argmax_row(const float* v, int n) {
  int b = 0;
  for (int i = 1; i < n; ++i)
    if (v[i] > v[b]) b = i;
  return b;
}

void require_same_vocab(const Vocab& vocab, const LlamaModel& reference) {
  const Vocab rv = Vocab::from_gguf(reference.gguf());
  bool same = rv.n_tokens() == vocab.n_tokens();
  for (int32_t i = 0; same && i < vocab.n_tokens(); ++i) same = rv.token_text(i) == vocab.token_text(i);
  if (!same) throw Error("the reference model has a different vocabulary; KL-divergence needs the same tokens");
}

// The sums over every scored position: the model's negative log-likelihood and, against a
// reference, the reference's, the KL-divergence (and its square) and how often the top tokens agree.
struct Sums {
  double nll = 0, nll_ref = 0, kld_sum = 0, kld_sq = 0;
  int64_t count = 0, same_top = 0;
  std::vector<double> lp, lq;

  // One position: logits (and the reference's, or null) predicting `next`.
  void add(const float* row, const float* rrow, int nv, int32_t next) {
    log_softmax(row, nv, lq);
    nll -= lq[size_t(next)];
    if (rrow) {
      log_softmax(rrow, nv, lp);
      nll_ref -= lp[size_t(next)];
      double kl = 0;
      for (int v = 0; v < nv; ++v) kl += std::exp(lp[size_t(v)]) * (lp[size_t(v)] - lq[size_t(v)]);
      kld_sum += kl;
      kld_sq += kl * kl;
      same_top += argmax_row(row, nv) == argmax_row(rrow, nv);
    }
    ++count;
  }
  double perplexity() const { return std::exp(nll / double(count)); }

  TextScores scores(int chunks, bool with_reference) const {
    TextScores s;
    s.chunks = chunks;
    s.tokens_scored = count;
    s.perplexity = perplexity();
    if (!with_reference) return s;
    const double mean = kld_sum / double(count);
    const double var = std::max(0.0, kld_sq / double(count) - mean * mean);
    s.has_reference = true;
    s.reference_perplexity = std::exp(nll_ref / double(count));
    s.perplexity_ratio = s.perplexity / s.reference_perplexity;
    s.kld_mean = mean;
    s.kld_stderr = std::sqrt(var / double(count));
    s.same_top_token = double(same_top) / double(count);
    return s;
  }
};

}  // namespace

TextScores score_text(const LlamaModel& model, const LlamaModel* reference, const std::string& text,
                      const TextScoringParams& p) {
  if (p.n_ctx < 8 || p.n_ctx > 65536) throw Error("the chunk size must be in [8, 65536]");
  const Vocab vocab = Vocab::from_gguf(model.gguf());
  if (reference) require_same_vocab(vocab, *reference);
  const std::vector<int32_t> tokens = vocab.tokenize(text, vocab.add_bos());
  int n_chunks = int(tokens.size() / size_t(p.n_ctx));
  if (p.max_chunks > 0) n_chunks = std::min(n_chunks, p.max_chunks);
  if (n_chunks == 0)
    throw Error("the text has " + std::to_string(tokens.size()) + " tokens, fewer than one chunk of " +
                std::to_string(p.n_ctx));
  ContextParams cp;
  cp.n_ctx = cp.n_batch = cp.n_outputs = p.n_ctx;
  cp.n_threads = p.n_threads;
  Context ctx(model, cp);
  ctx.set_loras(p.loras);
  std::unique_ptr<Context> rctx;
  if (reference) rctx = std::make_unique<Context>(*reference, cp);

  const int nv = model.hparams().n_vocab;
  Sums sums;
  std::vector<int32_t> chunk(size_t(p.n_ctx));
  for (int c = 0; c < n_chunks; ++c) {
    std::copy(tokens.begin() + int64_t(c) * p.n_ctx, tokens.begin() + int64_t(c + 1) * p.n_ctx, chunk.begin());
    if (vocab.add_bos() && vocab.bos() >= 0) chunk[0] = vocab.bos();
    ctx.kv().clear(0);
    const float* logits = ctx.eval(0, chunk, /*all_logits=*/true);
    const float* rlogits = nullptr;
    if (rctx) {
      rctx->kv().clear(0);
      rlogits = rctx->eval(0, chunk, true);
    }
    for (int j = p.n_ctx / 2; j < p.n_ctx - 1; ++j)
      sums.add(logits + size_t(j) * nv, rlogits ? rlogits + size_t(j) * nv : nullptr, nv,
               tokens[size_t(int64_t(c) * p.n_ctx + j + 1)]);
    if (p.on_chunk) p.on_chunk(c + 1, n_chunks, sums.perplexity());
  }
  return sums.scores(n_chunks, reference != nullptr);
}

}  // namespace tandem
