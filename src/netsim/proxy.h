// netsim::Proxy: a TCP proxy that puts an emulated network (link.h) between its clients and
// one upstream, with run-time control: cut every connection, go dark, change the link.
// One event-loop thread does all the socket work; the methods below may be called from any
// thread. docs/netsim.md has the exact semantics.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "netsim/link.h"

namespace tandem::netsim {

struct HostPort {
  std::string host;
  int port = 0;
};
// "HOST:PORT" or "[V6ADDR]:PORT"; throws Error naming `what` (e.g. "--listen") when malformed.
// Port 0 is accepted only where allow_port_zero (an ephemeral listening port).
HostPort parse_host_port(const std::string& text, const std::string& what, bool allow_port_zero);

struct ProxyConfig {
  std::string listen_host = "127.0.0.1";
  int listen_port = 0;  // 0: an ephemeral port, returned by start()
  std::string upstream_host = "127.0.0.1";
  int upstream_port = 0;
  LinkConfig link;
  uint64_t seed = 0;         // jitter and loss draws; the same seed makes the same decisions
  std::string capture_up;    // when set, every byte sent to the upstream is appended to this file
  std::string capture_down;  // when set, every byte sent back to the clients is appended here
};

struct ProxyStats {
  uint64_t connections = 0;        // accepted since start()
  uint64_t open = 0;               // open now
  uint64_t bytes_up = 0;           // delivered to the upstream
  uint64_t bytes_down = 0;         // delivered to the clients
  uint64_t dropped = 0;            // lost connections that were reset
  uint64_t stalled = 0;            // lost connections that were stalled
  uint64_t cut = 0;                // connections reset by cut_all()
  uint64_t upstream_failures = 0;  // connections whose upstream could not be reached
  bool dark = false;
};

class Proxy {
 public:
  explicit Proxy(ProxyConfig config);  // throws Error on an invalid link
  ~Proxy();                            // stops
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // Binds, resolves the upstream, opens the capture files, starts the loop; returns the port
  // it listens on. Throws Error naming what failed.
  int start();
  // Resets every open connection and stops the loop. Idempotent.
  void stop();
  int port() const;

  // Resets every open connection (both legs; clients see ECONNRESET) and returns how many.
  // New connections work as before. Returns once the connections are reset.
  size_t cut_all();
  // Dark: nothing is forwarded and nothing is reset — open connections stall, new ones are
  // accepted but not connected upstream, as when the network dies. Light resumes them all
  // (what was held is then delivered). Returns once the loop has seen the change.
  void set_dark(bool dark);
  bool dark() const;
  // Applies to chunks read (and connections accepted) after it returns. Throws Error if invalid.
  void set_link(const LinkConfig& link);
  LinkConfig link() const;

  ProxyStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem::netsim
