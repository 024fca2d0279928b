// Privacy on the wire: tandem edge with the PII detector (edge/privacy_gate.h) in front of a cloud
// reached through tandem netsim, which records every byte sent toward the cloud. The cloud is a
// small OpenAI-style server that echoes the prompt it received, in small streamed pieces, so the
// answer carries the placeholders back and their restoration on the device can be checked.
#include <gtest/gtest.h>
#include <httplib.h>

#include "edge_privacy_util.h"

using namespace tandem;
using namespace tandem::edge;
using test::json;

namespace {

using test::EchoCloud;
using test::WireFixture;
using test::slurp;

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

// strict: nothing of a request leaves the device without the user's consent — whatever the
// detector finds, a clean request included — and the answer says what consent would change. With
// consent (body or header) the request leaves redacted, as under standard, and the answer is
// restored.
TEST(EdgePrivacy, StrictSendsNothingWithoutConsent) {
  TANDEM_REQUIRE_FILE(test::model_path("stories260K-q4_0.gguf"));
  WireFixture f;
  const auto [text, tandem] =
      f.ask({{"prompt", "My email is " + kEmail}, {"max_tokens", 16}, {"tandem", {{"privacy", "strict"}}}}, false);
  EXPECT_EQ(tandem["route"], "LOCAL") << tandem.dump();
  EXPECT_FALSE(tandem["data_left_device"].get<bool>());
  // A request the detector finds nothing in stays too; the router would have sent it to the
  // cloud, so the answer says where consent would send it and what would be replaced.
  const auto [text2, tandem2] =
      f.ask({{"prompt", "Tell me a story about a cat"}, {"max_tokens", 16}, {"tandem", {{"privacy", "strict"}}}}, false);
  EXPECT_EQ(tandem2["route"], "LOCAL") << tandem2.dump();
  EXPECT_EQ(tandem2["reasons"][0], "privacy:strict_no_consent") << tandem2.dump();
  EXPECT_TRUE(tandem2["privacy"]["consent_needed"].get<bool>());
  EXPECT_EQ(tandem2["privacy"]["with_consent"]["route"], "CLOUD") << tandem2.dump();
  EXPECT_NE(tandem2.value("notice", "").find("consent"), std::string::npos) << tandem2.dump();
  const auto [text3, tandem3] = f.ask({{"prompt", "Write to " + kEmail + " about the cat"}, {"max_tokens", 16},
                                       {"tandem", {{"privacy", "strict"}}}}, true);
  EXPECT_EQ(tandem3["privacy"]["with_consent"]["would_redact"]["EMAIL"], 1) << tandem3.dump();
  EXPECT_EQ(tandem3.dump().find(kEmail), std::string::npos) << "the answer's tandem object names a value";
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
  // Consent, in the body or as a header: out, redacted, and the answer restored.
  const std::string consented = "Tell me about the owl, then mail " + kEmail + ".";
  const auto [text4, tandem4] = f.ask({{"prompt", consented}, {"max_tokens", 16},
                                       {"tandem", {{"privacy", "strict"}, {"consent", true}}}}, false);
  EXPECT_EQ(tandem4["route"], "CLOUD") << tandem4.dump();
  EXPECT_EQ(text4, "You said: " + consented);
  EXPECT_EQ(tandem4["privacy"]["redacted"]["EMAIL"], 1) << tandem4.dump();
  auto [status, j] = f.post("/v1/completions", {{"prompt", "A story about a fox"}, {"max_tokens", 8}},
                            {{"x-tandem-privacy", "strict"}, {"x-tandem-consent", "true"}});
  EXPECT_EQ(status, 200);
  EXPECT_EQ(j["tandem"]["route"], "CLOUD") << j.dump();
  auto [bad, e] = f.post("/v1/completions", {{"prompt", "x"}}, {{"x-tandem-consent", "yes"}});
  EXPECT_EQ(bad, 400);
  EXPECT_EQ(e["error"]["param"], "x-tandem-consent") << e.dump();
  const std::string wire = f.wire();
  EXPECT_EQ(wire.find(kEmail), std::string::npos);
  EXPECT_EQ(wire.find("My email is"), std::string::npos) << "a strict request crossed the wire";
  EXPECT_EQ(wire.find("The cat sat"), std::string::npos) << "a strict request crossed the wire";
  EXPECT_EQ(wire.find("a story about a cat"), std::string::npos) << "a strict request crossed the wire";
  EXPECT_NE(wire.find("Tell me about the owl, then mail [EMAIL_1]."), std::string::npos) << wire;
  EXPECT_NE(wire.find("A story about a fox"), std::string::npos);
}

// A configured app's consent stands for its requests' (it asks its user itself).
TEST(EdgePrivacy, AnAppConfiguredWithConsentLeavesRedacted) {
  TANDEM_REQUIRE_FILE(test::model_path("stories260K-q4_0.gguf"));
  ::setenv("TANDEM_TEST_TRUSTED_KEY", "trusted-key", 1);
  ::setenv("TANDEM_TEST_OTHER_KEY", "other-key", 1);
  WireFixture f([](EdgeConfig& c) {
    c.privacy = "strict";
    c.apps = {{.name = "trusted", .key_env = "TANDEM_TEST_TRUSTED_KEY", .consent = true},
              {.name = "other", .key_env = "TANDEM_TEST_OTHER_KEY"}};
  });
  const json body = {{"prompt", "Mail " + kEmail + " about the owl."}, {"max_tokens", 8}};
  auto [s1, trusted] = f.post("/v1/completions", body, {{"Authorization", "Bearer trusted-key"}});
  EXPECT_EQ(s1, 200);
  EXPECT_EQ(trusted["tandem"]["route"], "CLOUD") << trusted.dump();
  EXPECT_TRUE(trusted["tandem"]["privacy"]["consent"].get<bool>());
  auto [s2, other] = f.post("/v1/completions", body, {{"Authorization", "Bearer other-key"}});
  EXPECT_EQ(s2, 200);
  EXPECT_EQ(other["tandem"]["route"], "LOCAL") << other.dump();
  const std::string wire = f.wire();
  EXPECT_EQ(wire.find(kEmail), std::string::npos);
  size_t sent = 0;
  for (size_t at = wire.find("about the owl"); at != std::string::npos; at = wire.find("about the owl", at + 1)) ++sent;
  EXPECT_EQ(sent, 1u) << "only the consenting app's request leaves";
}

// Fail closed: a detector that errors (or times out) keeps the request on the device, even when
// the policy says cloud.
TEST(EdgePrivacy, AFailingDetectorKeepsTheRequestLocal) {
  TANDEM_REQUIRE_FILE(test::model_path("stories260K-q4_0.gguf"));
  for (auto failure : {privacy::InjectedFailure::Error, privacy::InjectedFailure::Timeout}) {
    privacy::GuardOptions opt;
    opt.inject_failure = failure;
    DetectorPrivacyGate gate(opt);
    PrivacyInput in;
    in.texts = {"Tell me a story about a cat"};
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
  c.policy = Policy::Cloud;
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
