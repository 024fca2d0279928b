// The grammar on its surfaces: the C API (tandem_session_set_json_schema / _set_grammar with
// tandem_generate and tandem_sample), `tandem run --json-schema / --grammar` and its errors, and
// matchers of one grammar used from several threads (the shared state cache is locked).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <thread>

#include "engine/grammar.h"
#include "engine/vocab.h"
#include "format/gguf.h"
#include "tandem/tandem.h"
#include "test_util.h"

namespace tandem {
namespace {

const char* kPersonSchema =
    R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,)"
    R"("maximum":120},"pet":{"enum":["cat","dog"]}},"required":["name","age","pet"],"additionalProperties":false})";

bool append_piece(int32_t, const char* piece, size_t len, void* out) {
  static_cast<std::string*>(out)->append(piece, len);
  return true;
}

TEST(GrammarCApi, SchemaConstrainsGenerateAndSample) {
  const std::string path = test::model_path("stories260K-f32.gguf");
  TANDEM_REQUIRE_FILE(path);
  char err[256];
  tandem_model* m = tandem_model_load(path.c_str(), err, sizeof err);
  ASSERT_NE(m, nullptr) << err;
  tandem_session_params p = tandem_session_default_params();
  p.temperature = 1.0f;
  p.seed = 7;
  tandem_session* s = tandem_session_new(m, &p, err, sizeof err);
  ASSERT_NE(s, nullptr) << err;
  // A bad schema is an error naming the keyword, and leaves the session as it was.
  EXPECT_LT(tandem_session_set_json_schema(s, R"({"type":"object","not":{}})", err, sizeof err), 0);
  EXPECT_NE(std::string(err).find("unsupported keyword 'not'"), std::string::npos) << err;
  EXPECT_LT(tandem_session_set_grammar(s, "root ::= (\"a\"", err, sizeof err), 0);
  EXPECT_NE(std::string(err).find("line 1"), std::string::npos) << err;
  ASSERT_EQ(tandem_session_set_json_schema(s, kPersonSchema, err, sizeof err), 0) << err;
  for (int run = 0; run < 3; ++run) {
    std::string text;
    ASSERT_GT(tandem_generate(s, "Once upon a time", 120, append_piece, &text, err, sizeof err), 0) << err;
    const auto j = nlohmann::json::parse(text);  // throws unless the output is JSON
    EXPECT_TRUE(j["name"].is_string() && j["age"].is_number_integer() && (j["pet"] == "cat" || j["pet"] == "dog"))
        << text;
  }
  // Token by token: tandem_sample picks only allowed tokens and advances the grammar.
  ASSERT_EQ(tandem_session_reset(s), 0);
  ASSERT_EQ(tandem_session_set_grammar(s, "root ::= \"yes\" | \"no\"\n", err, sizeof err), 0) << err;
  int32_t prompt[1] = {tandem_model_token_bos(m)};
  float* logits = nullptr;
  ASSERT_EQ(tandem_eval(s, prompt, 1, &logits), 0);
  std::string text;
  for (int i = 0; i < 8; ++i) {
    const int32_t t = tandem_sample(s, logits);
    ASSERT_NE(t, TANDEM_ERROR) << tandem_last_error();
    if (tandem_model_is_eog(m, t)) break;
    char buf[64];
    const int32_t n = tandem_token_to_piece(m, t, buf, sizeof buf);
    ASSERT_GE(n, 0);
    text.append(buf, size_t(n));
    ASSERT_EQ(tandem_eval(s, &t, 1, &logits), 0);
  }
  EXPECT_TRUE(text == "yes" || text == "no") << text;
  ASSERT_EQ(tandem_session_set_grammar(s, nullptr, err, sizeof err), 0);  // removes it
  tandem_session_free(s);
  tandem_model_free(m);
}

TEST(GrammarCli, RunWithSchemaAndGrammarFiles) {
  const std::string model = test::model_path("stories260K-f32.gguf");
  TANDEM_REQUIRE_FILE(model);
  const std::string schema = test::temp_path("cli-schema") + ".json";
  const std::string gbnf = test::temp_path("cli-grammar") + ".gbnf";
  { std::ofstream(schema) << kPersonSchema; }
  { std::ofstream(gbnf) << "root ::= \"The \" [a-z]+ \".\"\n"; }
  std::string out;
  const std::string run = test::tandem_binary() + " run -m " + model + " -p 'Once upon a time' -n 100 --json -s 1 ";
  ASSERT_EQ(test::run_command(run + "--json-schema " + schema, &out), 0) << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["finish_reason"], "stop");
  const auto doc = nlohmann::json::parse(j["text"].get<std::string>());
  EXPECT_TRUE(doc["age"].is_number_integer()) << j["text"];
  EXPECT_GE(j["timings"]["forced_tokens"].get<int>(), 1);
  EXPECT_GE(j["timings"]["grammar_ms"].get<double>(), 0.0);
  ASSERT_EQ(test::run_command(run + "--grammar " + gbnf, &out), 0) << out;
  j = nlohmann::json::parse(out);
  const std::string text = j["text"];
  ASSERT_GE(text.size(), 6u);
  EXPECT_EQ(text.substr(0, 4), "The ");
  EXPECT_EQ(text.back(), '.');
  // Errors come before the model is loaded and say what and where.
  { std::ofstream(schema) << R"({"type":"object","properties":{"a":{"type":"string","format":"uri"}}})"; }
  EXPECT_NE(test::run_command(run + "--json-schema " + schema, &out), 0);
  EXPECT_NE(out.find("#/properties/a/format': unsupported format \"uri\""), std::string::npos) << out;
  { std::ofstream(gbnf) << "root ::= expr\nexpr ::= expr \"+\" | \"1\"\n"; }
  EXPECT_NE(test::run_command(run + "--grammar " + gbnf, &out), 0);
  EXPECT_NE(out.find("line 2, column 1: left recursion"), std::string::npos) << out;
  EXPECT_NE(test::run_command(run + "--grammar " + gbnf + " --json-schema " + schema, &out), 0);
  EXPECT_NE(out.find("not both"), std::string::npos) << out;
}

// Matchers of one grammar on two threads share its state cache; a copy advanced on one thread and
// rolled back leaves the original untouched.
TEST(EngineGrammar, MatchersShareTheCacheAcrossThreads) {
  const std::string v = test::shared_dir() + "/reference/vocab/ggml-vocab-llama-bpe.gguf";
  TANDEM_REQUIRE_FILE(v);
  const GgufFile f = GgufFile::open(v);
  const Vocab vocab = Vocab::from_gguf(f);
  auto gv = GrammarVocab::build(vocab);
  const Grammar g = Grammar::from_json_schema(kPersonSchema);
  const std::string doc = R"({"name":"Ada","age":36,"pet":"cat"})";
  const std::vector<int32_t> tokens = vocab.tokenize(doc, false);
  auto walk = [&](int* ok) {
    GrammarMatcher m(g, gv);
    TokenBitset allowed;
    for (int32_t t : tokens) {
      m.fill_mask(allowed);
      if (!allowed.test(t)) return;
      GrammarMatcher draft = m;  // speculation: advance a copy, then drop it
      draft.accept(t);
      const auto cp = m.checkpoint();
      if (!m.accept(t)) return;
      m.rollback(cp);
      m.accept(t);
    }
    *ok = m.can_end() ? 1 : 0;
  };
  int ok1 = 0, ok2 = 0;
  std::thread a(walk, &ok1), b(walk, &ok2);
  a.join();
  b.join();
  EXPECT_EQ(ok1, 1);
  EXPECT_EQ(ok2, 1);
}

}  // namespace
}  // namespace tandem
