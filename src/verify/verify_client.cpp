#include "verify/verify_client.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "format/error.h"
#include "protocol/openai.h"
#include "protocol/token_hash.h"
#include "protocol/verify_wire.h"

namespace tandem::verify {

using nlohmann::json;

namespace {

// An integer field of an answer, range-checked before it is narrowed (converting a float beyond
// the range is undefined); anything else makes the answer malformed.
int64_t int_at(const json& o, const char* key, int64_t lo = INT32_MIN, int64_t hi = INT32_MAX) {
  const std::optional<int64_t> v = protocol::exact_int64(o.at(key));
  if (!v || *v < lo || *v > hi) throw std::invalid_argument(std::string("'") + key + "' is not an integer in range");
  return *v;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Bytes of a header block as written on the wire: "Name: value\r\n" each, then "\r\n".
uint64_t header_bytes(const httplib::Headers& h) {
  uint64_t n = 2;
  for (const auto& [k, v] : h) n += k.size() + v.size() + 4;
  return n;
}

void set_timeout(httplib::Client& c, void (httplib::Client::*set)(time_t, time_t), double seconds) {
  const double s = std::max(seconds, 0.001);
  (c.*set)(time_t(s), time_t(std::fmod(s, 1.0) * 1e6));
}

// The error message of an OpenAI-style error body, or the body itself.
std::string error_message(const json& body, const std::string& text) {
  if (body.is_object() && body.contains("error") && body["error"].is_object() && body["error"].contains("message") &&
      body["error"]["message"].is_string())
    return body["error"]["message"].get<std::string>();
  return text.substr(0, 200);
}

}  // namespace

const char* kind_name(VerifyReply::Kind k) {
  switch (k) {
    case VerifyReply::Kind::Ok: return "ok";
    case VerifyReply::Kind::SessionUnknown: return "session_unknown";
    case VerifyReply::Kind::SessionStale: return "session_stale";
    case VerifyReply::Kind::Busy: return "session_busy";
    case VerifyReply::Kind::Retry: return "retry";
    case VerifyReply::Kind::Transport: return "transport";
    case VerifyReply::Kind::Fatal: return "fatal";
  }
  return "?";
}

VerifyClient::VerifyClient(ClientConfig cfg) : cfg_(std::move(cfg)) {
  // scheme://host[:port][/prefix]; httplib takes the origin, the prefix goes before each path.
  const std::string& u = cfg_.url;
  const size_t scheme_end = u.find("://");
  if (scheme_end == std::string::npos || (u.compare(0, scheme_end, "http") != 0 && u.compare(0, scheme_end, "https") != 0))
    throw Error("the verify URL '" + u + "' must start with http:// or https://");
  const size_t path_at = u.find('/', scheme_end + 3);
  origin_ = u.substr(0, path_at);
  if (origin_.size() == scheme_end + 3) throw Error("the verify URL '" + u + "' has no host");
  if (path_at != std::string::npos) {
    prefix_ = u.substr(path_at);
    while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  }
  make_client();
}

VerifyClient::~VerifyClient() = default;

void VerifyClient::make_client() {
  http_ = http::make_http_client(origin_, cfg_.tls);
  http_->set_keep_alive(true);  // one connection for the whole generation: no handshake per round
  http_->set_tcp_nodelay(true);  // a call is small and waited for: never hold it back (Nagle)
  set_timeout(*http_, &httplib::Client::set_connection_timeout, cfg_.connect_timeout_s);
  set_timeout(*http_, &httplib::Client::set_read_timeout, cfg_.read_timeout_s);
  set_timeout(*http_, &httplib::Client::set_write_timeout, cfg_.write_timeout_s);
  if (!cfg_.api_key.empty()) http_->set_bearer_token_auth(cfg_.api_key.c_str());
  http_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    last_sent_ = req.method.size() + req.path.size() + 11 + header_bytes(req.headers) + req.body.size();
    last_received_ = 9 + 4 + res.reason.size() + 2 + header_bytes(res.headers) + res.body.size();
  });
}

void VerifyClient::reconnect() { make_client(); }

std::optional<ServerModel> VerifyClient::fetch_model(std::string* why) {
  http::clear_tls_errors();
  auto r = http_->Get(prefix_ + "/v1/models");
  if (!r) {
    if (why) *why = http::describe_http_error(*http_, r.error(), origin_, cfg_.tls);
    return std::nullopt;
  }
  const json body = json::parse(r->body, nullptr, false);
  if (r->status == 429 || r->status >= 500) {
    if (why) *why = "HTTP " + std::to_string(r->status) + ": " + error_message(body, r->body);
    return std::nullopt;
  }
  if (r->status == 401) throw Error("the verify server at " + cfg_.url + " refused the API key");
  if (r->status != 200)
    throw Error("GET /v1/models at " + cfg_.url + " answered " + std::to_string(r->status) + ": " +
                error_message(body, r->body));
  try {
    const json& m = body.at("data").at(0);
    ServerModel s;
    s.id = m.at("id").get<std::string>();
    s.n_vocab = int32_t(int_at(m, "n_vocab"));
    s.context_length = int32_t(int_at(m, "context_length"));
    s.max_draft = int32_t(int_at(m, "max_draft"));
    s.vocab_fingerprint = m.at("vocab_fingerprint").get<std::string>();
    return s;
  } catch (const std::exception&) {
    throw Error("GET /v1/models at " + cfg_.url +
                " did not describe a verify-capable model (n_vocab, context_length, max_draft, vocab_fingerprint)");
  }
}

double VerifyClient::ping() {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = http_->Get(prefix_ + "/health");
  if (!r) return -1;
  return ms_since(t0);
}

void VerifyClient::end_session(const std::string& session) {
  if (session.empty()) return;
  http_->Delete(prefix_ + "/v1/verify/" + session);
}

VerifyReply VerifyClient::verify(const VerifyCall& call) {
  VerifyReply out;
  const std::string body = protocol::verify_request_json(call).dump();
  last_sent_ = last_received_ = 0;
  const auto t0 = std::chrono::steady_clock::now();
  http::clear_tls_errors();
  auto r = http_->Post(prefix_ + "/v1/verify", body, "application/json");
  out.wall_ms = ms_since(t0);
  // Without an answer the logger did not run: count the body and our headers at least.
  out.bytes_sent = last_sent_ ? last_sent_ : body.size() + 160;
  out.bytes_received = last_received_;
  bytes_sent_ += out.bytes_sent;
  bytes_received_ += out.bytes_received;
  if (!r) {
    out.kind = VerifyReply::Kind::Transport;
    out.message = http::describe_http_error(*http_, r.error(), origin_, cfg_.tls);
    out.timed_out = r.error() == httplib::Error::ConnectionTimeout ||
                    (r.error() == httplib::Error::Read && out.wall_ms >= 900 * cfg_.read_timeout_s);
    return out;
  }
  out.status = r->status;
  const json j = json::parse(r->body, nullptr, false);
  if (r->status == 200) {
    try {
      protocol::VerifyVerdict v = protocol::parse_verify_answer(j);
      out.session = std::move(v.session);
      out.accepted = v.accepted;
      out.token = v.token;
      out.n_past = v.n_past;
      out.past_hash = std::move(v.past_hash);
      if (call.top_logprobs >= 0) out.logprobs = std::move(v.logprobs);
      out.kind = out.accepted >= 0 && size_t(out.accepted) <= call.draft.size() && out.token >= 0
                     ? VerifyReply::Kind::Ok
                     : VerifyReply::Kind::Fatal;
      if (out.kind == VerifyReply::Kind::Fatal) out.message = "the verify answer is out of range: " + r->body.substr(0, 200);
    } catch (const std::exception&) {
      out.kind = VerifyReply::Kind::Fatal;
      out.message = "malformed verify answer: " + r->body.substr(0, 200);
    }
    return out;
  }
  out.message = error_message(j, r->body);
  if (r->status == 409) {
    const protocol::VerifyConflict c = protocol::parse_verify_conflict(j);
    out.kind = c.code == "session_busy"    ? VerifyReply::Kind::Busy
               : c.code == "session_stale" ? VerifyReply::Kind::SessionStale
                                           : VerifyReply::Kind::SessionUnknown;
    out.server_n_past = c.n_past;
    out.server_past_hash = c.past_hash;
    return out;
  }
  if (r->status == 429 || r->status >= 500) {
    out.kind = VerifyReply::Kind::Retry;
    const std::string ra = r->get_header_value("Retry-After");
    if (!ra.empty()) out.retry_after_s = std::atof(ra.c_str());
    return out;
  }
  out.kind = VerifyReply::Kind::Fatal;
  return out;
}

}  // namespace tandem::verify
