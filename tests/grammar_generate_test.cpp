// Constrained generation on real models, judged by an independent validator: every output under
// 34 JSON Schemas, sampled from stories260K (SentencePiece, 512 tokens) and from a random-weights
// model with Llama 3's 128K byte-level BPE vocabulary (whose free output is noise), must be JSON
// that Debian's python3-fastjsonschema (tests/grammar_validate.py) accepts. A generation may stop
// only where the grammar ends, or at max_tokens.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "engine/context.h"
#include "engine/generate.h"
#include "engine/grammar.h"
#include "engine/sampler.h"
#include "engine/vocab.h"
#include "model/llama_model.h"
#include "test_util.h"

namespace tandem {
namespace {

using test::kSanitized;

std::string schemas_path() { return test::source_dir() + "/tests/data/grammar/schemas.json"; }

struct Tally {
  int stop = 0, length = 0, forced = 0;
};

// Generates per_schema outputs under every schema (seeds and temperatures varied), writes them
// as JSON lines for the validator and returns the finish reasons.
Tally generate_all(const std::string& model_path, int per_schema, int n_predict, const std::string& out_path) {
  std::ifstream in(schemas_path());
  const auto schemas = nlohmann::json::parse(in);
  auto model = LlamaModel::load(model_path);
  const Vocab vocab = Vocab::from_gguf(model->gguf());
  auto gv = GrammarVocab::build(vocab);
  ContextParams cp;
  cp.n_ctx = 64 + n_predict;
  cp.n_outputs = 1;
  Context ctx(*model, cp);
  const std::vector<int32_t> prompt = vocab.tokenize("Once upon a time, the answer in JSON was", true);
  std::ofstream out(out_path);
  Tally t;
  for (size_t s = 0; s < schemas.size(); ++s) {
    const Grammar g = Grammar::from_json_schema(schemas[s].dump());
    for (int k = 0; k < per_schema; ++k) {
      SamplerParams sp;
      sp.temperature = k == 0 ? 0.f : 0.5f + 0.25f * float(k % 5);
      sp.top_k = k % 3 == 1 ? 40 : 0;
      sp.top_p = k % 3 == 2 ? 0.9f : 1.f;
      sp.min_p = k % 4 == 3 ? 0.05f : 0.f;
      sp.seed = uint64_t(1000 * s + size_t(k));
      Sampler sampler(sp, model->hparams().n_vocab);
      GrammarMatcher m(g, gv);
      GenerateOptions opt;
      opt.n_predict = n_predict;
      opt.grammar = &m;
      const GenerateResult r = generate(ctx, vocab, sampler, prompt, opt);
      t.forced += r.forced_tokens;
      if (r.finish_reason == "stop") {
        ++t.stop;
        EXPECT_TRUE(m.can_end()) << r.text;
        out << nlohmann::json{{"schema", s}, {"text", r.text}}.dump() << "\n";
      } else {
        ++t.length;
        EXPECT_EQ(r.finish_reason, "length");
        EXPECT_EQ(int(r.tokens.size()), n_predict);
      }
    }
  }
  return t;
}

void validate(const std::string& outputs) {
  std::string log;
  const int rc = test::run_command("/usr/bin/python3 " + test::source_dir() + "/tests/grammar_validate.py " +
                                       schemas_path() + " " + outputs, &log);
  if (WEXITSTATUS(rc) == 2) GTEST_SKIP() << log;
  EXPECT_EQ(rc, 0) << log;
  std::printf("validator: %s", log.substr(log.rfind('\n', log.size() - 2) + 1).c_str());
}

TEST(GrammarGenerate, Stories260KOutputsValidate) {
  const std::string model = test::model_path("stories260K-f32.gguf");
  TANDEM_REQUIRE_FILE(model);
  const std::string outputs = test::temp_path("grammar-stories") + ".jsonl";
  const Tally t = generate_all(model, kSanitized ? 3 : 10, 256, outputs);
  std::printf("stories260K: %d stop, %d length, %d forced tokens\n", t.stop, t.length, t.forced);
  EXPECT_GE(t.stop, t.length * 5);  // running out of tokens is the exception
  validate(outputs);
}

TEST(GrammarGenerate, RandomWeightsBpeOutputsValidate) {
  const std::string vocab = test::shared_dir() + "/reference/vocab/ggml-vocab-llama-bpe.gguf";
  TANDEM_REQUIRE_FILE(vocab);
  const std::string model = test::temp_path("grammar-synth") + ".gguf";
  std::string log;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " synth --shape stories260K --type q8_0 --vocab " + vocab +
                                  " -o " + model,
                              &log),
            0)
      << log;
  const std::string outputs = test::temp_path("grammar-synth") + ".jsonl";
  const Tally t = generate_all(model, kSanitized ? 1 : 3, 256, outputs);
  std::printf("random weights, 128K BPE: %d stop, %d length, %d forced tokens\n", t.stop, t.length, t.forced);
  EXPECT_GE(t.stop, t.length * 10);
  validate(outputs);
  std::remove(model.c_str());
}

}  // namespace
}  // namespace tandem
