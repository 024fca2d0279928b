// The gateway's SPECULATIVE route under a request's JSON Schema: the device drafts and the cloud
// verifies under the schema's grammar, and the answer is the cloud model's own constrained
// output (greedy: the same text as its /v1/completions gives).
#include <gtest/gtest.h>
#include <httplib.h>

#include "edge/gateway.h"
#include "edge/speculative_runner.h"
#include "edge_test_util.h"
#include "serve_test_util.h"

using namespace tandem;
using namespace tandem::edge;
using test::json;

namespace {

const char* kDevice = "stories260K-q4_0.gguf";
const char* kCloud = "stories260K-f32.gguf";
// Properties out of alphabetical order: the output must follow the schema's order as written.
const char* kSchema = R"({"type": "object", "properties": {"name": {"type": "string", "maxLength": 10},
    "happy": {"type": "boolean"}, "age": {"type": "integer", "minimum": 1, "maximum": 9}},
    "required": ["name", "happy", "age"], "additionalProperties": false})";

// A completion body with the schema spliced in as written (a JSON object would sort its keys).
std::string body_with_schema(const json& fields) {
  std::string body = fields.dump();
  body.pop_back();
  return body + ",\"json_schema\":" + kSchema + "}";
}

}  // namespace

TEST(EdgeSpecGrammar, SpeculativeRouteGivesTheCloudsOwnConstrainedOutput) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  TANDEM_REQUIRE_FILE(test::model_path(kDevice));
  test::ServeFixture cloud(kCloud, [](serve::ServerConfig& c) { c.sched.n_ctx = 256; });
  const json ask = {{"prompt", "Once upon a time"}, {"max_tokens", 100}, {"temperature", 0}};
  const test::HttpResult own = cloud.post_raw("/v1/completions", body_with_schema(ask));
  ASSERT_EQ(own.status, 200) << own.text;
  const std::string want = own.body["choices"][0]["text"];
  ASSERT_EQ(own.body["choices"][0]["finish_reason"], "stop") << want;
  ASSERT_EQ(want.rfind("{\"name\":", 0), 0u) << want;

  GatewayHooks hooks;
  SpeculativeRunnerConfig sc;
  sc.n_threads = 1;
  sc.draft_max = 4;
  hooks.speculative = std::make_shared<VerifySpeculativeRunner>(sc);
  Gateway gw(test::edge_test_config(kDevice, cloud.port), hooks);
  const int port = gw.start();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(120);
  json routed = ask;
  routed["tandem"] = {{"route", "speculative"}};
  auto r = c.Post("/v1/completions", body_with_schema(routed), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json j = json::parse(r->body);
  EXPECT_EQ(j["tandem"]["route"], "SPECULATIVE") << j["tandem"].dump();
  EXPECT_EQ(j["choices"][0]["text"], want);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_GT(j["tandem"]["speculative"]["rounds"].get<int>(), 0) << j["tandem"].dump();
  gw.stop();
}
