// Helpers for the tandem serve tests: an in-process server on an ephemeral loopback port, JSON
// requests over httplib::Client, Server-Sent Events parsing, and tandem run's greedy output.
#pragma once
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "serve/server.h"
#include "test_util.h"

namespace tandem::test {

using nlohmann::json;

struct HttpResult {
  int status = 0;  // 0: no response
  json body;       // parsed JSON (null when the body is not JSON)
  std::string text;
  std::string retry_after;
};

class ServeFixture {
 public:
  ServeFixture(const std::string& model_file, const std::function<void(serve::ServerConfig&)>& tweak = {}) {
    serve::ServerConfig cfg;
    cfg.model_path = model_path(model_file);
    cfg.port = 0;
    cfg.sched.n_parallel = 4;
    cfg.sched.n_threads = 1;
    if (tweak) tweak(cfg);
    server = std::make_unique<serve::Server>(cfg);
    port = server->start();
  }
  ~ServeFixture() { server->stop(); }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(120);
    c.set_write_timeout(60);
    return c;
  }

  HttpResult post(const std::string& path, const json& body, const std::string& key = "") const {
    return post_raw(path, body.dump(), key);
  }
  HttpResult post_raw(const std::string& path, const std::string& body, const std::string& key = "") const {
    auto c = client();
    httplib::Headers h;
    if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
    return wrap(c.Post(path.c_str(), h, body, "application/json"));
  }
  HttpResult get(const std::string& path, const std::string& key = "") const {
    auto c = client();
    httplib::Headers h;
    if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
    return wrap(c.Get(path.c_str(), h));
  }
  HttpResult del(const std::string& path, const std::string& key = "") const {
    auto c = client();
    httplib::Headers h;
    if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
    return wrap(c.Delete(path.c_str(), h));
  }

  // A metric's value from /metrics (a sample line "NAME VALUE"), -1 when absent.
  double metric(const std::string& name) const {
    const std::string t = get("/metrics").text;
    const std::string key = name + " ";
    for (size_t at = t.find(key); at != std::string::npos; at = t.find(key, at + 1))
      if (at == 0 || t[at - 1] == '\n') return std::stod(t.substr(at + key.size()));
    return -1;
  }

  static HttpResult wrap(const httplib::Result& r) {
    HttpResult out;
    if (!r) return out;
    out.status = r->status;
    out.text = r->body;
    out.retry_after = r->get_header_value("Retry-After");
    out.body = json::parse(r->body, nullptr, false);
    if (out.body.is_discarded()) out.body = nullptr;
    return out;
  }

  std::unique_ptr<serve::Server> server;
  int port = 0;
};

// The JSON payloads of a Server-Sent Events body ("data: X" lines); "[DONE]" stays a string.
inline std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    const std::string ev = body.substr(pos, end - pos);
    if (ev.rfind("data: ", 0) == 0) out.push_back(ev.substr(6));
    pos = end + 2;
  }
  return out;
}

// `tandem run --temp 0 --json` on a shared model: its tokens and text.
inline json tandem_run_greedy(const std::string& model_file, const std::string& prompt, int n) {
  std::string out;
  const std::string cmd = tandem_binary() + " run -q --json -t 1 --temp 0 -n " + std::to_string(n) + " -m " +
                          model_path(model_file) + " -p '" + prompt + "'";
  EXPECT_EQ(run_command(cmd, &out), 0) << out;
  return json::parse(out);
}

}  // namespace tandem::test
