// Privacy on the wire, shared by the edge privacy tests: tandem edge with the PII detector
// (edge/privacy_gate.h) in front of an upstream reached through tandem netsim, which records every
// byte sent toward it. The upstream is either a small OpenAI-style server that echoes the prompt it
// received, in small streamed pieces (so the answer carries the placeholders back and their
// restoration on the device can be checked), or a real tandem serve with a small model.
#pragma once
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "edge/gateway.h"
#include "edge/privacy_gate.h"
#include "netsim/proxy.h"
#include "serve_test_util.h"

namespace tandem::test {

using namespace tandem::edge;


// Echoes "You said: PROMPT" (completions) or the last message (chat), streamed 5 bytes per event
// so that placeholders are split across chunks.
class EchoCloud {
 public:
  // A message's content: a string, or the texts of its content parts.
  static std::string content_text(const json& c) {
    if (c.is_string()) return c.get<std::string>();
    std::string s;
    for (const auto& p : c) s += p.value("text", "");
    return s;
  }

  EchoCloud() {
    srv_.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
    srv_.Get("/v1/models", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"object":"list","data":[{"id":"echo","object":"model"}]})", "application/json");
    });
    const auto handler = [](bool chat) {
      return [chat](const httplib::Request& req, httplib::Response& res) {
        const json body = json::parse(req.body);
        const std::string text = "You said: " + (chat ? content_text(body["messages"].back()["content"])
                                                       : body["prompt"].get<std::string>());
        if (!body.value("stream", false)) {
          json out = {{"id", "x"}, {"object", chat ? "chat.completion" : "text_completion"}, {"model", "echo"},
                      {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 10}, {"total_tokens", 20}}}};
          out["choices"] = chat ? json::array({{{"index", 0}, {"message", {{"role", "assistant"}, {"content", text}}}, {"finish_reason", "stop"}}})
                                : json::array({{{"index", 0}, {"text", text}, {"finish_reason", "stop"}}});
          res.set_content(out.dump(), "application/json");
          return;
        }
        std::string sse;
        for (size_t i = 0; i < text.size(); i += 5) {
          const std::string piece = text.substr(i, 5);
          json c = {{"id", "x"}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"model", "echo"}};
          c["choices"] = chat ? json::array({{{"index", 0}, {"delta", {{"content", piece}}}, {"finish_reason", nullptr}}})
                              : json::array({{{"index", 0}, {"text", piece}, {"finish_reason", nullptr}}});
          sse += "data: " + c.dump() + "\n\n";
        }
        json last = {{"id", "x"}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"model", "echo"}};
        last["choices"] = chat ? json::array({{{"index", 0}, {"delta", json::object()}, {"finish_reason", "stop"}}})
                               : json::array({{{"index", 0}, {"text", ""}, {"finish_reason", "stop"}}});
        last["usage"] = {{"prompt_tokens", 10}, {"completion_tokens", 10}, {"total_tokens", 20}};
        sse += "data: " + last.dump() + "\n\ndata: [DONE]\n\n";
        res.set_content(sse, "text/event-stream");
      };
    };
    srv_.Post("/v1/completions", handler(false));
    srv_.Post("/v1/chat/completions", handler(true));
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~EchoCloud() {
    srv_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::Server srv_;
  std::thread thread_;
  int port_ = 0;
};

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

enum class Upstream { Echo, Serve };

struct WireFixture {
  // policy "cloud" toward one cloud endpoint; `tweak` changes the gateway's config before it starts.
  explicit WireFixture(const std::function<void(EdgeConfig&)>& tweak = {}, Upstream upstream = Upstream::Echo,
                       std::shared_ptr<SpeculativeRunner> speculative = nullptr) {
    const auto dir = std::filesystem::temp_directory_path() / ("tandem-edge-privacy-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    capture = (dir / "up.bin").string();
    std::filesystem::remove(capture);
    netsim::ProxyConfig pc;
    if (upstream == Upstream::Serve) {
      serve = std::make_unique<ServeFixture>("stories260K-q4_0.gguf", [](serve::ServerConfig& sc) {
        sc.chat_template = "chatml";
        sc.sched.n_parallel = 1;
      });
      pc.upstream_port = serve->port;
    } else {
      pc.upstream_port = cloud.port();
    }
    pc.capture_up = capture;
    proxy = std::make_unique<netsim::Proxy>(pc);
    const int proxy_port = proxy->start();
    EdgeConfig c = default_config();
    c.port = 0;
    c.device_model = test::model_path("stories260K-q4_0.gguf");
    c.device_chat_template = "chatml";  // the shared model has none; chat requests need one
    c.device_ctx = 512;                 // (its own is 128 positions: too short for a conversation)
    c.device_threads = 1;
    c.state_source = "push";
    c.probe_interval_ms = 0;
    c.daily_usd = -1;
    c.policy = Policy::Cloud;
    EndpointConfig e;
    e.name = "echo";
    e.url = "http://127.0.0.1:" + std::to_string(proxy_port);
    c.clouds = {e};
    if (tweak) tweak(c);
    GatewayHooks hooks;
    hooks.privacy = std::make_shared<DetectorPrivacyGate>();
    hooks.speculative = std::move(speculative);
    gw = std::make_unique<Gateway>(c, hooks);
    port = gw->start();
  }
  ~WireFixture() {
    gw->stop();
    proxy->stop();
  }
  // Everything sent toward the upstream so far (stops the proxy, which flushes the capture).
  std::string wire() {
    proxy->stop();
    return slurp(capture);
  }
  // A request to the gateway: status and parsed body (null when not JSON).
  std::pair<int, json> post(const std::string& path, const json& body, const httplib::Headers& headers = {}) {
    httplib::Client cl("127.0.0.1", port);
    cl.set_read_timeout(60);
    auto r = cl.Post(path, headers, body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return {0, nullptr};
    json j = json::parse(r->body, nullptr, false);
    return {r->status, j.is_discarded() ? json(nullptr) : j};
  }
  // The answer text (streamed or not) and the tandem object.
  std::pair<std::string, json> ask(json body, bool stream) {
    body["stream"] = stream;
    httplib::Client cl("127.0.0.1", port);
    cl.set_read_timeout(60);
    auto r = cl.Post("/v1/completions", body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    if (!stream) {
      const json j = json::parse(r->body);
      return {j["choices"][0]["text"], j["tandem"]};
    }
    std::string text;
    json tandem;
    for (const auto& d : test::sse_data(r->body)) {
      if (d == "[DONE]") continue;
      const json j = json::parse(d);
      if (j.contains("tandem")) tandem = j["tandem"];
      if (j.contains("choices") && !j["choices"].empty() && j["choices"][0].contains("text"))
        text += j["choices"][0]["text"].get<std::string>();
    }
    return {text, tandem};
  }

  EchoCloud cloud;
  std::unique_ptr<ServeFixture> serve;
  std::string capture;
  std::unique_ptr<netsim::Proxy> proxy;
  std::unique_ptr<Gateway> gw;
  int port = 0;
};

}  // namespace tandem::test
