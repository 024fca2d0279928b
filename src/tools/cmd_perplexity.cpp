// tandem perplexity: perplexity of a model on a text file, and against a base model the mean
// KL-divergence and same-top-token rate (engine/text_scoring.h says how they are computed).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "engine/text_scoring.h"
#include "format/error.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace tandem::tools {

namespace {

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
    const std::string text = read_text_file(text_path, "text file");
    auto model = load_model(model_path, quiet);
    std::unique_ptr<LlamaModel> base;
    if (!base_path.empty()) base = load_model(base_path, quiet);
    TextScoringParams sp;
    sp.n_ctx = n_ctx;
    sp.max_chunks = max_chunks;
    sp.n_threads = threads;
    for (const auto& a : lora_args) sp.loras.push_back(parse_lora_arg(a, *model));
    Progress bar("perplexity", quiet);
    sp.on_chunk = [&](int done, int total, double ppl) {
      char note[64];
      std::snprintf(note, sizeof note, "chunk %d/%d, ppl %.4f", done, total, ppl);
      bar.update(double(done) / total, note);
    };
    const double t0 = now_ms();
    const TextScores s = score_text(*model, base.get(), text, sp);
    bar.done();
    nlohmann::json j = {{"model", model_path}, {"file", text_path},   {"ctx", n_ctx},
                        {"chunks", s.chunks},  {"tokens_scored", s.tokens_scored}, {"perplexity", s.perplexity},
                        {"seconds", (now_ms() - t0) / 1000.0}};
    if (base) {
      j["base_model"] = base_path;
      j["base_perplexity"] = s.reference_perplexity;
      j["perplexity_ratio"] = s.perplexity_ratio;
      j["kld_mean"] = s.kld_mean;
      j["kld_stderr"] = s.kld_stderr;
      j["same_top_token"] = s.same_top_token;
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
