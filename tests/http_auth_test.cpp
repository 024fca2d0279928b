// Which routes need a key, for tandem serve and the edge gateway: every registered route is
// walked (a route this test does not know fails it), each /v1/* route answers 401 without a key
// or with a wrong one and works with the right one, the open routes stay outside /v1/, and the
// route table in docs/http.md says the same.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "edge_test_util.h"
#include "serve_test_util.h"

using namespace tandem;
using namespace tandem::test;

namespace {

const char* kModel = "stories260K-f32.gguf";

// How the test calls a route, and its name in docs/http.md.
struct RouteCase {
  std::string method, pattern, doc;
  std::vector<std::string> paths;  // sample paths ("{session}" is filled in by the test)
  std::string body;                // for POST and PUT
};

const std::vector<RouteCase>& serve_cases() {
  static const std::vector<RouteCase> cases = {
      {"GET", "/health", "GET /health", {"/health"}, ""},
      {"GET", "/metrics", "GET /metrics", {"/metrics"}, ""},
      {"GET", "/v1/models", "GET /v1/models", {"/v1/models"}, ""},
      {"GET", R"(/v1/models/(.+))", "GET /v1/models/{id}", {"/v1/models/stories260K-f32"}, ""},
      {"POST", "/v1/completions", "POST /v1/completions", {"/v1/completions"}, R"({"prompt":"Once","max_tokens":2})"},
      {"POST", "/v1/chat/completions", "POST /v1/chat/completions", {"/v1/chat/completions"},
       R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":2})"},
      {"POST", "/v1/verify", "POST /v1/verify", {"/v1/verify"}, R"({"tokens":[1,2,3]})"},
      {"DELETE", R"(/v1/verify/(.+))", "DELETE /v1/verify/{session}", {"/v1/verify/{session}"}, ""},
  };
  return cases;
}

const std::vector<RouteCase>& edge_cases() {
  static const std::vector<RouteCase> cases = {
      {"GET", "/health", "GET /health", {"/health"}, ""},
      {"GET", "/metrics", "GET /metrics", {"/metrics"}, ""},
      {"GET", R"(/|/ui|/ui/[A-Za-z0-9._-]+)", "GET /, /ui, /ui/{file}", {"/", "/ui", "/ui/app.js"}, ""},
      {"GET", "/v1/report", "GET /v1/report", {"/v1/report"}, ""},
      {"GET", "/v1/device", "GET /v1/device", {"/v1/device"}, ""},
      {"PUT", "/v1/device", "PUT /v1/device", {"/v1/device"}, R"({"online":true})"},
      {"GET", "/v1/models", "GET /v1/models", {"/v1/models"}, ""},
      {"POST", "/v1/completions", "POST /v1/completions", {"/v1/completions"}, R"({"prompt":"Once","max_tokens":2})"},
      {"POST", "/v1/chat/completions", "POST /v1/chat/completions", {"/v1/chat/completions"},
       R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":2})"},
  };
  return cases;
}

HttpResult call(int port, const std::string& method, const std::string& path, const std::string& body,
                const std::string& key) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60);
  httplib::Headers h;
  if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
  if (method == "GET") return ServeFixture::wrap(c.Get(path.c_str(), h));
  if (method == "POST") return ServeFixture::wrap(c.Post(path.c_str(), h, body, "application/json"));
  if (method == "PUT") return ServeFixture::wrap(c.Put(path.c_str(), h, body, "application/json"));
  return ServeFixture::wrap(c.Delete(path.c_str(), h));
}

// Every route: a known case; Key routes refuse no key and a wrong key, and work with the right
// one; Open routes are outside /v1/ and need nothing.
void walk_routes(const std::vector<http::RouteInfo>& routes, const std::vector<RouteCase>& cases, int port,
                 const std::string& key, const std::map<std::string, std::string>& fill) {
  ASSERT_FALSE(routes.empty());
  for (const auto& r : routes) {
    const RouteCase* rc = nullptr;
    for (const auto& c : cases)
      if (c.method == r.method && c.pattern == r.pattern) rc = &c;
    ASSERT_NE(rc, nullptr) << r.method << " " << r.pattern << " is a route this test does not know: add it here and "
                           << "to the route table in docs/http.md";
    for (std::string path : rc->paths) {
      for (const auto& [from, to] : fill)
        if (const size_t at = path.find(from); at != std::string::npos) path.replace(at, from.size(), to);
      const std::string what = r.method + " " + path;
      if (r.access == http::RouteAccess::Key) {
        EXPECT_EQ(call(port, r.method, path, rc->body, "").status, 401) << what;
        EXPECT_EQ(call(port, r.method, path, rc->body, key + "x").status, 401) << what;
        const HttpResult ok = call(port, r.method, path, rc->body, key);
        EXPECT_EQ(ok.status, 200) << what << ": " << ok.text;
      } else {
        EXPECT_NE(path.rfind("/v1/", 0), 0u) << what << " is open but under /v1/";
        EXPECT_EQ(call(port, r.method, path, rc->body, "").status, 200) << what;
      }
    }
  }
}

// The rows of docs/http.md's route table for `server`: route -> "key" or "open".
std::map<std::string, std::string> documented_routes(const std::string& server) {
  std::ifstream in(source_dir() + "/docs/http.md");
  std::map<std::string, std::string> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| " + server + " |", 0) != 0) continue;
    std::vector<std::string> cells;
    for (size_t at = 1; at < line.size();) {
      const size_t end = line.find('|', at);
      if (end == std::string::npos) break;
      std::string cell = line.substr(at, end - at);
      cell.erase(0, cell.find_first_not_of(" `"));
      cell.erase(cell.find_last_not_of(" `") + 1);
      cells.push_back(cell);
      at = end + 1;
    }
    if (cells.size() >= 3) rows[cells[1]] = cells[2];
  }
  return rows;
}

void check_docs(const std::vector<http::RouteInfo>& routes, const std::vector<RouteCase>& cases,
                const std::string& server) {
  const auto rows = documented_routes(server);
  std::set<std::string> registered;
  for (const auto& r : routes)
    for (const auto& c : cases)
      if (c.method == r.method && c.pattern == r.pattern) {
        registered.insert(c.doc);
        const auto it = rows.find(c.doc);
        ASSERT_NE(it, rows.end()) << "docs/http.md has no row for " << server << " " << c.doc;
        EXPECT_EQ(it->second, r.access == http::RouteAccess::Key ? "key" : "open") << server << " " << c.doc;
      }
  for (const auto& [doc, access] : rows) EXPECT_TRUE(registered.count(doc)) << "docs/http.md lists " << server << " " << doc;
}

}  // namespace

TEST(ServeAuth, EveryV1RouteNeedsTheKeyAndTheDocsSaySo) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  ServeFixture f(kModel, [](serve::ServerConfig& c) {
    c.api_keys = {"sk-serve"};
    c.chat_template = "chatml";
  });
  const HttpResult session = call(f.port, "POST", "/v1/verify", R"({"tokens":[1,2]})", "sk-serve");
  ASSERT_EQ(session.status, 200) << session.text;
  // DELETE /v1/verify/{session} deletes the session: each call below needs a live one for 200.
  // The 401 calls leave it alone, and the authorized DELETE runs last for that path.
  walk_routes(f.server->routes(), serve_cases(), f.port, "sk-serve", {{"{session}", session.body["session"]}});
  check_docs(f.server->routes(), serve_cases(), "serve");
}

TEST(EdgeAuth, EveryV1RouteNeedsAnAppKeyAndTheDocsSaySo) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  ::setenv("TANDEM_EDGE_AUTH_TEST_KEY", "sk-app", 1);
  edge::EdgeConfig cfg = edge_test_config(kModel);
  cfg.apps = {edge::AppConfig{"app", "TANDEM_EDGE_AUTH_TEST_KEY", -1}};
  GatewayFixture f(cfg);
  walk_routes(f.gw->routes(), edge_cases(), f.port, "sk-app", {});
  check_docs(f.gw->routes(), edge_cases(), "edge");
  // Without a key, the device state cannot be changed.
  EXPECT_EQ(call(f.port, "PUT", "/v1/device", R"({"online":false})", "").status, 401);
  EXPECT_EQ(call(f.port, "GET", "/v1/device", "", "sk-app").body["online"], true);
}
