// tandem edge end to end: a real in-process tandem serve (the shared F32 model) as the cloud, the
// gateway with the Q4_0 model as the device, driven over HTTP. Routes, the `tandem` object and
// headers, costs, budgets, device state, offline, failover (before the first token and mid-stream,
// with the exact text checked), CASCADE and de-sync detection.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "edge/gateway.h"
#include "serve_test_util.h"

using namespace tandem;
using namespace tandem::edge;
using test::HttpResult;
using test::json;

namespace {

const char* kDevice = "stories260K-q4_0.gguf";
const char* kCloud = "stories260K-f32.gguf";
constexpr double kPriceIn = 100, kPriceOut = 400;  // USD per 1M tokens: big enough to see

EndpointConfig cloud_at(const std::string& name, int port, int priority = 1) {
  EndpointConfig e;
  e.name = name;
  e.url = "http://127.0.0.1:" + std::to_string(port);
  e.price_input_per_1m = kPriceIn;
  e.price_output_per_1m = kPriceOut;
  e.priority = priority;
  e.timeout_ms = 20000;
  return e;
}

EdgeConfig edge_config(std::vector<EndpointConfig> clouds) {
  EdgeConfig c = default_config();
  c.port = 0;
  c.device_model = test::model_path(kDevice);
  c.device_chat_template = "chatml";
  c.device_threads = 1;
  c.state_source = "push";
  c.probe_interval_ms = 0;  // tests probe by hand
  c.daily_usd = -1;
  c.clouds = std::move(clouds);
  return c;
}

struct EdgeFixture {
  explicit EdgeFixture(EdgeConfig cfg, GatewayHooks hooks = {}) {
    sink = std::make_shared<MemoryRecordSink>();
    if (!hooks.sink) hooks.sink = sink;
    gw = std::make_unique<Gateway>(std::move(cfg), hooks);
    port = gw->start();
  }
  ~EdgeFixture() { gw->stop(); }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(120);
    return c;
  }
  httplib::Result post(const std::string& path, const json& body) const { return client().Post(path.c_str(), body.dump(), "application/json"); }
  json post_json(const std::string& path, const json& body, int expect = 200) const {
    auto r = post(path, body);
    EXPECT_TRUE(r);
    if (!r) return nullptr;
    EXPECT_EQ(r->status, expect) << r->body;
    return json::parse(r->body);
  }
  // A stream: the concatenated text and the tandem object of its last chunk.
  struct Stream {
    std::string text, finish_reason;
    json tandem;
    int chunks = 0;
    bool done = false;
    httplib::Headers headers;
  };
  Stream stream(const std::string& path, json body) const {
    body["stream"] = true;
    auto r = post(path, body);
    Stream s;
    EXPECT_TRUE(r);
    if (!r) return s;
    EXPECT_EQ(r->status, 200) << r->body;
    s.headers = r->headers;
    for (const auto& d : test::sse_data(r->body)) {
      if (d == "[DONE]") {
        s.done = true;
        continue;
      }
      const json j = json::parse(d);
      if (j.contains("tandem")) s.tandem = j["tandem"];
      if (!j.contains("choices") || j["choices"].empty()) continue;
      const json& c = j["choices"][0];
      std::string piece;
      if (c.contains("delta") && c["delta"].contains("content")) piece = c["delta"]["content"];
      if (c.contains("text")) piece = c["text"];
      if (!piece.empty()) ++s.chunks;
      s.text += piece;
      if (c.contains("finish_reason") && c["finish_reason"].is_string()) s.finish_reason = c["finish_reason"];
    }
    return s;
  }
  void push_device(const json& state) const {
    auto r = client().Put("/v1/device", state.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }

  std::shared_ptr<MemoryRecordSink> sink;
  std::unique_ptr<Gateway> gw;
  int port = 0;
};

json completion(const std::string& prompt, int max_tokens, const std::string& route = "") {
  json b = {{"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}};
  if (!route.empty()) b["tandem"] = {{"route", route}};
  return b;
}

// What a tandem serve over `model` answers greedily (an independent reference for both tiers).
std::string serve_greedy(const test::ServeFixture& s, const std::string& prompt, int max_tokens) {
  const HttpResult r = s.post("/v1/completions", completion(prompt, max_tokens));
  EXPECT_EQ(r.status, 200) << r.text;
  return r.body["choices"][0]["text"];
}

double cost_of(int64_t prompt, int64_t completion) { return (double(prompt) * kPriceIn + double(completion) * kPriceOut) / 1e6; }

}  // namespace

TEST(EdgeGateway, LocalAndCloudAnswersWithTheirAccounts) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud, [](serve::ServerConfig& c) { c.chat_template = "chatml"; });
  test::ServeFixture device_ref(kDevice);
  EdgeFixture edge(edge_config({cloud_at("primary", cloud.port)}));
  const std::string prompt = "Once upon a time";

  // LOCAL: the device model's greedy answer; nothing leaves the device, nothing is charged.
  auto r = edge.post("/v1/completions", completion(prompt, 24, "local"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["choices"][0]["text"], serve_greedy(device_ref, prompt, 24));
  json t = j["tandem"];
  EXPECT_EQ(t["route"], "LOCAL");
  EXPECT_EQ(t["served_by"], "device");
  EXPECT_EQ(t["data_left_device"], false);
  EXPECT_EQ(t["cost_usd"], 0.0);
  EXPECT_EQ(t["tokens"]["cloud"]["completion"], 0);
  EXPECT_EQ(t["tokens"]["device"]["completion"], j["usage"]["completion_tokens"]);
  EXPECT_EQ(r->get_header_value("x-tandem-route"), "LOCAL");
  EXPECT_EQ(r->get_header_value("x-tandem-served-by"), "device");
  EXPECT_EQ(r->get_header_value("x-tandem-data-left-device"), "false");
  EXPECT_EQ(r->get_header_value("x-tandem-reasons"), "policy:local");

  // CLOUD: the F32 model's greedy answer, charged at the endpoint's prices for its usage.
  r = edge.post("/v1/completions", completion(prompt, 24, "cloud"));
  ASSERT_TRUE(r);
  j = json::parse(r->body);
  EXPECT_EQ(j["choices"][0]["text"], serve_greedy(cloud, prompt, 24));
  t = j["tandem"];
  EXPECT_EQ(t["route"], "CLOUD");
  EXPECT_EQ(t["served_by"], "primary");
  EXPECT_EQ(t["data_left_device"], true);
  const int64_t pc = t["tokens"]["cloud"]["prompt"], cc = t["tokens"]["cloud"]["completion"];
  EXPECT_EQ(pc, j["usage"]["prompt_tokens"].get<int64_t>());
  EXPECT_EQ(cc, j["usage"]["completion_tokens"].get<int64_t>());
  EXPECT_GT(cc, 0);
  EXPECT_DOUBLE_EQ(t["cost_usd"].get<double>(), cost_of(pc, cc));
  EXPECT_EQ(t["tokens"]["device"]["completion"], 0);
  EXPECT_NEAR(std::stod(r->get_header_value("x-tandem-cost-usd")), cost_of(pc, cc), 1e-12);
  EXPECT_DOUBLE_EQ(edge.gw->budget().spent_today(), cost_of(pc, cc));

  // Streams give the same text, and the tandem object in the last chunk.
  auto s = edge.stream("/v1/completions", completion(prompt, 24, "cloud"));
  EXPECT_EQ(s.text, j["choices"][0]["text"]);
  EXPECT_TRUE(s.done);
  EXPECT_EQ(s.tandem["served_by"], "primary");
  EXPECT_DOUBLE_EQ(s.tandem["cost_usd"].get<double>(), cost_of(pc, cc));
  auto sl = edge.stream("/v1/completions", completion(prompt, 24, "local"));
  EXPECT_EQ(sl.text, serve_greedy(device_ref, prompt, 24));
  EXPECT_EQ(sl.tandem["route"], "LOCAL");

  // Chat through each model's own template, streamed and not.
  json chat = {{"messages", json::array({json{{"role", "user"}, {"content", "Tell me a story"}}})},
               {"max_tokens", 16},
               {"temperature", 0}};
  const HttpResult ref = cloud.post("/v1/chat/completions", chat);
  ASSERT_EQ(ref.status, 200) << ref.text;
  chat["tandem"] = {{"route", "cloud"}};
  json cj = edge.post_json("/v1/chat/completions", chat);
  EXPECT_EQ(cj["object"], "chat.completion");
  EXPECT_EQ(cj["choices"][0]["message"]["content"], ref.body["choices"][0]["message"]["content"]);
  auto cs = edge.stream("/v1/chat/completions", chat);
  EXPECT_EQ(cs.text, ref.body["choices"][0]["message"]["content"]);
  EXPECT_EQ(cs.tandem["route"], "CLOUD");

  // The ledger's records: one per request, with the same figures.
  const auto recs = edge.sink->records();
  ASSERT_EQ(recs.size(), 6u);
  EXPECT_EQ(recs[0].route, "LOCAL");
  EXPECT_EQ(recs[0].served_by, "device");
  EXPECT_FALSE(recs[0].data_left_device);
  EXPECT_EQ(recs[1].route, "CLOUD");
  EXPECT_EQ(recs[1].prompt_tokens_cloud, pc);
  EXPECT_EQ(recs[1].completion_tokens_cloud, cc);
  EXPECT_DOUBLE_EQ(recs[1].cost_usd, cost_of(pc, cc));
  EXPECT_DOUBLE_EQ(recs[1].all_cloud_cost_usd, cost_of(pc, cc));
  EXPECT_DOUBLE_EQ(recs[0].all_cloud_cost_usd, cost_of(recs[0].prompt_tokens_device, recs[0].completion_tokens_device));
  EXPECT_TRUE(recs[2].stream);
  EXPECT_EQ(recs[1].status, "ok");
  EXPECT_FALSE(recs[1].prompt_text);  // store_text is off
}

TEST(EdgeGateway, DeviceStateOfflineAndPrivacyPickTheRoute) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud);
  EdgeConfig cfg = edge_config({cloud_at("primary", cloud.port)});
  cfg.offline_max_tokens = 32;
  EdgeFixture edge(cfg);
  json simple = completion("Once upon a time", 8);
  simple["tandem"] = {{"task", "simple"}};
  auto route_of = [&](const json& body) {
    json j = edge.post_json("/v1/completions", body);
    return j["tandem"];
  };
  EXPECT_EQ(route_of(simple)["route"], "LOCAL");
  edge.push_device({{"battery", 12}, {"charging", false}});
  json t = route_of(simple);
  EXPECT_EQ(t["route"], "CLOUD");
  EXPECT_EQ(t["reasons"][0], "device:battery_low");
  edge.push_device({{"charging", true}});
  EXPECT_EQ(route_of(simple)["route"], "LOCAL");
  edge.push_device({{"thermal", "serious"}});
  t = route_of(simple);
  EXPECT_EQ(t["route"], "CLOUD");
  EXPECT_EQ(t["reasons"][0], "device:thermal_serious");

  // Privacy beats the hot device: keep-local stays on the device and nothing leaves it.
  json priv = simple;
  priv["tandem"]["keep_local"] = true;
  t = route_of(priv);
  EXPECT_EQ(t["route"], "LOCAL");
  EXPECT_EQ(t["reasons"][0], "privacy:keep_local");
  EXPECT_EQ(t["data_left_device"], false);

  // Offline: LOCAL with a notice, and max_tokens capped.
  edge.push_device({{"online", false}, {"thermal", "nominal"}});
  json big = completion("Once upon a time", 100);
  big["tandem"] = {{"task", "complex"}};
  auto r = edge.post("/v1/completions", big);
  ASSERT_TRUE(r);
  json j = json::parse(r->body);
  t = j["tandem"];
  EXPECT_EQ(t["route"], "LOCAL");
  EXPECT_EQ(t["reasons"][0], "connectivity:offline");
  EXPECT_EQ(t["max_tokens_cap"], 32);
  EXPECT_LE(j["usage"]["completion_tokens"].get<int>(), 32);
  EXPECT_FALSE(r->get_header_value("x-tandem-notice").empty());
  edge.push_device({{"online", true}});  // back: the cloud again
  EXPECT_EQ(route_of(big)["route"], "CLOUD");

  auto dev = edge.client().Get("/v1/device");
  ASSERT_TRUE(dev);
  EXPECT_EQ(json::parse(dev->body)["online"], true);
  EXPECT_EQ(json::parse(dev->body)["source"], "push");
  auto bad = edge.client().Put("/v1/device", R"({"thermal":"hot"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST(EdgeGateway, BudgetExhaustionRoutesToTheDevice) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud);
  EdgeConfig cfg = edge_config({cloud_at("primary", cloud.port)});
  // Worst case of one request: ~5 prompt tokens at $100/M + 20 at $400/M ≈ $0.0085.
  cfg.daily_usd = 0.012;
  EdgeFixture edge(cfg);
  json body = completion("Once upon a time", 20);
  body["tandem"] = {{"task", "complex"}};
  json first = edge.post_json("/v1/completions", body)["tandem"];
  EXPECT_EQ(first["route"], "CLOUD");
  const double spent = first["cost_usd"];
  EXPECT_GT(spent, 0.0);
  EXPECT_DOUBLE_EQ(edge.gw->budget().spent_today(), spent);
  // What is left no longer covers a worst case: the device answers, nothing more is spent.
  json second = edge.post_json("/v1/completions", body)["tandem"];
  EXPECT_EQ(second["route"], "LOCAL");
  EXPECT_EQ(second["reasons"].back(), "budget:exhausted");
  EXPECT_EQ(second["cost_usd"], 0.0);
  EXPECT_DOUBLE_EQ(edge.gw->budget().spent_today(), spent);
  const auto recs = edge.sink->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].failure, "budget");
  EXPECT_LE(edge.gw->budget().spent_today(), cfg.daily_usd);
}

namespace {

// A cloud that streams the first `n` text chunks of a real tandem serve's answer and then cuts
// the connection (no [DONE]); /health and /v1/models pass through. With ignore_stop it does not
// pass the request's `stop` on: it streams every token as it comes, stop strings included.
class DyingCloud {
 public:
  DyingCloud(int upstream_port, int n, bool ignore_stop = false)
      : upstream_(upstream_port), n_(n), ignore_stop_(ignore_stop) {
    srv_.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content("{\"status\":\"ok\"}", "application/json"); });
    srv_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      httplib::Client c("127.0.0.1", upstream_);
      auto r = c.Get("/v1/models");
      res.set_content(r ? r->body : "{}", "application/json");
    });
    srv_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      httplib::Client c("127.0.0.1", upstream_);
      c.set_read_timeout(120);
      json body = json::parse(req.body);
      if (ignore_stop_) body.erase("stop");
      auto r = c.Post("/v1/completions", body.dump(), "application/json");  // the whole SSE answer
      auto events = std::make_shared<std::vector<std::string>>(test::sse_data(r ? r->body : ""));
      ++calls;
      {
        std::lock_guard<std::mutex> lk(mu_);
        prefix_.clear();
      }
      res.set_chunked_content_provider("text/event-stream", [this, events](size_t, httplib::DataSink& sink) {
        int sent = 0;
        for (const auto& e : *events) {
          if (e == "[DONE]") break;
          const json j = json::parse(e);
          const bool text = j.contains("choices") && !j["choices"].empty() && !j["choices"][0].value("text", "").empty();
          if (text && sent == n_) return false;  // cut: the connection closes mid-answer
          const std::string line = "data: " + e + "\n\n";
          sink.write(line.data(), line.size());
          if (text) {
            ++sent;
            std::lock_guard<std::mutex> lk(mu_);
            prefix_ += j["choices"][0]["text"].get<std::string>();
          }
        }
        return false;
      });
    });
    port = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~DyingCloud() {
    srv_.stop();
    thread_.join();
  }
  int port = 0;
  std::atomic<int> calls{0};
  std::string prefix() {  // what it sent before dying (in the last call)
    std::lock_guard<std::mutex> lk(mu_);
    return prefix_;
  }

 private:
  std::mutex mu_;
  std::string prefix_;
  int upstream_, n_;
  bool ignore_stop_;
  httplib::Server srv_;
  std::thread thread_;
};

// Answers every completion with 429 and Retry-After: 30.
class BusyCloud {
 public:
  BusyCloud() {
    srv_.Post("/v1/completions", [this](const httplib::Request&, httplib::Response& res) {
      ++calls;
      res.status = 429;
      res.set_header("Retry-After", "30");
      res.set_content(R"({"error":{"message":"busy","type":"rate_limit_error"}})", "application/json");
    });
    port = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~BusyCloud() {
    srv_.stop();
    thread_.join();
  }
  int port = 0;
  std::atomic<int> calls{0};

 private:
  httplib::Server srv_;
  std::thread thread_;
};

}  // namespace

// Mid-stream failover, defined precisely: when the cloud has sent text P (in N chunks, standing
// for N of the request's max_tokens) and then fails, the device continues the same completion:
// it completes the prompt text followed by P, greedily here, for max_tokens - N tokens. The app's
// stream is P followed by exactly that continuation: nothing lost, nothing repeated.
TEST(EdgeGateway, MidStreamFailoverContinuesOnTheDeviceExactly) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud);
  test::ServeFixture device_ref(kDevice);
  const int N = 6, max_tokens = 30;
  DyingCloud dying(cloud.port, N);
  EdgeFixture edge(edge_config({cloud_at("flaky", dying.port)}));
  const std::string prompt = "Once upon a time";

  auto s = edge.stream("/v1/completions", completion(prompt, max_tokens, "cloud"));
  ASSERT_EQ(dying.calls, 1);
  const std::string P = dying.prefix();
  ASSERT_FALSE(P.empty());
  // P is the cloud's own greedy beginning...
  EXPECT_EQ(serve_greedy(cloud, prompt, max_tokens).substr(0, P.size()), P);
  // ...and the rest is the device's greedy continuation of prompt + P.
  const std::string expected = P + serve_greedy(device_ref, prompt + P, max_tokens - N);
  EXPECT_EQ(s.text, expected);
  EXPECT_TRUE(s.done);
  EXPECT_EQ(s.tandem["route"], "CLOUD");
  EXPECT_EQ(s.tandem["served_by"], "device");
  EXPECT_EQ(s.tandem["status"], "fallback");
  EXPECT_EQ(s.tandem["failure"], "connection");
  EXPECT_EQ(s.tandem["failover_at_chunk"], N);
  // Charged where computed: the cloud for its N tokens, the device for the rest (free).
  EXPECT_EQ(s.tandem["tokens"]["cloud"]["completion"], N);
  EXPECT_GT(s.tandem["tokens"]["device"]["completion"].get<int>(), 0);
  const int64_t pc = s.tandem["tokens"]["cloud"]["prompt"];
  EXPECT_DOUBLE_EQ(s.tandem["cost_usd"].get<double>(), cost_of(pc, N));

  // The same without streaming to the app (the gateway still streams from the cloud).
  json j = edge.post_json("/v1/completions", completion(prompt, max_tokens, "cloud"));
  EXPECT_EQ(j["choices"][0]["text"], expected);
  EXPECT_EQ(j["tandem"]["served_by"], "device");
  const auto recs = edge.sink->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].status, "fallback");
  EXPECT_EQ(recs[0].failure, "connection");
  EXPECT_EQ(recs[0].served_by, "device");
  EXPECT_EQ(recs[0].completion_tokens_cloud, N);
}

// A stop string that begins in the text the cloud sent before it failed and ends in the device's
// continuation stops the answer where it stops on the joined text P + D (the failover above,
// without `stop`): the stop string is cut out, no chunk ever carried any of it (the gateway holds
// back a tail that may begin one, as serve does), finish_reason is "stop", and usage counts the
// cloud's N tokens and the device's up to the one that completed the stop string. The cloud here
// streams every token, as one that ignores `stop` does; a stop string it sends whole is cut by
// the gateway as well.
// Log-probabilities across the same failover: each token's from the model that produced it.
TEST(EdgeGateway, MidStreamFailoverLogprobsComeFromEachTier) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud), device_ref(kDevice);
  const int N = 5, max_tokens = 20;
  DyingCloud dying(cloud.port, N);
  EdgeFixture edge(edge_config({cloud_at("flaky", dying.port)}));
  const std::string prompt = "Once upon a time";
  json ask = completion(prompt, max_tokens, "cloud");
  ask["logprobs"] = 1;
  const json lp = edge.post_json("/v1/completions", ask)["choices"][0]["logprobs"];
  const std::string P = dying.prefix();
  json ref = completion(prompt, N);
  ref["logprobs"] = 1;
  const json cloud_lp = cloud.post("/v1/completions", ref).body["choices"][0]["logprobs"];
  ref = completion(prompt + P, max_tokens - N);
  ref["logprobs"] = 1;
  const json device_lp = device_ref.post("/v1/completions", ref).body["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), size_t(N) + device_lp["tokens"].size());
  for (int i = 0; i < int(lp["tokens"].size()); ++i) {
    const json& from = i < N ? cloud_lp : device_lp;
    const int j = i < N ? i : i - N;
    EXPECT_EQ(lp["tokens"][i], from["tokens"][j]) << i;
    EXPECT_EQ(lp["token_logprobs"][i], from["token_logprobs"][j]) << i;
    EXPECT_EQ(lp["top_logprobs"][i], from["top_logprobs"][j]) << i;
  }
}

TEST(EdgeGateway, StopStringAcrossAMidStreamFailoverStopsTheAnswer) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud);
  test::ServeFixture device_ref(kDevice);
  const int N = 6, max_tokens = 30;
  DyingCloud dying(cloud.port, N, /*ignore_stop=*/true);
  EdgeConfig cfg = edge_config({cloud_at("flaky", dying.port)});
  cfg.breaker_failures = 100;  // every request here goes to the cloud first
  EdgeFixture edge(cfg);
  const std::string prompt = "Once upon a time";
  edge.post_json("/v1/completions", completion(prompt, max_tokens, "cloud"));
  const std::string P = dying.prefix();
  const std::string D = serve_greedy(device_ref, prompt + P, max_tokens - N);
  const std::string full = P + D;
  ASSERT_GE(P.size(), 2u);
  ASSERT_GE(D.size(), 2u);
  // The stop string: P's last a bytes and D's first b bytes, occurring nowhere earlier.
  std::string stop;
  size_t a = 0, b = 0;
  for (size_t i = std::min<size_t>(4, P.size() - 1); i >= 2 && stop.empty(); --i)
    for (size_t k = std::min<size_t>(4, D.size()); k >= 1 && stop.empty(); --k) {
      const std::string candidate = P.substr(P.size() - i) + D.substr(0, k);
      if (full.find(candidate) == P.size() - i) {
        stop = candidate;
        a = i;
        b = k;
      }
    }
  ASSERT_FALSE(stop.empty()) << "no stop string straddles " << json(P).dump() << " | " << json(D).dump();
  const std::string expected = P.substr(0, P.size() - a);
  // The device's tokens up to the one that completes the stop string (its own text alone).
  json tail_req = completion(prompt + P, max_tokens - N);
  tail_req["stop"] = json::array({D.substr(0, b)});
  const HttpResult tail = device_ref.post("/v1/completions", tail_req);
  ASSERT_EQ(tail.status, 200) << tail.text;
  ASSERT_EQ(tail.body["choices"][0]["finish_reason"], "stop");
  const int64_t device_tokens = tail.body["usage"]["completion_tokens"];
  const int64_t prompt_tokens = device_ref.post("/v1/completions", completion(prompt, 1)).body["usage"]["prompt_tokens"];

  json req = completion(prompt, max_tokens, "cloud");
  req["stop"] = json::array({stop, "never appears"});
  req["stream_options"] = {{"include_usage", true}};
  auto s = edge.stream("/v1/completions", req);
  EXPECT_EQ(dying.prefix(), P);
  EXPECT_EQ(s.text, expected) << "stop " << json(stop).dump();  // the chunks, joined: nothing cut was sent
  EXPECT_EQ(s.finish_reason, "stop");
  EXPECT_TRUE(s.done);
  EXPECT_EQ(s.tandem["served_by"], "device");
  EXPECT_EQ(s.tandem["failover_at_chunk"], N);
  EXPECT_EQ(s.tandem["tokens"]["cloud"]["completion"], N);
  EXPECT_EQ(s.tandem["tokens"]["device"]["completion"], device_tokens);
  req.erase("stream_options");
  json j = edge.post_json("/v1/completions", req);
  EXPECT_EQ(j["choices"][0]["text"], expected);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["usage"]["completion_tokens"], N + device_tokens);
  EXPECT_EQ(j["usage"]["prompt_tokens"], prompt_tokens);
  EXPECT_EQ(j["usage"]["total_tokens"], prompt_tokens + N + device_tokens);
  EXPECT_EQ(edge.sink->records().back().completion_tokens, N + device_tokens);

  // A stop string wholly inside what the cloud sends: the gateway cuts it, the cloud answered.
  const std::string inner = P.substr(1, 3);
  ASSERT_EQ(full.find(inner), 1u);
  req["stop"] = json::array({inner});
  auto s2 = edge.stream("/v1/completions", req);
  EXPECT_EQ(s2.text, P.substr(0, 1));
  EXPECT_EQ(s2.finish_reason, "stop");
  EXPECT_EQ(s2.tandem["served_by"], "flaky");
  EXPECT_EQ(s2.tandem["status"], "ok");
  EXPECT_EQ(s2.tandem["tokens"]["device"]["completion"], 0);
}

TEST(EdgeGateway, FailureBeforeTheFirstTokenFallsBackInOrder) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud);
  BusyCloud busy;
  EndpointConfig dead = cloud_at("dead", 9, 1);  // nothing listens on the discard port
  EdgeConfig cfg = edge_config({dead, cloud_at("busy", busy.port, 2), cloud_at("good", cloud.port, 3)});
  cfg.breaker_failures = 1;
  EdgeFixture edge(cfg);
  json j = edge.post_json("/v1/completions", completion("Once upon a time", 12, "cloud"));
  json t = j["tandem"];
  EXPECT_EQ(t["served_by"], "good");
  EXPECT_EQ(t["status"], "fallback");
  EXPECT_EQ(t["failure"], "connection");
  EXPECT_EQ(t["attempts"], json({"dead:connection", "busy:http_429"}));
  EXPECT_EQ(j["choices"][0]["text"], serve_greedy(cloud, "Once upon a time", 12));
  // The dead endpoint's breaker is open and the busy one cools down for its Retry-After: the next
  // request goes straight to the good one.
  json h = json::parse(edge.client().Get("/health")->body);
  EXPECT_EQ(h["endpoints"][0]["breaker"], "open");
  EXPECT_EQ(h["endpoints"][1]["breaker"], "closed");
  EXPECT_GT(h["endpoints"][1]["cooldown_ms"].get<int>(), 20000);
  t = edge.post_json("/v1/completions", completion("Once upon a time", 12, "cloud"))["tandem"];
  EXPECT_EQ(t["served_by"], "good");
  EXPECT_FALSE(t.contains("attempts"));
  EXPECT_EQ(busy.calls, 1);

  // Every endpoint unusable: the device answers, with a notice.
  cloud.server->stop();
  t = edge.post_json("/v1/completions", completion("Once upon a time", 12, "cloud"))["tandem"];
  EXPECT_EQ(t["served_by"], "device");
  EXPECT_EQ(t["status"], "fallback");
}

TEST(EdgeGateway, CascadeSendsOnlyUnconfidentAnswersToTheCloud) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud);
  test::ServeFixture device_ref(kDevice);
  const std::string prompt = "Once upon a time";
  for (const double threshold : {-100.0, 0.0}) {
    EdgeConfig cfg = edge_config({cloud_at("primary", cloud.port)});
    cfg.cascade_min_logprob = threshold;
    EdgeFixture edge(cfg);
    auto s = edge.stream("/v1/completions", completion(prompt, 16, "cascade"));
    EXPECT_EQ(s.tandem["route"], "CASCADE");
    ASSERT_TRUE(s.tandem.contains("mean_logprob"));
    EXPECT_LT(s.tandem["mean_logprob"].get<double>(), 0.0);
    EXPECT_GT(s.tandem["tokens"]["device"]["completion"].get<int>(), 0);  // the device always tried
    if (threshold < -50) {  // always confident: the device's answer
      EXPECT_EQ(s.text, serve_greedy(device_ref, prompt, 16));
      EXPECT_EQ(s.tandem["served_by"], "device");
      EXPECT_EQ(s.tandem["reasons"].back(), "cascade:confident");
      EXPECT_EQ(s.tandem["cost_usd"], 0.0);
    } else {  // never confident: the cloud's
      EXPECT_EQ(s.text, serve_greedy(cloud, prompt, 16));
      EXPECT_EQ(s.tandem["served_by"], "primary");
      EXPECT_EQ(s.tandem["reasons"].back(), "cascade:low_confidence");
      EXPECT_GT(s.tandem["cost_usd"].get<double>(), 0.0);
    }
  }
}

TEST(EdgeGateway, DesyncedCloudIsShownAndNeverSpeculates) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  // A cloud model with another vocabulary (Llama 2's 32000 tokens, stories260K's shape).
  const std::string other = test::temp_path("edge-desync") + ".gguf";
  std::string out;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " synth --shape stories260K --type q8_0 --vocab " + test::shared_dir() +
                                      "/reference/vocab/ggml-vocab-llama-spm.gguf -o " + other, &out), 0) << out;
  test::ServeFixture same(kCloud);
  {
    serve::ServerConfig sc;
    sc.model_path = other;
    sc.port = 0;
    sc.sched.n_parallel = 1;
    sc.sched.n_threads = 1;
    serve::Server different(sc);
    const int dport = different.start();
    // A runner that would always win, to show that de-sync alone keeps speculation off.
    struct WinningRunner : SpeculativeRunner {
      std::optional<SpeculationEstimate> estimate(const EndpointConfig& ep, double, int64_t, int64_t) override {
        return SpeculationEstimate{ep.name, 1, 1000};
      }
      SpeculativeResult run(const SpeculativeRequest&) override {
        ++runs;
        SpeculativeResult r;
        r.failure = Failure::Connection;
        return r;
      }
      std::atomic<int> runs{0};
    };
    auto runner = std::make_shared<WinningRunner>();
    GatewayHooks hooks;
    hooks.speculative = runner;
    EdgeFixture edge(edge_config({cloud_at("other", dport, 1), cloud_at("same", same.port, 2)}), hooks);
    json h = json::parse(edge.client().Get("/health")->body);
    EXPECT_EQ(h["endpoints"][0]["sync"], "de-synced");
    EXPECT_EQ(h["endpoints"][0]["speculation"], false);
    EXPECT_NE(h["endpoints"][0]["vocab_fingerprint"], h["vocab_fingerprint"]);
    EXPECT_EQ(h["endpoints"][1]["sync"], "ok");
    EXPECT_EQ(h["endpoints"][1]["vocab_fingerprint"], h["vocab_fingerprint"]);
    EXPECT_EQ(h["privacy_detector"], "none");
    EXPECT_EQ(h["speculative_runner"], true);
    EXPECT_NE(edge.client().Get("/metrics")->body.find("tandem_edge_endpoint_desynced{endpoint=\"other\"} 1"),
              std::string::npos);
    // Speculation is considered only with the synced endpoint ("same"): its estimate wins, so the
    // route is SPECULATIVE there; the runner fails before any text and the cloud answers.
    json body = completion("Once upon a time", 8);
    body["tandem"] = {{"task", "complex"}};
    json t = edge.post_json("/v1/completions", body)["tandem"];
    EXPECT_EQ(t["route"], "SPECULATIVE");
    EXPECT_EQ(runner->runs, 1);
    EXPECT_EQ(t["attempts"][0], "same:connection");
    EXPECT_EQ(t["status"], "fallback");
    different.stop();
  }
  std::filesystem::remove(other);
}

TEST(EdgeGateway, ModelsHealthMetricsAndAppKeys) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud);
  ::setenv("TANDEM_EDGE_TEST_APP_KEY", "sk-notes", 1);
  EdgeConfig cfg = edge_config({cloud_at("primary", cloud.port)});
  cfg.apps = {AppConfig{"notes", "TANDEM_EDGE_TEST_APP_KEY", 0}};  // may spend nothing
  EdgeFixture edge(cfg);
  auto c = edge.client();
  auto r = c.Get("/v1/models");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  httplib::Headers h = {{"Authorization", "Bearer sk-notes"}};
  r = c.Get("/v1/models", h);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["data"][0]["id"], "tandem");
  json body = completion("Once upon a time", 8, "cloud");
  r = c.Post("/v1/completions", h, body.dump(), "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  json t = json::parse(r->body)["tandem"];
  EXPECT_EQ(t["route"], "LOCAL");  // the app's budget is zero
  EXPECT_EQ(t["reasons"].back(), "budget:exhausted");
  EXPECT_EQ(edge.sink->records().back().app, "notes");
  const std::string m = c.Get("/metrics")->body;
  EXPECT_NE(m.find("tandem_edge_requests_total{route=\"LOCAL\",served_by=\"device\",status=\"ok\"} 1"), std::string::npos);
  r = c.Post("/v1/completions", h, R"({"prompt":"x","tandem":{"route":"fastest"}})", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["error"]["param"], "tandem.route");
}

// A scripted device timeline replayed against a clock the test drives: battery drain, a thermal
// spike, going offline and coming back.
TEST(EdgeGateway, TimelineDrivesTheRoute) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud);
  const std::string tl = test::temp_path("edge-timeline") + ".json";
  {
    std::ofstream(tl) << R"({"events": [
      {"at_ms": 0, "battery": 80, "charging": false, "thermal": "nominal", "online": true},
      {"at_ms": 1000, "battery": 15},
      {"at_ms": 2000, "charging": true, "thermal": "serious"},
      {"at_ms": 3000, "online": false},
      {"at_ms": 4000, "online": true, "thermal": "nominal"}]})";
  }
  std::atomic<int64_t> now{0};
  GatewayHooks hooks;
  hooks.clock = [&] { return now.load(); };
  EdgeConfig cfg = edge_config({cloud_at("primary", cloud.port)});
  cfg.state_source = "timeline";
  cfg.timeline = tl;
  EdgeFixture edge(cfg, hooks);
  json body = completion("Once upon a time", 8);
  body["tandem"] = {{"task", "simple"}};
  auto first_reason = [&](const char* expect_route) {
    json t = edge.post_json("/v1/completions", body)["tandem"];
    EXPECT_EQ(t["route"], expect_route) << t.dump();
    return t["reasons"][0].get<std::string>();
  };
  EXPECT_EQ(first_reason("LOCAL"), "complexity:hint_simple");
  now = 1000;
  EXPECT_EQ(first_reason("CLOUD"), "device:battery_low");
  now = 2500;
  EXPECT_EQ(first_reason("CLOUD"), "device:thermal_serious");
  now = 3000;
  EXPECT_EQ(first_reason("LOCAL"), "connectivity:offline");
  now = 4000;
  EXPECT_EQ(first_reason("LOCAL"), "complexity:hint_simple");
  auto dev = edge.client().Get("/v1/device");
  EXPECT_EQ(json::parse(dev->body)["source"], "timeline");
  EXPECT_EQ(json::parse(dev->body)["battery"], 15);
  std::filesystem::remove(tl);
}

// One system prompt from the config reaches every tier, each through its own chat template.
TEST(EdgeGateway, SystemPromptAppliedOnEveryTier) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  auto chatml = [](serve::ServerConfig& c) { c.chat_template = "chatml"; };
  test::ServeFixture cloud(kCloud, chatml);
  test::ServeFixture device_ref(kDevice, chatml);
  EdgeConfig cfg = edge_config({cloud_at("primary", cloud.port)});
  cfg.system_prompt = "You tell short stories.";
  EdgeFixture edge(cfg);
  const json user = json{{"role", "user"}, {"content", "Tell me about a dog."}};
  json ref_body = {{"messages", json::array({json{{"role", "system"}, {"content", cfg.system_prompt}}, user})},
                   {"max_tokens", 16},
                   {"temperature", 0}};
  json body = {{"messages", json::array({user})}, {"max_tokens", 16}, {"temperature", 0}};
  for (const char* route : {"cloud", "local"}) {
    body["tandem"] = {{"route", route}};
    json j = edge.post_json("/v1/chat/completions", body);
    const HttpResult ref = (std::string(route) == "cloud" ? cloud : device_ref).post("/v1/chat/completions", ref_body);
    ASSERT_EQ(ref.status, 200) << ref.text;
    EXPECT_EQ(j["choices"][0]["message"]["content"], ref.body["choices"][0]["message"]["content"]) << route;
    EXPECT_EQ(j["usage"]["prompt_tokens"], ref.body["usage"]["prompt_tokens"]) << route;
  }
}

// The official OpenAI Node SDK against the gateway (tests/openai-node/check.mjs): models,
// completion, chat, streamed chat equal to the whole answer (the `tandem` chunk does not disturb
// the SDK), usage, and a 400.
TEST(EdgeGateway, OfficialOpenAISdkTalksToTheGateway) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  const std::string dir = test::source_dir() + "/tests/openai-node";
  if (!std::filesystem::exists(dir + "/node_modules/openai/package.json")) GTEST_SKIP() << "run npm ci in " << dir;
  test::ServeFixture cloud(kCloud, [](serve::ServerConfig& c) { c.chat_template = "chatml"; });
  for (const char* policy : {"local", "cloud"}) {
    EdgeConfig cfg = edge_config({cloud_at("primary", cloud.port)});
    cfg.policy = *parse_policy(policy);
    cfg.system_prompt = "Be kind.";
    EdgeFixture edge(cfg);
    std::string out;
    const int rc = test::run_command("node " + dir + "/check.mjs http://127.0.0.1:" + std::to_string(edge.port) + "/v1 tandem", &out);
    EXPECT_EQ(rc, 0) << policy << ": " << out;
    EXPECT_NE(out.find("\"ok\":true"), std::string::npos) << out;
    const auto recs = edge.sink->records();
    ASSERT_GE(recs.size(), 3u);
    EXPECT_EQ(recs[0].route, std::string(policy) == "local" ? "LOCAL" : "CLOUD");
  }
}
