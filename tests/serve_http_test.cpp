// tandem serve's connections under slow, idle, oversized and pipelined clients (raw loopback
// sockets against the real server): slow clients do not starve /health or completions, the
// connection cap answers 503 at once, an oversized body is refused from its Content-Length, a
// request head that does not arrive in time gets 408, and pipelined or split requests work.
#include <gtest/gtest.h>

#include "http_test_util.h"
#include "serve_test_util.h"

using namespace tandem;
using namespace tandem::test;
using namespace std::chrono_literals;

namespace {

const char* kModel = "stories260K-f32.gguf";

// Waits (bounded) until the server holds at least `n` connections.
bool wait_for_connections(const serve::Server& s, int n) {
  for (int i = 0; i < 500 && s.open_connections() < n; ++i) std::this_thread::sleep_for(10ms);
  return s.open_connections() >= n;
}

std::string completion_body(int max_tokens) {
  return json{{"prompt", "Once upon a time"}, {"max_tokens", max_tokens}, {"temperature", 0}}.dump();
}

}  // namespace

TEST(ServeHttp, SlowClientsDoNotStarveHealthOrCompletions) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  ServeFixture f(kModel);
  SlowCrowd crowd(f.port, 200, 200ms);
  ASSERT_EQ(crowd.connected(), 200);
  ASSERT_TRUE(wait_for_connections(*f.server, 200)) << f.server->open_connections();
  // While the crowd keeps trickling header lines.
  expect_answers_within_a_second([&] { return f.get("/health").status == 200; },
                                 [&] { return f.post_raw("/v1/completions", completion_body(4)).status == 200; },
                                 [&] { return f.server->open_connections(); });
}

TEST(ServeHttp, ConnectionCapAnswers503AtOnce) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  ServeFixture f(kModel, [](serve::ServerConfig& c) { c.max_connections = 8; });
  {
    std::vector<RawConn> idle;
    for (int i = 0; i < 8; ++i) idle.emplace_back(f.port);
    ASSERT_TRUE(wait_for_connections(*f.server, 8));
    RawConn extra(f.port);
    ASSERT_TRUE(extra.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    bool closed = false;
    const std::string r = extra.read_all(5s, &closed);
    EXPECT_EQ(RawConn::status_of(r), 503) << r;
    EXPECT_NE(r.find("Retry-After: 1"), std::string::npos) << r;
    EXPECT_NE(r.find("too_many_connections"), std::string::npos) << r;
    EXPECT_TRUE(closed);
  }
  // Once the idle ones have gone, the server answers again.
  for (int i = 0; i < 500 && f.server->open_connections() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(f.get("/health").status, 200);
}

TEST(ServeHttp, OversizedBodyIsRefusedFromItsContentLength) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  ServeFixture f(kModel);
  RawConn c(f.port);
  // The head alone: the answer cannot wait for a body that is never sent.
  ASSERT_TRUE(c.send("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: 100000000\r\n\r\n{\"prompt\":"));
  bool closed = false;
  const std::string r = c.read_all(5s, &closed);
  EXPECT_EQ(RawConn::status_of(r), 413) << r;
  EXPECT_NE(r.find("\"code\":\"request_too_large\""), std::string::npos) << r;
  EXPECT_TRUE(closed);
  // Malformed framing is refused the same way.
  RawConn bad(f.port);
  ASSERT_TRUE(bad.send("POST /v1/completions HTTP/1.1\r\nContent-Length: 12x\r\n\r\n"));
  EXPECT_EQ(RawConn::status_of(bad.read_all(5s)), 400);
  EXPECT_EQ(f.get("/health").status, 200);
}

TEST(ServeHttp, RequestHeadThatDoesNotArriveInTimeGets408) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  ServeFixture f(kModel, [](serve::ServerConfig& c) { c.request_timeout = 1000ms; });
  RawConn partial(f.port), idle(f.port);
  ASSERT_TRUE(partial.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  bool closed = false;
  std::string r = partial.read_all(5s, &closed);
  EXPECT_EQ(RawConn::status_of(r), 408) << r;
  EXPECT_TRUE(closed);
  // A connection that never sent anything is closed without a word.
  r = idle.read_all(5s, &closed);
  EXPECT_EQ(r, "");
  EXPECT_TRUE(closed);
  // Sending a header line now and then does not extend the deadline.
  RawConn trickle(f.port);
  ASSERT_TRUE(trickle.send("GET /health HTTP/1.1\r\n"));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 40 && trickle.send("X-A: b\r\n"); ++i) std::this_thread::sleep_for(100ms);
  r = trickle.read_all(5s, &closed);
  EXPECT_EQ(RawConn::status_of(r), 408) << r;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4500ms);
}

TEST(ServeHttp, PipelinedAndSplitRequestsOnOneConnection) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  ServeFixture f(kModel);
  {
    RawConn c(f.port);
    ASSERT_TRUE(c.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    bool closed = false;
    const std::string r = c.read_all(10s, &closed);
    EXPECT_EQ(RawConn::status_of(r), 200) << r;
    EXPECT_NE(r.find("\"status\":\"ok\""), std::string::npos) << r;
    EXPECT_NE(r.find("\"object\":\"list\""), std::string::npos) << r;  // the second answer
    EXPECT_TRUE(closed);
  }
  // A small body sent in parts after its head, then a large one (read by a worker).
  const std::string small = completion_body(3);
  const std::string large = json{{"prompt", std::string(70000, 'a')}, {"max_tokens", 2}}.dump();
  for (const std::string* body : {&small, &large}) {
    RawConn c(f.port);
    ASSERT_TRUE(c.send("POST /v1/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nConnection: close\r\n"
                       "Content-Length: " + std::to_string(body->size()) + "\r\n\r\n"));
    const size_t half = body->size() / 2;
    std::this_thread::sleep_for(200ms);
    ASSERT_TRUE(c.send(body->substr(0, half)));
    std::this_thread::sleep_for(200ms);
    ASSERT_TRUE(c.send(body->substr(half)));
    const std::string r = c.read_all(30s);
    if (body == &small) {
      EXPECT_EQ(RawConn::status_of(r), 200) << r;
      EXPECT_NE(r.find("\"object\":\"text_completion\""), std::string::npos) << r;
    } else {  // all of it was read: the prompt is too long for the context, not the body too large
      EXPECT_EQ(RawConn::status_of(r), 400) << r.substr(0, 300);
      EXPECT_NE(r.find("context_length_exceeded"), std::string::npos) << r.substr(0, 300);
    }
  }
}

TEST(ServeHttp, ChunkedBodiesWorkAndAmbiguousFramingIsRefused) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  ServeFixture f(kModel);
  const std::string body = completion_body(2);
  const size_t half = body.size() / 2;
  auto hex = [](size_t n) {
    char b[32];
    std::snprintf(b, sizeof b, "%zx", n);
    return std::string(b);
  };
  {
    RawConn c(f.port);
    ASSERT_TRUE(c.send("POST /v1/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n" + hex(half) + "\r\n" + body.substr(0, half) + "\r\n"));
    std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(c.send(hex(body.size() - half) + "\r\n" + body.substr(half) + "\r\n0\r\n\r\n"));
    bool closed = false;
    const std::string r = c.read_all(30s, &closed);
    EXPECT_EQ(RawConn::status_of(r), 200) << r;
    EXPECT_NE(r.find("\"object\":\"text_completion\""), std::string::npos) << r;
    EXPECT_TRUE(closed);  // a chunked request's connection is not reused
  }
  for (const char* framing : {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "Transfer-Encoding: gzip\r\n",
                              "Content-Length: 5\r\nContent-Length: 6\r\n"}) {
    RawConn c(f.port);
    ASSERT_TRUE(c.send(std::string("POST /v1/completions HTTP/1.1\r\nHost: a\r\n") + framing + "\r\nhello"));
    const std::string r = c.read_all(5s);
    EXPECT_EQ(RawConn::status_of(r), 400) << framing << r;
    EXPECT_NE(r.find("\"error\""), std::string::npos) << r;
  }
}
