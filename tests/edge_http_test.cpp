// The edge gateway's HTTP side: slow clients do not starve /health or completions (the same
// connection handling as tandem serve), and /health names the privacy detector in use.
#include <gtest/gtest.h>

#include "edge/privacy_gate.h"
#include "edge_test_util.h"
#include "http_test_util.h"

using namespace tandem;
using namespace tandem::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const char* kModel = "stories260K-f32.gguf";

int post_status(const GatewayFixture& f, const json& body) {
  auto r = f.client().Post("/v1/completions", body.dump(), "application/json");
  return r ? r->status : 0;
}

}  // namespace

TEST(EdgeHttp, SlowClientsDoNotStarveHealthOrCompletions) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  GatewayFixture f(edge_test_config(kModel));
  SlowCrowd crowd(f.port, 200, 200ms);
  ASSERT_EQ(crowd.connected(), 200);
  for (int i = 0; i < 500 && f.gw->open_connections() < 200; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_GE(f.gw->open_connections(), 200);
  const json body = {{"prompt", "Once upon a time"}, {"max_tokens", 4}, {"temperature", 0}};
  expect_answers_within_a_second(
      [&] {
        auto r = f.client().Get("/health");
        return r && r->status == 200;
      },
      [&] { return post_status(f, body) == 200; }, [&] { return f.gw->open_connections(); });
}

TEST(EdgeHealth, NamesThePrivacyDetectorInUse) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  const json body = {{"prompt", "Once upon a time"}, {"max_tokens", 2}, {"temperature", 0}};
  for (const bool detector : {false, true}) {
    edge::GatewayHooks hooks;
    if (detector) hooks.privacy = std::make_shared<edge::DetectorPrivacyGate>();
    GatewayFixture f(edge_test_config(kModel), hooks);
    const std::string name = detector ? "tandem-pii" : "none";
    auto h = f.client().Get("/health");
    ASSERT_TRUE(h);
    EXPECT_EQ(json::parse(h->body)["privacy_detector"], name);
    // A request's record names the same detector.
    auto r = f.client().Post("/v1/completions", body.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(json::parse(r->body)["tandem"]["privacy"]["detector"], name) << r->body;
  }
}
