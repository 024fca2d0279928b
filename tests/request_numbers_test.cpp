// Numbers in requests that no double or int64 holds (1e309, 1e300 as a token count, 2^70 as a
// seed): each is a 400 naming its field, never a 500 or an undefined conversion, in serve's
// completion and verify parsing, the edge's device state, and over HTTP on both servers.
#include <gtest/gtest.h>

#include <string>

#include "edge/device_state.h"
#include "edge/request_extensions.h"
#include "format/error.h"
#include "ledger/report.h"
#include "protocol/openai.h"
#include "protocol/verify_wire.h"
#include "edge_test_util.h"
#include "serve_test_util.h"

using namespace tandem;
using protocol::ApiError;
using nlohmann::json;

namespace {

// The ApiError a body text gets through parse_request_json and then `parse`; nullopt when accepted.
template <class Parse>
std::optional<ApiError> error_of(const std::string& text, Parse parse) {
  try {
    parse(protocol::parse_request_json(text));
  } catch (const ApiError& e) {
    return e;
  }
  return std::nullopt;
}
std::optional<ApiError> completion_error(const std::string& text, bool chat = false) {
  return error_of(text, [chat](const json& j) { protocol::parse_completion_request(j, chat, 512); });
}
std::optional<ApiError> verify_error(const std::string& text) {
  return error_of(text, [](const json& j) { protocol::parse_verify_request(j, 512, 8); });
}

}  // namespace

TEST(ServeRequestNumbers, NumbersBeyondADoubleNameTheirField) {
  for (const char* text : {R"({"prompt": "a", "temperature": 1e309})", R"({"prompt": "a", "temperature": -1e309})"}) {
    const auto e = completion_error(text);
    ASSERT_TRUE(e) << text;
    EXPECT_EQ(e->status, 400);
    EXPECT_EQ(e->param, "temperature");
    EXPECT_NE(e->message.find("too large"), std::string::npos) << e->message;
  }
  auto e = verify_error(R"({"tokens": [1], "draft": [3], "temperature": 1, "draft_probs": [[[3, 0.5], [4, 1e309]]]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "draft_probs[0][1][1]");
  e = completion_error(R"({"messages": [{"role": "user", "content": "x"}], "metadata": {"a": [1, {"b": 2e999}]}})", true);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "metadata.a[1].b");
  e = completion_error("1e309");  // no field to name
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 400);
  EXPECT_EQ(e->param, "");
  e = completion_error(R"({"prompt": "a", )");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "invalid_json");
}

TEST(ServeRequestNumbers, IntegersMustBeExactAndInRange) {
  auto e = completion_error(R"({"prompt": "a", "max_tokens": 1e300})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "max_tokens");
  EXPECT_EQ(e->message.find("-9223372036854775808"), std::string::npos) << e->message;
  // 2^70 (parsed as a double), 2^64 - 1 (an unsigned), 2^63 as a double: none is an int64 seed.
  for (const char* seed : {"1180591620717411303424", "18446744073709551615", "9223372036854775808.0",
                           "-9.3e18", "-1e19"}) {
    e = completion_error(std::string(R"({"prompt": "a", "seed": )") + seed + "}");
    ASSERT_TRUE(e) << seed;
    EXPECT_EQ(e->status, 400);
    EXPECT_EQ(e->param, "seed") << seed;
  }
  e = completion_error(R"({"prompt": "a", "max_tokens": 5.5})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "invalid_type");
  e = completion_error(R"({"prompt": "a", "top_k": 1e20})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "top_k");
  // The edges of the range and integral floats are accepted as the integers they are.
  const auto r = protocol::parse_completion_request(
      protocol::parse_request_json(R"({"prompt": "a", "max_tokens": 5.0, "seed": -9223372036854775808})"), false, 512);
  EXPECT_EQ(r.gen.max_tokens, 5);
  EXPECT_EQ(r.gen.sampling.seed, uint64_t(1) << 63);
  EXPECT_FALSE(completion_error(R"({"prompt": "a", "seed": 9223372036854775807})"));
  EXPECT_EQ(protocol::exact_int64(json::parse("9223372036854774784.0")), int64_t(9223372036854774784));
  EXPECT_FALSE(protocol::exact_int64(json::parse("9223372036854775808.0")));
  EXPECT_FALSE(protocol::exact_int64(json("7")));
}

TEST(ServeRequestNumbers, VerifyIntegersMustBeExactAndInRange) {
  for (const char* text : {
           R"({"tokens": [18446744073709551615]})",
           R"({"tokens": [1], "seed": 1180591620717411303424})",
           R"({"tokens": [1], "session": "s", "n_past": 1e300})",
           R"({"tokens": [1], "logprobs": 1e300})",
           R"({"tokens": [1], "draft": [3], "temperature": 1, "draft_probs": [[[18446744073709551615, 0.5], [3, 0.5]]]})",
           R"({"tokens": [1], "draft": [3], "temperature": 1, "draft_probs": [[[3, 1e300]]]})",
       }) {
    const auto e = verify_error(text);
    ASSERT_TRUE(e) << text;
    EXPECT_EQ(e->status, 400) << text;
    EXPECT_FALSE(e->param.empty()) << text;
  }
  EXPECT_FALSE(verify_error(R"({"tokens": [1], "draft": [3], "temperature": 1, "draft_probs": [[[3, 1.0]]]})"));
}

TEST(EdgeRequestNumbers, DeviceStateAndTimelineNumbersAreBounded) {
  EXPECT_THROW(edge::device_state_from_json(json::parse(R"({"free_mem_mb": 1e300})")), Error);
  EXPECT_THROW(edge::device_state_from_json(json::parse(R"({"battery": 1e300})")), Error);
  EXPECT_EQ(*edge::device_state_from_json(json::parse(R"({"free_mem_mb": 2048.5})")).free_mem_mb, 2048);
  EXPECT_THROW(edge::Timeline::parse(R"([{"at_ms": 1e300, "battery": 50}])"), Error);
  EXPECT_THROW(edge::Timeline::parse(R"([{"at_ms": 1e309}])"), Error);  // not JSON to nlohmann
  EXPECT_EQ(edge::Timeline::parse(R"([{"at_ms": 1000, "battery": 50}])").size(), 1u);
  // A report's bucket or time span of 400 digits is out of range, not an exception of another kind.
  EXPECT_THROW(ledger::parse_duration_ms(std::string(400, '9') + "ms"), Error);
  EXPECT_THROW(ledger::parse_time(std::string(400, '9') + "h", 0), Error);
}

TEST(EdgeRequestNumbers, ExtensionsNameTheirField) {
  json body = json::parse(R"({"prompt": "a", "tandem": {"route": "CLOUD", "keep_local": true}})");
  const edge::Extensions x = edge::take_extensions(body, {});
  EXPECT_EQ(x.route, "cloud");
  EXPECT_TRUE(x.keep_local);
  EXPECT_FALSE(body.contains("tandem"));
  for (const char* text : {R"({"tandem": {"route": 1e300}})", R"({"tandem": 5})", R"({"tandem": {"privacy": "lax"}})"}) {
    json b = json::parse(text);
    try {
      edge::take_extensions(b, {});
      ADD_FAILURE() << text;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status, 400);
      EXPECT_EQ(e.param.rfind("tandem", 0), 0u) << text;
    }
  }
  edge::Extensions headers;
  headers.route = "warp";  // an x-tandem-route header
  json empty = json::object();
  EXPECT_THROW(edge::take_extensions(empty, headers), ApiError);
}

// Over HTTP: each bad number is a 400 naming its field, and the server keeps answering.
TEST(ServeRequestNumbers, HttpAnswers400AndKeepsServing) {
  test::ServeFixture s("stories260K-f32.gguf");
  const std::pair<const char*, std::string> cases[] = {
      {"/v1/completions", R"({"prompt": "a", "temperature": 1e309})"},
      {"/v1/completions", R"({"prompt": "a", "max_tokens": 1e300})"},
      {"/v1/completions", R"({"prompt": "a", "seed": 1180591620717411303424})"},
      {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "max_completion_tokens": 1e300})"},
      {"/v1/verify", R"({"tokens": [1], "draft": [3], "temperature": 1, "draft_probs": [[[3, 1e309]]]})"},
  };
  for (const auto& [path, body] : cases) {
    const test::HttpResult r = s.post_raw(path, body);
    EXPECT_EQ(r.status, 400) << path << " " << body << ": " << r.text;
    EXPECT_TRUE(r.body.is_object() && r.body["error"]["param"].is_string()) << r.text;
  }
  const test::HttpResult ok = s.post("/v1/completions", json{{"prompt", "Once"}, {"max_tokens", 2}});
  EXPECT_EQ(ok.status, 200) << ok.text;
}

TEST(EdgeRequestNumbers, HttpAnswers400AndKeepsServing) {
  test::GatewayFixture edge(test::edge_test_config("stories260K-f32.gguf"));
  auto c = edge.client();
  const std::pair<const char*, std::string> cases[] = {
      {"/v1/completions", R"({"prompt": "a", "temperature": 1e309})"},
      {"/v1/completions", R"({"prompt": "a", "seed": 1180591620717411303424})"},
      {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 1e300})"},
  };
  for (const auto& [path, body] : cases) {
    const auto r = c.Post(path, body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << path << " " << body << ": " << r->body;
    const json j = json::parse(r->body, nullptr, false);
    EXPECT_TRUE(j.is_object() && j["error"]["param"].is_string()) << r->body;
  }
  const auto put = c.Put("/v1/device", R"({"free_mem_mb": 1e300})", "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 400) << put->body;
  const auto put_big = c.Put("/v1/device", R"({"battery": 1e309})", "application/json");
  ASSERT_TRUE(put_big);
  EXPECT_EQ(put_big->status, 400) << put_big->body;
  const auto report = c.Get("/v1/report?bucket=" + std::string(400, '9') + "ms");
  ASSERT_TRUE(report);
  EXPECT_NE(report->status, 500) << report->body;
  const auto ok = c.Post("/v1/completions", R"({"prompt": "Once", "max_tokens": 2, "tandem": {"route": "local"}})",
                         "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}
