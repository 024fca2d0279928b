// Internals of GuardedHttpServer (server.h) shared by its accepting, watching and working
// parts: a connection, what its request head says about the body, and socket helpers.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/server.h"

namespace tandem::http {

using HttpClock = std::chrono::steady_clock;

// How the body after a request head is delimited (RFC 9112 section 6).
struct BodyFraming {
  enum Kind { None, Length, Chunked } kind = None;
  uint64_t length = 0;       // Length
  bool expect_continue = false;  // "Expect: 100-continue": the client waits before sending it
};

// What the watcher learns from a complete head: the framing, or why it cannot be served.
struct HeadCheck {
  BodyFraming framing;
  int status = 0;  // 0: fine; else the status to answer with `message`
  std::string message;
};

// The length of the request head at the start of `in` (through its blank line), or 0 while it
// is incomplete. `scanned` is how much of `in` an earlier call looked at already.
size_t find_head_end(std::string_view in, size_t scanned);
HeadCheck check_head(std::string_view head, size_t max_body_bytes);

struct GuardedHttpServer::Conn {
  int fd = -1;
  SSL* ssl = nullptr;   // HTTPS: the connection's TLS state once its handshake ran
  std::string in;       // received and not yet consumed (a head, the start of a body, more)
  size_t head_len = 0;  // the complete head at the start of `in`; 0: not yet
  size_t scanned = 0;   // bytes of `in` already searched for the head's end
  BodyFraming framing;
  HttpClock::time_point deadline;  // for the watcher: the head (or the lingering close)
  size_t requests = 0;             // served on this connection
  bool counted = false;            // in open_ (a connection rejected at the door is not)
  bool lingering = false;          // answered and shut for writing: input dropped until EOF

  void reset_request() {
    head_len = 0;
    scanned = 0;
    framing = {};
  }
};

// The address of the socket's peer (remote) or its own, numeric.
void peer_address(int fd, std::string& ip, int& port, bool remote);
// Sends all of `data` without blocking; false if the socket would not take it all.
bool send_now(int fd, std::string_view data);
// A complete response with an error object and "Connection: close".
std::string error_response(int status, const std::string& message, const std::string& code);

}  // namespace tandem::http
