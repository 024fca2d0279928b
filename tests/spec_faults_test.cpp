// Faults between the device and the verify server, without a network emulator: a server
// restarted mid-generation (reset connection, lost session), a session dropped or cut back
// on the server (409), a call that never answers (timeout), transient 503s, and a server gone
// for good or never there (degraded to the device alone). Greedy output must stay exactly the
// target's while the server is reachable, and no token may be lost or repeated when degrading.
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "format/error.h"
#include "protocol/token_hash.h"
#include "spec_test_util.h"

using namespace tandem;
using namespace tandem::test;

namespace {

// Faults are detected within a few milliseconds here: retry quickly.
verify::SpeculativeConfig fast_retry_config(int port) {
  auto c = spec_config(port);
  c.retry_backoff_ms = 5;
  c.max_retries = 3;
  c.read_timeout_s = 5;
  return c;
}

const std::vector<int32_t>& prompt() {
  static const std::vector<int32_t> p = reference_prompts().at(1);
  return p;
}

// Checks a degraded generation: the target's tokens up to degraded_from, then exactly what the
// draft model alone generates after them (nothing lost, nothing repeated).
void expect_degraded_continuation(const verify::SpeculativeGeneration& r, const std::vector<int32_t>& target, int n) {
  ASSERT_GE(r.degraded_from, 0);
  const size_t d = size_t(r.degraded_from);
  ASSERT_LE(d, r.tokens.size());
  EXPECT_EQ(std::vector<int32_t>(r.tokens.begin(), r.tokens.begin() + ptrdiff_t(d)),
            std::vector<int32_t>(target.begin(), target.begin() + ptrdiff_t(std::min(d, target.size()))));
  std::vector<int32_t> ctx = prompt();
  ctx.insert(ctx.end(), r.tokens.begin(), r.tokens.begin() + ptrdiff_t(d));
  const std::vector<int32_t> device = greedy_tokens(draft_model(), ctx, n - int(d));
  EXPECT_EQ(std::vector<int32_t>(r.tokens.begin() + ptrdiff_t(d), r.tokens.end()), device);
}

int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);  // nobody listens there now
  return ntohs(a.sin_port);
}

}  // namespace

TEST(SpecFaults, ServerRestartedMidGenerationResendsTheContextAndStaysExact) {
  REQUIRE_SPEC_MODELS();
  ServeFixture s("stories260K-f32.gguf", spec_server);
  const int n = 80;
  const auto want = greedy_tokens(target_model(), prompt(), n);
  verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, fast_retry_config(s.port));
  bool restarted = false;
  int seen = 0;
  const auto r = session.generate(prompt(), SamplerParams{}, n, [&](int32_t, std::string_view) {
    if (++seen == 30) {
      restarted = true;
      // Between rounds: the server goes down (its keep-alive connection with it) and a new one,
      // which knows nothing of the session, comes up on the same port.
      s.server->stop();
      serve::ServerConfig cfg;
      cfg.model_path = model_path("stories260K-f32.gguf");
      cfg.port = s.port;
      cfg.sched.n_threads = 1;
      spec_server(cfg);
      s.server = std::make_unique<serve::Server>(cfg);
      s.server->start();
    }
    return true;
  });
  EXPECT_TRUE(restarted);
  EXPECT_EQ(r.tokens, want);
  EXPECT_EQ(r.degraded_from, -1) << r.degraded_reason;
  EXPECT_GE(r.stats.sessions_restarted, 1);
  EXPECT_GE(r.stats.attempts_failed, 1);
  // The new session cost one extra forward pass (the prompt alone, then the rest).
  EXPECT_GT(r.stats.cloud_forward_passes, r.stats.rounds);
}

TEST(SpecFaults, SessionDroppedOrCutBackOnTheServerIsRebuilt) {
  REQUIRE_SPEC_MODELS();
  ServeFixture s("stories260K-f32.gguf", spec_server);
  FaultProxy proxy(s.port);
  const int n = 80;
  const auto want = greedy_tokens(target_model(), prompt(), n);
  verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, fast_retry_config(proxy.port()));
  // Dropped: the server forgets the session (as when it expires or is evicted): 409 unknown.
  int seen = 0;
  auto r = session.generate(prompt(), SamplerParams{}, n, [&](int32_t, std::string_view) {
    if (++seen == 20) {
      EXPECT_EQ(s.del("/v1/verify/" + proxy.last_session()).status, 200);
    }
    return true;
  });
  EXPECT_EQ(r.tokens, want);
  EXPECT_EQ(r.stats.sessions_restarted, 1);
  EXPECT_EQ(r.degraded_from, -1) << r.degraded_reason;

  // Cut back: someone rolls the session back to the prompt's first tokens (409 stale on our
  // next call, with what the server holds, a prefix of our context): we resend from there.
  seen = 0;
  r = session.generate(prompt(), SamplerParams{}, n, [&](int32_t, std::string_view) {
    if (++seen == 20) {
      const size_t keep = prompt().size() - 1;
      auto cut = s.post("/v1/verify", {{"session", proxy.last_session()},
                                       {"n_past", keep},
                                       {"past_hash", protocol::hash_hex(protocol::token_hash(prompt().data(), keep))},
                                       {"tokens", {prompt().back()}}});
      EXPECT_EQ(cut.status, 200) << cut.text;
    }
    return true;
  });
  EXPECT_EQ(r.tokens, want);
  EXPECT_EQ(r.stats.sessions_restarted, 0);
  EXPECT_EQ(r.stats.attempts_failed, 1);
  EXPECT_EQ(r.degraded_from, -1) << r.degraded_reason;
}

TEST(SpecFaults, AVerifyThatNeverAnswersTimesOutAndIsRetried) {
  REQUIRE_SPEC_MODELS();
  ServeFixture s("stories260K-f32.gguf", spec_server);
  FaultProxy proxy(s.port);
  proxy.action = [](int i) { return i == 3 ? FaultProxy::Action::Hang : FaultProxy::Action::Forward; };
  const int n = 60;
  const auto want = greedy_tokens(target_model(), prompt(), n);
  auto cfg = fast_retry_config(proxy.port());
  cfg.read_timeout_s = 0.3;
  verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, cfg);
  const auto r = session.generate(prompt(), SamplerParams{}, n);
  EXPECT_EQ(proxy.hung(), 1);
  EXPECT_EQ(r.tokens, want);
  EXPECT_EQ(r.stats.timeouts, 1);
  EXPECT_GE(r.stats.reconnects, 1);
  EXPECT_EQ(r.degraded_from, -1) << r.degraded_reason;
}

TEST(SpecFaults, TransientServerErrorsAreRetried) {
  REQUIRE_SPEC_MODELS();
  ServeFixture s("stories260K-f32.gguf", spec_server);
  FaultProxy proxy(s.port);
  proxy.action = [](int i) { return i == 2 || i == 3 ? FaultProxy::Action::Fail503 : FaultProxy::Action::Forward; };
  const auto want = greedy_tokens(target_model(), prompt(), 50);
  verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, fast_retry_config(proxy.port()));
  const auto r = session.generate(prompt(), SamplerParams{}, 50);
  EXPECT_EQ(r.tokens, want);
  EXPECT_EQ(r.stats.attempts_failed, 2);
  EXPECT_EQ(r.degraded_from, -1) << r.degraded_reason;
}

TEST(SpecFaults, ServerGoneForGoodDegradesToTheDeviceWithoutLosingATokens) {
  REQUIRE_SPEC_MODELS();
  ServeFixture s("stories260K-f32.gguf", spec_server);
  const int n = 80;
  const auto want = greedy_tokens(target_model(), prompt(), n);
  verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, fast_retry_config(s.port));
  int seen = 0;
  std::vector<int32_t> streamed;
  const auto r = session.generate(prompt(), SamplerParams{}, n, [&](int32_t t, std::string_view) {
    streamed.push_back(t);
    if (++seen == 25) s.server->stop();
    return true;
  });
  EXPECT_EQ(streamed, r.tokens);
  EXPECT_GE(r.degraded_from, 25);
  EXPECT_LE(r.degraded_from, 25 + 8);  // the rest of the round that was being committed
  EXPECT_NE(r.degraded_reason.find("failed"), std::string::npos) << r.degraded_reason;
  expect_degraded_continuation(r, want, n);
}

TEST(SpecFaults, UnreachableFromTheStartRunsOnTheDeviceAlone) {
  REQUIRE_SPEC_MODELS();
  auto cfg = fast_retry_config(unused_port());
  cfg.max_retries = 1;
  verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, cfg);
  const auto r = session.generate(prompt(), SamplerParams{}, 40);
  EXPECT_EQ(r.degraded_from, 0);
  EXPECT_NE(r.degraded_reason.find("cannot reach"), std::string::npos) << r.degraded_reason;
  EXPECT_EQ(r.tokens, greedy_tokens(draft_model(), prompt(), 40));
  EXPECT_FALSE(session.connected());
  // A bad URL is refused outright.
  auto bad = cfg;
  bad.url = "localhost:8080";
  EXPECT_THROW(verify::SpeculativeSession(*draft_model().model, *draft_model().vocab, bad), Error);
}
