// Privacy on the wire: tandem edge with the PII detector (edge/privacy_gate.h) in front of a cloud
// reached through tandem netsim, which records every byte sent toward the cloud. The cloud is a
// small OpenAI-style server that echoes the prompt it received, in small streamed pieces, so the
// answer carries the placeholders back and their restoration on the device can be checked.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "edge/gateway.h"
#include "edge/privacy_gate.h"
#include "netsim/proxy.h"
#include "serve_test_util.h"

using namespace tandem;
using namespace tandem::edge;
using test::json;

namespace {

// Echoes "You said: PROMPT" (completions) or the last message (chat), streamed 5 bytes per event
// so that placeholders are split across chunks.
class EchoCloud {
 public:
  EchoCloud() {
    srv_.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
    srv_.Get("/v1/models", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"object":"list","data":[{"id":"echo","object":"model"}]})", "application/json");
    });
    const auto handler = [](bool chat) {
      return [chat](const httplib::Request& req, httplib::Response& res) {
        const json body = json::parse(req.body);
        const std::string text =
            "You said: " + (chat ? body["messages"].back()["content"].get<std::string>() : body["prompt"].get<std::string>());
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

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

struct WireFixture {
  WireFixture() {
    const auto dir = std::filesystem::temp_directory_path() / ("tandem-edge-privacy-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    capture = (dir / "up.bin").string();
    std::filesystem::remove(capture);
    netsim::ProxyConfig pc;
    pc.upstream_port = cloud.port();
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
    c.policy = "cloud";
    EndpointConfig e;
    e.name = "echo";
    e.url = "http://127.0.0.1:" + std::to_string(proxy_port);
    c.clouds = {e};
    GatewayHooks hooks;
    hooks.privacy = std::make_shared<DetectorPrivacyGate>();
    gw = std::make_unique<Gateway>(c, hooks);
    port = gw->start();
  }
  ~WireFixture() {
    gw->stop();
    proxy->stop();
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
  std::string capture;
  std::unique_ptr<netsim::Proxy> proxy;
  std::unique_ptr<Gateway> gw;
  int port = 0;
};

const std::string kEmail = "jane.doe@example.org";
const std::string kPhone = "+49 30 12345678";
const std::string kCard = "4111 1111 1111 1111";

}  // namespace

// standard: the values never cross the wire (placeholders do), and the app's answer has them
// back, streamed (placeholders split across chunks) and not.
TEST(EdgePrivacy, StandardRedactsOnTheWireAndRestoresTheAnswer) {
  TANDEM_REQUIRE_FILE(test::model_path("stories260K-q4_0.gguf"));
  WireFixture f;
  const std::string prompt = "Mail " + kEmail + " or call me at " + kPhone + ", card " + kCard + ". Mail " + kEmail + " again.";
  for (bool stream : {false, true}) {
    SCOPED_TRACE(stream ? "streamed" : "whole");
    const auto [text, tandem] = f.ask({{"prompt", prompt}, {"max_tokens", 24}, {"tandem", {{"privacy", "standard"}}}}, stream);
    EXPECT_EQ(text, "You said: " + prompt);
    EXPECT_EQ(tandem["route"], "CLOUD") << tandem.dump();
    EXPECT_TRUE(tandem["data_left_device"].get<bool>());
    EXPECT_EQ(tandem["privacy"]["redacted"]["EMAIL"], 2) << tandem.dump();
  }
  f.proxy->stop();  // flushes the capture
  const std::string wire = slurp(f.capture);
  ASSERT_FALSE(wire.empty());
  EXPECT_NE(wire.find("[EMAIL_1]"), std::string::npos);
  for (const std::string& v : {kEmail, kPhone, kCard, std::string("12345678"), std::string("1111 1111")})
    EXPECT_EQ(wire.find(v), std::string::npos) << v << " crossed the wire";
}

// strict: a request with personal data stays on the device — not one byte of it is sent — and a
// request without any goes out as usual.
TEST(EdgePrivacy, StrictKeepsPersonalDataOnTheDevice) {
  TANDEM_REQUIRE_FILE(test::model_path("stories260K-q4_0.gguf"));
  WireFixture f;
  const auto [text, tandem] =
      f.ask({{"prompt", "My email is " + kEmail}, {"max_tokens", 16}, {"tandem", {{"privacy", "strict"}}}}, false);
  EXPECT_EQ(tandem["route"], "LOCAL") << tandem.dump();
  EXPECT_FALSE(tandem["data_left_device"].get<bool>());
  const auto [text2, tandem2] =
      f.ask({{"prompt", "Tell me a story about a cat"}, {"max_tokens", 16}, {"tandem", {{"privacy", "strict"}}}}, false);
  EXPECT_EQ(tandem2["route"], "CLOUD") << tandem2.dump();
  // A strict request the device cannot serve (longer than its context) is a clear error, not a
  // trip to the cloud.
  std::string longer = "My email is " + kEmail + ".";
  for (int i = 0; i < 150; ++i) longer += " The cat sat on the mat.";
  httplib::Client cl("127.0.0.1", f.port);
  cl.set_read_timeout(60);
  auto r = cl.Post("/v1/completions", json{{"prompt", longer}, {"max_tokens", 8}, {"tandem", {{"privacy", "strict"}}}}.dump(),
                   "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("context"), std::string::npos) << r->body;
  f.proxy->stop();
  const std::string wire = slurp(f.capture);
  EXPECT_EQ(wire.find(kEmail), std::string::npos);
  EXPECT_EQ(wire.find("My email is"), std::string::npos) << "a strict request crossed the wire";
  EXPECT_EQ(wire.find("The cat sat"), std::string::npos) << "a strict request crossed the wire";
  EXPECT_NE(wire.find("a story about a cat"), std::string::npos);
}

// Fail closed: a detector that errors (or times out) keeps the request on the device, even when
// the policy says cloud.
TEST(EdgePrivacy, AFailingDetectorKeepsTheRequestLocal) {
  TANDEM_REQUIRE_FILE(test::model_path("stories260K-q4_0.gguf"));
  for (auto failure : {privacy::InjectedFailure::Error, privacy::InjectedFailure::Timeout}) {
    privacy::GuardOptions opt;
    opt.inject_failure = failure;
    DetectorPrivacyGate gate(opt);
    const std::string prompt = "Tell me a story about a cat";
    PrivacyInput in;
    in.prompt = &prompt;
    in.level = "standard";
    const PrivacyVerdict v = gate.inspect(in);
    EXPECT_TRUE(v.failed);
    EXPECT_TRUE(v.keep_local);
  }
  EchoCloud cloud;
  EdgeConfig c = default_config();
  c.port = 0;
  c.device_model = test::model_path("stories260K-q4_0.gguf");
  c.device_threads = 1;
  c.state_source = "push";
  c.probe_interval_ms = 0;
  c.policy = "cloud";
  EndpointConfig e;
  e.name = "echo";
  e.url = "http://127.0.0.1:" + std::to_string(cloud.port());
  c.clouds = {e};
  privacy::GuardOptions opt;
  opt.inject_failure = privacy::InjectedFailure::Error;
  GatewayHooks hooks;
  hooks.privacy = std::make_shared<DetectorPrivacyGate>(opt);
  Gateway gw(c, hooks);
  httplib::Client cl("127.0.0.1", gw.start());
  cl.set_read_timeout(60);
  auto r = cl.Post("/v1/completions", json{{"prompt", "Tell me a story"}, {"max_tokens", 8}}.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json j = json::parse(r->body);
  EXPECT_EQ(j["tandem"]["route"], "LOCAL") << j["tandem"].dump();
  EXPECT_FALSE(j["tandem"]["data_left_device"].get<bool>());
  gw.stop();
}

// A conversation resent turn by turn (as OpenAI chat clients do) keeps each value's placeholder:
// the same email is [EMAIL_1] in every turn on the wire, a new one is [EMAIL_2], and the answer
// to the last turn comes back restored.
TEST(EdgePrivacy, PlaceholdersAreStableAcrossTurns) {
  TANDEM_REQUIRE_FILE(test::model_path("stories260K-q4_0.gguf"));
  WireFixture f;
  const std::string other = "bob@example.net";
  const json messages = json::array({{{"role", "user"}, {"content", "Write to " + kEmail + " please."}},
                                     {{"role", "assistant"}, {"content", "Done: I wrote to " + kEmail + "."}},
                                     {{"role", "user"}, {"content", "Now " + other + " and " + kEmail + " too."}}});
  httplib::Client cl("127.0.0.1", f.port);
  cl.set_read_timeout(60);
  auto r = cl.Post("/v1/chat/completions",
                   json{{"messages", messages}, {"max_tokens", 24}, {"tandem", {{"privacy", "standard"}}}}.dump(),
                   "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json j = json::parse(r->body);
  EXPECT_EQ(j["choices"][0]["message"]["content"], "You said: Now " + other + " and " + kEmail + " too.");
  f.proxy->stop();
  const std::string wire = slurp(f.capture);
  EXPECT_EQ(wire.find(kEmail), std::string::npos);
  EXPECT_EQ(wire.find(other), std::string::npos);
  size_t ones = 0;
  for (size_t at = wire.find("[EMAIL_1]"); at != std::string::npos; at = wire.find("[EMAIL_1]", at + 1)) ++ones;
  EXPECT_EQ(ones, 3u) << wire;
  EXPECT_NE(wire.find("Now [EMAIL_2] and [EMAIL_1] too."), std::string::npos) << wire;
  EXPECT_EQ(wire.find("[EMAIL_3]"), std::string::npos);
}
