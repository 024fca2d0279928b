// What every tandem HTTP server (tandem serve, tandem edge) answers with, built on httplib:
// JSON replies and OpenAI error objects, the API key a request carries, the error handler for
// unknown routes and httplib's own errors, handlers counted while they run, and one writer of
// Server-Sent Events as OpenAI streams them.
#pragma once
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <string>

#include "protocol/openai.h"

namespace tandem::http {

// A JSON response; an OpenAI error object ("Retry-After: 1" with 429 and 503).
void send_json(httplib::Response& res, int status, const nlohmann::json& j);
void send_error(httplib::Response& res, const protocol::ApiError& e);

// The API key a request carries: "Authorization: Bearer KEY", else "x-api-key: KEY"; "" if none.
std::string request_api_key(const httplib::Request& req);

// For set_error_handler: unknown routes (404) and httplib's own errors (400 on bad HTTP, 413)
// get an error object too, unless a handler already wrote a body.
void answer_http_error(const httplib::Request& req, httplib::Response& res);

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
// `fn`, counted in `inflight` while it runs: a server waits for its handlers before it stops.
Handler counted(std::atomic<int>& inflight, Handler fn);

// One event stream as OpenAI sends it: "data: {json}\n\n" per event, then "data: [DONE]\n\n".
class SseWriter {
 public:
  explicit SseWriter(httplib::DataSink& sink) : sink_(sink) {}
  // False when the client went away.
  bool send(const nlohmann::json& event);
  // [DONE], and the end of the response.
  bool done();
  bool writable() const { return sink_.is_writable(); }

 private:
  httplib::DataSink& sink_;
};

// Makes `res` an event stream (no caching, no proxy buffering). `step` is called again while it
// returns true and the stream is not done (returning false drops the connection); `on_end` runs
// once the response is over, whether it finished or the client went away.
void stream_events(httplib::Response& res, std::function<bool(SseWriter&)> step, std::function<void(bool)> on_end);

}  // namespace tandem::http
