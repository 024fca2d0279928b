// A client for any OpenAI-compatible server (tandem serve, a LAN peer, a hosted API) over
// httplib: it always streams (stream: true, include_usage), so that text reaches the app as it
// comes and a failure mid-answer leaves an exact prefix the device can continue from. Every
// failure is classified (connection, timeout, 4xx, 5xx, 429 with Retry-After).
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "edge/config.h"
#include "edge/connectivity.h"

namespace tandem::edge {

// Splits a Server-Sent Events byte stream into the payloads of its "data:" fields.
class SseParser {
 public:
  // Feeds bytes; calls on_data(payload) for each complete event (false from on_data stops).
  bool feed(std::string_view bytes, const std::function<bool(const std::string&)>& on_data);

 private:
  std::string buf_;
};

struct CloudCall {
  const EndpointConfig* endpoint = nullptr;
  std::string api_key;
  bool chat = false;
  nlohmann::json body;  // the OpenAI request; model, stream and stream_options are set here
  // Top-level fields sent as this JSON text instead of body's (which would sort its keys): the
  // output's structure in the order the app wrote it (edge/outbound.h written_structure).
  std::map<std::string, std::string> written_fields;
  int connect_timeout_ms = 2000;
  // Text deltas as they arrive; return false when the app went away (the call is abandoned).
  std::function<bool(const std::string&)> on_text;
  // Each chunk's logprobs object (OpenAI's shape), before its text; unset: ignored.
  std::function<void(const nlohmann::json&)> on_logprobs;
};

struct CloudResult {
  Failure failure = Failure::None;
  int http_status = 0;
  std::optional<int64_t> retry_after_ms;
  std::string error_message;   // the server's error message, or what went wrong
  std::string text;            // every delta passed to on_text
  std::string finish_reason;   // set when the answer completed
  int64_t content_chunks = 0;  // chunks that carried text (≈ tokens for tandem serve)
  std::optional<int64_t> prompt_tokens, completion_tokens, cached_tokens;  // from the usage chunk
  std::optional<double> headers_ms;  // arrival of the response's headers (an RTT sample)
  std::optional<double> ttft_ms;     // first text
  bool cancelled = false;            // on_text returned false
  bool request_sent = false;         // a connection was made (request bytes may have left)
  bool completed() const { return failure == Failure::None && !cancelled; }
};

CloudResult call_cloud(const CloudCall& call);

// GET /v1/models: the first model's object, or null (with *error set) when unreachable.
nlohmann::json fetch_model_info(const EndpointConfig& ep, const std::string& api_key, int timeout_ms,
                                std::string* error);

// The endpoint's API key from its environment variable ("" when none is configured or set).
std::string endpoint_api_key(const EndpointConfig& ep);

}  // namespace tandem::edge
