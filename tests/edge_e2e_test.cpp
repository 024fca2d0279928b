// tandem edge end to end with real processes, as the edge issue's "How it is checked" asks: a
// `tandem serve` child (the shared F32 model) is the cloud, a `tandem netsim` child sits in front
// of it (its control API cuts, darkens and slows the link), and a `tandem edge --config FILE.toml`
// child (the shared Q4_0 model as the device, its SQLite ledger in a temp folder) is driven over
// HTTP: routes and their reasons under a scripted device timeline and a network that goes dark
// and comes back; a stream cut by netsim that the device finishes exactly; a LAN peer; a budget
// that runs out and stays spent across a restart; a de-synced cloud that never speculates; and
// the ledger's rows and `tandem report`'s figures against what the app was told.
// (tests/edge_gateway_test.cpp checks the same behaviour in process, with fakes.)
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ledger/ledger.h"
#include "test_util.h"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;
using test::ChildProcess;

namespace {

const char* kDevice = "stories260K-q4_0.gguf";
const char* kCloud = "stories260K-f32.gguf";
const std::string kPrompt = "Once upon a time";
constexpr double kPriceIn = 100, kPriceOut = 400;  // USD per 1M tokens: big enough to see

double cost_of(int64_t prompt, int64_t completion) { return (double(prompt) * kPriceIn + double(completion) * kPriceOut) / 1e6; }

// ---- HTTP ----

struct Http {
  int status = 0;  // 0: no answer
  json body;       // null when not JSON
  std::string text;
  httplib::Headers headers;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

httplib::Client client(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(10s);
  c.set_read_timeout(120s);
  c.set_write_timeout(60s);
  return c;
}

Http wrap(const httplib::Result& r) {
  Http h;
  if (!r) return h;
  h.status = r->status;
  h.text = r->body;
  h.headers = r->headers;
  h.body = json::parse(r->body, nullptr, false);
  if (h.body.is_discarded()) h.body = nullptr;
  return h;
}

httplib::Headers auth(const std::string& key) {
  httplib::Headers h;
  if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
  return h;
}

Http get(int port, const std::string& path) { return wrap(client(port).Get(path.c_str())); }
Http post(int port, const std::string& path, const json& body, const std::string& key = "") {
  return wrap(client(port).Post(path.c_str(), auth(key), body.dump(), "application/json"));
}
Http put(int port, const std::string& path, const json& body) {
  return wrap(client(port).Put(path.c_str(), body.dump(), "application/json"));
}

json completion(int max_tokens, const std::string& task = "", const std::string& route = "", const std::string& prompt = kPrompt) {
  json b = {{"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}};
  if (!task.empty()) b["tandem"]["task"] = task;
  if (!route.empty()) b["tandem"]["route"] = route;
  return b;
}

// A streamed answer, read as it arrives: on_text runs after each content chunk.
struct Stream {
  int status = 0;
  httplib::Headers headers;
  std::vector<std::string> pieces;  // the content chunks' texts
  std::string text;
  json tandem, usage;
  bool done = false;
};

Stream stream(int port, const std::string& path, json body, const std::function<void(const Stream&)>& on_text = {}) {
  body["stream"] = true;
  Stream s;
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  std::string buf;
  req.response_handler = [&](const httplib::Response& r) {
    s.status = r.status;
    s.headers = r.headers;
    return true;
  };
  req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
    buf.append(d, n);
    for (size_t end; (end = buf.find("\n\n")) != std::string::npos;) {
      const std::string ev = buf.substr(0, end);
      buf.erase(0, end + 2);
      if (ev.rfind("data: ", 0) != 0) continue;
      const std::string data = ev.substr(6);
      if (data == "[DONE]") {
        s.done = true;
        continue;
      }
      const json j = json::parse(data, nullptr, false);
      if (j.is_discarded() || !j.is_object()) continue;
      if (j.contains("tandem")) s.tandem = j["tandem"];
      if (j.contains("usage") && j["usage"].is_object()) s.usage = j["usage"];
      if (!j.contains("choices") || j["choices"].empty()) continue;
      const json& c = j["choices"][0];
      std::string piece;
      if (c.contains("text") && c["text"].is_string()) piece = c["text"];
      if (c.contains("delta") && c["delta"].contains("content") && c["delta"]["content"].is_string())
        piece = c["delta"]["content"];
      if (piece.empty()) continue;
      s.pieces.push_back(piece);
      s.text += piece;
      if (on_text) on_text(s);
    }
    return true;
  };
  client(port).send(req);
  return s;
}

// Polls until pred holds (true) or the deadline passes (false). Generous deadlines: a loaded
// two-core machine under a sanitizer is slow, and a poll costs nothing when things are fast.
bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds deadline = 60s) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(10ms);
  }
}

// ---- the processes ----

// `tandem serve` on a free port.
struct ServeProc {
  explicit ServeProc(const std::string& model, const std::vector<std::string>& extra = {})
      : proc([&] {
          std::vector<std::string> a = {test::tandem_binary(), "serve", "-m", model, "--port", "0", "-t", "1",
                                        "--parallel", "2", "-c", "256", "-q", "--drain-timeout", "1"};
          a.insert(a.end(), extra.begin(), extra.end());
          return a;
        }()) {
    port = proc.wait_for_port("tandem serve: ", "http://");
  }
  // A greedy completion (an independent reference for what a tier must answer).
  std::string greedy(const std::string& prompt, int max_tokens) const {
    const Http r = post(port, "/v1/completions", completion(max_tokens, "", "", prompt));
    EXPECT_EQ(r.status, 200) << r.text;
    return r.status == 200 ? r.body["choices"][0]["text"].get<std::string>() : "";
  }
  ChildProcess proc;
  int port = -1;
};

// `tandem netsim` in front of `upstream`, with its control API.
struct NetsimProc {
  NetsimProc(int upstream, double delay_ms)
      : proc({test::tandem_binary(), "netsim", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + std::to_string(upstream),
              "--delay-ms", std::to_string(delay_ms), "--control", "127.0.0.1:0"}) {
    port = proc.wait_for_port("tandem netsim: 127.0.0.1:", "tandem netsim: ");
    control = proc.wait_for_port("control API on", "http://");
  }
  json ctl(const std::string& method, const std::string& path, const json& body = nullptr) {
    auto c = client(control);
    auto r = method == "GET"   ? c.Get(path.c_str())
             : method == "PUT" ? c.Put(path.c_str(), body.dump(), "application/json")
                               : c.Post(path.c_str());
    EXPECT_TRUE(r && r->status == 200) << method << " " << path;
    return r ? json::parse(r->body, nullptr, false) : json();
  }
  ChildProcess proc;
  int port = -1, control = -1;
};

struct EndpointSpec {
  std::string name;
  int port = 0;
  double price_in = kPriceIn, price_out = kPriceOut;
  int priority = 1, timeout_ms = 20000;
};
struct AppSpec {
  std::string name, key_env;
  double daily_usd = -1;
};

// What the tests vary in the edge's TOML; the rest is fixed small and fast.
struct EdgeSpec {
  std::vector<EndpointSpec> clouds, peers;
  std::vector<AppSpec> apps;
  std::string policy = "auto", state_source = "push", timeline;
  double daily_usd = -1;
  int offline_max_tokens = 128;
  int probe_interval_ms = 0, probe_timeout_ms = 400, breaker_failures = 3, breaker_open_ms = 10000;
};

std::string toml_string(const std::string& s) { return json(s).dump(); }  // a TOML basic string

std::string edge_toml(const EdgeSpec& s, const std::string& ledger) {
  std::ostringstream t;
  t << "[edge]\nport = 0\nledger = " << toml_string(ledger) << "\ndefault_max_tokens = 16\n\n"
    << "[device]\nmodel = " << toml_string(test::model_path(kDevice)) << "\nchat_template = \"chatml\"\nthreads = 1\nparallel = 2\n"
    << "state_source = " << toml_string(s.state_source) << "\n";
  if (!s.timeline.empty()) t << "timeline = " << toml_string(s.timeline) << "\n";
  t << "\n[policy]\ndefault = " << toml_string(s.policy) << "\noffline_max_tokens = " << s.offline_max_tokens << "\n\n"
    << "[budget]\ndaily_usd = " << json(s.daily_usd).dump() << "\n\n"
    << "[connectivity]\nprobe_interval_ms = " << s.probe_interval_ms << "\nprobe_timeout_ms = " << s.probe_timeout_ms
    << "\nbreaker_failures = " << s.breaker_failures << "\nbreaker_open_ms = " << s.breaker_open_ms
    << "\nconnect_timeout_ms = 2000\n";
  auto endpoint = [&](const char* kind, const EndpointSpec& e) {
    t << "\n[[" << kind << "]]\nname = " << toml_string(e.name) << "\nurl = \"http://127.0.0.1:" << e.port << "\"\n"
      << "price_input_per_1m = " << json(e.price_in).dump() << "\nprice_output_per_1m = " << json(e.price_out).dump()
      << "\npriority = " << e.priority << "\ntimeout_ms = " << e.timeout_ms << "\n";
  };
  for (const auto& e : s.clouds) endpoint("cloud", e);
  for (const auto& e : s.peers) endpoint("peer", e);
  for (const auto& a : s.apps)
    t << "\n[[app]]\nname = " << toml_string(a.name) << "\nkey_env = " << toml_string(a.key_env)
      << "\ndaily_usd = " << json(a.daily_usd).dump() << "\n";
  return t.str();
}

// A folder for one test's files (config, timeline, ledger), removed afterwards.
struct TempDir {
  TempDir() {
    static int n = 0;
    path = test::temp_path("edge-e2e-" + std::to_string(++n));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return path + "/" + name; }
  std::string path;
};

// `tandem edge --config FILE.toml` with the spec's configuration.
struct EdgeProc {
  EdgeProc(const EdgeSpec& spec, const TempDir& dir, const std::string& ledger, const std::vector<std::string>& env = {})
      : config(write_config(spec, dir, ledger)), proc({test::tandem_binary(), "edge", "--config", config}, env) {
    port = proc.wait_for_port("tandem edge: ", "http://");
  }
  static std::string write_config(const EdgeSpec& spec, const TempDir& dir, const std::string& ledger) {
    static int n = 0;
    const std::string path = dir.file("edge-" + std::to_string(++n) + ".toml");
    std::ofstream(path) << edge_toml(spec, ledger);
    return path;
  }
  json health() const { return get(port, "/health").body; }
  json endpoint(const std::string& name) const {
    const json h = health();
    if (h.is_object())
      for (const auto& e : h["endpoints"])
        if (e["name"] == name) return e;
    return nullptr;
  }
  json device() const { return get(port, "/v1/device").body; }
  std::string config;
  ChildProcess proc;
  int port = -1;
};

// ---- what the app was told, against the ledger and the report ----

struct Told {
  json tandem;   // the response's tandem object
  json usage;    // its usage (null for a stream without include_usage)
  std::string app;
};

Told told(const Http& r, const std::string& app = "") { return {r.body["tandem"], r.body["usage"], app}; }
Told told(const Stream& s, const std::string& app = "") { return {s.tandem, s.usage, app}; }

// Every row of the ledger is one request, in order, with the figures the app was told; `tandem
// report --format json` sums them. since_ms: the report's --since (rows before it are not ours).
void expect_ledger_and_report_agree(const std::string& db, const std::vector<Told>& sent, int64_t since_ms = 0) {
  SCOPED_TRACE("ledger " + db);
  std::vector<ledger::Record> rows;
  {
    const ledger::Ledger led(db, ledger::LedgerOptions{.create = false, .read_only = true});
    rows = led.query(ledger::Filter{.since_ms = since_ms});
  }
  ASSERT_EQ(rows.size(), sent.size());
  std::map<std::string, int64_t> by_route, by_app;
  int64_t device_tokens = 0, cloud_tokens = 0, prompt = 0, completion = 0, left = 0, by_device = 0, fallbacks = 0;
  double cost = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE("row " + std::to_string(i));
    const ledger::Record& r = rows[i];
    const json& t = sent[i].tandem;
    ASSERT_TRUE(t.is_object());
    EXPECT_EQ(r.route, t["route"]);
    EXPECT_EQ(r.served_by, t["served_by"]);
    EXPECT_EQ(r.status, t["status"]);
    EXPECT_EQ(json(r.reasons), t["reasons"]);
    EXPECT_EQ(r.failure, t.value("failure", t["reasons"].back() == "budget:exhausted" ? "budget" : ""));
    EXPECT_EQ(r.app, sent[i].app);
    EXPECT_EQ(r.prompt_tokens_device, t["tokens"]["device"]["prompt"]);
    EXPECT_EQ(r.completion_tokens_device, t["tokens"]["device"]["completion"]);
    EXPECT_EQ(r.prompt_tokens_cloud, t["tokens"]["cloud"]["prompt"]);
    EXPECT_EQ(r.completion_tokens_cloud, t["tokens"]["cloud"]["completion"]);
    EXPECT_EQ(r.cost_usd, t["cost_usd"].get<double>());
    EXPECT_EQ(r.data_left_device, t["data_left_device"]);
    EXPECT_FALSE(r.prompt_text.has_value());  // store_text is off
    if (sent[i].usage.is_object()) {
      EXPECT_EQ(r.prompt_tokens, sent[i].usage["prompt_tokens"]);
      EXPECT_EQ(r.completion_tokens, sent[i].usage["completion_tokens"]);
    }
    ++by_route[r.route];
    ++by_app[r.app];
    device_tokens += r.prompt_tokens_device + r.completion_tokens_device;
    cloud_tokens += r.prompt_tokens_cloud + r.completion_tokens_cloud;
    prompt += r.prompt_tokens;
    completion += r.completion_tokens;
    left += r.data_left_device;
    by_device += r.served_by == "device";
    fallbacks += r.status == "fallback";
    cost += r.cost_usd;
  }
  std::string out;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " report --db " + db + " --format json --since " + std::to_string(since_ms), &out), 0)
      << out;
  const json rep = json::parse(out, nullptr, false);
  ASSERT_TRUE(rep.is_object()) << out;
  const json& total = rep["total"];
  EXPECT_EQ(total["requests"], int64_t(sent.size()));
  EXPECT_EQ(total["device_tokens"], device_tokens);
  EXPECT_EQ(total["cloud_tokens"], cloud_tokens);
  EXPECT_EQ(total["prompt_tokens"], prompt);
  EXPECT_EQ(total["completion_tokens"], completion);
  EXPECT_EQ(total["data_left_device"], left);
  EXPECT_EQ(total["stayed_on_device"], int64_t(sent.size()) - left);
  EXPECT_EQ(total["served_by_device"], by_device);
  EXPECT_EQ(total["fallbacks"], fallbacks);
  EXPECT_NEAR(total["cost_usd"].get<double>(), cost, 1e-12);
  for (const auto& [route, n] : by_route) EXPECT_EQ(rep["by_route"][route]["requests"], n) << route;
  EXPECT_EQ(rep["by_route"].size(), by_route.size());
  for (const auto& [app, n] : by_app) {
    if (!app.empty()) {
      EXPECT_EQ(rep["by_app"][app]["requests"], n) << app;
    }
  }
}

// The checks every answer served by a cloud must pass: its text (greedy: the cloud model's own,
// also when SPECULATIVE, which is lossless) and its charge at the endpoint's prices for what the
// cloud computed (CLOUD: all of it; SPECULATIVE: the prompt and drafts it evaluated, one token a
// round, with the device drafting the rest).
void expect_cloud_answer(const Http& r, const std::string& want_text, const std::string& endpoint) {
  ASSERT_EQ(r.status, 200) << r.text;
  const json& t = r.body["tandem"];
  EXPECT_EQ(r.body["choices"][0]["text"], want_text);
  EXPECT_EQ(t["served_by"], endpoint);
  EXPECT_EQ(t["status"], "ok");
  EXPECT_EQ(t["data_left_device"], true);
  const int64_t pc = t["tokens"]["cloud"]["prompt"], cc = t["tokens"]["cloud"]["completion"];
  const int64_t dc = t["tokens"]["device"]["completion"];
  if (t["route"] == "SPECULATIVE") {
    EXPECT_EQ(cc, t["speculative"]["rounds"]);
    EXPECT_EQ(dc + cc, r.body["usage"]["completion_tokens"]);
  } else {
    EXPECT_EQ(t["route"], "CLOUD");
    EXPECT_EQ(cc, r.body["usage"]["completion_tokens"]);
    EXPECT_EQ(dc, 0);
  }
  EXPECT_DOUBLE_EQ(t["cost_usd"].get<double>(), cost_of(pc, cc));
  EXPECT_EQ(r.header("x-tandem-served-by"), endpoint);
}

// A complex request goes out: to the cloud, or SPECULATIVE when the runner's estimate at the
// measured RTT says that is faster; the reasons say which.
void expect_complex_offload(const json& t) {
  ASSERT_TRUE(t.is_object());
  ASSERT_EQ(t["reasons"].size(), 2u) << t.dump();
  EXPECT_EQ(t["reasons"][0], "complexity:hint");
  EXPECT_EQ(t["reasons"][1], t["route"] == "SPECULATIVE" ? "speculation:faster" : "speculation:slower") << t.dump();
}

#define TANDEM_REQUIRE_MODELS()                          \
  do {                                                   \
    TANDEM_REQUIRE_FILE(test::model_path(kCloud));       \
    TANDEM_REQUIRE_FILE(test::model_path(kDevice));      \
  } while (0)

}  // namespace

// Battery drain, a thermal spike and going offline from a scripted timeline, then the network
// going dark at netsim and coming back: each request routed for the right reason, the cloud's
// answers the F32 model's own (through netsim), and the ledger and report agreeing.
TEST(EdgeE2e, TimelineAndNetworkPickTheRouteForTheRightReason) {
  TANDEM_REQUIRE_MODELS();
  TempDir dir;
  ServeProc cloud(test::model_path(kCloud));
  ASSERT_GT(cloud.port, 0) << cloud.proc.log();
  NetsimProc net(cloud.port, 5);  // RTT 10 ms
  ASSERT_GT(net.control, 0) << net.proc.log();
  // The timeline's clock starts when the gateway has loaded its model; each phase lasts long
  // enough for the test to see it (it polls GET /v1/device) and send one request in it.
  const std::string timeline = dir.file("timeline.json");
  std::ofstream(timeline) << R"({"events": [
      {"at_ms": 0, "battery": 80, "charging": false, "thermal": "nominal", "online": true},
      {"at_ms": 700, "battery": 15},
      {"at_ms": 1900, "charging": true, "thermal": "serious"},
      {"at_ms": 3100, "online": false},
      {"at_ms": 4300, "online": true, "thermal": "nominal"}]})";
  EdgeSpec spec;
  spec.clouds = {EndpointSpec{"primary", net.port}};
  spec.state_source = "timeline";
  spec.timeline = timeline;
  spec.offline_max_tokens = 6;
  spec.probe_interval_ms = 100;
  spec.probe_timeout_ms = 1000;  // a slow moment of a loaded machine is not an outage
  spec.breaker_failures = 2;
  spec.breaker_open_ms = 500;
  const std::string db = dir.file("ledger.sqlite");
  const std::string cloud_text = cloud.greedy(kPrompt, 12);  // before the timeline's clock starts
  EdgeProc edge(spec, dir, db);
  ASSERT_GT(edge.port, 0) << edge.proc.log();
  std::vector<Told> sent;
  auto in_phase = [&](const std::function<bool(const json&)>& pred, const char* what) {
    const bool ok = poll_until([&] {
      const json d = edge.device();
      return d.is_object() && pred(d);
    });
    EXPECT_TRUE(ok) << "the timeline never reached: " << what << "; now " << edge.device().dump();
    EXPECT_EQ(edge.device()["source"], "timeline");
  };

  // Battery under 20% and discharging: offloaded.
  in_phase([](const json& d) { return d["battery"] == 15 && d["charging"] == false; }, "battery 15, discharging");
  Http r = post(edge.port, "/v1/completions", completion(12, "simple"));
  expect_cloud_answer(r, cloud_text, "primary");
  EXPECT_EQ(r.body["tandem"]["route"], "CLOUD");
  EXPECT_EQ(r.body["tandem"]["reasons"], json({"device:battery_low"}));
  EXPECT_EQ(r.header("x-tandem-route"), "CLOUD");
  EXPECT_EQ(r.header("x-tandem-reasons"), "device:battery_low");
  sent.push_back(told(r));

  // Charging, but hot: offloaded for the heat.
  in_phase([](const json& d) { return d["thermal"] == "serious" && d["online"] == true; }, "thermal serious");
  r = post(edge.port, "/v1/completions", completion(12, "simple"));
  expect_cloud_answer(r, cloud_text, "primary");
  EXPECT_EQ(r.body["tandem"]["reasons"], json({"device:thermal_serious"}));
  sent.push_back(told(r));

  // The host says it is offline: the device, with the notice and the smaller max_tokens.
  in_phase([](const json& d) { return d["online"] == false; }, "offline");
  r = post(edge.port, "/v1/completions", completion(20, "complex"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["route"], "LOCAL");
  EXPECT_EQ(r.body["tandem"]["reasons"], json({"connectivity:offline"}));
  EXPECT_EQ(r.body["tandem"]["max_tokens_cap"], 6);
  EXPECT_LE(r.body["usage"]["completion_tokens"].get<int>(), 6);
  EXPECT_GT(r.body["usage"]["completion_tokens"].get<int>(), 0);
  EXPECT_FALSE(r.header("x-tandem-notice").empty());
  EXPECT_EQ(r.body["tandem"]["notice"], r.header("x-tandem-notice"));
  EXPECT_EQ(r.body["tandem"]["data_left_device"], false);
  sent.push_back(told(r));

  // Back online, cool: a simple request stays on the device, a complex one goes out.
  in_phase([](const json& d) { return d["online"] == true && d["thermal"] == "nominal"; }, "back online");
  r = post(edge.port, "/v1/completions", completion(12, "simple"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["route"], "LOCAL");
  EXPECT_EQ(r.body["tandem"]["reasons"], json({"complexity:hint_simple"}));
  EXPECT_EQ(r.body["tandem"]["cost_usd"], 0.0);
  EXPECT_EQ(r.header("x-tandem-data-left-device"), "false");
  sent.push_back(told(r));
  r = post(edge.port, "/v1/completions", completion(12, "complex"));
  expect_cloud_answer(r, cloud_text, "primary");
  expect_complex_offload(r.body["tandem"]);
  sent.push_back(told(r));

  // The probes measure the round trip through netsim (10 ms at least).
  json ep = edge.endpoint("primary");
  ASSERT_TRUE(ep.is_object());
  EXPECT_GE(ep["rtt_ms"].get<double>(), 10.0) << ep.dump();
  EXPECT_EQ(ep["sync"], "ok");

  // The network goes dark at netsim: the probes time out, the breaker opens, the device answers
  // with the notice. No request is sent into the dark.
  net.ctl("POST", "/dark");
  ASSERT_TRUE(poll_until([&] { return edge.endpoint("primary")["breaker"] == "open"; })) << edge.health().dump();
  r = post(edge.port, "/v1/completions", completion(20, "complex"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["route"], "LOCAL");
  EXPECT_EQ(r.body["tandem"]["reasons"], json({"connectivity:no_endpoint"}));
  EXPECT_EQ(r.body["tandem"]["max_tokens_cap"], 6);
  EXPECT_LE(r.body["usage"]["completion_tokens"].get<int>(), 6);
  EXPECT_FALSE(r.header("x-tandem-notice").empty());
  EXPECT_EQ(r.body["tandem"]["data_left_device"], false);
  sent.push_back(told(r));
  ep = edge.endpoint("primary");
  EXPECT_EQ(ep["usable"], false);
  EXPECT_EQ(ep["last_failure"], "timeout");

  // Light again: after the open pause, the half-open probe succeeds and closes the circuit.
  net.ctl("POST", "/light");
  ASSERT_TRUE(poll_until([&] { return edge.endpoint("primary")["breaker"] == "closed"; })) << edge.health().dump();
  r = post(edge.port, "/v1/completions", completion(12, "complex"));
  expect_cloud_answer(r, cloud_text, "primary");
  expect_complex_offload(r.body["tandem"]);
  sent.push_back(told(r));

  // Streamed too: the same text, the tandem object in the last chunk.
  const Stream s = stream(edge.port, "/v1/completions", completion(12, "complex"));
  EXPECT_EQ(s.text, cloud_text);
  EXPECT_TRUE(s.done);
  expect_complex_offload(s.tandem);
  EXPECT_EQ(s.tandem["served_by"], "primary");
  sent.push_back(told(s));

  expect_ledger_and_report_agree(db, sent);
  // A SIGTERM stops the gateway cleanly.
  EXPECT_EQ(edge.proc.stop(), 0) << edge.proc.log();
}

// A streamed CLOUD answer whose connection netsim cuts after some tokens: the device continues the
// same completion in the same stream. The text is exactly the cloud's first N chunks followed by
// the device model's greedy continuation of prompt + those chunks (a separate tandem serve over
// the device model says what that is), for max_tokens - N tokens.
TEST(EdgeE2e, StreamCutByNetsimContinuesOnTheDeviceExactly) {
  TANDEM_REQUIRE_MODELS();
  TempDir dir;
  ServeProc cloud(test::model_path(kCloud));
  ServeProc device_ref(test::model_path(kDevice));
  ASSERT_GT(cloud.port, 0) << cloud.proc.log();
  ASSERT_GT(device_ref.port, 0) << device_ref.proc.log();
  NetsimProc net(cloud.port, 2);
  ASSERT_GT(net.control, 0) << net.proc.log();
  EdgeSpec spec;
  spec.clouds = {EndpointSpec{"primary", net.port}};
  const std::string db = dir.file("ledger.sqlite");
  EdgeProc edge(spec, dir, db);
  ASSERT_GT(edge.port, 0) << edge.proc.log();
  const int max_tokens = 32;
  // The cloud's own stream, chunk by chunk, straight from the server.
  const Stream ref = stream(cloud.port, "/v1/completions", completion(max_tokens));
  ASSERT_EQ(int(ref.pieces.size()), max_tokens) << ref.text;

  // A slow link (16 kbit/s: the answer takes about 3 s to cross), cut as soon as the app has its
  // first text: the rest of the answer is still on the wire.
  net.ctl("PUT", "/config", {{"bandwidth_kbps", 16}});
  std::atomic<bool> cut{false};
  const Stream s = stream(edge.port, "/v1/completions", completion(max_tokens, "", "cloud"), [&](const Stream&) {
    if (!cut.exchange(true)) net.ctl("POST", "/cut");
  });
  net.ctl("PUT", "/config", {{"bandwidth_kbps", 0}});
  ASSERT_TRUE(cut);
  EXPECT_GE(net.ctl("GET", "/stats")["cut"].get<int>(), 1);
  ASSERT_TRUE(s.tandem.is_object()) << s.text;
  ASSERT_TRUE(s.tandem.contains("failover_at_chunk")) << s.tandem.dump();
  const int n = s.tandem["failover_at_chunk"];
  ASSERT_GE(n, 1);
  ASSERT_LT(n, max_tokens);
  std::string prefix;
  for (int i = 0; i < n; ++i) prefix += ref.pieces[size_t(i)];
  const std::string expected = prefix + device_ref.greedy(kPrompt + prefix, max_tokens - n);
  EXPECT_EQ(s.text, expected);
  EXPECT_TRUE(s.done);
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.tandem["route"], "CLOUD");
  EXPECT_EQ(s.tandem["served_by"], "device");
  EXPECT_EQ(s.tandem["status"], "fallback");
  EXPECT_EQ(s.tandem["failure"], "connection");
  EXPECT_EQ(s.tandem["attempts"], json({"primary:connection"}));
  // Charged where computed: the cloud for its n tokens (at its prices), the device for the rest.
  EXPECT_EQ(s.tandem["tokens"]["cloud"]["completion"], n);
  EXPECT_EQ(s.tandem["tokens"]["device"]["completion"].get<int>(), max_tokens - n);
  EXPECT_DOUBLE_EQ(s.tandem["cost_usd"].get<double>(), cost_of(s.tandem["tokens"]["cloud"]["prompt"], n));
  std::vector<Told> sent = {told(s)};

  // The link is fine again: the next stream is the cloud's, whole.
  const Stream again = stream(edge.port, "/v1/completions", completion(max_tokens, "", "cloud"));
  EXPECT_EQ(again.text, ref.text);
  EXPECT_EQ(again.tandem["served_by"], "primary");
  EXPECT_EQ(again.tandem["status"], "ok");
  sent.push_back(told(again));
  expect_ledger_and_report_agree(db, sent);
}

// A LAN peer (a second tandem serve, the device's model) takes work that must leave the device
// when the cloud is unreachable, and takes everything when the policy says so. Without probes,
// the dark cloud is found out by a real call (it times out; the device answers), and found back by
// the half-open trial call after the pause.
TEST(EdgeE2e, PeerTakesOffloadedWorkWhenTheCloudIsDarkAndWhenAskedFor) {
  TANDEM_REQUIRE_MODELS();
  TempDir dir;
  ServeProc cloud(test::model_path(kCloud));
  ServeProc peer(test::model_path(kDevice));
  ASSERT_GT(cloud.port, 0) << cloud.proc.log();
  ASSERT_GT(peer.port, 0) << peer.proc.log();
  NetsimProc net(cloud.port, 2);
  ASSERT_GT(net.control, 0) << net.proc.log();
  EdgeSpec spec;
  spec.clouds = {EndpointSpec{"primary", net.port}};
  spec.clouds[0].timeout_ms = 800;
  spec.peers = {EndpointSpec{"lan", peer.port, 0, 0}};
  spec.breaker_failures = 1;
  spec.breaker_open_ms = 2500;  // the two requests after the failure fit in it
  const std::string db = dir.file("ledger.sqlite");
  EdgeProc edge(spec, dir, db);
  ASSERT_GT(edge.port, 0) << edge.proc.log();
  const std::string peer_text = peer.greedy(kPrompt, 12), cloud_text = cloud.greedy(kPrompt, 12);
  std::vector<Told> sent;
  auto expect_peer = [&](const Http& r, const json& reasons) {
    ASSERT_EQ(r.status, 200) << r.text;
    const json& t = r.body["tandem"];
    EXPECT_EQ(t["route"], "PEER");
    EXPECT_EQ(t["served_by"], "lan");
    EXPECT_EQ(t["reasons"], reasons);
    EXPECT_EQ(t["status"], "ok");
    EXPECT_EQ(r.body["choices"][0]["text"], peer_text);
    EXPECT_EQ(t["cost_usd"], 0.0);  // a free peer
    EXPECT_EQ(t["data_left_device"], true);
    EXPECT_EQ(t["tokens"]["device"]["completion"], 0);
    EXPECT_GT(t["tokens"]["cloud"]["completion"].get<int>(), 0);  // computed off the device
    sent.push_back(told(r));
  };

  // The policy asks for the peer (with the cloud fine).
  expect_peer(post(edge.port, "/v1/completions", completion(12, "", "peer")), json({"policy:peer"}));

  // The cloud goes dark. The next complex request still tries it (nothing said it was gone): the
  // speculation estimate's calibration gets no answer (one attempt, probe_timeout_ms), the cloud
  // call times out (timeout_ms) before any token, and the device answers; the breaker opens.
  net.ctl("POST", "/dark");
  Http r = post(edge.port, "/v1/completions", completion(12, "complex"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["route"], "CLOUD");
  EXPECT_EQ(r.body["tandem"]["reasons"], json({"complexity:hint"}));  // no estimate came
  // Bounded by those two timeouts (0.4 s + 0.8 s), not by the runner's read timeout and retries.
  EXPECT_LT(r.body["tandem"]["latency_ms"].get<double>(), 8000) << r.body["tandem"].dump();
  EXPECT_EQ(r.body["tandem"]["served_by"], "device");
  EXPECT_EQ(r.body["tandem"]["status"], "fallback");
  EXPECT_EQ(r.body["tandem"]["failure"], "timeout");
  EXPECT_EQ(r.body["choices"][0]["text"], peer_text);  // the device's model: the same text
  sent.push_back(told(r));
  EXPECT_EQ(edge.endpoint("primary")["breaker"], "open");

  // Now the work that must leave the device goes to the peer: complex, and a low battery.
  expect_peer(post(edge.port, "/v1/completions", completion(12, "complex")), json({"complexity:hint", "cloud:unavailable"}));
  ASSERT_EQ(put(edge.port, "/v1/device", {{"battery", 10}, {"charging", false}}).status, 200);
  expect_peer(post(edge.port, "/v1/completions", completion(12, "simple")), json({"device:battery_low", "cloud:unavailable"}));

  // Light again; after the pause the breaker is half-open and the next call is its trial: it
  // reaches the cloud, and the circuit closes.
  net.ctl("POST", "/light");
  ASSERT_TRUE(poll_until([&] { return edge.endpoint("primary")["breaker"] == "half_open"; })) << edge.health().dump();
  r = post(edge.port, "/v1/completions", completion(12, "complex"));
  expect_cloud_answer(r, cloud_text, "primary");
  EXPECT_EQ(r.body["tandem"]["reasons"], json({"device:battery_low"}));
  sent.push_back(told(r));
  EXPECT_EQ(edge.endpoint("primary")["breaker"], "closed");
  expect_ledger_and_report_agree(db, sent);
}

// A daily budget runs out (globally and for one app): later requests go to the device with the
// budget as the reason, nothing more is spent; and a restarted gateway on the same ledger starts
// from what was spent today, not from zero (rows of yesterday do not count).
TEST(EdgeE2e, BudgetRunsOutAndStaysSpentAcrossARestart) {
  TANDEM_REQUIRE_MODELS();
  TempDir dir;
  ServeProc cloud(test::model_path(kCloud));
  ASSERT_GT(cloud.port, 0) << cloud.proc.log();
  NetsimProc net(cloud.port, 2);
  ASSERT_GT(net.control, 0) << net.proc.log();
  const std::string db = dir.file("ledger.sqlite");
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t today_ms = now_ms / 86400000 * 86400000;
  {  // Yesterday's spending, far over every limit: a new day, a new budget.
    ledger::Ledger led(db);
    ledger::Record y;
    y.time_ms = today_ms - 3600000;
    y.app = "notes";
    y.route = "CLOUD";
    y.served_by = "primary";
    y.status = "ok";
    y.cost_usd = 50;
    led.insert(y);
  }
  // One complex request's worst case: ~5 prompt tokens at $100/M + 20 at $400/M, about $0.0085.
  EdgeSpec spec;
  spec.clouds = {EndpointSpec{"primary", net.port}};
  spec.daily_usd = 0.02;
  spec.apps = {AppSpec{"notes", "TANDEM_E2E_NOTES_KEY", 0.01}, AppSpec{"mail", "TANDEM_E2E_MAIL_KEY", -1}};
  const std::vector<std::string> env = {"TANDEM_E2E_NOTES_KEY=sk-notes", "TANDEM_E2E_MAIL_KEY=sk-mail"};
  const json body = completion(20, "", "cloud");
  std::vector<Told> sent;
  auto ask = [&](const EdgeProc& edge, const std::string& app, const char* route) {
    const Http r = post(edge.port, "/v1/completions", body, "sk-" + app);
    EXPECT_EQ(r.status, 200) << r.text;
    if (r.status != 200) return 0.0;
    const json& t = r.body["tandem"];
    EXPECT_EQ(t["route"], route) << app << ": " << t.dump();
    if (std::string(route) == "LOCAL") {
      EXPECT_EQ(t["reasons"], json({"policy:cloud", "budget:exhausted"}));
      EXPECT_EQ(t["cost_usd"], 0.0);
      EXPECT_EQ(t["data_left_device"], false);
    }
    sent.push_back(told(r, app));
    return t["cost_usd"].get<double>();
  };
  double spent = 0;
  {
    EdgeProc edge(spec, dir, db, env);
    ASSERT_GT(edge.port, 0) << edge.proc.log();
    EXPECT_NE(edge.proc.log().find("budget: $0.000000 spent today"), std::string::npos) << edge.proc.log();
    const double notes = ask(edge, "notes", "CLOUD");
    EXPECT_GT(notes, 0.0);
    ask(edge, "notes", "LOCAL");  // notes' $0.01 cannot cover another
    const double mail = ask(edge, "mail", "CLOUD");
    ask(edge, "mail", "LOCAL");  // the global $0.02 cannot either
    spent = notes + mail;
    EXPECT_NEAR(edge.health()["budget"]["spent_today_usd"].get<double>(), spent, 1e-12);
    EXPECT_EQ(edge.proc.stop(), 0) << edge.proc.log();
  }
  {  // Restarted: the day's spending is back, so the global limit still binds.
    EdgeProc edge(spec, dir, db, env);
    ASSERT_GT(edge.port, 0) << edge.proc.log();
    const json b = edge.health()["budget"];
    EXPECT_NEAR(b["spent_today_usd"].get<double>(), spent, 1e-12);
    EXPECT_NEAR(b["remaining_usd"].get<double>(), 0.02 - spent, 1e-12);
    ask(edge, "mail", "LOCAL");
  }
  {  // A bigger global budget: notes' own limit is still spent (seeded per app); mail may spend.
    spec.daily_usd = 1.0;
    EdgeProc edge(spec, dir, db, env);
    ASSERT_GT(edge.port, 0) << edge.proc.log();
    ask(edge, "notes", "LOCAL");
    ask(edge, "mail", "CLOUD");
  }
  expect_ledger_and_report_agree(db, sent, today_ms);
}

// A cloud whose model has another vocabulary (synthesized with Llama 2's 32000-token one) is
// de-synced: /health and /metrics say so, and speculation never uses it, even when asked for;
// the synced cloud (behind netsim) does speculate, losslessly.
TEST(EdgeE2e, DesyncedCloudShowsInHealthAndNeverSpeculates) {
  TANDEM_REQUIRE_MODELS();
  TempDir dir;
  const std::string other_model = dir.file("other-vocab.gguf");
  std::string out;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " synth --shape stories260K --type q8_0 --vocab " + test::shared_dir() +
                                  "/reference/vocab/ggml-vocab-llama-spm.gguf -o " + other_model,
                              &out),
            0)
      << out;
  ServeProc cloud(test::model_path(kCloud));
  ServeProc other(other_model);
  ASSERT_GT(cloud.port, 0) << cloud.proc.log();
  ASSERT_GT(other.port, 0) << other.proc.log();
  NetsimProc net(cloud.port, 2);
  ASSERT_GT(net.control, 0) << net.proc.log();
  EdgeSpec spec;
  spec.clouds = {EndpointSpec{"other", other.port, kPriceIn, kPriceOut, 1}, EndpointSpec{"primary", net.port, kPriceIn, kPriceOut, 2}};
  spec.probe_interval_ms = 100;
  spec.probe_timeout_ms = 800;
  spec.breaker_failures = 2;
  const std::string db = dir.file("ledger.sqlite");
  EdgeProc edge(spec, dir, db);
  ASSERT_GT(edge.port, 0) << edge.proc.log();

  const json h = edge.health();
  const json o = edge.endpoint("other"), p = edge.endpoint("primary");
  EXPECT_EQ(o["sync"], "de-synced");
  EXPECT_EQ(o["speculation"], false);
  EXPECT_NE(o["vocab_fingerprint"], h["vocab_fingerprint"]);
  EXPECT_FALSE(o["vocab_fingerprint"].get<std::string>().empty());
  EXPECT_EQ(p["sync"], "ok");
  EXPECT_EQ(p["speculation"], true);
  EXPECT_EQ(p["vocab_fingerprint"], h["vocab_fingerprint"]);
  EXPECT_EQ(h["speculative_runner"], true);
  const std::string metrics = get(edge.port, "/metrics").text;
  EXPECT_NE(metrics.find("tandem_edge_endpoint_desynced{endpoint=\"other\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tandem_edge_endpoint_desynced{endpoint=\"primary\"} 0"), std::string::npos) << metrics;

  // Asked for speculation: the synced cloud does it (through netsim), and the text is the F32
  // model's own; the de-synced one, first in priority, is passed over.
  std::vector<Told> sent;
  Http r = post(edge.port, "/v1/completions", completion(16, "", "speculative"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["route"], "SPECULATIVE");
  EXPECT_EQ(r.body["tandem"]["served_by"], "primary");
  EXPECT_EQ(r.body["choices"][0]["text"], cloud.greedy(kPrompt, 16));
  EXPECT_GT(r.body["tandem"]["speculative"]["rounds"].get<int>(), 0);
  sent.push_back(told(r));
  // A plain CLOUD request takes the de-synced endpoint first (its plain route still works).
  r = post(edge.port, "/v1/completions", completion(8, "", "cloud"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["served_by"], "other");
  sent.push_back(told(r));

  // The synced cloud goes dark: only the de-synced one is left, and speculation is not used even
  // when asked for; the answer is a plain CLOUD call, and the reason says why.
  net.ctl("POST", "/dark");
  ASSERT_TRUE(poll_until([&] { return edge.endpoint("primary")["usable"] == false; })) << edge.health().dump();
  for (const char* task : {"complex", ""}) {
    r = post(edge.port, "/v1/completions", completion(8, task, "speculative"));
    ASSERT_EQ(r.status, 200) << r.text;
    EXPECT_EQ(r.body["tandem"]["route"], "CLOUD") << task;
    EXPECT_EQ(r.body["tandem"]["served_by"], "other");
    EXPECT_EQ(r.body["tandem"]["reasons"], json({"policy:speculative", "speculation:desynced"}));
    EXPECT_FALSE(r.body["tandem"].contains("speculative"));
    sent.push_back(told(r));
  }
  net.ctl("POST", "/light");
  expect_ledger_and_report_agree(db, sent);
}

// A request that stays on the device must not touch the network at all: not its content (that is
// the privacy check's job), and not even a connection the gateway opens for its own purposes (a
// speculation estimate measuring the cloud), which it would have to wait for. netsim counts the
// connections: none is opened for keep-local, privacy-strict, offline, policy-local or simple
// requests. The first complex request then does reach the cloud.
TEST(EdgeE2e, RequestsThatStayOnTheDeviceOpenNoConnection) {
  TANDEM_REQUIRE_MODELS();
  TempDir dir;
  ServeProc cloud(test::model_path(kCloud));
  ASSERT_GT(cloud.port, 0) << cloud.proc.log();
  NetsimProc net(cloud.port, 2);
  ASSERT_GT(net.control, 0) << net.proc.log();
  EdgeSpec spec;
  spec.clouds = {EndpointSpec{"primary", net.port}};
  const std::string db = dir.file("ledger.sqlite");
  EdgeProc edge(spec, dir, db);
  ASSERT_GT(edge.port, 0) << edge.proc.log();
  const json before = net.ctl("GET", "/stats");  // the gateway's start read GET /v1/models
  EXPECT_GE(before["connections"].get<int>(), 1);
  auto local = [&](json body, const std::string& reason) {
    const Http r = post(edge.port, "/v1/completions", body);
    ASSERT_EQ(r.status, 200) << r.text;
    EXPECT_EQ(r.body["tandem"]["route"], "LOCAL") << body.dump();
    EXPECT_EQ(r.body["tandem"]["reasons"][0], reason) << r.body["tandem"].dump();
    EXPECT_EQ(r.body["tandem"]["data_left_device"], false);
  };
  json keep = completion(8, "complex");
  keep["tandem"]["keep_local"] = true;
  local(keep, "privacy:keep_local");
  json strict = completion(8, "complex", "", "Write to jane.doe@example.com about the party");
  strict["tandem"]["privacy"] = "strict";
  local(strict, "privacy:keep_local");
  local(completion(8, "complex", "local"), "policy:local");
  local(completion(8, "simple"), "complexity:hint_simple");
  ASSERT_EQ(put(edge.port, "/v1/device", {{"online", false}}).status, 200);
  local(completion(8, "complex"), "connectivity:offline");
  const json after = net.ctl("GET", "/stats");
  EXPECT_EQ(after["connections"], before["connections"]) << after.dump();
  EXPECT_EQ(after["bytes_up"], before["bytes_up"]) << after.dump();

  ASSERT_EQ(put(edge.port, "/v1/device", {{"online", true}}).status, 200);
  const Http r = post(edge.port, "/v1/completions", completion(8, "complex"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["served_by"], "primary");
  EXPECT_GT(net.ctl("GET", "/stats")["connections"].get<int>(), after["connections"].get<int>());
}

// The official OpenAI Node SDK (tests/openai-node/check.mjs) against the gateway process, with
// the cloud behind netsim: models, completion, chat, streamed chat equal to the whole answer.
TEST(EdgeE2e, OfficialOpenAISdkTalksToTheGatewayProcess) {
  TANDEM_REQUIRE_MODELS();
  const std::string sdk = test::source_dir() + "/tests/openai-node";
  if (!std::filesystem::exists(sdk + "/node_modules/openai/package.json")) GTEST_SKIP() << "run npm ci in " << sdk;
  TempDir dir;
  ServeProc cloud(test::model_path(kCloud), {"--chat-template", "chatml"});
  ASSERT_GT(cloud.port, 0) << cloud.proc.log();
  NetsimProc net(cloud.port, 2);
  ASSERT_GT(net.control, 0) << net.proc.log();
  EdgeSpec spec;
  spec.clouds = {EndpointSpec{"primary", net.port}};
  spec.policy = "cloud";
  const std::string db = dir.file("ledger.sqlite");
  EdgeProc edge(spec, dir, db);
  ASSERT_GT(edge.port, 0) << edge.proc.log();
  std::string out;
  EXPECT_EQ(test::run_command("node " + sdk + "/check.mjs http://127.0.0.1:" + std::to_string(edge.port) + "/v1 tandem", &out), 0)
      << out;
  EXPECT_NE(out.find("\"ok\":true"), std::string::npos) << out;
  const ledger::Ledger led(db, ledger::LedgerOptions{.create = false, .read_only = true});
  const auto rows = led.query();
  ASSERT_GE(rows.size(), 3u);
  for (const auto& row : rows) {
    if (row.status != "error") {
      EXPECT_EQ(row.served_by, "primary") << row.route;
    }
  }
}
