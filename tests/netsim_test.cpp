// netsim: the emulated link's arithmetic, and the proxy on real loopback sockets (delay,
// bandwidth, order under jitter, loss, cuts, dark, capture, the control API). (`tandem netsim`
// as a process: netsim_cli_test.cpp.)
// Timing is asserted as lower bounds only (the machine is shared and noisy); upper bounds are
// at least ten times the expected value.
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "format/error.h"
#include "netsim/control_server.h"
#include "netsim/proxy.h"
#include "netsim_test_util.h"
#include "test_util.h"

using namespace tandem;
using namespace tandem::test;
using netsim::Clock;
using nlohmann::json;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::string s(n, '\0');
  for (char& c : s) c = char(g());
  return s;
}

netsim::ProxyConfig config_for(int upstream_port, netsim::LinkConfig link = {}, uint64_t seed = 0) {
  netsim::ProxyConfig cfg;
  cfg.upstream_port = upstream_port;
  cfg.link = link;
  cfg.seed = seed;
  return cfg;
}

// Whether f() becomes true within 5 s.
template <class F>
bool eventually(F f) {
  for (int i = 0; i < 5000; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return f();
}

// Sends `payload` and reads the echo back; the echo, possibly short.
std::string echo_through(TcpClient& c, const std::string& payload) {
  if (!c.send_all(payload)) return {};
  return c.recv_n(payload.size());
}

}  // namespace

// ---- the link's arithmetic ----

TEST(NetsimLink, LossDecisionsFollowProbabilityAndSeed) {
  netsim::LinkConfig l;
  for (uint64_t i = 0; i < 1000; ++i) {
    l.loss = 0;
    EXPECT_FALSE(netsim::decide_loss(7, i, l).lost);
    l.loss = 1;
    const auto d = netsim::decide_loss(7, i, l);
    EXPECT_TRUE(d.lost);
    EXPECT_LT(d.after_bytes, l.loss_window_bytes);
  }
  l.loss = 0.3;
  int lost = 0, differ = 0;
  for (uint64_t i = 0; i < 10000; ++i) {
    const auto a = netsim::decide_loss(42, i, l), b = netsim::decide_loss(42, i, l);
    EXPECT_EQ(a.lost, b.lost);
    EXPECT_EQ(a.after_bytes, b.after_bytes);
    lost += a.lost;
    differ += a.lost != netsim::decide_loss(43, i, l).lost;
  }
  EXPECT_NEAR(lost / 10000.0, 0.3, 0.03);
  EXPECT_GT(differ, 1000);  // another seed, other decisions
  l.loss_window_bytes = 0;
  EXPECT_EQ(netsim::decide_loss(1, 0, l).after_bytes, 0u);
}

TEST(NetsimLink, PacerDelaysWithinJitterAndNeverReorders) {
  netsim::LinkConfig l;
  l.delay_ms = 20;
  l.jitter_ms = 15;
  const Clock::time_point t0{};
  // Chunks far apart (more than 2J): each delay is D + U[-J, J].
  netsim::Pacer spaced(3);
  double lo = 1e9, hi = -1e9;
  for (int i = 0; i < 2000; ++i) {
    const Clock::time_point sent = t0 + std::chrono::milliseconds(100 * i);
    const double delay = std::chrono::duration<double, std::milli>(spaced.release(sent, l) - sent).count();
    EXPECT_GE(delay, 5.0);  // D - J
    EXPECT_LE(delay, 35.0 + 1e-6);  // D + J
    lo = std::min(lo, delay);
    hi = std::max(hi, delay);
  }
  EXPECT_LT(lo, 6.0);   // the jitter reaches down to D - J ...
  EXPECT_GT(hi, 34.0);  // ... and up to D + J
  // Chunks close together: a chunk never overtakes the one before it.
  netsim::Pacer close(3);
  Clock::time_point prev{};
  int held_back = 0;
  for (int i = 0; i < 2000; ++i) {
    const Clock::time_point sent = t0 + std::chrono::microseconds(100 * i);
    const Clock::time_point r = close.release(sent, l);
    EXPECT_GE(r, sent + std::chrono::milliseconds(5));
    EXPECT_GE(r, prev);
    held_back += r == prev;
    prev = r;
  }
  EXPECT_GT(held_back, 100);  // the order constraint did bind
  // Jitter larger than the delay never releases a chunk before it was read.
  l.jitter_ms = 50;
  netsim::Pacer p2(4);
  for (int i = 0; i < 100; ++i) {
    const Clock::time_point sent = t0 + std::chrono::seconds(i);
    EXPECT_GE(p2.release(sent, l), sent);
  }
}

TEST(NetsimLink, WireSerializesAtTheBandwidth) {
  netsim::Wire w;
  const Clock::time_point t0{};
  // 1000 bytes at 8 kbit/s: 8000 bits at 8 bits/ms = 1000 ms.
  EXPECT_EQ(w.transmit(t0, 1000, 8), t0 + std::chrono::milliseconds(1000));
  // A chunk read meanwhile waits for the wire.
  EXPECT_EQ(w.transmit(t0 + std::chrono::milliseconds(10), 500, 8), t0 + std::chrono::milliseconds(1500));
  // An idle wire starts at once; unlimited bandwidth adds nothing.
  EXPECT_EQ(w.transmit(t0 + std::chrono::seconds(5), 8, 64), t0 + std::chrono::seconds(5) + std::chrono::milliseconds(1));
  EXPECT_EQ(w.transmit(t0, 1 << 20, 0), t0);
}

TEST(NetsimLink, ValidationAndParsingNameTheProblem) {
  netsim::LinkConfig l;
  l.loss = 1.5;
  EXPECT_THROW(netsim::validate(l), Error);
  l.loss = 0;
  l.delay_ms = -1;
  EXPECT_THROW(netsim::validate(l), Error);
  EXPECT_EQ(netsim::parse_loss_mode("stall"), netsim::LossMode::Stall);
  EXPECT_THROW(netsim::parse_loss_mode("drop"), Error);
  const auto hp = netsim::parse_host_port("localhost:8080", "--upstream", false);
  EXPECT_EQ(hp.host, "localhost");
  EXPECT_EQ(hp.port, 8080);
  EXPECT_EQ(netsim::parse_host_port("[::1]:0", "--listen", true).host, "::1");
  for (const char* bad : {"8080", "host:", ":80", "host:port", "host:70000", "host:0"}) {
    try {
      netsim::parse_host_port(bad, "--upstream", false);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("--upstream"), std::string::npos) << e.what();
    }
  }
  const std::string body = R"({"delay_ms": 25, "loss_mode": "stall"})";
  const auto l2 = netsim::link_from_json(netsim::LinkConfig{}, body);
  EXPECT_EQ(l2.delay_ms, 25);
  EXPECT_EQ(l2.loss_mode, netsim::LossMode::Stall);
  EXPECT_THROW(netsim::link_from_json({}, R"({"delay": 25})"), Error);
  EXPECT_THROW(netsim::link_from_json({}, R"({"loss": 2})"), Error);
  EXPECT_THROW(netsim::link_from_json({}, "not json"), Error);
}

// ---- the proxy ----

TEST(NetsimProxy, ForwardsBytesBothWays) {
  EchoServer echo;
  netsim::Proxy proxy(config_for(echo.port));
  const int port = proxy.start();
  ASSERT_GT(port, 0);
  TcpClient c(port);
  ASSERT_TRUE(c.connected);
  const std::string payload = random_bytes(300000, 1);
  EXPECT_EQ(echo_through(c, payload), payload);
  // The loop counts a send after it returns, which may be after the client has the bytes.
  EXPECT_TRUE(eventually([&] { return proxy.stats().bytes_down == payload.size(); }));
  const auto s = proxy.stats();
  EXPECT_EQ(s.connections, 1u);
  EXPECT_EQ(s.open, 1u);
  EXPECT_EQ(s.bytes_up, payload.size());
  EXPECT_EQ(s.bytes_down, payload.size());
}

TEST(NetsimProxy, DelayAddsAtLeastTwiceTheOneWayDelayPerRoundTrip) {
  EchoServer echo;
  netsim::LinkConfig link;
  link.delay_ms = 40;
  netsim::Proxy proxy(config_for(echo.port, link));
  TcpClient c(proxy.start());
  for (int i = 0; i < 3; ++i) {
    const auto t0 = Clock::now();
    ASSERT_EQ(echo_through(c, "ping"), "ping");
    const double rtt = ms_since(t0);
    EXPECT_GE(rtt, 80.0);
    EXPECT_LT(rtt, 800.0);
  }
  // The benchmark's sweep: a new delay applies without a restart.
  link.delay_ms = 5;
  proxy.set_link(link);
  const auto t0 = Clock::now();
  ASSERT_EQ(echo_through(c, "pong"), "pong");
  EXPECT_GE(ms_since(t0), 10.0);
  EXPECT_LT(ms_since(t0), 80.0 * 10);
}

TEST(NetsimProxy, BandwidthBoundsTheTransferTime) {
  EchoServer echo;
  netsim::LinkConfig link;
  link.bandwidth_kbps = 4000;  // 500 bytes per ms
  netsim::Proxy proxy(config_for(echo.port, link));
  TcpClient c(proxy.start());
  const std::string payload = random_bytes(200000, 2);
  const auto t0 = Clock::now();
  ASSERT_EQ(echo_through(c, payload), payload);
  // Each direction needs 200000 * 8 / 4000 = 400 ms at least.
  const double ms = ms_since(t0);
  EXPECT_GE(ms, 400.0);
  EXPECT_LT(ms, 8000.0);
}

TEST(NetsimProxy, JitterNeverReordersTheStream) {
  EchoServer echo;
  netsim::LinkConfig link;
  link.delay_ms = 3;
  link.jitter_ms = 3;
  netsim::Proxy proxy(config_for(echo.port, link, 9));
  TcpClient c(proxy.start());
  // Many small writes make many chunks, each with its own jitter.
  const std::string payload = random_bytes(100000, 3);
  std::string got;
  std::thread reader([&] { got = c.recv_n(payload.size()); });
  for (size_t off = 0; off < payload.size(); off += 997) {
    ASSERT_TRUE(c.send_all(payload.substr(off, 997)));
    if (off % (997 * 10) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  reader.join();
  EXPECT_EQ(got, payload);
}

TEST(NetsimProxy, LossOneDropsEveryConnectionAndLossZeroNone) {
  EchoServer echo;
  netsim::LinkConfig link;
  link.loss = 1;  // default window: each fails within its first 4096 bytes
  netsim::Proxy proxy(config_for(echo.port, link, 5));
  const int port = proxy.start();
  const std::string payload = random_bytes(20000, 4);
  for (int i = 0; i < 5; ++i) {
    TcpClient c(port);
    c.send_all(payload);  // may fail once the reset arrives
    const std::string got = c.recv_n(payload.size());
    EXPECT_LT(got.size(), payload.size());
    EXPECT_TRUE(c.was_reset()) << "connection " << i << ": " << c.error;
  }
  EXPECT_EQ(proxy.stats().dropped, 5u);
  link.loss = 0;
  proxy.set_link(link);
  for (int i = 0; i < 5; ++i) {
    TcpClient c(port);
    EXPECT_EQ(echo_through(c, payload), payload);
  }
  EXPECT_EQ(proxy.stats().dropped, 5u);
}

TEST(NetsimProxy, StalledConnectionsNeverAnswer) {
  EchoServer echo;
  netsim::LinkConfig link;
  link.loss = 1;
  link.loss_mode = netsim::LossMode::Stall;
  link.loss_window_bytes = 0;
  netsim::Proxy proxy(config_for(echo.port, link));
  TcpClient c(proxy.start(), 300);
  ASSERT_TRUE(c.connected);  // the kernel accepted it
  EXPECT_TRUE(c.send_all("hello"));
  EXPECT_EQ(c.recv_n(5), "");
  EXPECT_TRUE(c.timed_out);  // no reset
  EXPECT_EQ(c.error, 0);
  EXPECT_TRUE(eventually([&] { return proxy.stats().stalled == 1; }));
  EXPECT_EQ(echo.accepted.load(), 0);
}

TEST(NetsimProxy, TheSameSeedMakesTheSameDecisions) {
  EchoServer echo;
  netsim::LinkConfig link;
  link.loss = 0.5;
  link.loss_window_bytes = 0;  // a lost connection is reset as soon as it is accepted
  auto outcomes = [&](uint64_t seed) {
    netsim::Proxy proxy(config_for(echo.port, link, seed));
    const int port = proxy.start();
    std::vector<bool> lost;
    for (int i = 0; i < 16; ++i) {
      TcpClient c(port);
      lost.push_back(echo_through(c, "abc") != "abc");
    }
    return lost;
  };
  const std::vector<bool> a = outcomes(11), b = outcomes(11);
  EXPECT_EQ(a, b);
  // And they are the decisions decide_loss predicts for connections 0, 1, 2, ...
  int n_lost = 0;
  for (uint64_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i], netsim::decide_loss(11, i, link).lost) << "connection " << i;
    n_lost += a[i];
  }
  EXPECT_GT(n_lost, 0);
  EXPECT_LT(n_lost, 16);
}

TEST(NetsimProxy, CutAllResetsOpenConnectionsAndNewOnesWork) {
  EchoServer echo;
  netsim::LinkConfig link;
  link.delay_ms = 5;
  netsim::Proxy proxy(config_for(echo.port, link));
  const int port = proxy.start();
  TcpClient a(port), b(port);
  ASSERT_EQ(echo_through(a, "one"), "one");
  ASSERT_EQ(echo_through(b, "two"), "two");
  // b is mid-request: its bytes are in flight when the cut comes.
  ASSERT_TRUE(b.send_all(random_bytes(1000, 5)));
  EXPECT_EQ(proxy.cut_all(), 2u);
  for (TcpClient* c : {&a, &b}) {
    c->recv_n(1000);
    EXPECT_TRUE(c->was_reset()) << c->error;
  }
  EXPECT_EQ(proxy.stats().cut, 2u);
  EXPECT_EQ(proxy.stats().open, 0u);
  TcpClient d(port);
  EXPECT_EQ(echo_through(d, "after"), "after");
}

TEST(NetsimProxy, DarkStallsEverythingAndLightResumes) {
  EchoServer echo;
  netsim::Proxy proxy(config_for(echo.port));
  const int port = proxy.start();
  TcpClient old_conn(port, 300);
  ASSERT_EQ(echo_through(old_conn, "before"), "before");
  proxy.set_dark(true);
  EXPECT_TRUE(proxy.stats().dark);
  // An open connection: the request times out, without a reset.
  ASSERT_TRUE(old_conn.send_all("held"));
  EXPECT_EQ(old_conn.recv_n(4), "");
  EXPECT_TRUE(old_conn.timed_out);
  EXPECT_EQ(old_conn.error, 0);
  // A new connection is accepted, but nothing reaches the upstream.
  TcpClient new_conn(port, 300);
  ASSERT_TRUE(new_conn.connected);
  ASSERT_TRUE(new_conn.send_all("new"));
  EXPECT_EQ(new_conn.recv_n(3), "");
  EXPECT_TRUE(new_conn.timed_out);
  EXPECT_EQ(new_conn.error, 0);
  EXPECT_EQ(echo.accepted.load(), 1);
  EXPECT_EQ(proxy.stats().bytes_up, 6u);
  // Light: what was held goes through, as TCP retransmits after an outage.
  proxy.set_dark(false);
  old_conn.set_timeout(10000);
  new_conn.set_timeout(10000);
  EXPECT_EQ(old_conn.recv_n(4), "held");
  EXPECT_EQ(new_conn.recv_n(3), "new");
  EXPECT_EQ(echo_through(new_conn, "again"), "again");
  EXPECT_EQ(echo.accepted.load(), 2);
}

TEST(NetsimProxy, CaptureHoldsExactlyTheBytesSent) {
  EchoServer echo;
  const std::string up = temp_path("netsim-capture-up"), down = temp_path("netsim-capture-down");
  std::filesystem::remove(up);
  std::filesystem::remove(down);
  auto cfg = config_for(echo.port);
  cfg.capture_up = up;
  cfg.capture_down = down;
  const std::string p1 = random_bytes(70000, 6), p2 = "name=Alice Example; card=4111111111111111";
  {
    netsim::Proxy proxy(cfg);
    const int port = proxy.start();
    for (const std::string* p : {&p1, &p2}) {
      TcpClient c(port);
      ASSERT_EQ(echo_through(c, *p), *p);
    }
  }
  auto read = [](const std::string& path) {
    const auto v = read_file(path);
    return std::string(v.begin(), v.end());
  };
  EXPECT_EQ(read(up), p1 + p2);
  EXPECT_EQ(read(down), p1 + p2);
  std::filesystem::remove(up);
  std::filesystem::remove(down);
}

TEST(NetsimProxy, ForwardsHttpToAnHttplibServer) {
  httplib::Server server;
  server.Post("/echo", [](const httplib::Request& req, httplib::Response& res) { res.set_content(req.body, "text/plain"); });
  const int up_port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  for (int i = 0; i < 5000 && !server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  {
    netsim::LinkConfig link;
    link.delay_ms = 10;
    link.jitter_ms = 5;
    netsim::Proxy proxy(config_for(up_port, link, 1));
    httplib::Client client("127.0.0.1", proxy.start());
    const std::string body = random_bytes(50000, 7);
    const auto t0 = Clock::now();
    auto res = client.Post("/echo", body, "application/octet-stream");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, body);
    EXPECT_GE(ms_since(t0), 10.0);  // at least one round trip at D - J = 5 ms each way
  }
  server.stop();
  t.join();
}

TEST(NetsimProxy, UnreachableUpstreamResetsTheClient) {
  int free_port;
  {
    EchoServer probe;  // a port that was free a moment ago and is closed again
    free_port = probe.port;
  }
  netsim::Proxy proxy(config_for(free_port));
  TcpClient c(proxy.start());
  c.send_all("x");
  c.recv_n(1);
  EXPECT_TRUE(c.was_reset()) << c.error;
  EXPECT_EQ(proxy.stats().upstream_failures, 1u);
  EXPECT_THROW(netsim::Proxy(config_for(0)).start(), Error);
}

TEST(NetsimControl, HttpApiChangesTheLinkCutsAndGoesDark) {
  EchoServer echo;
  netsim::Proxy proxy(config_for(echo.port));
  const int port = proxy.start();
  netsim::ControlServer control(proxy, "127.0.0.1", 0);
  httplib::Client api("127.0.0.1", control.start());

  auto res = api.Put("/config", R"({"delay_ms": 30, "jitter_ms": 2})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["delay_ms"], 30.0);
  EXPECT_EQ(proxy.link().jitter_ms, 2.0);
  TcpClient c(port);
  auto t0 = Clock::now();
  ASSERT_EQ(echo_through(c, "x"), "x");
  EXPECT_GE(ms_since(t0), 56.0);  // 2 (D - J)

  res = api.Put("/config", R"({"loss": 3})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(json::parse(res->body)["error"].get<std::string>().find("loss"), std::string::npos);
  res = api.Get("/config");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["loss"], 0.0);

  res = api.Post("/dark", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_TRUE(proxy.dark());
  res = api.Get("/stats");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["dark"], true);
  res = api.Post("/light", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_FALSE(proxy.dark());

  res = api.Post("/cut", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["cut"], 1);
  c.recv_n(1);
  EXPECT_TRUE(c.was_reset()) << c.error;
  res = api.Get("/stats");
  ASSERT_TRUE(res);
  const json s = json::parse(res->body);
  EXPECT_EQ(s["connections"], 1);
  EXPECT_EQ(s["cut"], 1);
  EXPECT_EQ(s["bytes_up"], 1);
  EXPECT_EQ(s["bytes_down"], 1);
  control.stop();
}
