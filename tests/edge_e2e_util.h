// Helpers of tests/edge_e2e_test.cpp: HTTP (plain and streamed) against the processes, the
// processes themselves (tandem serve, tandem netsim with its control API, tandem edge from a
// generated TOML file, each a test::ChildProcess), and the comparison of the ledger's rows and
// `tandem report`'s figures with what the app was told.
#pragma once
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ledger/ledger.h"
#include "test_util.h"

namespace tandem::edge_e2e {

using namespace std::chrono_literals;
using nlohmann::json;
using test::ChildProcess;

inline constexpr const char* kDevice = "stories260K-q4_0.gguf";
inline constexpr const char* kCloud = "stories260K-f32.gguf";
inline const std::string kPrompt = "Once upon a time";
inline constexpr double kPriceIn = 100, kPriceOut = 400;  // USD per 1M tokens: big enough to see

inline double cost_of(int64_t prompt, int64_t completion) { return (double(prompt) * kPriceIn + double(completion) * kPriceOut) / 1e6; }

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

inline httplib::Client client(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(10s);
  c.set_read_timeout(120s);
  c.set_write_timeout(60s);
  return c;
}

inline Http wrap(const httplib::Result& r) {
  Http h;
  if (!r) return h;
  h.status = r->status;
  h.text = r->body;
  h.headers = r->headers;
  h.body = json::parse(r->body, nullptr, false);
  if (h.body.is_discarded()) h.body = nullptr;
  return h;
}

inline httplib::Headers auth(const std::string& key) {
  httplib::Headers h;
  if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
  return h;
}

inline Http get(int port, const std::string& path) { return wrap(client(port).Get(path.c_str())); }
inline Http post(int port, const std::string& path, const json& body, const std::string& key = "") {
  return wrap(client(port).Post(path.c_str(), auth(key), body.dump(), "application/json"));
}
inline Http put(int port, const std::string& path, const json& body) {
  return wrap(client(port).Put(path.c_str(), body.dump(), "application/json"));
}

inline json completion(int max_tokens, const std::string& task = "", const std::string& route = "", const std::string& prompt = kPrompt) {
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

inline Stream stream(int port, const std::string& path, json body, const std::function<void(const Stream&)>& on_text = {}) {
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
inline bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds deadline = 60s) {
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

inline std::string toml_string(const std::string& s) { return json(s).dump(); }  // a TOML basic string

inline std::string edge_toml(const EdgeSpec& s, const std::string& ledger) {
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

inline Told told(const Http& r, const std::string& app = "") { return {r.body["tandem"], r.body["usage"], app}; }
inline Told told(const Stream& s, const std::string& app = "") { return {s.tandem, s.usage, app}; }

// Every row of the ledger is one request, in order, with the figures the app was told; `tandem
// report --format json` sums them. since_ms: the report's --since (rows before it are not ours).
inline void expect_ledger_and_report_agree(const std::string& db, const std::vector<Told>& sent, int64_t since_ms = 0) {
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
inline void expect_cloud_answer(const Http& r, const std::string& want_text, const std::string& endpoint) {
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
inline void expect_complex_offload(const json& t) {
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

}  // namespace tandem::edge_e2e
