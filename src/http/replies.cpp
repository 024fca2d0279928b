#include "http/replies.h"

namespace tandem::http {

using nlohmann::json;
using protocol::ApiError;

void send_json(httplib::Response& res, int status, const json& j) {
  res.status = status;
  res.set_content(protocol::dump(j), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) {
  if (e.status == 429 || e.status == 503) res.set_header("Retry-After", "1");
  send_json(res, e.status, error_json(e));
}

std::string request_api_key(const httplib::Request& req) {
  const std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) == 0) return auth.substr(7);
  return req.get_header_value("x-api-key");
}

void answer_http_error(const httplib::Request& req, httplib::Response& res) {
  if (!res.body.empty()) return;
  const int st = res.status;
  send_error(res, ApiError(st, st == 404   ? "no route for " + req.method + " " + req.path
                               : st == 413 ? "the request body is too large"
                                           : "bad request (HTTP " + std::to_string(st) + ")",
                           "", st == 404 ? "not_found" : ""));
  res.status = st;
}

Handler counted(std::atomic<int>& inflight, Handler fn) {
  return [&inflight, fn = std::move(fn)](const httplib::Request& req, httplib::Response& res) {
    ++inflight;
    struct Done {
      std::atomic<int>& n;
      ~Done() { --n; }
    } done{inflight};
    fn(req, res);
  };
}

bool SseWriter::send(const json& event) {
  const std::string line = "data: " + protocol::dump(event) + "\n\n";
  return sink_.write(line.data(), line.size());
}

bool SseWriter::done() {
  static const std::string kDone = "data: [DONE]\n\n";
  const bool ok = sink_.write(kDone.data(), kDone.size());
  sink_.done();
  return ok;
}

void stream_events(httplib::Response& res, std::function<bool(SseWriter&)> step, std::function<void(bool)> on_end) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [step = std::move(step)](size_t, httplib::DataSink& sink) {
        SseWriter w(sink);
        return step(w);
      },
      std::move(on_end));
}

}  // namespace tandem::http
