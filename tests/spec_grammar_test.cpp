// Speculative decoding under a grammar (docs/verify-protocol.md, docs/structured-outputs.md),
// verify::SpeculativeSession with the q4_0 draft against a real tandem serve with the f32
// target: greedy output is token for token the server's own constrained completion; sampled
// choices follow the target's masked distribution; tokens the grammar forces cost no verify call;
// /v1/verify refuses bad grammars and tokens the grammar does not allow without harming the
// session, and rewinding a session rewinds its grammar.
#include <cmath>
#include <fstream>
#include <functional>

#include "engine/grammar.h"
#include "protocol/token_hash.h"
#include "spec_test_util.h"

using namespace tandem;
using namespace tandem::test;

namespace {

// Each has bounded strings, so that the little model finishes them well within max_tokens.
const char* const kSchemas[] = {
    R"({"type": "object", "properties": {"name": {"type": "string", "maxLength": 12},
        "age": {"type": "integer", "minimum": 0, "maximum": 120}}, "required": ["name", "age"],
        "additionalProperties": false})",
    R"({"enum": ["red", "green", "blue", "yellow", "purple"]})",
    R"({"type": "array", "items": {"type": "boolean"}, "minItems": 2, "maxItems": 4})",
    R"({"type": "object", "properties": {"title": {"type": "string", "maxLength": 16}, "done": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 6}, "maxItems": 2}},
        "required": ["title", "done", "tags"], "additionalProperties": false})",
};
const char* const kAnimalGbnf = R"(root ::= "The " animal " says " sound "."
animal ::= "cat" | "dog" | "cow" | "little bird"
sound ::= [a-z]{1,8})";

// Long property names: runs of tokens that only the grammar decides.
const char* const kForcedRunsSchema =
    R"({"type": "object", "properties": {"the_name_of_the_main_character": {"enum": ["Lily", "Tom", "Ben"]},
        "the_place_where_the_story_happens": {"enum": ["park", "forest"]}},
        "required": ["the_name_of_the_main_character", "the_place_where_the_story_happens"],
        "additionalProperties": false})";

std::vector<int32_t> prompt_tokens(const std::string& text) { return target_model().vocab->tokenize(text, true); }

// The target's constrained greedy tokens, computed in this process as `tandem run --temp 0
// --json-schema` does.
std::vector<int32_t> engine_constrained_greedy(const std::vector<int32_t>& prompt, const Grammar& g, int n) {
  const LoadedModel& m = target_model();
  ContextParams cp;
  cp.n_ctx = 256;
  cp.n_threads = 1;
  cp.n_outputs = 1;
  Context ctx(*m.model, cp);
  Sampler s(SamplerParams{}, m.model->hparams().n_vocab);
  GrammarMatcher matcher(g, GrammarVocab::build(*m.vocab));
  GenerateOptions opt;
  opt.n_predict = n;
  opt.grammar = &matcher;
  return generate(ctx, *m.vocab, s, prompt, opt).tokens;
}

// The server's own constrained greedy completion: its tokens' texts (from logprobs) and finish.
// `constraint` is the field ("json_schema" or "grammar") and its JSON text, spliced in as written
// (a schema's property order is its output's).
struct Completion {
  std::string text, finish_reason;
  std::vector<std::string> pieces;
};
Completion server_completion(const ServeFixture& s, const std::vector<int32_t>& prompt,
                             const std::pair<std::string, std::string>& constraint, int n) {
  std::string body = json{{"prompt", prompt}, {"max_tokens", n}, {"temperature", 0}, {"logprobs", 0}}.dump();
  body.pop_back();
  body += ",\"" + constraint.first + "\":" + constraint.second + "}";
  const HttpResult r = s.post_raw("/v1/completions", body);
  EXPECT_EQ(r.status, 200) << r.text;
  Completion c;
  if (r.status != 200) return c;
  const json& choice = r.body["choices"][0];
  c.text = choice["text"];
  c.finish_reason = choice["finish_reason"];
  for (const auto& t : choice["logprobs"]["tokens"]) c.pieces.push_back(t.get<std::string>());
  return c;
}

// Runs tests/grammar_validate.py (python3-fastjsonschema) over outputs (schema index, text).
void validate(const std::vector<std::pair<size_t, std::string>>& outputs) {
  const std::string schemas_file = temp_path("spec-grammar-schemas") + ".json";
  const std::string outputs_file = temp_path("spec-grammar-outputs") + ".jsonl";
  std::string schemas = "[";
  for (const char* sch : kSchemas) schemas += std::string(schemas.size() > 1 ? "," : "") + sch;
  std::ofstream(schemas_file) << schemas << "]";
  {
    std::ofstream out(outputs_file);
    for (const auto& [i, text] : outputs) out << json{{"schema", i}, {"text", text}}.dump() << "\n";
  }
  std::string log;
  const int rc = run_command("/usr/bin/python3 " + source_dir() + "/tests/grammar_validate.py " + schemas_file + " " +
                                 outputs_file, &log);
  std::remove(schemas_file.c_str());
  std::remove(outputs_file.c_str());
  if (WEXITSTATUS(rc) == 2) GTEST_SKIP() << log;
  EXPECT_EQ(rc, 0) << log;
}

}  // namespace

TEST(SpecGrammar, GreedyIsTheServersOwnConstrainedOutputTokenForToken) {
  REQUIRE_SPEC_MODELS();
  ServeFixture s("stories260K-f32.gguf", spec_server);
  const int n = 120;
  struct Case {
    std::optional<size_t> schema;  // index into kSchemas, else the GBNF
    std::string prompt;
  };
  std::vector<Case> cases;
  for (size_t i = 0; i < std::size(kSchemas); ++i)
    for (const char* p : {"Once upon a time", "The little dog"}) cases.push_back({i, p});
  cases.push_back({std::nullopt, "Once upon a time"});
  cases.push_back({std::nullopt, "Lily wanted to"});
  std::vector<std::pair<size_t, std::string>> outputs;
  int64_t tokens = 0, forced = 0, calls = 0;
  for (const bool pipelined : {true, false}) {
    auto cfg = spec_config(s.port);
    cfg.draft_max = pipelined ? 6 : 3;
    cfg.adaptive = pipelined;
    cfg.pipeline = pipelined;
    cfg.pipeline_min_wait_ms = 0;  // on loopback too: drafting ahead under the grammar is tested
    verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, cfg);
    for (const Case& c : cases) {
      SCOPED_TRACE((c.schema ? "schema " + std::to_string(*c.schema) : std::string("GBNF")) + ", '" + c.prompt +
                   "', " + (pipelined ? "pipelined" : "k=3"));
      const Grammar g = c.schema ? Grammar::from_json_schema(kSchemas[*c.schema]) : Grammar::from_gbnf(kAnimalGbnf);
      const std::pair<std::string, std::string> constraint =
          c.schema ? std::pair<std::string, std::string>{"json_schema", kSchemas[*c.schema]}
                   : std::pair<std::string, std::string>{"grammar", json(kAnimalGbnf).dump()};
      const std::vector<int32_t> prompt = prompt_tokens(c.prompt);
      const std::vector<int32_t> want = engine_constrained_greedy(prompt, g, n);
      const Completion served = server_completion(s, prompt, constraint, n);
      const auto r = session.generate(prompt, SamplerParams{}, n, {}, true, {}, 0, &g);
      EXPECT_EQ(r.tokens, want);
      std::vector<std::string> pieces;
      for (int32_t t : r.tokens) pieces.push_back(std::string(draft_model().vocab->piece(t)));
      EXPECT_EQ(pieces, served.pieces);
      EXPECT_EQ(r.text, served.text);
      EXPECT_EQ(r.finish_reason, served.finish_reason);
      EXPECT_EQ(r.finish_reason, "stop") << "the grammar ends well within " << n << " tokens";
      EXPECT_EQ(r.degraded_from, -1) << r.degraded_reason;
      const auto& st = r.stats;
      EXPECT_EQ(st.attempts_failed, 0);
      // Every call decides at least one token the grammar leaves open.
      EXPECT_LE(st.cloud_forward_passes, int64_t(r.tokens.size()) - st.forced);
      EXPECT_EQ(st.cloud_forward_passes, st.rounds);
      tokens += int64_t(r.tokens.size());
      forced += st.forced;
      calls += st.cloud_forward_passes;
      if (c.schema && r.finish_reason == "stop") outputs.emplace_back(*c.schema, r.text);
      if (!c.schema) EXPECT_EQ(r.text.rfind("The ", 0), 0u) << r.text;
    }
  }
  EXPECT_EQ(outputs.size(), 2 * 2 * std::size(kSchemas));
  std::printf("greedy under grammars: %lld tokens, %lld forced, %lld verify calls\n", (long long)tokens,
              (long long)forced, (long long)calls);
  validate(outputs);
}

TEST(SpecGrammar, ForcedTokensCostNoVerifyCall) {
  REQUIRE_SPEC_MODELS();
  ServeFixture s("stories260K-f32.gguf", spec_server);
  auto cfg = spec_config(s.port);
  // Fixed rounds, so that which forced tokens fall inside a draft (sent as drafts) and which
  // after a round's answer (appended here) does not depend on timing.
  cfg.draft_max = 4;
  cfg.adaptive = false;
  cfg.pipeline = false;
  verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, cfg);
  const Grammar g = Grammar::from_json_schema(kForcedRunsSchema);
  const std::vector<int32_t> prompt = prompt_tokens("Once upon a time");
  const double rounds_before = s.metric("tandem_verify_rounds_total");
  const auto r = session.generate(prompt, SamplerParams{}, 120, {}, true, {}, 0, &g);
  EXPECT_EQ(r.tokens, engine_constrained_greedy(prompt, g, 120));
  ASSERT_EQ(r.finish_reason, "stop") << r.text;
  EXPECT_TRUE(json::accept(r.text)) << r.text;
  const auto& st = r.stats;
  const int64_t tokens = int64_t(r.tokens.size());
  // Punctuation, and the property names where the vocabulary spells them one way only.
  EXPECT_GT(st.forced, tokens / 4) << r.text;
  EXPECT_LE(st.cloud_forward_passes, tokens - st.forced);
  EXPECT_LT(st.cloud_forward_passes * 3, tokens) << "forced runs are appended without calls";
  // The server counts the same calls.
  EXPECT_EQ(s.metric("tandem_verify_rounds_total") - rounds_before, double(st.rounds));
  std::printf("forced runs: %lld tokens, %lld forced, %lld verify calls\n", (long long)tokens, (long long)st.forced,
              (long long)st.cloud_forward_passes);
}

// A server that drops every session after its call: each call starts a new session with the whole
// context and the grammar again (its start at the prompt's end), and the output stays exact.
TEST(SpecGrammar, LostSessionsAreRebuiltUnderTheGrammarExactly) {
  REQUIRE_SPEC_MODELS();
  ServeFixture s("stories260K-f32.gguf", [](serve::ServerConfig& c) {
    spec_server(c);
    c.session_budget_bytes = 1;
  });
  auto cfg = spec_config(s.port);
  cfg.draft_max = 3;
  cfg.adaptive = false;
  verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, cfg);
  for (const char* sch : {kSchemas[0], kSchemas[3]}) {
    const Grammar g = Grammar::from_json_schema(sch);
    const std::vector<int32_t> prompt = prompt_tokens("The little dog");
    const auto r = session.generate(prompt, SamplerParams{}, 120, {}, true, {}, 0, &g);
    EXPECT_EQ(r.tokens, engine_constrained_greedy(prompt, g, 120));
    EXPECT_EQ(r.finish_reason, "stop");
    EXPECT_EQ(r.degraded_from, -1) << r.degraded_reason;
    EXPECT_GT(r.stats.sessions_restarted, 0);
    EXPECT_EQ(r.stats.sessions_restarted + 1, r.stats.rounds) << "every call after the first found its session gone";
  }
}

namespace {

// A model's distribution over the sentences of a finite grammar when sampling with sp: every
// path of tokens the grammar allows, each step's probability the sampler's over the masked logits
// (a forced token: 1), summed per text. Paths below 1e-9 are dropped.
std::map<std::string, double> sentence_distribution(const LoadedModel& m, const std::vector<int32_t>& prompt,
                                                    const Grammar& g, const SamplerParams& sp) {
  ContextParams cp;
  cp.n_ctx = 256;
  cp.n_threads = 1;
  cp.n_outputs = 1;
  Context ctx(*m.model, cp);
  const int32_t n_vocab = m.model->hparams().n_vocab;
  const float* at_prompt = ctx.eval(0, prompt);
  const std::vector<float> prompt_logits(at_prompt, at_prompt + n_vocab);
  std::map<std::string, double> out;
  std::vector<int32_t> path;
  TokenBitset allowed;
  std::function<void(GrammarMatcher, double)> walk = [&](GrammarMatcher matcher, double prob) {
    if (matcher.is_finished()) {
      out[m.vocab->detokenize(path)] += prob;
      return;
    }
    std::vector<float> logits = prompt_logits;
    if (!path.empty()) {
      ctx.truncate(0, int32_t(prompt.size()));
      const float* l = ctx.eval(0, path);
      logits.assign(l, l + n_vocab);
    }
    matcher.fill_mask(allowed);
    std::vector<std::pair<int32_t, float>> dist;
    if (const int32_t forced = matcher.forced_token(allowed); forced >= 0) {
      dist.emplace_back(forced, 1.f);
    } else {
      mask_logits(allowed, logits.data());
      Sampler sampler(sp, n_vocab);
      sampler.sample(logits.data());
      dist.assign(sampler.last_distribution().begin(), sampler.last_distribution().end());
    }
    for (const auto& [tok, p] : dist) {
      if (prob * p < 1e-9) continue;
      GrammarMatcher next = matcher;
      ASSERT_TRUE(next.accept(tok));
      path.push_back(tok);
      walk(next, prob * p);
      path.pop_back();
    }
  };
  walk(GrammarMatcher(g, GrammarVocab::build(*m.vocab)), 1.0);
  return out;
}

// Whether p is a non-empty prefix of word.
bool prefix_of(const std::string& word, const std::string& p) { return !p.empty() && word.rfind(p, 0) == 0; }

// The lowest token id whose text satisfies want.
int32_t first_token_where(const Vocab& vocab, const std::function<bool(const std::string&)>& want) {
  for (int32_t t = 0; t < vocab.n_tokens(); ++t)
    if (!vocab.piece(t).empty() && !vocab.is_eog(t) && want(std::string(vocab.piece(t)))) return t;
  ADD_FAILURE() << "no such token";
  return 0;
}

}  // namespace

// Sampled speculation under an enum: the frequency of each value over seeded runs must match the
// target's own masked distribution (chi-square, p = 0.001), which the draft model's masked
// distribution would fail. Fixed rounds and seeds: the test is deterministic.
TEST(SpecGrammar, SampledChoicesFollowTheTargetsMaskedDistribution) {
  REQUIRE_SPEC_MODELS();
  ServeFixture s("stories260K-f32.gguf", spec_server);
  const char* schema = R"({"enum": ["red", "green", "blue", "yellow", "purple", "big"]})";
  const Grammar g = Grammar::from_json_schema(schema);
  const std::vector<int32_t> prompt = prompt_tokens("Lily saw a ball. The ball was");
  SamplerParams sp;
  sp.temperature = 1.5f;
  const std::map<std::string, double> want = sentence_distribution(target_model(), prompt, g, sp);
  const std::map<std::string, double> drafts = sentence_distribution(draft_model(), prompt, g, sp);
  double total = 0;
  for (const auto& [text, p] : want) total += p;
  ASSERT_NEAR(total, 1.0, 1e-3);
  auto cfg = spec_config(s.port);
  cfg.draft_max = 4;
  cfg.adaptive = false;  // fixed rounds: the seeded runs draw the same every time
  cfg.pipeline = false;
  verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, cfg);
  const int runs = kSanitized ? 300 : 400;
  std::map<std::string, int> seen;
  for (int i = 0; i < runs; ++i) {
    sp.seed = uint64_t(1000 + i);
    const auto r = session.generate(prompt, sp, 20, {}, true, {}, 0, &g);
    ASSERT_EQ(r.finish_reason, "stop") << r.text;
    ASSERT_TRUE(want.count(r.text)) << "not a sentence of the grammar (or one of probability < 1e-9): " << r.text;
    ++seen[r.text];
  }
  // Values expected fewer than 5 times share one bin. The draft model's own distribution, scored
  // the same way (its chi-square's mean above the degrees of freedom), shows that the test can
  // tell it from the target's.
  double chi2 = 0, draft_chi2 = 0, rare_expected = 0, rare_draft = 0;
  int rare_seen = 0, bins = 0;
  std::string table;
  auto score = [&](double seen_n, double draft_n, double expected) {
    chi2 += (seen_n - expected) * (seen_n - expected) / expected;
    draft_chi2 += (draft_n - expected) * (draft_n - expected) / expected;
    ++bins;
  };
  for (const auto& [text, p] : want) {
    const double expected = p * runs, draft_n = (drafts.count(text) ? drafts.at(text) : 0.0) * runs;
    table += text + ": expected " + std::to_string(expected) + ", seen " + std::to_string(seen[text]) +
             ", the draft's " + std::to_string(draft_n) + "\n";
    if (expected >= 5) {
      score(seen[text], draft_n, expected);
    } else {
      rare_expected += expected;
      rare_draft += draft_n;
      rare_seen += seen[text];
    }
  }
  if (rare_expected > 0) score(rare_seen, rare_draft, std::max(rare_expected, 1.0));
  ASSERT_GE(bins, 3) << "the distribution is too peaked to test anything:\n" << table;
  // Chi-square critical values at p = 0.001 for 2..6 degrees of freedom.
  const double critical[] = {0, 0, 13.82, 16.27, 18.47, 20.52, 22.46};
  const double limit = critical[std::min(bins - 1, 6)];
  EXPECT_LT(chi2, limit) << table;
  EXPECT_GT(draft_chi2, limit) << "the draft's distribution would pass too:\n" << table;
  std::printf("%s chi2 %.2f over %d bins (the draft's distribution: %.2f)\n", table.c_str(), chi2, bins, draft_chi2);
}

// /v1/verify with a grammar, call by call: a malformed grammar is a 400 naming `grammar` (no
// session made, an existing one unaffected); a context token the grammar does not allow is a 400
// naming `tokens`; cutting a session back rewinds its grammar to that position.
TEST(SpecGrammar, VerifyRefusesBadGrammarsAndTokensAndRewindsTheGrammar) {
  REQUIRE_SPEC_MODELS();
  ServeFixture s("stories260K-f32.gguf", spec_server);
  const Vocab& vocab = *target_model().vocab;
  const std::vector<int32_t> prompt = prompt_tokens("Once upon a time");
  const std::string gbnf = R"(root ::= "yes" | "no")";
  const double sessions_before = s.metric("tandem_verify_sessions");

  HttpResult r = s.post("/v1/verify", {{"tokens", prompt}, {"grammar", "root ::= (\"yes\""}});
  ASSERT_EQ(r.status, 400) << r.text;
  EXPECT_EQ(r.body["error"]["param"], "grammar");
  EXPECT_EQ(r.body["error"]["code"], "invalid_grammar");
  EXPECT_EQ(s.metric("tandem_verify_sessions"), sessions_before);

  // Open a session under the grammar: the server's token must begin "yes" or "no".
  r = s.post("/v1/verify", {{"tokens", prompt}, {"grammar", gbnf}, {"grammar_start", prompt.size()}});
  ASSERT_EQ(r.status, 200) << r.text;
  const std::string session = r.body["session"];
  const int32_t first = r.body["token"];
  const std::string piece(vocab.piece(first));
  ASSERT_TRUE(prefix_of("yes", piece) || prefix_of("no", piece)) << piece;
  std::vector<int32_t> context = prompt;
  auto call = [&](const std::vector<int32_t>& held, const std::vector<int32_t>& tokens, const json& extra = json::object()) {
    json req = {{"session", session}, {"n_past", held.size()},
                {"past_hash", protocol::hash_hex(protocol::token_hash(held.data(), held.size()))},
                {"tokens", tokens}, {"draft", json::array()}};
    req.update(extra);
    return s.post("/v1/verify", req);
  };

  // A grammar on a session's later call, or a malformed one there: 400, the session unharmed.
  r = call(context, {first}, {{"grammar", "root ::= ("}});
  ASSERT_EQ(r.status, 400) << r.text;
  EXPECT_EQ(r.body["error"]["param"], "grammar");
  // A token the grammar does not allow: 400 naming tokens.
  const int32_t neither = first_token_where(vocab, [](const std::string& p) { return !prefix_of("yes", p) && !prefix_of("no", p); });
  r = call(context, {neither});
  ASSERT_EQ(r.status, 400) << r.text;
  EXPECT_EQ(r.body["error"]["param"], "tokens");

  // The session goes on: the server's token joins the context, and its next token continues it.
  r = call(context, {first});
  ASSERT_EQ(r.status, 200) << r.text;
  context.push_back(first);
  const std::string after_first = piece + std::string(vocab.piece(r.body["token"].get<int32_t>()));
  EXPECT_TRUE(prefix_of("yes", after_first) || prefix_of("no", after_first)) << after_first;

  // Back to the prompt (n_past cut), the other answer's first token: allowed there, though not
  // after `first`, so the grammar must have been rewound with the tokens.
  const std::string other_word = piece[0] == 'y' ? "no" : "yes";
  const int32_t other = first_token_where(vocab, [&](const std::string& p) { return prefix_of(other_word, p); });
  EXPECT_EQ(call(context, {other}).status, 400) << "not allowed after '" << piece << "'";
  r = call(prompt, {other});
  EXPECT_EQ(r.status, 200) << r.text;
}
