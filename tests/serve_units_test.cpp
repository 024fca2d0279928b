// The serving layer's pieces on their own: the batch-invariant dot order (kernels and forward
// pass), SHA-256 and the vocabulary fingerprint, the stop-string / UTF-8 text stream, the
// speculative rejection rule, request parsing, verify sessions and the metrics text.
#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include "engine/context.h"
#include "engine/sha256.h"
#include "engine/vocab.h"
#include "engine/vocab_fingerprint.h"
#include "format/error.h"
#include "kernels/ggml_numerics.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"
#include "protocol/openai.h"
#include "protocol/rejection.h"
#include "protocol/text_stream.h"
#include "protocol/token_hash.h"
#include "protocol/verify_wire.h"
#include "serve/metrics.h"
#include "serve/scheduler.h"
#include "serve/sessions.h"
#include "test_util.h"

using namespace tandem;
using namespace tandem::serve;
using namespace tandem::protocol;
using nlohmann::json;

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

std::unique_ptr<LlamaModel> shared_model(const char* type) {
  const std::string p = test::model_path(std::string("stories260K-") + type + ".gguf");
  if (!std::filesystem::exists(p)) return nullptr;
  return LlamaModel::load(p);
}

}  // namespace

// ---- dot order -----------------------------------------------------------------------------

TEST(ServeDotOrder, FixedOrdersMatchTheReferenceWhateverTheTokenCount) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> U(-1, 1);
  for (TensorType w : {TensorType::F32, TensorType::F16, TensorType::BF16}) {
    for (size_t k : {64, 72, 172}) {
      const size_t rows = 10, n_tok = 5;
      const TensorType at = activation_type(w);
      const size_t wb = row_bytes(w, k), ab = row_bytes(at, k);
      std::vector<float> wf(rows * k), xf(n_tok * k);
      for (auto& v : wf) v = U(rng);
      for (auto& v : xf) v = U(rng);
      std::vector<uint8_t> W(rows * wb), A(n_tok * ab);
      for (size_t r = 0; r < rows; ++r) quantize_row(w, &wf[r * k], &W[r * wb], k);
      for (size_t t = 0; t < n_tok; ++t) quantize_row(at, &xf[t * k], &A[t * ab], k);
      for (size_t n : {size_t(1), size_t(2), n_tok}) {
        for (auto order : {kernels::DotOrder::Single, kernels::DotOrder::Batched}) {
          std::vector<float> out(n * rows);
          kernels::matmul(w, W.data(), k, 0, rows, A.data(), n, out.data(), rows, rows, order);
          const size_t as_n = order == kernels::DotOrder::Single ? 1 : 2;
          for (size_t t = 0; t < n; ++t)
            for (size_t r = 0; r < rows; ++r)
              ASSERT_EQ(bits(out[t * rows + r]), bits(ggml_exact::dot(w, &W[r * wb], &A[t * ab], k, as_n, rows)))
                  << type_name(w) << " k=" << k << " n=" << n << " t=" << t << " r=" << r;
        }
      }
    }
  }
}

// A sequence computed inside a batch with another sequence's tokens, with explicit orders,
// gives bit for bit the logits it gets alone (prefill as one batch, then single-token steps).
TEST(ServeDotOrder, ExplicitOrdersMakeASequenceIndependentOfItsBatch) {
  auto m = shared_model("f32");
  if (!m) GTEST_SKIP() << "shared models missing";
  ASSERT_TRUE(order_sensitive(*m));
  const int nv = m->hparams().n_vocab;
  const std::vector<int32_t> a = {1, 403, 407, 261, 378, 432};
  const std::vector<int32_t> steps = {383, 286, 261};
  // Alone, as tandem run does it.
  ContextParams cp;
  cp.n_ctx = 64;
  cp.n_seq = 2;
  Context solo(*m, cp);
  std::vector<std::vector<float>> want;
  const float* l = solo.eval(0, a);
  want.emplace_back(l, l + nv);
  for (int32_t t : steps) {
    l = solo.eval(0, std::vector<int32_t>{t});
    want.emplace_back(l, l + nv);
  }
  // Shared: a's prompt beside b's single-token steps, then a's steps beside b's prompt chunks.
  Context ctx(*m, cp);
  const std::vector<int32_t> b = {1, 291, 262, 379, 286, 300, 301, 302, 303};
  std::vector<BatchToken> batch;
  for (size_t i = 0; i < a.size(); ++i)
    batch.push_back({a[i], 0, int32_t(i), i + 1 == a.size(), TokenOrder::Prompt});
  batch.push_back({b[0], 1, 0, true, TokenOrder::Step});
  ctx.decode(batch);
  std::vector<std::vector<float>> got;
  got.emplace_back(ctx.logits(0), ctx.logits(0) + nv);
  size_t bpos = 1;
  for (int32_t t : steps) {
    batch.clear();
    batch.push_back({b[bpos], 1, int32_t(bpos), false, TokenOrder::Prompt});
    batch.push_back({b[bpos + 1], 1, int32_t(bpos + 1), true, TokenOrder::Prompt});
    bpos += 2;
    batch.push_back({t, 0, ctx.seq_len(0), true, TokenOrder::Step});
    ctx.decode(batch);
    got.emplace_back(ctx.logits(1), ctx.logits(1) + nv);
  }
  for (size_t s = 0; s < want.size(); ++s)
    for (int v = 0; v < nv; ++v) ASSERT_EQ(bits(got[s][size_t(v)]), bits(want[s][size_t(v)])) << "step " << s << " logit " << v;
}

TEST(ServeDotOrder, PromptTokenOrderFollowsTandemRunsChunks) {
  EXPECT_EQ(prompt_token_order(0, 1), TokenOrder::Step);  // a one-token prompt is a single step
  EXPECT_EQ(prompt_token_order(0, 2), TokenOrder::Prompt);
  EXPECT_EQ(prompt_token_order(511, 513), TokenOrder::Prompt);
  EXPECT_EQ(prompt_token_order(512, 513), TokenOrder::Step);  // run's last chunk holds one token
  EXPECT_EQ(prompt_token_order(512, 514), TokenOrder::Prompt);
  auto q = shared_model("q8_0");
  if (q) {
    EXPECT_FALSE(order_sensitive(*q));
  }
}

// ---- SHA-256 and the vocabulary fingerprint ------------------------------------------------

TEST(ServeSha256, KnownAnswers) {
  // FIPS 180-4 examples.
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 h;  // a million 'a's, fed in uneven pieces
  const std::string chunk(997, 'a');
  size_t left = 1000000;
  while (left > 0) {
    const size_t n = std::min(left, chunk.size());
    h.update(chunk.data(), n);
    left -= n;
  }
  EXPECT_EQ(h.finish_hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(ServeSha256, FileHashMatchesSha256sum) {
  const std::string p = test::model_path("stories260K-q4_0.gguf");
  TANDEM_REQUIRE_FILE(p);
  std::string out;
  if (test::run_command("sha256sum " + p, &out) != 0) GTEST_SKIP() << "no sha256sum";
  EXPECT_EQ(sha256_file_hex(p), out.substr(0, 64));
}

TEST(ServeVocabFingerprint, SameVocabularySameFingerprint) {
  const std::string f32 = test::model_path("stories260K-f32.gguf"), q4 = test::model_path("stories260K-q4_0.gguf");
  TANDEM_REQUIRE_FILE(f32);
  const auto a = vocab_fingerprint(Vocab::from_gguf(GgufFile::open(f32)));
  const auto b = vocab_fingerprint(Vocab::from_gguf(GgufFile::open(q4)));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.substr(0, 7), "sha256:");
  EXPECT_EQ(a.size(), 7u + 64u);
  // A different vocabulary (any of the reference tokenizer files) differs.
  for (const auto& e : std::filesystem::directory_iterator(test::shared_dir() + "/reference/vocab")) {
    if (e.path().extension() != ".gguf") continue;
    const GgufFile g = GgufFile::open(e.path().string());
    const Vocab v = Vocab::from_gguf_ids_only(g);
    EXPECT_NE(vocab_fingerprint(v), a) << e.path();
  }
}

// ---- text stream -----------------------------------------------------------------------------

TEST(ServeTextStream, HoldsBackPartialStopStringsAndCutsAtTheFirst) {
  TextStream s({"END", "xy"});
  EXPECT_EQ(s.push("hello E"), "hello ");
  EXPECT_EQ(s.push("N"), "");
  EXPECT_EQ(s.push("d more"), "ENd more");  // not a stop string after all
  EXPECT_EQ(s.push(" x"), " ");
  EXPECT_EQ(s.push("yz"), "");
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(s.text(), "hello ENd more ");
  EXPECT_EQ(s.push("again"), "");
  EXPECT_EQ(s.flush(), "");
}

TEST(ServeTextStream, KeepsUtf8CharactersWhole) {
  TextStream s;
  const std::string euro = "\xE2\x82\xAC";
  EXPECT_EQ(s.push("a\xE2"), "a");
  EXPECT_EQ(s.push("\x82"), "");
  EXPECT_EQ(s.push("\xAC!"), euro + "!");
  EXPECT_EQ(s.push("\xF0\x9F"), "");
  EXPECT_EQ(s.flush(), "\xF0\x9F");  // never completed: sent as is at the end
  EXPECT_EQ(utf8_complete_prefix("ab\xC3"), 2u);
  EXPECT_EQ(utf8_complete_prefix("ab\xC3\xA9"), 4u);
  EXPECT_EQ(utf8_complete_prefix("\x80\x80"), 2u);  // stray continuation bytes pass
}

TEST(ServeTextStream, StopStringSpanningPieces) {
  TextStream s({"\n\n"});
  EXPECT_EQ(s.push("one\n"), "one");
  EXPECT_EQ(s.push("\ntwo"), "");
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(s.text(), "one");
}

// ---- the rejection rule ----------------------------------------------------------------------

TEST(ServeVerifyRule, GreedyAcceptsWhileTheDraftIsTheArgmax) {
  const std::vector<int32_t> draft = {5, 6, 7};
  auto r = verify_greedy(draft, std::vector<int32_t>{5, 6, 9, 1});
  EXPECT_EQ(r.accepted, 2);
  EXPECT_EQ(r.token, 9);
  r = verify_greedy(draft, std::vector<int32_t>{5, 6, 7, 4});
  EXPECT_EQ(r.accepted, 3);
  EXPECT_EQ(r.token, 4);
  r = verify_greedy({}, std::vector<int32_t>{3});
  EXPECT_EQ(r.accepted, 0);
  EXPECT_EQ(r.token, 3);
  EXPECT_THROW(verify_greedy(draft, std::vector<int32_t>{1}), Error);
}

// Whatever the draft distribution, the first token out of the rule follows p (chi-square over
// 200k seeded trials; the seed is fixed, so the test is deterministic).
TEST(ServeVerifyRule, SampledOutputFollowsTheTargetDistribution) {
  const SparseDist p0 = {{0, 0.5f}, {1, 0.3f}, {2, 0.15f}, {3, 0.05f}};
  const SparseDist p1 = {{0, 0.25f}, {1, 0.25f}, {2, 0.25f}, {3, 0.25f}};
  const SparseDist q0 = {{1, 0.6f}, {2, 0.1f}, {3, 0.3f}};  // gives token 0 nothing
  const SparseDist q1 = {{0, 0.1f}, {1, 0.9f}};
  Rng rng(12345), draft_rng(999);
  const int N = 200000;
  std::map<int32_t, int> first, second_after_accept;
  int accepted_first = 0;
  for (int i = 0; i < N; ++i) {
    const int32_t x0 = draw(q0, draft_rng), x1 = draw(q1, draft_rng);
    const std::vector<int32_t> draft = {x0, x1};
    const std::vector<SparseDist> p = {p0, p1, p0}, q = {q0, q1};
    const auto r = verify_sampled(draft, p, q, rng);
    const int32_t tok0 = r.accepted >= 1 ? x0 : r.token;
    ++first[tok0];
    if (r.accepted >= 1) {
      ++accepted_first;
      ++second_after_accept[r.accepted >= 2 ? x1 : r.token];
    }
  }
  auto chi2 = [](const std::map<int32_t, int>& counts, const SparseDist& p, int n) {
    double c = 0;
    for (const auto& [t, pr] : p) {
      const double e = pr * n, o = counts.count(t) ? counts.at(t) : 0;
      c += (o - e) * (o - e) / e;
    }
    return c;
  };
  // 3 degrees of freedom: the 0.999 quantile is 16.27.
  EXPECT_LT(chi2(first, p0, N), 16.27);
  EXPECT_LT(chi2(second_after_accept, p1, accepted_first), 16.27);
  // Acceptance is the overlap sum_x min(p, q) = 0.3 + 0.1 + 0.05 = 0.45.
  EXPECT_NEAR(double(accepted_first) / N, 0.45, 0.01);
}

TEST(ServeVerifyRule, IdenticalDistributionsAcceptEverything) {
  const SparseDist p = {{3, 0.7f}, {8, 0.3f}};
  Rng rng(1);
  for (int i = 0; i < 1000; ++i) {
    const std::vector<int32_t> draft = {draw(p, rng), draw(p, rng)};
    const std::vector<SparseDist> ps = {p, p, p}, qs = {p, p};
    EXPECT_EQ(verify_sampled(draft, ps, qs, rng).accepted, 2);
  }
}

// ---- request parsing -------------------------------------------------------------------------

namespace {
int status_of(const json& body, bool chat = false) {
  try {
    parse_completion_request(body, chat, 512);
    return 200;
  } catch (const ApiError& e) {
    EXPECT_FALSE(e.message.empty());
    return e.status;
  }
}
std::string param_of(const json& body, bool chat = false) {
  try {
    parse_completion_request(body, chat, 512);
  } catch (const ApiError& e) {
    return e.param;
  }
  return "";
}
}  // namespace

TEST(ServeProtocol, CompletionFields) {
  auto r = parse_completion_request(json{{"prompt", "hi"}, {"max_tokens", 5}, {"temperature", 0}, {"stop", "x"},
                                         {"seed", 3}, {"stream", true}, {"stream_options", {{"include_usage", true}}}},
                                    false, 512);
  EXPECT_EQ(r.prompt_text, "hi");
  EXPECT_EQ(r.gen.max_tokens, 5);
  EXPECT_EQ(r.gen.sampling.temperature, 0.f);
  EXPECT_EQ(r.gen.stop, std::vector<std::string>{"x"});
  EXPECT_TRUE(r.seed_given);
  EXPECT_TRUE(r.include_usage);
  r = parse_completion_request(json{{"prompt", json::array({json::array({1, 2, 3})})}}, false, 512);
  EXPECT_TRUE(r.prompt_is_tokens);
  EXPECT_EQ(r.prompt_tokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(r.gen.max_tokens, -1);
  EXPECT_EQ(r.gen.sampling.temperature, 1.f);  // OpenAI's default
}

TEST(ServeProtocol, BadCompletionFieldsAre400WithTheParam) {
  EXPECT_EQ(status_of(json::array()), 400);
  EXPECT_EQ(status_of(json{{"max_tokens", 3}}), 400);  // no prompt
  EXPECT_EQ(param_of(json{{"prompt", 5}}), "prompt");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"max_tokens", "5"}}), "max_tokens");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"max_tokens", -1}}), "max_tokens");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"max_tokens", 2.5}}), "max_tokens");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"temperature", 3}}), "temperature");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"top_p", "x"}}), "top_p");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"stream", 1}}), "stream");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"stop", json::array({"a", "b", "c", "d", "e"})}}), "stop");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"stop", ""}}), "stop");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"n", 2}}), "n");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"presence_penalty", 0.5}}), "presence_penalty");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"logit_bias", {{"1", 5}}}}), "logit_bias");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"best_of", 3}}), "best_of");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"frobnicate", true}}), "frobnicate");
  EXPECT_EQ(param_of(json{{"prompt", json::array({1, 512})}}), "prompt");  // token out of range
  EXPECT_EQ(param_of(json{{"prompt", json::array({1, -1})}}), "prompt");
  EXPECT_EQ(param_of(json{{"prompt", json::array({"a", "b"})}}), "prompt");  // n prompts
  EXPECT_EQ(param_of(json{{"prompt", json::array()}}), "prompt");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"stream_options", {{"include_usage", true}}}}), "stream_options");
  EXPECT_EQ(param_of(json{{"prompt", "a"}, {"echo", true}, {"logprobs", 2}}), "logprobs");
  EXPECT_EQ(status_of(json{{"prompt", "a"}, {"presence_penalty", 0}, {"n", 1}, {"logit_bias", json::object()}}), 200);
}

TEST(ServeProtocol, OutputConstraintFields) {
  auto kind = [](const std::string& body) {
    return parse_completion_request(json::parse(body), false, 512, body).gen.constraint.kind;
  };
  EXPECT_EQ(kind(R"({"prompt": "a"})"), "");
  EXPECT_EQ(kind(R"({"prompt": "a", "response_format": {"type": "text"}})"), "");
  EXPECT_EQ(kind(R"({"prompt": "a", "response_format": {"type": "json_object"}})"), "json_object");
  EXPECT_EQ(kind(R"({"prompt": "a", "json_schema": {"type": "integer"}})"), "json_schema");
  EXPECT_EQ(kind(R"({"prompt": "a", "grammar": "root ::= \"x\""})"), "grammar");
  EXPECT_EQ(kind(R"({"prompt": "a", "grammar": "", "response_format": {"type": "text"}})"), "");
  // Properties keep the order they were written in when the body's text is given.
  const std::string body =
      R"({"prompt": "a", "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema":
         {"type": "object", "properties": {"zeta": {"type": "integer"}, "alpha": {"type": "boolean"}}}}}})";
  const std::string gbnf = parse_completion_request(json::parse(body), false, 512, body).gen.constraint.grammar->gbnf();
  EXPECT_NE(gbnf.find("root-first-0 ::= (root-zeta-kv"), std::string::npos) << gbnf;
  // Problems name the field that holds them, with where in the schema or grammar they are.
  EXPECT_EQ(param_of(json::parse(R"({"prompt": "a", "json_schema": {"type": "integer"}, "grammar": "root ::= \"x\""})")),
            "json_schema");
  EXPECT_EQ(param_of(json::parse(R"({"prompt": "a", "response_format": {"type": "xml"}})")), "response_format.type");
  EXPECT_EQ(param_of(json::parse(R"({"prompt": "a", "response_format": {"type": "json_schema"}})")),
            "response_format.json_schema");
  EXPECT_EQ(param_of(json::parse(R"({"prompt": "a", "grammar": 5})")), "grammar");
  try {
    parse_completion_request(json::parse(R"({"prompt": "a", "json_schema": {"properties": {"x": {"not": {}}}}})"), false, 512);
    FAIL() << "an unsupported keyword must be refused";
  } catch (const protocol::ApiError& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.param, "json_schema");
    EXPECT_NE(e.message.find("#/properties/x"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("'not'"), std::string::npos) << e.message;
  }
  try {
    parse_completion_request(json::parse(R"({"prompt": "a", "grammar": "root ::= \"x\"\nroot ::= ("})"), false, 512);
    FAIL() << "a GBNF syntax error must be refused";
  } catch (const protocol::ApiError& e) {
    EXPECT_EQ(e.param, "grammar");
    EXPECT_NE(e.message.find("line 2"), std::string::npos) << e.message;
  }
}

TEST(ServeProtocol, ChatFields) {
  auto r = parse_completion_request(
      json{{"messages", json::array({{{"role", "system"}, {"content", "be brief"}},
                                     {{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", "hi"}}})}}})},
           {"max_completion_tokens", 7}, {"logprobs", true}, {"top_logprobs", 2}},
      true, 512);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].content, "hi");
  EXPECT_EQ(r.gen.max_tokens, 7);
  EXPECT_EQ(r.gen.top_logprobs, 2);
  EXPECT_EQ(param_of(json{{"messages", json::array()}}, true), "messages");
  EXPECT_EQ(param_of(json{{"messages", "hi"}}, true), "messages");
  EXPECT_EQ(param_of(json{{"messages", json::array({{{"role", "wizard"}, {"content", "x"}}})}}, true), "messages[0].role");
  EXPECT_EQ(param_of(json{{"messages", json::array({{{"role", "user"}}})}}, true), "messages[0].content");
  EXPECT_EQ(param_of(json{{"messages", json::array({{{"role", "user"}, {"content", "x"}}})}, {"prompt", "x"}}, true),
            "prompt");
  EXPECT_EQ(param_of(json{{"messages", json::array({{{"role", "user"}, {"content", "x"}}})},
                          {"tools", json::array({{{"type", "function"}}})}},
                     true),
            "tools");
}

TEST(ServeProtocol, VerifyFields) {
  auto r = parse_verify_request(json{{"tokens", {1, 2}}, {"draft", {3, 4}}, {"temperature", 0.8},
                                     {"draft_probs", {{{3, 0.5}, {9, 0.25}}, {{4, 1.0}}}}},
                                512, 8);
  EXPECT_FALSE(r.session.has_value());
  ASSERT_EQ(r.draft_probs.size(), 2u);
  EXPECT_FLOAT_EQ(prob_of(r.draft_probs[0], 9), 0.25f);
  auto param = [](const json& j) {
    try {
      parse_verify_request(j, 512, 8);
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status, 400);
      return e.param;
    }
    return std::string();
  };
  EXPECT_EQ(param(json{{"draft", {1}}}), "tokens");
  EXPECT_EQ(param(json{{"tokens", {1}}, {"draft", {1, 2, 3, 4, 5, 6, 7, 8, 9}}}), "draft");
  EXPECT_EQ(param(json{{"tokens", {1}}, {"draft", {600}}}), "draft");
  EXPECT_EQ(param(json{{"tokens", {1}}, {"n_past", 4}}), "n_past");  // a new session holds nothing
  EXPECT_EQ(param(json{{"tokens", {1}}, {"draft", {3}}, {"temperature", 1}}), "draft_probs");
  EXPECT_EQ(param(json{{"tokens", {1}}, {"draft", {3}}, {"temperature", 1}, {"draft_probs", {{{4, 0.5}}}}}),
            "draft_probs[0]");  // the draft token itself has no probability
  EXPECT_EQ(param(json{{"tokens", {1}}, {"draft", {3}}, {"temperature", 1}, {"draft_probs", {{{3, 0.9}, {4, 0.9}}}}}),
            "draft_probs[0]");  // sums past 1
  EXPECT_EQ(param(json{{"tokens", {1}}, {"draft", {3}}, {"temperature", 1}, {"draft_probs", {{{3, 0.5}, {3, 0.1}}}}}),
            "draft_probs[0]");  // duplicate
  EXPECT_EQ(param(json{{"tokens", {1}}, {"past_hash", "xyz"}}), "past_hash");
  EXPECT_EQ(param(json{{"tokens", {1}}, {"secret", 1}}), "secret");
}

// Both sides of /v1/verify speak through protocol/verify_wire: what the client writes, the
// server reads back unchanged, and the server's answers read back as written.
TEST(ServeProtocol, VerifyWireRoundTrips) {
  VerifyRequest q;
  q.session = "s-1";
  q.n_past = 7;
  q.past_hash = 0x0123456789abcdefull;
  q.tokens = {5};
  q.draft = {3, 4};
  q.draft_probs = {{{3, 0.5f}, {9, 0.25f}}, {{4, 1.0f}}};
  q.sampling.temperature = 0.8f;
  q.sampling.top_k = 40;
  q.sampling.top_p = 0.9f;
  q.seed_given = true;
  q.sampling.seed = ~uint64_t(0);  // beyond INT64_MAX: sent as the same bits
  q.top_logprobs = 2;
  const VerifyRequest r = parse_verify_request(verify_request_json(q), 512, 8);
  EXPECT_EQ(r.session, q.session);
  EXPECT_EQ(r.n_past, q.n_past);
  EXPECT_EQ(r.past_hash, q.past_hash);
  EXPECT_EQ(r.tokens, q.tokens);
  EXPECT_EQ(r.draft, q.draft);
  EXPECT_EQ(r.draft_probs, q.draft_probs);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.8f);
  EXPECT_EQ(r.sampling.top_k, 40);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_TRUE(r.seed_given);
  EXPECT_EQ(r.sampling.seed, q.sampling.seed);
  EXPECT_EQ(r.top_logprobs, 2);
  // Greedy sends no sampling fields and no probabilities; a new session no hash.
  const json greedy = verify_request_json(VerifyRequest{.tokens = {1}, .draft = {2}});
  EXPECT_FALSE(greedy.contains("temperature") || greedy.contains("draft_probs") || greedy.contains("session") ||
               greedy.contains("past_hash") || greedy.contains("seed"))
      << greedy;

  const std::vector<TokenLogprob> lps = {{3, -0.5f, {{3, -0.5f, {}}, {8, -1.5f, {}}}}, {4, -0.25f, {}}};
  const VerifyVerdict v = parse_verify_answer(verify_answer_json({"s-1", "m", 1, 4, 9, 0xabcull, &lps}));
  EXPECT_EQ(v.session, "s-1");
  EXPECT_EQ(v.accepted, 1);
  EXPECT_EQ(v.token, 4);
  EXPECT_EQ(v.n_past, 9);
  EXPECT_EQ(v.past_hash, hash_hex(0xabc));
  ASSERT_EQ(v.logprobs.size(), 2u);
  EXPECT_EQ(v.logprobs[0].top.size(), 2u);
  EXPECT_EQ(v.logprobs[0].top[1].token, 8);
  EXPECT_THROW(parse_verify_answer(json{{"session", "s"}, {"accepted", 1.5}}), std::exception);

  const VerifyConflict c = parse_verify_conflict(
      verify_conflict_json(ApiError(409, "stale", "session", "session_stale"), "s-1", 12, 0xfeedull));
  EXPECT_EQ(c.code, "session_stale");
  EXPECT_EQ(c.n_past, 12);
  EXPECT_EQ(c.past_hash, hash_hex(0xfeed));
  EXPECT_EQ(parse_verify_conflict(json("not an object")).code, "");
}

TEST(ServeProtocol, ErrorObjectShape) {
  const json j = error_json(ApiError(400, "bad thing", "max_tokens", "invalid_value"));
  EXPECT_EQ(j["error"]["message"], "bad thing");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["param"], "max_tokens");
  EXPECT_EQ(j["error"]["code"], "invalid_value");
  const json k = error_json(ApiError(500, "oops"));
  EXPECT_TRUE(k["error"]["param"].is_null());
  EXPECT_TRUE(k["error"]["code"].is_null());
  EXPECT_EQ(k["error"]["type"], "server_error");
}

// ---- sessions --------------------------------------------------------------------------------

TEST(ServeSessions, OwnerBusyTtlAndBudget) {
  Metrics metrics;
  SessionStore store(std::chrono::seconds(3600), 1000, metrics);
  auto a = store.create("alice");
  std::string why;
  EXPECT_EQ(store.claim(a->id, "alice", &why), nullptr);  // busy: created claimed
  EXPECT_EQ(why, "busy");
  store.release(a);
  EXPECT_EQ(store.claim(a->id, "mallory", &why), nullptr);  // another key cannot see it
  EXPECT_EQ(why, "unknown");
  auto again = store.claim(a->id, "alice", &why);
  ASSERT_EQ(again, a);
  a->k.resize(200);  // 400 bytes + 400 for v
  a->v.resize(200);
  store.release(a);
  EXPECT_EQ(store.size(), 1u);
  auto b = store.create("bob");
  b->k.resize(200);
  b->v.resize(200);
  store.release(b);  // 1600 bytes > 1000: the least recently used (a) goes
  EXPECT_EQ(store.claim(a->id, "alice", &why), nullptr);
  EXPECT_EQ(why, "unknown");
  EXPECT_EQ(store.size(), 1u);
  EXPECT_GE(metrics.sessions_evicted.load(), 1u);
  EXPECT_TRUE(store.remove(b->id, "bob"));
  EXPECT_EQ(store.size(), 0u);

  SessionStore short_lived(std::chrono::seconds(0), 1 << 20, metrics);
  auto c = short_lived.create("");
  short_lived.release(c);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  short_lived.expire();
  EXPECT_EQ(short_lived.size(), 0u);
}

TEST(ServeSessions, TokenHashIsFnv1aOverLittleEndianIds) {
  // FNV-1a 64 of the bytes 01 00 00 00, computed by hand from the definition.
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t byte : {1, 0, 0, 0}) h = (h ^ byte) * 0x100000001b3ull;
  const int32_t one = 1;
  EXPECT_EQ(token_hash(&one, 1), h);
  EXPECT_EQ(hash_hex(0xabcull), "0000000000000abc");
}

// ---- metrics ---------------------------------------------------------------------------------

TEST(ServeMetrics, PrometheusText) {
  Metrics m;
  m.count_request("/v1/completions", 200);
  m.count_request("/v1/completions", 200);
  m.count_request("/v1/completions", 429);
  m.ttft_seconds.observe(0.012);
  m.generated_tokens += 7;
  const std::string t = m.render();
  EXPECT_NE(t.find("tandem_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("tandem_requests_total{endpoint=\"/v1/completions\",status=\"429\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("tandem_generated_tokens_total 7\n"), std::string::npos);
  EXPECT_NE(t.find("tandem_time_to_first_token_seconds_bucket{le=\"0.02\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("tandem_time_to_first_token_seconds_bucket{le=\"0.01\"} 0\n"), std::string::npos);
  EXPECT_NE(t.find("tandem_time_to_first_token_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(t.find("# TYPE tandem_batch_tokens histogram\n"), std::string::npos);
  // Every sample line is NAME{labels} VALUE or NAME VALUE.
  std::istringstream in(t);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_EQ(line.rfind("tandem_", 0), 0u) << line;
    EXPECT_NE(line.find(' '), std::string::npos) << line;
  }
}
