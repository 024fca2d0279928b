// route_eval: how much of the cloud model's quality the gateway's routing signals recover per
// share of requests sent to the cloud, as RouteLLM measures routers (edge/route_quality.h).
//
// For each prompt (the first P tokens of each paragraph of a corpus) both models answer greedily
// with n tokens; the cloud model judges both answers by the mean log-probability it gives their
// tokens (the quality). Routers rank prompts by a signal and send the top share to the cloud:
//   entropy    the device model's next-token entropy after prefill (what tandem edge's router uses)
//   confidence minus the device answer's mean log-probability (what CASCADE uses, after answering)
//   random     the expectation of routing at random (APGR 0.5)
//   oracle     the actual gain, cloud minus device quality (the best any router can do)
// Prints APGR, CPT(50%), CPT(80%) and PGR at fixed shares per router, and with --plot the curves.
//
//   route_eval --device stories260K-q4_0.gguf --cloud stories260K-f32.gguf
//              --corpus ../shared/reference/corpus/stories260K-samples.txt --plot route.svg
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "edge/route_quality.h"
#include "engine/context.h"
#include "engine/vocab.h"
#include "format/error.h"
#include "ledger/plot_svg.h"
#include "model/llama_model.h"

using namespace tandem;

namespace {

// log-softmax of one row at `token`, and the row's entropy (nats).
double log_prob(const float* logits, int32_t n_vocab, int32_t token) {
  float mx = logits[0];
  for (int32_t i = 1; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double z = 0;
  for (int32_t i = 0; i < n_vocab; ++i) z += std::exp(double(logits[i] - mx));
  return double(logits[token] - mx) - std::log(z);
}

double entropy(const float* logits, int32_t n_vocab) {
  float mx = logits[0];
  for (int32_t i = 1; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double z = 0, s = 0;
  for (int32_t i = 0; i < n_vocab; ++i) {
    const double e = std::exp(double(logits[i] - mx));
    z += e;
    s += e * double(logits[i] - mx);
  }
  return std::log(z) - s / z;
}

int32_t argmax(const float* logits, int32_t n_vocab) {
  return int32_t(std::max_element(logits, logits + n_vocab) - logits);
}

struct Answer {
  std::vector<int32_t> tokens;
  double mean_logprob = 0;  // under the model that wrote it
};

// Greedy answer of n tokens (stopping after EOS) to a prompt whose last logits are `last`.
Answer greedy(Context& ctx, const float* last, int n, int32_t eos) {
  Answer a;
  const int32_t V = ctx.n_vocab();
  std::vector<float> row(last, last + V);
  for (int i = 0; i < n; ++i) {
    const int32_t t = argmax(row.data(), V);
    a.tokens.push_back(t);
    a.mean_logprob += log_prob(row.data(), V, t);
    if (t == eos || i + 1 == n) break;
    const float* next = ctx.eval(0, std::span<const int32_t>(&t, 1));
    row.assign(next, next + V);
  }
  a.mean_logprob /= double(a.tokens.size());
  return a;
}

// Mean log-probability the model in ctx gives `answer` after the prompt (whose last logits are
// `last`; the prompt is in sequence 0 at positions [0, prompt_len)).
double judge(Context& ctx, const float* last, int32_t prompt_len, const std::vector<int32_t>& answer) {
  const int32_t V = ctx.n_vocab();
  double s = log_prob(last, V, answer[0]);
  if (answer.size() > 1) {
    ctx.truncate(0, prompt_len);
    const float* rows = ctx.eval(0, std::span<const int32_t>(answer.data(), answer.size() - 1), true);
    for (size_t i = 1; i < answer.size(); ++i) s += log_prob(rows + (i - 1) * size_t(V), V, answer[i]);
  }
  return s / double(answer.size());
}

std::string pct(std::optional<double> v) {
  if (!v) return "never";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f %%", *v * 100);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"RouteLLM's router measures (APGR, CPT) for tandem edge's routing signals"};
  std::string device_path, cloud_path, corpus, plot;
  int prompt_tokens = 16, n = 32, max_prompts = 400, threads = 2;
  app.add_option("--device", device_path, "the device (weak) model")->required();
  app.add_option("--cloud", cloud_path, "the cloud (strong) model; it also judges")->required();
  app.add_option("--corpus", corpus, "text file; each non-empty line gives one prompt")->required();
  app.add_option("--prompt-tokens", prompt_tokens, "prompt length in tokens (BOS included)")->capture_default_str();
  app.add_option("-n", n, "answer length in tokens")->capture_default_str();
  app.add_option("--max-prompts", max_prompts, "at most this many prompts")->capture_default_str();
  app.add_option("-t,--threads", threads, "threads")->capture_default_str();
  app.add_option("--plot", plot, "write PGR against cloud share as an SVG line chart");
  CLI11_PARSE(app, argc, argv);
  try {
    if (prompt_tokens < 2 || n < 1) throw Error("--prompt-tokens must be at least 2 and -n at least 1");
    const auto device = LlamaModel::load(device_path);
    const auto cloud = LlamaModel::load(cloud_path);
    const Vocab vocab = Vocab::from_gguf(device->gguf());
    const Vocab cloud_vocab = Vocab::from_gguf(cloud->gguf());
    if (vocab.n_tokens() != cloud_vocab.n_tokens()) throw Error("the two models have different vocabularies");
    ContextParams cp;
    cp.n_ctx = prompt_tokens + n + 4;
    cp.n_threads = threads;
    Context dctx(*device, cp), cctx(*cloud, cp);
    std::ifstream in(corpus);
    if (!in) throw Error("cannot read " + corpus);

    std::vector<edge::RoutedItem> by_entropy, by_confidence;
    int identical = 0;
    double q_weak = 0, q_strong = 0;
    for (std::string line; std::getline(in, line) && int(by_entropy.size()) < max_prompts;) {
      std::vector<int32_t> toks = vocab.tokenize(line, true);
      if (int(toks.size()) < prompt_tokens + 4) continue;
      toks.resize(size_t(prompt_tokens));
      dctx.truncate(0, 0);
      cctx.truncate(0, 0);
      const int32_t V = dctx.n_vocab();
      const float* dl = dctx.eval(0, toks);
      const std::vector<float> dlast(dl, dl + V);
      const double h = entropy(dlast.data(), V);
      const Answer weak = greedy(dctx, dlast.data(), n, vocab.eos());
      const float* cl = cctx.eval(0, toks);
      const std::vector<float> clast(cl, cl + V);
      const Answer strong = greedy(cctx, clast.data(), n, vocab.eos());
      const double qw = judge(cctx, clast.data(), prompt_tokens, weak.tokens);
      const double qs = strong.mean_logprob;  // the judge's own answer: its log-probs as written
      identical += weak.tokens == strong.tokens;
      q_weak += qw;
      q_strong += qs;
      by_entropy.push_back({h, qw, qs});
      by_confidence.push_back({-weak.mean_logprob, qw, qs});
      if (by_entropy.size() % 50 == 0) std::fprintf(stderr, "route_eval: %zu prompts\n", by_entropy.size());
    }
    const size_t N = by_entropy.size();
    if (N < 10) throw Error("fewer than 10 prompts of " + std::to_string(prompt_tokens + 4) + "+ tokens in " + corpus);

    struct Row {
      std::string name, short_name;
      edge::QualityCurve c;
    };
    const std::vector<Row> rows = {{"random (expected)", "random", edge::random_curve(N)},
                                   {"entropy after prefill (edge router)", "entropy", edge::pgr_curve(by_entropy)},
                                   {"device answer confidence (CASCADE)", "confidence", edge::pgr_curve(by_confidence)},
                                   {"oracle (actual gain)", "oracle", edge::oracle_curve(by_entropy)}};
    std::printf("route_eval: %zu prompts of %d tokens, answers of %d tokens; device %s, cloud %s (judge)\n", N,
                prompt_tokens, n, device_path.c_str(), cloud_path.c_str());
    std::printf("quality = the cloud model's mean log-prob of an answer's tokens: all-device %.4f, all-cloud %.4f "
                "(gap %.4f); identical answers %d of %zu\n\n",
                q_weak / double(N), q_strong / double(N), (q_strong - q_weak) / double(N), identical, N);
    if (rows[1].c.pgr.empty()) throw Error("no quality gap between the models on these prompts: nothing to route");
    std::printf("| router | APGR | CPT(50%%) | CPT(80%%) | PGR at 10%% | 20%% | 50%% |\n|---|---|---|---|---|---|---|\n");
    for (const auto& r : rows)
      std::printf("| %s | %.3f | %s | %s | %.3f | %.3f | %.3f |\n", r.name.c_str(), edge::apgr(r.c),
                  pct(edge::cpt(r.c, 0.5)).c_str(), pct(edge::cpt(r.c, 0.8)).c_str(), edge::pgr_at(r.c, 0.1),
                  edge::pgr_at(r.c, 0.2), edge::pgr_at(r.c, 0.5));
    if (!plot.empty()) {
      ledger::LineChart ch;
      ch.title = "Quality gap recovered against share sent to the cloud (" + std::to_string(N) + " prompts)";
      ch.y_label = "PGR";
      ch.y_from_zero = false;
      for (int i = 0; i <= 20; ++i) ch.x_labels.push_back(std::to_string(i * 5) + "%");
      for (const auto& r : rows) {
        ledger::PlotSeries s{r.short_name, {}};
        for (int i = 0; i <= 20; ++i) s.values.push_back(edge::pgr_at(r.c, i / 20.0));
        ch.series.push_back(s);
      }
      std::ofstream(plot) << ledger::line_chart_svg(ch);
      std::fprintf(stderr, "route_eval: wrote %s\n", plot.c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "route_eval: %s\n", e.what());
    return 1;
  }
  return 0;
}
