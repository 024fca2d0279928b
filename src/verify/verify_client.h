// The HTTP side of the device's speculative decoding: one connection to a `tandem serve`
// (or anything speaking docs/verify-protocol.md) — GET /v1/models for the target's vocabulary
// fingerprint and limits, GET /health for the round trip, POST /v1/verify, DELETE of a session.
// Each call is one attempt: it reports what happened (answer, 409 and why, transport failure,
// timeout) with its wall time and bytes, and the caller (SpeculativeSession) decides whether to
// retry, resend the context, or give up. One call at a time; any thread may make it.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/client_tls.h"
#include "protocol/generation.h"
#include "protocol/rejection.h"
#include "protocol/verify_wire.h"

namespace httplib {
class Client;
}

namespace tandem::verify {

using protocol::SparseDist;

struct ClientConfig {
  std::string url;           // http://host:port[/prefix] or https://...
  std::string api_key;       // sent as "Authorization: Bearer KEY" when set
  double connect_timeout_s = 5;
  double read_timeout_s = 30;  // a verify answer slower than this counts as a timeout
  double write_timeout_s = 10;
  http::TlsClientConfig tls;  // https: the CAs trusted (else the system's), a client certificate
};

// What the server says about its model (GET /v1/models, first entry).
struct ServerModel {
  std::string id;
  int32_t n_vocab = 0;
  int32_t context_length = 0;  // positions per session
  int32_t max_draft = 0;       // most draft tokens per call
  std::string vocab_fingerprint;
};

// One POST /v1/verify: the wire format's request (protocol/verify_wire.h). A session that
// exists has `session` and the hash of its n_past tokens; sampling sends `sampling` with
// seed_given and one draft_probs entry per draft token.
using VerifyCall = protocol::VerifyRequest;

struct VerifyReply {
  enum class Kind {
    Ok,
    SessionUnknown,  // 409 session_unknown: the server lost (or never had) the session
    SessionStale,    // 409 session_stale: server_n_past / server_past_hash say what it holds
    Busy,            // 409 session_busy: an earlier attempt of this call is still running there
    Retry,           // 429 / 5xx: try again later (retry_after_s when the server said)
    Transport,       // no HTTP answer: refused, reset, or timed out (timed_out)
    Fatal,           // any other answer: a request the server will never accept
  };
  Kind kind = Kind::Transport;
  int status = 0;
  std::string message;  // the server's error message or the transport error
  bool timed_out = false;
  double retry_after_s = 0;
  // Ok:
  std::string session;
  int32_t accepted = 0;
  int32_t token = -1;
  int64_t n_past = 0;
  std::string past_hash;
  std::vector<protocol::TokenLogprob> logprobs;  // when asked: accepted + 1 entries, else empty
  // SessionStale / SessionUnknown: what the server holds (0 tokens when unknown).
  int64_t server_n_past = 0;
  std::string server_past_hash;
  // Every attempt:
  double wall_ms = 0;
  uint64_t bytes_sent = 0, bytes_received = 0;  // request and answer: start line, headers, body
};

const char* kind_name(VerifyReply::Kind k);

class VerifyClient {
 public:
  explicit VerifyClient(ClientConfig cfg);  // throws Error on a malformed URL
  ~VerifyClient();
  VerifyClient(const VerifyClient&) = delete;
  VerifyClient& operator=(const VerifyClient&) = delete;

  // GET /v1/models. Without an answer (or with 429 / 5xx) returns nothing and says why;
  // throws Error for an answer that will not change by retrying (401, a malformed model).
  std::optional<ServerModel> fetch_model(std::string* why);
  // GET /health: milliseconds for the round trip, or a negative value when it failed.
  double ping();
  VerifyReply verify(const VerifyCall& call);
  // DELETE /v1/verify/{session}; errors are ignored (the server expires sessions anyway).
  void end_session(const std::string& session);
  // Drops the kept-alive connection: the next call opens a new one.
  void reconnect();

  const ClientConfig& config() const { return cfg_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t bytes_received() const { return bytes_received_; }

 private:
  void make_client();

  ClientConfig cfg_;
  std::string origin_;  // scheme://host:port
  std::string prefix_;  // path prefix, "" or "/api"
  std::unique_ptr<httplib::Client> http_;
  uint64_t last_sent_ = 0, last_received_ = 0;  // filled by the client's logger per request
  uint64_t bytes_sent_ = 0, bytes_received_ = 0;
};

}  // namespace tandem::verify
