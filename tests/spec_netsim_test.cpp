// Speculative decoding across an emulated network: verify::SpeculativeSession on the "device"
// talks to an in-process tandem serve through netsim::Proxy (docs/netsim.md), as it would over
// a real link. Greedy output must be exactly the target's own at RTT 0 and 50 ms (with jitter),
// after the link is cut in the middle of a call, and up to the point where the cloud goes dark,
// after which the device's own greedy continuation follows with no token lost or repeated. A
// server whose model has another vocabulary is refused across the proxy too.
//
// Only lower timing bounds are asserted (the machine may be loaded); timeouts are generous.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "format/error.h"
#include "netsim/proxy.h"
#include "spec_test_util.h"

using namespace tandem;
using namespace tandem::test;

namespace {

// A proxy in front of a server: the device connects to proxy.port().
struct NetsimPair {
  explicit NetsimPair(double delay_ms, double jitter_ms = 0, uint64_t seed = 1)
      : server("stories260K-f32.gguf", spec_server) {
    netsim::ProxyConfig pc;
    pc.upstream_port = server.port;
    pc.link.delay_ms = delay_ms;
    pc.link.jitter_ms = jitter_ms;
    pc.seed = seed;
    proxy = std::make_unique<netsim::Proxy>(pc);
    port = proxy->start();
  }
  ~NetsimPair() { proxy->stop(); }
  ServeFixture server;
  std::unique_ptr<netsim::Proxy> proxy;
  int port = 0;
};

// Acts on the proxy from another thread while a verify call is on the wire: once armed (from
// the token callback, between rounds), it waits until the next request has reached the server
// (bytes_up grows), so that its answer is still held in the proxy's delay queue, then acts.
class InFlightTrigger {
 public:
  InFlightTrigger(netsim::Proxy& proxy, std::function<void()> act)
      : proxy_(proxy), act_(std::move(act)), thread_([this] { loop(); }) {}
  ~InFlightTrigger() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // Called on the generating thread; the bytes delivered upstream so far are the baseline.
  void arm() {
    std::lock_guard<std::mutex> lk(mu_);
    if (armed_) return;
    armed_ = true;
    up_at_arm_ = proxy_.stats().bytes_up;
    cv_.notify_all();
  }
  bool fired() const { return fired_; }

 private:
  void loop() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [this] { return armed_ || quit_; });
    while (!quit_) {
      if (proxy_.stats().bytes_up > up_at_arm_) {
        act_();
        fired_ = true;
        return;
      }
      cv_.wait_for(lk, std::chrono::microseconds(200));
    }
  }
  netsim::Proxy& proxy_;
  std::function<void()> act_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false, quit_ = false;
  uint64_t up_at_arm_ = 0;
  std::atomic<bool> fired_{false};
  std::thread thread_;  // last: starts once the members above exist
};

verify::SpeculativeConfig netsim_config(int port, int draft_max, bool adaptive) {
  auto c = spec_config(port);
  c.draft_max = draft_max;
  c.adaptive = adaptive;
  c.retry_backoff_ms = 5;
  c.read_timeout_s = 30;  // a loaded machine (or TSan) can be slow; nothing here should time out
  return c;
}

// The target's tokens up to degraded_from, then exactly the draft model's own greedy
// continuation of them (nothing lost, nothing repeated).
void expect_degraded_continuation(const verify::SpeculativeGeneration& r, const std::vector<int32_t>& prompt,
                                  const std::vector<int32_t>& target, int n) {
  ASSERT_GE(r.degraded_from, 0);
  const size_t d = size_t(r.degraded_from);
  ASSERT_LE(d, r.tokens.size());
  ASSERT_LE(d, target.size());
  EXPECT_EQ(std::vector<int32_t>(r.tokens.begin(), r.tokens.begin() + ptrdiff_t(d)),
            std::vector<int32_t>(target.begin(), target.begin() + ptrdiff_t(d)));
  std::vector<int32_t> ctx = prompt;
  ctx.insert(ctx.end(), r.tokens.begin(), r.tokens.begin() + ptrdiff_t(d));
  const std::vector<int32_t> device = greedy_tokens(draft_model(), ctx, n - int(d));
  EXPECT_EQ(std::vector<int32_t>(r.tokens.begin() + ptrdiff_t(d), r.tokens.end()), device);
}

// Generates every prompt with fixed k = 4 and with the adaptive k through the pair, and checks
// each output against the target's greedy output. Returns the rounds made (all modes).
int64_t expect_exact(NetsimPair& pair, const std::vector<std::vector<int32_t>>& prompts, int n, double min_rtt_ms,
                     int64_t* ahead_drafted = nullptr) {
  int64_t all_rounds = 0;
  for (const bool adaptive : {false, true}) {
    verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab,
                                       netsim_config(pair.port, adaptive ? 8 : 4, adaptive));
    for (size_t p = 0; p < prompts.size(); ++p) {
      SCOPED_TRACE(std::string(adaptive ? "adaptive" : "k=4") + ", prompt " + std::to_string(p));
      const std::vector<int32_t> want = greedy_tokens(target_model(), prompts[p], n);
      std::vector<int32_t> streamed;
      const auto r = session.generate(prompts[p], SamplerParams{}, n, [&](int32_t t, std::string_view) {
        streamed.push_back(t);
        return true;
      });
      EXPECT_EQ(r.tokens, want);
      EXPECT_EQ(streamed, r.tokens);
      EXPECT_EQ(r.degraded_from, -1) << r.degraded_reason;
      EXPECT_EQ(r.stats.attempts_failed, 0);
      if (!adaptive) {
        EXPECT_LE(r.stats.drafted, r.stats.rounds * 4);
      }
      // Every call crossed the emulated link: at least one round trip each.
      EXPECT_GE(r.stats.total_ms, double(r.stats.cloud_forward_passes) * min_rtt_ms);
      all_rounds += r.stats.rounds;
      if (ahead_drafted) *ahead_drafted += r.stats.ahead_drafted;
      std::printf("[spec-netsim] %-8s prompt %zu: %zu tokens in %lld rounds, %.0f ms, mean accepted %.2f\n",
                  adaptive ? "adaptive" : "k=4", p, r.tokens.size(), (long long)r.stats.rounds, r.stats.total_ms,
                  r.stats.mean_accepted());
    }
    EXPECT_GE(session.estimate().rtt_ms, min_rtt_ms);
    // The client's own cost per round was measured (it is never zero: the call goes to another
    // thread and back).
    EXPECT_GT(session.policy().model().round_overhead_ms, 0);
  }
  return all_rounds;
}

}  // namespace

TEST(SpecNetsim, ExactAtRttZeroWithJitter) {
  REQUIRE_SPEC_MODELS();
  NetsimPair pair(0, 0.5);
  const auto prompts = reference_prompts();
  ASSERT_EQ(prompts.size(), 6u);
  const int64_t rounds = expect_exact(pair, prompts, 60, 0);
  const netsim::ProxyStats st = pair.proxy->stats();
  EXPECT_GT(st.bytes_up, 0u);
  EXPECT_GT(st.bytes_down, 0u);
  EXPECT_EQ(st.cut + st.dropped + st.stalled + st.upstream_failures, 0u);
  EXPECT_GT(rounds, 0);
}

TEST(SpecNetsim, ExactAtRtt50msWithJitter) {
  REQUIRE_SPEC_MODELS();
  // D = 25 ms ± 2: every request/answer exchange takes at least 2 × 23 ms.
  NetsimPair pair(25, 2, 7);
  const auto all = reference_prompts();
  ASSERT_GE(all.size(), 3u);
  const std::vector<std::vector<int32_t>> prompts = {all[0], all[2]};
  int64_t ahead = 0;
  expect_exact(pair, prompts, 40, 46, &ahead);
  EXPECT_GT(pair.proxy->stats().bytes_up, 0u);
  // A call that waits ~50 ms on the wire is worth drafting ahead during (pipeline_min_wait_ms).
  EXPECT_GT(ahead, 0);
}

TEST(SpecNetsim, ConnectionCutMidCallIsRetriedAndStaysExact) {
  REQUIRE_SPEC_MODELS();
  NetsimPair pair(25, 1, 3);
  const std::vector<int32_t> prompt = reference_prompts().at(1);
  const int n = 60;
  const auto want = greedy_tokens(target_model(), prompt, n);
  std::atomic<size_t> cut{0};
  InFlightTrigger trigger(*pair.proxy, [&] { cut = pair.proxy->cut_all(); });
  verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, netsim_config(pair.port, 4, false));
  int seen = 0;
  std::vector<int32_t> streamed;
  const auto r = session.generate(prompt, SamplerParams{}, n, [&](int32_t t, std::string_view) {
    streamed.push_back(t);
    if (++seen == 10) trigger.arm();
    return true;
  });
  ASSERT_TRUE(trigger.fired());
  std::printf("[spec-netsim] cut: %zu connection(s) cut, %lld failed attempt(s), %lld reconnect(s), %lld session(s) "
              "restarted\n",
              cut.load(), (long long)r.stats.attempts_failed, (long long)r.stats.reconnects,
              (long long)r.stats.sessions_restarted);
  EXPECT_GE(cut.load(), 1u);
  EXPECT_EQ(r.tokens, want);
  EXPECT_EQ(streamed, r.tokens);
  EXPECT_EQ(r.degraded_from, -1) << r.degraded_reason;
  // The call on the wire failed and was sent again on a new connection.
  EXPECT_GE(r.stats.attempts_failed, 1);
  EXPECT_GE(r.stats.reconnects, 1);
  const netsim::ProxyStats st = pair.proxy->stats();
  EXPECT_GE(st.cut, 1u);
  EXPECT_GE(st.connections, 2u);
}

TEST(SpecNetsim, CloudGoingDarkDegradesToTheDraftsOwnContinuation) {
  REQUIRE_SPEC_MODELS();
  NetsimPair pair(10, 1, 5);
  const std::vector<int32_t> prompt = reference_prompts().at(3);
  const int n = 60;
  const auto want = greedy_tokens(target_model(), prompt, n);
  InFlightTrigger trigger(*pair.proxy, [&] { pair.proxy->set_dark(true); });
  auto cfg = netsim_config(pair.port, 4, false);
  cfg.read_timeout_s = 0.5;
  cfg.connect_timeout_s = 0.5;
  cfg.max_retries = 2;
  verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, cfg);
  int seen = 0;
  std::vector<int32_t> streamed;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = session.generate(prompt, SamplerParams{}, n, [&](int32_t t, std::string_view) {
    streamed.push_back(t);
    if (++seen == 12) trigger.arm();
    return true;
  });
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(trigger.fired());
  std::printf("[spec-netsim] dark: degraded from token %lld after %.0f ms: %s\n", (long long)r.degraded_from, ms,
              r.degraded_reason.c_str());
  EXPECT_EQ(streamed, r.tokens);
  EXPECT_EQ(r.tokens.size(), size_t(n));
  // The dark began with the call after token 12: everything before came from the target.
  EXPECT_GE(r.degraded_from, 12);
  EXPECT_LT(r.degraded_from, n);
  EXPECT_NE(r.degraded_reason.find("failed 3 times in a row (last: no answer within 0.5 s)"), std::string::npos)
      << r.degraded_reason;
  EXPECT_GE(r.stats.timeouts, 1);
  expect_degraded_continuation(r, prompt, want, n);
  // A dark network answers nothing: the client waited out its read timeouts (three attempts).
  EXPECT_GE(ms, 3 * 0.5 * 900);
  const netsim::ProxyStats st = pair.proxy->stats();
  EXPECT_TRUE(st.dark);
  EXPECT_EQ(st.cut + st.dropped, 0u);  // no reset was ever seen: only silence
  pair.proxy->set_dark(false);
}

// The server behind the link runs a model with another vocabulary (a `tandem synth` model with
// Llama 2's 32000 tokens): the device refuses to speculate against it, naming both fingerprints.
TEST(SpecNetsim, RefusesAServerWithAnotherVocabulary) {
  REQUIRE_SPEC_MODELS();
  TANDEM_REQUIRE_FILE(shared_dir() + "/reference/vocab/ggml-vocab-llama-spm.gguf");
  const std::string other = temp_path("spec-netsim-other-vocab") + ".gguf";
  std::string out;
  ASSERT_EQ(run_command(tandem_binary() + " synth --shape stories110M --layers 1 --type q4_0 -o " + other, &out), 0)
      << out;
  serve::ServerConfig scfg;
  scfg.model_path = other;
  scfg.port = 0;
  scfg.sched.n_parallel = 1;
  scfg.sched.n_threads = 1;
  scfg.sched.n_ctx = 128;
  serve::Server server(scfg);
  const int server_port = server.start();
  netsim::ProxyConfig pc;
  pc.upstream_port = server_port;
  pc.link.delay_ms = 10;
  netsim::Proxy proxy(pc);
  const int port = proxy.start();
  verify::SpeculativeSession session(*draft_model().model, *draft_model().vocab, netsim_config(port, 4, false));
  try {
    session.generate(reference_prompts().at(0), SamplerParams{}, 10);
    ADD_FAILURE() << "a vocabulary mismatch must be refused";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("another vocabulary"), std::string::npos) << msg;
    EXPECT_NE(msg.find("sha256:"), std::string::npos) << msg;
  }
  EXPECT_FALSE(session.connected());
  // The refusal came over the emulated link (GET /v1/models), and no verify call followed.
  const netsim::ProxyStats st = proxy.stats();
  EXPECT_GE(st.connections, 1u);
  EXPECT_GT(st.bytes_down, 0u);
  EXPECT_EQ(server.metrics().forward_passes.load(), 0u);
  proxy.stop();
  server.stop();
  std::remove(other.c_str());
}
