// The grammar engine: GBNF as llama.cpp reads it (cases from llama.cpp's own tests and grammar
// examples), errors with locations, token masks on real SentencePiece and byte-level BPE
// vocabularies checked token by token, checkpoints, and JSON Schema errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "engine/grammar.h"
#include "engine/grammar_schema.h"
#include "engine/vocab.h"
#include "format/error.h"
#include "format/gguf.h"
#include "test_util.h"

namespace tandem {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string data(const std::string& name) { return test::source_dir() + "/tests/data/grammar/" + name; }

// Whether the whole text is a sentence of the grammar (bytes, no vocabulary involved).
bool matches(const Grammar& g, std::string_view text) {
  GrammarMatcher m(g, std::make_shared<GrammarVocab>());
  return m.accept_bytes(text) && m.can_end();
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Grammar, LlamaCppIntegrationCases) {
  const auto doc = nlohmann::json::parse(slurp(data("llamacpp_gbnf_cases.json")));
  ASSERT_GE(doc["cases"].size(), 10u);
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const Grammar g = Grammar::from_gbnf(c["grammar"].get<std::string>());
    for (const auto& s : c["accept"]) EXPECT_TRUE(matches(g, s.get<std::string>())) << s;
    for (const auto& s : c["reject"]) EXPECT_FALSE(matches(g, s.get<std::string>())) << s;
  }
}

TEST(Grammar, LlamaCppExampleGrammars) {
  struct Case {
    const char* file;
    std::vector<std::string> accept, reject;
  };
  const Case cases[] = {
      {"json.gbnf", {"{\"a\": 1}", "{\n  \"k\": [1, 2.5e3, \"x\\n\", true, null]}", "{\"é\": \"€😀\"}"},
       {"[]", "{\"a\" 1}", "{\"a\": 01}", "{\"a\": \"\x01\"}"}},
      {"json_arr.gbnf", {"[\n]", "[\n{\"a\": 1},\n2]"}, {"{}", "[\n1,\n]"}},
      {"arithmetic.gbnf", {"1+2*3=7\n", "(1-2)/x=y\n"}, {"1+=2\n", "1+2"}},
      {"list.gbnf", {"- apples\n- pears\n"}, {"apples\n", "- \n"}},
      {"chess.gbnf", {"1. e4 e5\n2. Nf3 Nc6\n"}, {"1. e9 e5\n2. Nf3 Nc6\n"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const Grammar g = Grammar::from_gbnf(slurp(data(c.file)));
    for (const auto& s : c.accept) EXPECT_TRUE(matches(g, s)) << s;
    for (const auto& s : c.reject) EXPECT_FALSE(matches(g, s)) << s;
  }
}

TEST(Grammar, SyntaxFeatures) {
  const Grammar g = Grammar::from_gbnf(
      "root ::= (\"ab\"{2} | [x-z]{1,3} | \"\\u00e9\" |\n  [^\\x00-\\x7F]+ | \".\" .) \"!\"? tail  # comment\n"
      "tail ::= | \"\\n\"\n");
  for (const char* ok : {"abab", "x", "xyz", "é", "日本語", "..", ".\n", "abab!", "x!\n"}) EXPECT_TRUE(matches(g, ok)) << ok;
  for (const char* bad : {"ab", "xyzx", "e", "a\xC3", "!", "\xC0\xAB"}) EXPECT_FALSE(matches(g, bad)) << bad;
}

TEST(Grammar, ErrorsNameTheProblemAndWhere) {
  auto err = [](const std::string& text) { return error_of([&] { Grammar::from_gbnf(text); }); };
  EXPECT_NE(err("root ::= \"a\" (\"b\"\n").find("line 1, column 14: unmatched '('"), std::string::npos);
  EXPECT_NE(err("root ::= x\n\nx ::= \"a\" y\n").find("line 3, column 11: rule 'y' is not defined"), std::string::npos);
  EXPECT_NE(err("root ::= expr\nexpr ::= expr \"+\" \"1\" | \"1\"\n").find("line 2, column 1: left recursion: rule 'expr'"),
            std::string::npos);
  EXPECT_NE(err("root ::= \"a\" root\n").find("can never end"), std::string::npos);
  EXPECT_NE(err("root ::= \"a\" | b\nb ::= \"b\" b\n").find("rule 'b' has no alternative that finishes"), std::string::npos);
  EXPECT_NE(err("item ::= \"a\"\n").find("no rule 'root'"), std::string::npos);
  EXPECT_NE(err("root ::= \"abc\n").find("line 1, column 10: unterminated string literal"), std::string::npos);
  EXPECT_NE(err("root ::= [a-").find("unterminated character class"), std::string::npos);
  EXPECT_NE(err("root ::= \"\\q\"\n").find("unknown escape"), std::string::npos);
  EXPECT_NE(err("root ::= <think>\n").find("token references"), std::string::npos);
  EXPECT_NE(err("root ::= \"a\"{3,2}\n").find("n < m"), std::string::npos);
  EXPECT_NE(err("root ::= \"a\"{1000000}\n").find("repetition count above"), std::string::npos);
  EXPECT_NE(err("root ::= \"a\" root ::= \"b\"\n").find("newline before the next rule"), std::string::npos);
  EXPECT_NE(err("root ::= \"a\"\nroot ::= \"b\"\n").find("defined twice"), std::string::npos);
  EXPECT_NE(err("root ::= a \"!\"\na ::= b? a \"x\" | \"y\"\nb ::= \"b\"\n").find("left recursion: rule 'a'"),
            std::string::npos);
}

// Every token the mask allows is accepted from the same state and every other one rejected,
// on the real vocabularies, for states inside multi-byte characters and across symbols.
void check_mask_against_tokens(const std::string& vocab_file, const std::string& gbnf, const std::string& path,
                               size_t stride = 1) {
  const GgufFile f = GgufFile::open(vocab_file);
  const Vocab vocab = Vocab::from_gguf(f);
  auto gv = GrammarVocab::build(vocab);
  const Grammar g = Grammar::from_gbnf(gbnf);
  GrammarMatcher m(g, gv);
  TokenBitset allowed;
  for (size_t step = 0; step <= path.size(); ++step) {
    if (step % stride != 0 && step + 3 < path.size()) {
      ASSERT_TRUE(m.accept_bytes(path.substr(step, 1))) << step;
      continue;
    }
    m.fill_mask(allowed);
    int32_t n_allowed = 0;
    for (int32_t t = 0; t < vocab.n_tokens(); ++t) {
      GrammarMatcher copy = m;
      const bool ok = copy.accept(t);
      ASSERT_EQ(allowed.test(t), ok) << "step " << step << " token " << t << " '" << vocab.token_to_piece(t) << "'";
      if (vocab.is_eog(t)) EXPECT_EQ(allowed.test(t), m.can_end());
      n_allowed += ok;
    }
    EXPECT_EQ(n_allowed, allowed.count());
    if (step < path.size()) ASSERT_TRUE(m.accept_bytes(path.substr(step, 1))) << step;
  }
  EXPECT_TRUE(m.can_end());
}

const char* kMixedGrammar = "root ::= \"{\\\"k\\\": \\\"\" [a-zé€😀 ]{0,8} \"\\\"}\" \"\\n\"?\n";
const std::string kMixedPath = "{\"k\": \"a é€😀\"}";

TEST(Grammar, MaskMatchesTokenByTokenSpm) {
  const std::string v = test::shared_dir() + "/reference/vocab/ggml-vocab-llama-spm.gguf";
  TANDEM_REQUIRE_FILE(v);
  check_mask_against_tokens(v, kMixedGrammar, kMixedPath);
}

TEST(Grammar, MaskMatchesTokenByTokenBpe) {
  const std::string v = test::shared_dir() + "/reference/vocab/ggml-vocab-qwen2.gguf";
  TANDEM_REQUIRE_FILE(v);
  check_mask_against_tokens(v, kMixedGrammar, kMixedPath);
}

// Long counted repetitions: states with more copies left than a token has bytes share a mask
// (StateCache::saturate); it must still be exactly right, near the end of the count too.
void check_counted(const std::string& vocab_file, char c) {
  const GgufFile f = GgufFile::open(vocab_file);
  const int32_t longest = GrammarVocab::build(Vocab::from_gguf(f))->max_token_bytes();
  const int n = 2 * longest + 10;  // far more copies than a token has bytes, then the end
  const std::string gbnf = "root ::= \"\\\"\" [a-z ]{0," + std::to_string(n) + "} \"\\\"\"\n";
  check_mask_against_tokens(vocab_file, gbnf, "\"" + std::string(size_t(n), c) + "\"", size_t(longest / 3 + 1));
}

TEST(Grammar, MaskOfLongCountedRepetitionSpm) {
  const std::string v = test::shared_dir() + "/reference/vocab/ggml-vocab-llama-spm.gguf";
  TANDEM_REQUIRE_FILE(v);
  check_counted(v, 'a');
}

TEST(Grammar, MaskOfLongCountedRepetitionBpe) {
  const std::string v = test::shared_dir() + "/reference/vocab/ggml-vocab-llama-bpe.gguf";
  TANDEM_REQUIRE_FILE(v);
  check_counted(v, 'b');
}

TEST(Grammar, TokensSpanningSymbolsAndForcedTokens) {
  const std::string v = test::shared_dir() + "/reference/vocab/ggml-vocab-llama-bpe.gguf";
  TANDEM_REQUIRE_FILE(v);
  const GgufFile f = GgufFile::open(v);
  const Vocab vocab = Vocab::from_gguf(f);
  auto gv = GrammarVocab::build(vocab);
  const Grammar g = Grammar::from_gbnf("root ::= \"hello\" \" world\" [0-9]\n");
  GrammarMatcher m(g, gv);
  TokenBitset allowed;
  m.fill_mask(allowed);
  const int32_t hello = vocab.find_token("hello");
  ASSERT_GE(hello, 0);
  EXPECT_TRUE(allowed.test(hello));
  EXPECT_TRUE(allowed.test(vocab.find_token("h")));
  EXPECT_FALSE(allowed.test(vocab.find_token("Hello")));
  EXPECT_EQ(m.forced_token(allowed), -1);  // "h", "he", "hell", "hello" all fit
  const GrammarMatcher::Checkpoint start = m.checkpoint();
  ASSERT_TRUE(m.accept(hello));
  m.fill_mask(allowed);
  EXPECT_TRUE(allowed.test(vocab.find_token("Ġworld")));
  ASSERT_TRUE(m.accept(vocab.find_token("Ġworld")));
  m.fill_mask(allowed);
  EXPECT_EQ(allowed.count(), 10);  // the ten digits
  EXPECT_FALSE(m.can_end());
  ASSERT_TRUE(m.accept(vocab.find_token("7")));
  EXPECT_TRUE(m.is_finished());
  m.fill_mask(allowed);
  EXPECT_EQ(allowed.count(), int32_t(vocab.eog_ids().size()));
  EXPECT_TRUE(vocab.is_eog(m.forced_token(allowed)));
  m.rollback(start);
  EXPECT_FALSE(m.accept(vocab.find_token("7")));
  EXPECT_TRUE(m.accept_bytes("hello wor"));
}

TEST(Grammar, SchemaErrorsNameKeywordAndPointer) {
  auto err = [](const std::string& schema) { return error_of([&] { Grammar::from_json_schema(schema); }); };
  EXPECT_NE(err(R"({"type":"object","properties":{"a":{"type":"string","uniqueItems":true}}})")
                .find("schema at '#/properties/a': unsupported keyword 'uniqueItems'"),
            std::string::npos);
  EXPECT_NE(err(R"({"allOf":[{}]})").find("unsupported keyword 'allOf'"), std::string::npos);
  EXPECT_NE(err(R"({"type":"strin"})").find("#/type': unknown type \"strin\""), std::string::npos);
  EXPECT_NE(err(R"({"type":"object",)").find("not valid JSON"), std::string::npos);
  EXPECT_NE(err(R"({"$ref":"#/$defs/missing"})").find("points to nothing"), std::string::npos);
  EXPECT_NE(err(R"({"$ref":"http://example.com/s.json"})").find("only references inside the schema"), std::string::npos);
  EXPECT_NE(err(R"({"type":"string","format":"uri"})").find("unsupported format \"uri\""), std::string::npos);
  EXPECT_NE(err(R"({"type":"string","pattern":"^(?=a)b$"})").find("lookaround"), std::string::npos);
  EXPECT_NE(err(R"({"type":"number","minimum":1.1,"maximum":1.5})").find("same whole part"), std::string::npos);
  EXPECT_NE(err(R"({"type":"number","minimum":1e-7})").find("only plain decimals"), std::string::npos);
  EXPECT_NE(err(R"({"type":"array","minItems":3,"maxItems":2})").find("maxItems < minItems"), std::string::npos);
  // Recursion without a base case: every node needs a next node.
  EXPECT_NE(err(R"({"$defs":{"n":{"type":"object","properties":{"next":{"$ref":"#/$defs/n"}},"required":["next"],
                 "additionalProperties":false}},"$ref":"#/$defs/n"})")
                .find("can never end"),
            std::string::npos);
  std::string big = "{\"enum\":[";
  for (int i = 0; i < 200000; ++i) big += (i ? "," : "") + std::to_string(i);
  EXPECT_NE(err(big + "]}").find("too large"), std::string::npos);
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "{\"items\":";
  deep += "{}" + std::string(100, '}');
  EXPECT_NE(err(deep).find("nested more than 64"), std::string::npos);
}

TEST(Grammar, NumberBoundsWithFractions) {
  const Grammar g = Grammar::from_json_schema(R"({"type":"number","minimum":-1.5,"exclusiveMaximum":2.25})");
  for (const char* ok : {"-1.5", "-1.49", "-1", "0", "0.0001", "2", "2.2", "2.249", "1.999"}) EXPECT_TRUE(matches(g, ok)) << ok;
  for (const char* bad : {"-1.51", "-2", "2.25", "2.250", "2.3", "3", "1e2"}) EXPECT_FALSE(matches(g, bad)) << bad;
  const Grammar pos = Grammar::from_json_schema(R"({"type":"number","exclusiveMinimum":0})");
  EXPECT_TRUE(matches(pos, "0.5"));
  EXPECT_TRUE(matches(pos, "12"));
  EXPECT_FALSE(matches(pos, "0"));
  EXPECT_FALSE(matches(pos, "0.000"));
  EXPECT_FALSE(matches(pos, "-0.5"));
}

TEST(Grammar, SchemaConstructs) {
  const Grammar g = Grammar::from_json_schema(R"({
    "type": "object",
    "properties": {
      "id": {"type": "string", "format": "uuid"},
      "n": {"type": "integer", "minimum": -5, "exclusiveMaximum": 100},
      "x": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
      "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "minItems": 1, "maxItems": 2},
      "kind": {"anyOf": [{"const": "a"}, {"type": "null"}]},
      "code": {"type": "string", "pattern": "^[A-Z]{2}-\\d{2,3}$"},
      "when": {"type": "string", "format": "date-time"},
      "next": {"$ref": "#"}
    },
    "required": ["id", "n"],
    "additionalProperties": false})");
  const std::string id = R"("id":"123e4567-e89b-12d3-a456-426614174000")";
  for (const std::string ok : {"{" + id + ",\"n\":-5}", "{" + id + ",\"n\":99,\"x\":0.25}", "{" + id + ",\"n\":0,\"x\":1.0}",
                               "{" + id + ",\"n\":1,\"tags\":[\"ab\",\"\"],\"kind\":null,\"code\":\"AB-123\"}",
                               "{" + id + ",\"n\":1,\"when\":\"2024-02-29T12:30:00Z\",\"next\":{" + id + ",\"n\":2}}"})
    EXPECT_TRUE(matches(g, ok)) << ok;
  for (const std::string bad : {"{" + id + "}", "{\"n\":1," + id + "}", "{" + id + ",\"n\":100}", "{" + id + ",\"n\":-6}",
                                "{" + id + ",\"n\":1,\"x\":0}", "{" + id + ",\"n\":1,\"x\":1.5}", "{" + id + ",\"n\":01}",
                                "{" + id + ",\"n\":1,\"tags\":[]}", "{" + id + ",\"n\":1,\"tags\":[\"abcd\"]}",
                                "{" + id + ",\"n\":1,\"code\":\"AB-1\"}", "{" + id + ",\"n\":1,\"extra\":1}",
                                "{" + id + ", \"n\":1}"})
    EXPECT_FALSE(matches(g, bad)) << bad;
  const Grammar obj = Grammar::any_json_object();
  EXPECT_TRUE(matches(obj, R"({"a":[1,{"b":null}],"c":"\u00e9"})"));
  EXPECT_FALSE(matches(obj, "[1]"));
  EXPECT_FALSE(matches(obj, "{\"a\": 1}"));  // canonical form: no whitespace
}

}  // namespace
}  // namespace tandem
