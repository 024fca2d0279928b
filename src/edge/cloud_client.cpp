#include "edge/cloud_client.h"

#include <httplib.h>

#include <chrono>
#include <cstdlib>

#include "format/error.h"
#include "http/client_tls.h"
#include "protocol/openai.h"

namespace tandem::edge {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

bool SseParser::feed(std::string_view bytes, const std::function<bool(const std::string&)>& on_data) {
  buf_.append(bytes);
  for (;;) {
    size_t end = buf_.find("\n\n");
    size_t sep = 2;
    const size_t crlf = buf_.find("\r\n\r\n");
    if (crlf != std::string::npos && (end == std::string::npos || crlf < end)) {
      end = crlf;
      sep = 4;
    }
    if (end == std::string::npos) return true;
    const std::string event = buf_.substr(0, end);
    buf_.erase(0, end + sep);
    std::string data;
    bool has_data = false;
    size_t pos = 0;
    while (pos <= event.size()) {
      size_t nl = event.find('\n', pos);
      if (nl == std::string::npos) nl = event.size();
      std::string line = event.substr(pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("data:", 0) == 0) {
        std::string v = line.substr(5);
        if (!v.empty() && v[0] == ' ') v.erase(0, 1);
        if (has_data) data += '\n';
        data += v;
        has_data = true;
      }
      pos = nl + 1;
    }
    if (has_data && !on_data(data)) return false;
  }
}

std::string endpoint_api_key(const EndpointConfig& ep) {
  if (ep.api_key_env.empty()) return "";
  const char* v = std::getenv(ep.api_key_env.c_str());
  return v ? v : "";
}

namespace {

// Splits "http://host:port/prefix" into the client's scheme-host-port and the path prefix.
void split_url(const std::string& url, std::string* origin, std::string* prefix) {
  const size_t scheme = url.find("://");
  const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  *origin = slash == std::string::npos ? url : url.substr(0, slash);
  *prefix = slash == std::string::npos ? "" : url.substr(slash);
}

// A client for the endpoint's origin (its path prefix into *prefix); nullptr with *error set
// when its TLS settings cannot be loaded.
std::unique_ptr<httplib::Client> endpoint_client(const EndpointConfig& ep, std::string* origin, std::string* prefix,
                                                 std::string* error) {
  split_url(ep.url, origin, prefix);
  try {
    return http::make_http_client(*origin, ep.tls);
  } catch (const Error& e) {
    *error = e.what();
    return nullptr;
  }
}

std::optional<int64_t> parse_retry_after(const std::string& v) {
  if (v.empty()) return std::nullopt;
  try {
    return int64_t(std::stod(v) * 1000);
  } catch (...) {
    return std::nullopt;  // an HTTP date: treated as unspecified
  }
}

// The streaming request: the call's body for the endpoint's model, streamed with its usage.
httplib::Request stream_request(const CloudCall& call, const std::string& prefix) {
  const EndpointConfig& ep = *call.endpoint;
  json body = call.body;
  if (!ep.model.empty()) body["model"] = ep.model;
  else body.erase("model");
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  for (const auto& [key, text] : call.written_fields) body.erase(key);

  httplib::Request req;
  req.method = "POST";
  req.path = prefix + (call.chat ? "/v1/chat/completions" : "/v1/completions");
  req.body = body.dump();
  // The written fields go in as their text (the body is never empty: it has stream).
  for (const auto& [key, text] : call.written_fields) {
    req.body.pop_back();  // '}'
    req.body += "," + json(key).dump() + ":" + text + "}";
  }
  req.set_header("Content-Type", "application/json");
  req.set_header("Accept", "text/event-stream");
  if (!call.api_key.empty()) req.set_header("Authorization", "Bearer " + call.api_key);
  // A gateway on the other end (a mesh peer that is itself a tandem edge) answers on its own
  // device instead of passing the request on: no loops between peers.
  req.set_header("x-tandem-hop", "1");
  return req;
}

// One call's response as it arrives: the status, then the SSE events (or an error body), into
// the CloudResult; each piece of text goes on to the caller.
class StreamReader {
 public:
  StreamReader(const CloudCall& call, CloudResult& r) : call_(call), r_(r) {}

  bool on_response(const httplib::Response& res) {
    r_.http_status = res.status;
    r_.headers_ms = ms_since(t0_);
    if (res.status == 429) r_.retry_after_ms = parse_retry_after(res.get_header_value("Retry-After"));
    return true;
  }
  bool on_bytes(const char* data, size_t n) {
    last_byte_ = Clock::now();
    if (r_.http_status != 200) {
      if (error_body_.size() < 65536) error_body_.append(data, n);
      return true;
    }
    return sse_.feed(std::string_view(data, n), [this](const std::string& event) { return on_event(event); });
  }

  bool done() const { return done_; }                  // [DONE] arrived
  bool stream_error() const { return stream_error_; }  // the server sent an error mid-stream
  const std::string& error_body() const { return error_body_; }
  double quiet_ms() const { return ms_since(last_byte_); }

 private:
  static double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  }
  bool on_event(const std::string& data) {
    if (data == "[DONE]") {
      done_ = true;
      return true;
    }
    const json j = json::parse(data, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return true;  // not ours to judge; skip
    if (j.contains("error")) {
      stream_error_ = true;
      const json& e = j["error"];
      r_.error_message = e.is_object() ? e.value("message", "error in stream") : "error in stream";
      return false;
    }
    if (j.contains("usage") && j["usage"].is_object()) read_usage(j["usage"]);
    if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) return read_choice(j["choices"][0]);
    return true;
  }
  void read_usage(const json& u) {
    // Counts that are not exact integers in range are not trusted (nor converted: that is undefined).
    const auto count = [](const json& o, const char* key) {
      return o.contains(key) ? protocol::exact_int64(o[key]) : std::nullopt;
    };
    if (const auto v = count(u, "prompt_tokens")) r_.prompt_tokens = v;
    if (const auto v = count(u, "completion_tokens")) r_.completion_tokens = v;
    if (u.contains("prompt_tokens_details") && u["prompt_tokens_details"].is_object())
      r_.cached_tokens = count(u["prompt_tokens_details"], "cached_tokens").value_or(0);
  }
  // false: the caller wants no more text.
  bool read_choice(const json& c) {
    if (call_.on_logprobs && c.is_object() && c.contains("logprobs") && c["logprobs"].is_object())
      call_.on_logprobs(c["logprobs"]);
    std::string piece;
    if (call_.chat) {
      if (c.contains("delta") && c["delta"].is_object() && c["delta"].contains("content") &&
          c["delta"]["content"].is_string())
        piece = c["delta"]["content"].get<std::string>();
    } else if (c.contains("text") && c["text"].is_string()) {
      piece = c["text"].get<std::string>();
    }
    if (!piece.empty()) {
      if (!r_.ttft_ms) r_.ttft_ms = ms_since(t0_);
      ++r_.content_chunks;
      r_.text += piece;
      if (call_.on_text && !call_.on_text(piece)) {
        r_.cancelled = true;
        return false;
      }
    }
    if (c.contains("finish_reason") && c["finish_reason"].is_string()) r_.finish_reason = c["finish_reason"];
    return true;
  }

  const CloudCall& call_;
  CloudResult& r_;
  const Clock::time_point t0_ = Clock::now();
  Clock::time_point last_byte_ = t0_;
  std::string error_body_;
  bool done_ = false, stream_error_ = false;
  SseParser sse_;
};

// An HTTP error status: its class, and the server's message (or the start of its body).
void read_http_error(CloudResult& r, const std::string& error_body) {
  r.failure = classify_status(r.http_status);
  const json e = json::parse(error_body, nullptr, false);
  r.error_message = (!e.is_discarded() && e.contains("error") && e["error"].is_object())
                        ? e["error"].value("message", "")
                        : error_body.substr(0, 200);
  if (r.error_message.empty()) r.error_message = "HTTP " + std::to_string(r.http_status);
}

}  // namespace

CloudResult call_cloud(const CloudCall& call) {
  CloudResult r;
  const EndpointConfig& ep = *call.endpoint;
  std::string origin, prefix;
  const auto client = endpoint_client(ep, &origin, &prefix, &r.error_message);
  if (!client) {
    r.failure = Failure::Connection;
    return r;
  }
  httplib::Client& cli = *client;
  cli.set_connection_timeout(std::chrono::milliseconds(call.connect_timeout_ms));
  cli.set_read_timeout(std::chrono::milliseconds(ep.timeout_ms));
  cli.set_write_timeout(std::chrono::milliseconds(ep.timeout_ms));

  httplib::Request req = stream_request(call, prefix);
  StreamReader reader(call, r);
  req.response_handler = [&](const httplib::Response& res) { return reader.on_response(res); };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) { return reader.on_bytes(data, n); };
  http::clear_tls_errors();
  auto res = cli.send(req);
  r.request_sent = r.http_status != 0 || (res ? true : !http::failed_before_sending(res.error()));
  if (r.cancelled) return r;
  if (reader.stream_error()) {
    r.failure = Failure::Http5xx;  // the server gave up mid-stream
  } else if (r.http_status != 0 && r.http_status != 200) {
    read_http_error(r, reader.error_body());
  } else if (!res || !reader.done()) {
    // No answer, or the stream ended without [DONE]: the connection failed or went quiet.
    const auto err = res ? httplib::Error::Success : res.error();
    const bool timeout = err == httplib::Error::ConnectionTimeout ||
                         (err == httplib::Error::Read && reader.quiet_ms() >= 0.9 * ep.timeout_ms);
    r.failure = timeout ? Failure::Timeout : Failure::Connection;
    r.error_message = res ? "the stream ended before [DONE]" : http::describe_http_error(cli, err, origin, ep.tls);
  }
  return r;
}

json fetch_model_info(const EndpointConfig& ep, const std::string& api_key, int timeout_ms, std::string* error) {
  std::string origin, prefix;
  const auto client = endpoint_client(ep, &origin, &prefix, error);
  if (!client) return nullptr;
  httplib::Client& cli = *client;
  const auto to = std::chrono::milliseconds(timeout_ms);
  cli.set_connection_timeout(to);
  cli.set_read_timeout(to);
  httplib::Headers h;
  if (!api_key.empty()) h.emplace("Authorization", "Bearer " + api_key);
  http::clear_tls_errors();
  auto res = cli.Get((prefix + "/v1/models").c_str(), h);
  if (!res) {
    *error = http::describe_http_error(cli, res.error(), origin, ep.tls);
    return nullptr;
  }
  if (res->status != 200) {
    *error = "HTTP " + std::to_string(res->status);
    return nullptr;
  }
  json j = json::parse(res->body, nullptr, false);
  if (j.is_discarded() || !j.contains("data") || !j["data"].is_array() || j["data"].empty()) {
    *error = "GET /v1/models answered no model";
    return nullptr;
  }
  if (!ep.model.empty())
    for (const auto& m : j["data"])
      if (m.value("id", "") == ep.model) return m;
  return j["data"][0];
}

}  // namespace tandem::edge
