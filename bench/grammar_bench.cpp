// grammar_bench: the cost of grammar-constrained decoding per vocabulary — building the
// vocabulary's trie, compiling a schema, and computing one step's token mask (median, P99) while
// a seeded random walk over the allowed tokens generates documents under realistic schemas.
// Each run starts with a fresh grammar (cold caches), so the P99 includes first visits of states.
//   grammar_bench [--vocab-dir DIR] [--runs N] [--steps N]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "engine/grammar.h"
#include "engine/vocab.h"
#include "format/gguf.h"

using namespace tandem;

namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct NamedSchema {
  const char* name;
  const char* schema;
};

const NamedSchema kSchemas[] = {
    {"nested object",
     R"({"type":"object","properties":{"user":{"type":"object","properties":{"id":{"type":"integer","minimum":1},
        "name":{"type":"string","maxLength":40},"address":{"type":"object","properties":{"street":{"type":"string",
        "maxLength":60},"city":{"type":"string","maxLength":30},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},
        "required":["street","city","zip"],"additionalProperties":false}},"required":["id","name","address"],
        "additionalProperties":false},"active":{"type":"boolean"}},"required":["user","active"],"additionalProperties":false})"},
    {"array of objects",
     R"({"type":"array","items":{"type":"object","properties":{"sku":{"type":"string","maxLength":12},
        "qty":{"type":"integer","minimum":1,"maximum":999},"price":{"type":"number","minimum":0}},
        "required":["sku","qty","price"],"additionalProperties":false},"minItems":1,"maxItems":8})"},
    {"enums",
     R"({"type":"object","properties":{"level":{"enum":["debug","info","warning","error","critical"]},
        "color":{"enum":["red","green","blue","cyan","magenta","yellow"]},"ok":{"const":true}},
        "required":["level","color","ok"],"additionalProperties":false})"},
    {"long strings",
     R"({"type":"object","properties":{"title":{"type":"string","maxLength":200},"body":{"type":"string",
        "maxLength":2000}},"required":["title","body"],"additionalProperties":false})"},
    {"any JSON object", nullptr},
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

void bench_vocab(const std::string& path, int runs, int max_steps) {
  const GgufFile f = GgufFile::open(path);
  const Vocab vocab = Vocab::from_gguf(f);
  double t0 = now_ms();
  auto gv = GrammarVocab::build(vocab);
  const double build_ms = now_ms() - t0;
  std::printf("\n%s: %d tokens, trie of %zu nodes built in %.1f ms\n", path.substr(path.rfind('/') + 1).c_str(),
              vocab.n_tokens(), gv->n_nodes(), build_ms);
  std::printf("| schema | compile ms | steps | mask median ms | mask P99 ms | forced |\n|---|---|---|---|---|---|\n");
  for (const auto& s : kSchemas) {
    std::vector<double> step_ms, compile_ms;
    int forced = 0;
    for (int run = 0; run < runs; ++run) {
      t0 = now_ms();
      const Grammar g = s.schema ? Grammar::from_json_schema(s.schema) : Grammar::any_json_object();
      compile_ms.push_back(now_ms() - t0);
      GrammarMatcher m(g, gv);
      std::mt19937_64 rng{uint64_t(run)};
      TokenBitset allowed;
      std::vector<int32_t> ids;
      for (int step = 0; step < max_steps; ++step) {
        t0 = now_ms();
        m.fill_mask(allowed);
        const int32_t f1 = m.forced_token(allowed);
        step_ms.push_back(now_ms() - t0);
        if (f1 >= 0) ++forced;
        if (m.is_finished()) break;
        ids.clear();
        for (int32_t t = 0; t < allowed.size(); ++t)
          if (allowed.test(t)) ids.push_back(t);
        std::erase_if(ids, [&](int32_t t) { return vocab.is_eog(t); });
        if (ids.empty()) break;
        m.accept(f1 >= 0 && !vocab.is_eog(f1) ? f1 : ids[rng() % ids.size()]);
      }
    }
    std::printf("| %s | %.2f | %zu | %.3f | %.3f | %d |\n", s.name, percentile(compile_ms, 0.5), step_ms.size(),
                percentile(step_ms, 0.5), percentile(step_ms, 0.99), forced);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Token mask cost of grammar-constrained decoding per vocabulary"};
  std::string dir = "../shared/reference/vocab";
  int runs = 5, steps = 400;
  app.add_option("--vocab-dir", dir, "folder with ggml-vocab-{llama-spm,llama-bpe,qwen2}.gguf")->capture_default_str();
  app.add_option("--runs", runs, "documents per schema")->capture_default_str();
  app.add_option("--steps", steps, "most steps per document")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    for (const char* v : {"llama-spm", "llama-bpe", "qwen2"}) bench_vocab(dir + "/ggml-vocab-" + v + ".gguf", runs, steps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "grammar_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
