// tandem perplexity: perplexity of a model on a text file, and against a base model the mean
// KL-divergence and same-top-token rate — computed the way llama.cpp's perplexity tool does:
// the text is tokenized once (with BOS), cut into chunks of --ctx tokens whose first token is
// replaced by BOS, and only the second half of each chunk is scored.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "engine/context.h"
#include "engine/vocab.h"
#include "format/error.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace tandem::tools {

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

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void require_same_vocab(const Vocab& vocab, const LlamaModel& base) {
  const Vocab bv = Vocab::from_gguf(base.gguf());
  bool same = bv.n_tokens() == vocab.n_tokens();
  for (int32_t i = 0; same && i < vocab.n_tokens(); ++i) same = bv.token_text(i) == vocab.token_text(i);
  if (!same) throw Error("the base model has a different vocabulary; KL-divergence needs the same tokens");
}

// The sums over every scored position: the model's negative log-likelihood and, against a base
// model, the base's, the KL-divergence (and its square) and how often the top tokens agree.
struct Scores {
  double nll = 0, nll_base = 0, kld_sum = 0, kld_sq = 0;
  int64_t count = 0, same_top = 0;
  std::vector<double> lp, lq;

  // One position: logits (and the base's, or null) predicting `next`.
  void add(const float* row, const float* brow, int nv, int32_t next) {
    log_softmax(row, nv, lq);
    nll -= lq[size_t(next)];
    if (brow) {
      log_softmax(brow, nv, lp);
      nll_base -= lp[size_t(next)];
      double kl = 0;
      for (int v = 0; v < nv; ++v) kl += std::exp(lp[size_t(v)]) * (lp[size_t(v)] - lq[size_t(v)]);
      kld_sum += kl;
      kld_sq += kl * kl;
      same_top += argmax_row(row, nv) == argmax_row(brow, nv);
    }
    ++count;
  }
  double perplexity() const { return std::exp(nll / double(count)); }

  void describe_base(nlohmann::json& j) const {
    const double mean = kld_sum / double(count);
    const double var = std::max(0.0, kld_sq / double(count) - mean * mean);
    const double ppl_base = std::exp(nll_base / double(count));
    j["base_perplexity"] = ppl_base;
    j["perplexity_ratio"] = perplexity() / ppl_base;
    j["kld_mean"] = mean;
    j["kld_stderr"] = std::sqrt(var / double(count));
    j["same_top_token"] = double(same_top) / double(count);
  }
};

// Each chunk of n_ctx tokens (its first replaced by BOS) through the model (and the base, with
// bctx); only the second half of each chunk is scored.
Scores score_chunks(Context& ctx, Context* bctx, const Vocab& vocab, const std::vector<int32_t>& tokens, int n_ctx,
                    int n_chunks, bool quiet) {
  const int nv = ctx.model().hparams().n_vocab;
  Scores scores;
  std::vector<int32_t> chunk(static_cast<size_t>(n_ctx));
  Progress bar("perplexity", quiet);
  for (int c = 0; c < n_chunks; ++c) {
    std::copy(tokens.begin() + int64_t(c) * n_ctx, tokens.begin() + int64_t(c + 1) * n_ctx, chunk.begin());
    if (vocab.add_bos() && vocab.bos() >= 0) chunk[0] = vocab.bos();
    ctx.kv().clear(0);
    const float* logits = ctx.eval(0, chunk, /*all_logits=*/true);
    const float* blogits = nullptr;
    if (bctx) {
      bctx->kv().clear(0);
      blogits = bctx->eval(0, chunk, true);
    }
    for (int j = n_ctx / 2; j < n_ctx - 1; ++j)
      scores.add(logits + size_t(j) * nv, blogits ? blogits + size_t(j) * nv : nullptr, nv,
                 tokens[size_t(int64_t(c) * n_ctx + j + 1)]);
    char note[64];
    std::snprintf(note, sizeof note, "chunk %d/%d, ppl %.4f", c + 1, n_chunks, scores.perplexity());
    bar.update(double(c + 1) / n_chunks, note);
  }
  bar.done();
  return scores;
}

void print_text(const nlohmann::json& j, bool with_base) {
  std::printf("perplexity of %s on %s: %.4f  (%d chunks of %d tokens, %lld scored, %.1f s)\n",
              j["model"].get<std::string>().c_str(), j["file"].get<std::string>().c_str(), j["perplexity"].get<double>(),
              j["chunks"].get<int>(), j["ctx"].get<int>(), (long long)j["tokens_scored"].get<int64_t>(),
              j["seconds"].get<double>());
  if (with_base)
    std::printf("vs base %s: base perplexity %.4f, ratio %.4f, mean KLD %.6f ± %.6f, same top token %.2f %%\n",
                j["base_model"].get<std::string>().c_str(), j["base_perplexity"].get<double>(),
                j["perplexity_ratio"].get<double>(), j["kld_mean"].get<double>(), j["kld_stderr"].get<double>(),
                100.0 * j["same_top_token"].get<double>());
}

}  // namespace

int cmd_perplexity(int argc, char** argv) {
  CLI::App app{"Perplexity and KL-divergence of a model on a text file", argv[0]};
  std::string model_path, base_path, text_path;
  int n_ctx = 256, threads = 2, max_chunks = 0;
  bool json = false, quiet = false;
  app.add_option("-m,--model", model_path, "GGUF model file")->required();
  app.add_option("-f,--file", text_path, "text file")->required();
  app.add_option("--ctx,-c", n_ctx, "tokens per chunk")->capture_default_str();
  app.add_option("--kl-base", base_path, "base model (e.g. the F32 file) for KL-divergence and same-top-token rate");
  app.add_option("--chunks", max_chunks, "score at most this many chunks (0: all)");
  app.add_option("-t,--threads", threads, "threads")->capture_default_str();
  app.add_flag("--json", json, "print one JSON object");
  app.add_flag("-q,--quiet", quiet, "no progress on stderr");
  std::vector<std::string> lora_args;
  app.add_option("--lora", lora_args, "LoRA adapter FILE[:SCALE] for -m (repeatable; the --kl-base model runs without)");
  CLI11_PARSE(app, argc, argv);

  try {
    if (n_ctx < 8 || n_ctx > 65536) throw Error("--ctx must be in [8, 65536]");
    const std::string text = read_text(text_path);
    auto model = load_model(model_path, quiet);
    std::unique_ptr<LlamaModel> base;
    if (!base_path.empty()) base = load_model(base_path, quiet);
    const Vocab vocab = Vocab::from_gguf(model->gguf());
    if (base) require_same_vocab(vocab, *base);
    const std::vector<int32_t> tokens = vocab.tokenize(text, vocab.add_bos());
    int n_chunks = int(tokens.size() / size_t(n_ctx));
    if (max_chunks > 0) n_chunks = std::min(n_chunks, max_chunks);
    if (n_chunks == 0)
      throw Error("the text has " + std::to_string(tokens.size()) + " tokens, fewer than one chunk of " +
                  std::to_string(n_ctx));

    ContextParams cp;
    cp.n_ctx = n_ctx;
    cp.n_batch = n_ctx;
    cp.n_outputs = n_ctx;
    cp.n_threads = threads;
    Context ctx(*model, cp);
    std::vector<LoraUse> loras;
    for (const auto& a : lora_args) loras.push_back(parse_lora_arg(a, *model));
    ctx.set_loras(std::move(loras));
    std::unique_ptr<Context> bctx;
    if (base) bctx = std::make_unique<Context>(*base, cp);

    const double t0 = now_ms();
    const Scores scores = score_chunks(ctx, bctx.get(), vocab, tokens, n_ctx, n_chunks, quiet);
    nlohmann::json j = {{"model", model_path}, {"file", text_path},   {"ctx", n_ctx},
                        {"chunks", n_chunks},  {"tokens_scored", scores.count}, {"perplexity", scores.perplexity()},
                        {"seconds", (now_ms() - t0) / 1000.0}};
    if (base) {
      j["base_model"] = base_path;
      scores.describe_base(j);
    }
    if (json) std::printf("%s\n", j.dump(2).c_str());
    else print_text(j, base != nullptr);
  } catch (const Error& e) {
    std::fprintf(stderr, "tandem perplexity: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace tandem::tools
