// Logprobs through the gateway (edge/logprobs.h): on LOCAL they are the device model's and on
// CLOUD the cloud model's, equal to what a tandem serve over each model answers, for completions
// and chat, streamed and not; on SPECULATIVE the cloud model's too (from /v1/verify); CASCADE's
// are those of the answer it sends; and an endpoint's malformed logprobs are skipped.
#include <gtest/gtest.h>

#include "edge/speculative_runner.h"
#include "edge_e2e_util.h"
#include "edge_test_util.h"
#include "serve_test_util.h"

using namespace tandem;
using namespace tandem::edge;
using nlohmann::json;

namespace {

const char* kDevice = "stories260K-q4_0.gguf";
const char* kCloud = "stories260K-f32.gguf";

json ask(bool chat, const std::string& route) {
  json b = {{"max_tokens", 8}, {"temperature", 0}};
  if (chat) {
    b["messages"] = json::array({{{"role", "user"}, {"content", "Hi"}}});
    b["logprobs"] = true;
    b["top_logprobs"] = 2;
  } else {
    b["prompt"] = "Once upon a time";
    b["logprobs"] = 2;
  }
  if (!route.empty()) b["tandem"] = {{"route", route}};
  return b;
}

// The logprobs of a streamed answer, joined the way a client joins them.
json streamed_logprobs(int port, const std::string& path, json body, bool chat) {
  body["stream"] = true;
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60);
  std::string sse;
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
    sse.append(d, n);
    return true;
  };
  c.send(req);
  json joined = chat ? json{{"content", json::array()}}
                     : json{{"tokens", json::array()}, {"token_logprobs", json::array()}, {"top_logprobs", json::array()},
                            {"text_offset", json::array()}};
  for (size_t at = 0; (at = sse.find("data: ", at)) != std::string::npos;) {
    const size_t end = sse.find("\n\n", at);
    const json j = json::parse(sse.substr(at + 6, end - at - 6), nullptr, false);
    at = end;
    if (j.is_discarded() || !j.is_object() || !j.contains("choices") || j["choices"].empty()) continue;
    const json& lp = j["choices"][0]["logprobs"];
    if (!lp.is_object()) continue;
    for (auto& [k, v] : joined.items())
      for (const auto& e : lp[k]) v.push_back(e);
  }
  return joined;
}

json direct_logprobs(const test::ServeFixture& s, bool chat) {
  const auto r = s.post(chat ? "/v1/chat/completions" : "/v1/completions", ask(chat, ""));
  EXPECT_EQ(r.status, 200) << r.text;
  return r.body["choices"][0]["logprobs"];
}

}  // namespace

TEST(EdgeLogprobs, EachRouteGivesItsOwnModelsLogprobs) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  auto chatml = [](serve::ServerConfig& c) { c.chat_template = "chatml"; };
  test::ServeFixture cloud(kCloud, chatml), device_ref(kDevice, chatml);
  test::GatewayFixture edge(test::edge_test_config(kDevice, cloud.port));
  for (bool chat : {false, true}) {
    const std::string path = chat ? "/v1/chat/completions" : "/v1/completions";
    for (const auto& [route, ref] : {std::pair<std::string, const test::ServeFixture*>{"local", &device_ref},
                                     std::pair<std::string, const test::ServeFixture*>{"cloud", &cloud}}) {
      const json want = direct_logprobs(*ref, chat);
      ASSERT_TRUE(want.is_object());
      const edge_e2e::Http r = edge_e2e::post(edge.port, path, ask(chat, route));
      ASSERT_EQ(r.status, 200) << r.text;
      EXPECT_EQ(r.body["tandem"]["route"], route == "local" ? "LOCAL" : "CLOUD");
      EXPECT_EQ(r.body["choices"][0]["logprobs"], want) << route << (chat ? " chat" : " completion");
      EXPECT_EQ(streamed_logprobs(edge.port, path, ask(chat, route), chat), want)
          << route << (chat ? " chat" : " completion") << ", streamed";
    }
  }
  // Without the field, no logprobs (null, as OpenAI sends).
  json plain = ask(false, "local");
  plain.erase("logprobs");
  EXPECT_TRUE(edge_e2e::post(edge.port, "/v1/completions", plain).body["choices"][0]["logprobs"].is_null());
}

// SPECULATIVE: the device drafts, the cloud verifies and returns its log-probabilities of the
// tokens it accepts and adds: the same as the cloud model's own (the verify pass evaluates several
// positions at once, so the last digits may differ from a one-token step).
TEST(EdgeLogprobs, SpeculativeGivesTheCloudModelsLogprobs) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud);
  GatewayHooks hooks;
  SpeculativeRunnerConfig sc;
  sc.n_threads = 1;
  sc.draft_max = 4;
  hooks.speculative = std::make_shared<VerifySpeculativeRunner>(sc);
  test::GatewayFixture edge(test::edge_test_config(kDevice, cloud.port), hooks);
  json body = ask(false, "speculative");
  body["max_tokens"] = 24;
  const edge_e2e::Http r = edge_e2e::post(edge.port, "/v1/completions", body);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["route"], "SPECULATIVE");
  EXPECT_GT(r.body["tandem"]["speculative"]["accepted"].get<int>(), 0);
  body.erase("tandem");
  const json want = cloud.post("/v1/completions", body).body["choices"][0];
  EXPECT_EQ(r.body["choices"][0]["text"], want["text"]);
  const json& got = r.body["choices"][0]["logprobs"];
  ASSERT_EQ(got["tokens"], want["logprobs"]["tokens"]);
  EXPECT_EQ(got["text_offset"], want["logprobs"]["text_offset"]);
  for (size_t i = 0; i < got["tokens"].size(); ++i) {
    EXPECT_NEAR(got["token_logprobs"][i].get<double>(), want["logprobs"]["token_logprobs"][i].get<double>(), 1e-4) << i;
    ASSERT_EQ(got["top_logprobs"][i].size(), 2u) << i;
    for (const auto& [tok, lp] : want["logprobs"]["top_logprobs"][i].items()) {
      ASSERT_TRUE(got["top_logprobs"][i].contains(tok)) << i << " " << tok;
      EXPECT_NEAR(got["top_logprobs"][i][tok].get<double>(), lp.get<double>(), 1e-4) << i;
    }
  }
  EXPECT_EQ(streamed_logprobs(edge.port, "/v1/completions", ask(false, "speculative"), false)["tokens"],
            direct_logprobs(cloud, false)["tokens"]);
}

TEST(EdgeLogprobs, CascadeGivesTheLogprobsOfTheAnswerItSends) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud), device_ref(kDevice);
  EdgeConfig cfg = test::edge_test_config(kDevice, cloud.port);
  cfg.cascade_min_logprob = -100;  // every device answer is confident
  {
    test::GatewayFixture edge(cfg);
    const edge_e2e::Http r = edge_e2e::post(edge.port, "/v1/completions", ask(false, "cascade"));
    ASSERT_EQ(r.status, 200) << r.text;
    EXPECT_EQ(r.body["tandem"]["served_by"], "device");
    EXPECT_EQ(r.body["choices"][0]["logprobs"], direct_logprobs(device_ref, false));
  }
  cfg.cascade_min_logprob = 0;  // none is
  test::GatewayFixture edge(cfg);
  const edge_e2e::Http r = edge_e2e::post(edge.port, "/v1/completions", ask(false, "cascade"));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["served_by"], "primary");
  EXPECT_EQ(r.body["choices"][0]["logprobs"], direct_logprobs(cloud, false));
}

TEST(EdgeLogprobs, BothShapesParseAndMalformedPartsAreSkipped) {
  const json chat = {{"content", json::array({{{"token", "a"}, {"logprob", -0.5},
                                               {"top_logprobs", json::array({{{"token", "a"}, {"logprob", -0.5}},
                                                                             {{"token", "b"}, {"logprob", -1.5}}})}},
                                              {{"token", 7}, {"logprob", -1}},  // malformed: skipped
                                              {{"token", "c"}, {"logprob", -2.0}}})}};
  auto t = protocol::token_logprobs_from_json(chat);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].text, "a");
  EXPECT_EQ(t[0].top.size(), 2u);
  EXPECT_EQ(t[1].text, "c");
  EXPECT_EQ(protocol::chat_logprobs_json(t)["content"][0]["bytes"], json::array({97}));
  const json comp = {{"tokens", {"x", "yz", 3}}, {"token_logprobs", {-1.0, -2.0, -3.0}},
                     {"top_logprobs", json::array({{{"q", -4.0}, {"x", -1.0}}, nullptr})}};
  t = protocol::token_logprobs_from_json(comp);
  ASSERT_EQ(t.size(), 2u);
  ASSERT_EQ(t[0].top.size(), 2u);
  EXPECT_EQ(t[0].top[0].text, "x");  // most likely first
  const json back = protocol::completion_logprobs_json(t, 10);
  EXPECT_EQ(back["text_offset"], json::array({10, 11}));
  EXPECT_EQ(back["tokens"], json::array({"x", "yz"}));
  for (const json& bad : {json(nullptr), json("x"), json::array(), json{{"tokens", 1}}, json{{"content", "no"}}})
    EXPECT_TRUE(protocol::token_logprobs_from_json(bad).empty()) << bad;
}
