// POST /v1/verify, the speculative verification protocol (docs/verify-protocol.md), against a
// real server: a q4_0 draft model (in this process, as a device would run it) drafts for the
// f32 target on the server. Greedy speculation must give exactly the target's greedy text;
// sampled speculation must keep the target's distribution; sessions answer 409 when stale.
#include <map>

#include "engine/context.h"
#include "engine/sampler.h"
#include "protocol/rejection.h"
#include "protocol/token_hash.h"
#include "serve_test_util.h"

using namespace tandem;
using namespace tandem::test;

namespace {

// The device side: a draft model that keeps its own KV cache in step with the committed tokens.
class Drafter {
 public:
  explicit Drafter(const std::string& file) : model_(LlamaModel::load(model_path(file))) {
    ContextParams cp;
    cp.n_ctx = 128;
    cp.n_threads = 1;
    ctx_ = std::make_unique<Context>(*model_, cp);
  }
  // Greedy draft of k tokens after `context`.
  std::vector<int32_t> draft(const std::vector<int32_t>& context, int k) {
    const float* logits = sync(context);
    std::vector<int32_t> out;
    for (int i = 0; i < k && int(context.size() + out.size()) < ctx_->n_ctx(); ++i) {
      out.push_back(argmax(logits, ctx_->n_vocab()));
      held_.push_back(out.back());
      logits = ctx_->eval(0, std::vector<int32_t>{out.back()});
    }
    return out;
  }
  // The draft model's logits after `context`.
  const float* sync(const std::vector<int32_t>& context) {
    size_t keep = 0;
    while (keep < held_.size() && keep + 1 < context.size() && held_[keep] == context[keep]) ++keep;
    ctx_->truncate(0, int32_t(keep));
    held_.resize(keep);
    std::vector<int32_t> rest(context.begin() + ptrdiff_t(keep), context.end());
    held_.insert(held_.end(), rest.begin(), rest.end());
    return ctx_->eval(0, rest);
  }
  int32_t n_vocab() const { return ctx_->n_vocab(); }

 private:
  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<Context> ctx_;
  std::vector<int32_t> held_;
};

#define REQUIRE_MODELS() TANDEM_REQUIRE_FILE(model_path("stories260K-f32.gguf"))

}  // namespace

TEST(ServeVerify, GreedyDraftsGiveExactlyTheTargetsGreedyText) {
  REQUIRE_MODELS();
  ServeFixture s("stories260K-f32.gguf");
  Drafter drafter("stories260K-q4_0.gguf");
  for (const char* prompt : {"Once upon a time", "The little dog", "Lily wanted to"}) {
    SCOPED_TRACE(prompt);
    const int n = 100;
    const json want = tandem_run_greedy("stories260K-f32.gguf", prompt, n);
    std::vector<int32_t> context = want["prompt_tokens"];
    const size_t prompt_len = context.size();
    std::string session;
    size_t n_past = 0;
    int rounds = 0, accepted = 0, drafted = 0;
    while (context.size() - prompt_len < size_t(n)) {
      const int k = 1 + rounds % 5;  // vary k
      std::vector<int32_t> d = drafter.draft(context, std::min<int>(k, 128 - int(context.size()) - 1));
      json req = {{"tokens", std::vector<int32_t>(context.begin() + ptrdiff_t(n_past), context.end())}, {"draft", d}};
      if (!session.empty()) req.update({{"session", session}, {"n_past", n_past},
                                        {"past_hash", protocol::hash_hex(protocol::token_hash(context.data(), n_past))}});
      auto r = s.post("/v1/verify", req);
      ASSERT_EQ(r.status, 200) << r.text;
      session = r.body["session"];
      const int a = r.body["accepted"];
      ASSERT_LE(a, int(d.size()));
      context.insert(context.end(), d.begin(), d.begin() + a);
      n_past = r.body["n_past"];
      EXPECT_EQ(n_past, context.size());
      EXPECT_EQ(r.body["past_hash"], protocol::hash_hex(protocol::token_hash(context.data(), context.size())));
      context.push_back(r.body["token"]);
      ++rounds;
      accepted += a;
      drafted += int(d.size());
    }
    std::vector<int32_t> got(context.begin() + ptrdiff_t(prompt_len), context.end());
    std::vector<int32_t> expect = want["tokens"];
    got.resize(std::min(got.size(), expect.size()));
    EXPECT_EQ(got, expect);
    EXPECT_GT(accepted, drafted / 4) << "the q4_0 draft should agree with f32 often";
    EXPECT_LT(rounds, n) << "speculation took fewer target passes than tokens";
  }
  EXPECT_GT(s.metric("tandem_verify_accepted_tokens_total"), 0);
  EXPECT_GT(s.metric("tandem_verify_rounds_total"), 0);
}

// A session does not pin a slot: with one slot, completions in between take it over, and the
// session's KV rows come back from its own copy — the output is still exactly the target's.
TEST(ServeVerify, SessionSurvivesItsSlotBeingTakenBetweenCalls) {
  REQUIRE_MODELS();
  ServeFixture s("stories260K-f32.gguf", [](serve::ServerConfig& c) { c.sched.n_parallel = 1; });
  Drafter drafter("stories260K-q4_0.gguf");
  const json want = tandem_run_greedy("stories260K-f32.gguf", "The little dog", 60);
  std::vector<int32_t> context = want["prompt_tokens"];
  const size_t prompt_len = context.size();
  std::string session;
  size_t n_past = 0;
  while (context.size() - prompt_len < 60) {
    std::vector<int32_t> d = drafter.draft(context, 3);
    json req = {{"tokens", std::vector<int32_t>(context.begin() + ptrdiff_t(n_past), context.end())}, {"draft", d}};
    if (!session.empty()) req.update({{"session", session}, {"n_past", n_past}});
    auto r = s.post("/v1/verify", req);
    ASSERT_EQ(r.status, 200) << r.text;
    session = r.body["session"];
    const int a = r.body["accepted"];
    context.insert(context.end(), d.begin(), d.begin() + a);
    context.push_back(r.body["token"]);
    n_past = r.body["n_past"];
    // Someone else's request takes the only slot.
    auto other = s.post("/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 3}, {"temperature", 0}});
    ASSERT_EQ(other.status, 200);
  }
  std::vector<int32_t> got(context.begin() + ptrdiff_t(prompt_len), context.end());
  std::vector<int32_t> expect = want["tokens"];
  got.resize(std::min(got.size(), expect.size()));
  EXPECT_EQ(got, expect);
}

// Sampled speculation keeps the target's distribution: over a fixed set of seeds, the first
// token out of verify (the accepted draft token or the server's own) follows the target's
// top-k distribution (chi-square), though the drafts come from a different, flatter q.
TEST(ServeVerify, SampledDraftsKeepTheTargetsDistribution) {
  REQUIRE_MODELS();
  ServeFixture s("stories260K-f32.gguf", [](serve::ServerConfig& c) { c.session_budget_bytes = 1 << 20; });
  const std::vector<int32_t> prompt = tandem_run_greedy("stories260K-f32.gguf", "Once upon a time", 1)["prompt_tokens"];
  // The target's p, as the server computes it: f32 logits after the prompt, temperature 1, top-k 8.
  auto target = LlamaModel::load(model_path("stories260K-f32.gguf"));
  ContextParams cp;
  cp.n_ctx = 64;
  cp.n_threads = 1;
  Context tctx(*target, cp);
  SamplerParams tp;
  tp.temperature = 1;
  tp.top_k = 8;
  Sampler ts(tp, tctx.n_vocab());
  ts.sample(tctx.eval(0, prompt));
  const protocol::SparseDist p(ts.last_distribution().begin(), ts.last_distribution().end());
  // The draft's q: q4_0 at temperature 1.5, top-k 8.
  Drafter drafter("stories260K-q4_0.gguf");
  SamplerParams dp = tp;
  dp.temperature = 1.5f;
  Sampler ds(dp, drafter.n_vocab());
  ds.sample(drafter.sync(prompt));
  const protocol::SparseDist q(ds.last_distribution().begin(), ds.last_distribution().end());
  json q_json = json::array();
  for (const auto& [t, v] : q) q_json.push_back({t, v});

  const int N = 1500;
  std::map<int32_t, int> counts;
  int accepted = 0;
  for (int seed = 0; seed < N; ++seed) {
    Rng rng(uint64_t(seed) + 77);
    const int32_t x = protocol::draw(q, rng);
    auto r = s.post("/v1/verify", {{"tokens", prompt}, {"draft", {x}}, {"draft_probs", {q_json}}, {"temperature", 1},
                                   {"top_k", 8}, {"seed", seed}});
    ASSERT_EQ(r.status, 200) << r.text;
    const int a = r.body["accepted"];
    accepted += a;
    ++counts[a == 1 ? x : r.body["token"].get<int32_t>()];
  }
  double chi2 = 0;
  int bins = 0;
  double pooled_e = 0, pooled_o = 0;  // bins expecting fewer than 5 are pooled
  for (const auto& [t, pr] : p) {
    const double e = pr * N, o = counts.count(t) ? counts[t] : 0;
    if (e < 5) {
      pooled_e += e;
      pooled_o += o;
      continue;
    }
    chi2 += (o - e) * (o - e) / e;
    ++bins;
  }
  if (pooled_e > 0) {
    chi2 += (pooled_o - pooled_e) * (pooled_o - pooled_e) / pooled_e;
    ++bins;
  }
  int outside = 0;  // tokens the target's top-k excludes must never come out
  for (const auto& [t, c] : counts)
    if (protocol::prob_of(p, t) == 0) outside += c;
  EXPECT_EQ(outside, 0);
  // 0.999 quantiles of chi-square with bins - 1 <= 7 degrees of freedom: at most 24.32.
  const double limit[] = {0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32};
  ASSERT_GE(bins, 2);
  EXPECT_LT(chi2, limit[std::min(bins - 1, 7)]) << "bins " << bins;
  EXPECT_GT(accepted, N / 10);  // both the accept and the resample path ran
  EXPECT_LT(accepted, N);
}

TEST(ServeVerify, SessionsAnswer409WhenStaleOrUnknownAndBelongToTheirKey) {
  REQUIRE_MODELS();
  ServeFixture s("stories260K-f32.gguf", [](serve::ServerConfig& c) { c.api_keys = {"key-a", "key-b"}; });
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378};
  auto r = s.post("/v1/verify", {{"tokens", prompt}, {"draft", {432, 383}}}, "key-a");
  ASSERT_EQ(r.status, 200) << r.text;
  const std::string id = r.body["session"];
  const size_t held = r.body["n_past"];
  const std::string hash = r.body["past_hash"];
  // Another key does not see it.
  auto other = s.post("/v1/verify", {{"session", id}, {"n_past", held}, {"tokens", {300}}}, "key-b");
  EXPECT_EQ(other.status, 409);
  EXPECT_EQ(other.body["error"]["code"], "session_unknown");
  // Claiming more tokens than the server holds, or a different history: 409 with what it holds.
  auto stale = s.post("/v1/verify", {{"session", id}, {"n_past", held + 3}, {"tokens", {300}}}, "key-a");
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.body["error"]["code"], "session_stale");
  EXPECT_EQ(stale.body["session"]["n_past"], held);
  EXPECT_EQ(stale.body["session"]["past_hash"], hash);
  auto wrong = s.post("/v1/verify", {{"session", id}, {"n_past", held}, {"past_hash", "0123456789abcdef"}, {"tokens", {300}}},
                      "key-a");
  EXPECT_EQ(wrong.status, 409);
  // The client resends from what the server holds, or rolls back to a prefix: both work.
  auto ok = s.post("/v1/verify", {{"session", id}, {"n_past", held}, {"past_hash", hash}, {"tokens", {300}}}, "key-a");
  EXPECT_EQ(ok.status, 200) << ok.text;
  auto back = s.post("/v1/verify", {{"session", id}, {"n_past", 2}, {"tokens", {407, 261}}, {"draft", {378}}}, "key-a");
  ASSERT_EQ(back.status, 200) << back.text;
  EXPECT_GE(back.body["n_past"].get<int>(), 4);
  // Rolled back to the prompt's first 4 tokens (+ the accepted draft): the same answer as fresh.
  auto fresh = s.post("/v1/verify", {{"tokens", {1, 403, 407, 261}}, {"draft", {378}}}, "key-b");
  EXPECT_EQ(back.body["accepted"], fresh.body["accepted"]);
  EXPECT_EQ(back.body["token"], fresh.body["token"]);
  // Beyond the context: 400. Deleted: unknown.
  auto big = s.post("/v1/verify", {{"session", id}, {"n_past", back.body["n_past"]}, {"tokens", std::vector<int32_t>(130, 300)}},
                    "key-a");
  EXPECT_EQ(big.status, 400);
  EXPECT_EQ(big.body["error"]["code"], "context_length_exceeded");
  EXPECT_EQ(s.del("/v1/verify/" + id, "key-b").status, 404);
  EXPECT_EQ(s.del("/v1/verify/" + id, "key-a").status, 200);
  auto gone = s.post("/v1/verify", {{"session", id}, {"n_past", 0}, {"tokens", {1}}}, "key-a");
  EXPECT_EQ(gone.status, 409);
  EXPECT_EQ(gone.body["session"]["n_past"], 0);
}

// Sessions compete for the memory budget: the least recently used is dropped and its client
// gets 409 on its next call (and can start over); a dropped session's answer is the same.
TEST(ServeVerify, MemoryBudgetDropsTheLeastRecentlyUsedSession) {
  REQUIRE_MODELS();
  // One stories260K position is 5 layers x 32 (4 KV heads of 8) x 2 (K, V) fp16 = 640 bytes:
  // two sessions of 20 positions fit in 50 positions' worth, three do not.
  ServeFixture s("stories260K-f32.gguf", [](serve::ServerConfig& c) { c.session_budget_bytes = 50 * 640; });
  const std::vector<int32_t> prompt(20, 300);
  auto a = s.post("/v1/verify", {{"tokens", prompt}});
  auto b = s.post("/v1/verify", {{"tokens", prompt}});
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);
  auto c = s.post("/v1/verify", {{"tokens", prompt}});  // now a is the oldest and goes
  ASSERT_EQ(c.status, 200);
  auto ra = s.post("/v1/verify", {{"session", a.body["session"]}, {"n_past", 20}, {"tokens", {301}}});
  EXPECT_EQ(ra.status, 409);
  auto rc = s.post("/v1/verify", {{"session", c.body["session"]}, {"n_past", 20}, {"tokens", {301}}});
  EXPECT_EQ(rc.status, 200) << rc.text;
  EXPECT_GE(s.metric("tandem_verify_sessions_evicted_total"), 1);
}

// "logprobs": N asks for the target's log-probabilities of the tokens a call returns (the
// accepted drafts, then the server's own): the same as a completion's logprobs at those positions.
TEST(ServeVerify, LogprobsOfTheReturnedTokensAreTheTargets) {
  REQUIRE_MODELS();
  ServeFixture s("stories260K-f32.gguf");
  Drafter drafter("stories260K-q4_0.gguf");
  const json want = s.post("/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"temperature", 0},
                                                {"logprobs", 2}}).body["choices"][0]["logprobs"];
  const json run = tandem_run_greedy("stories260K-f32.gguf", "Once upon a time", 12);
  std::vector<int32_t> context = run["prompt_tokens"];
  const std::vector<int32_t> d = drafter.draft(context, 4);
  const auto r = s.post("/v1/verify", {{"tokens", context}, {"draft", d}, {"logprobs", 2}});
  ASSERT_EQ(r.status, 200) << r.text;
  const int a = r.body["accepted"];
  const json& lps = r.body["logprobs"];
  ASSERT_EQ(lps.size(), size_t(a) + 1);
  for (int i = 0; i <= a; ++i) {
    EXPECT_EQ(lps[i]["token"], i < a ? d[size_t(i)] : r.body["token"].get<int32_t>());
    EXPECT_NEAR(lps[i]["logprob"].get<double>(), want["token_logprobs"][i].get<double>(), 1e-4) << i;
    ASSERT_EQ(lps[i]["top"].size(), 2u);
    EXPECT_EQ(lps[i]["top"][0][0], lps[i]["token"]);  // greedy: the token is the most likely
  }
  // Without the field, none; out of range, 400.
  EXPECT_FALSE(s.post("/v1/verify", {{"tokens", context}, {"draft", d}}).body.contains("logprobs"));
  EXPECT_EQ(s.post("/v1/verify", {{"tokens", context}, {"draft", d}, {"logprobs", 21}}).status, 400);
}
