// The HTTP control API of a running netsim::Proxy (tandem netsim --control HOST:PORT):
//   POST /cut     reset every open connection      -> {"cut": N}
//   POST /dark    go dark                          -> {"dark": true}
//   POST /light   end the dark                     -> {"dark": false}
//   GET  /config  the link                         -> {"delay_ms", "jitter_ms", "bandwidth_kbps",
//                                                      "loss", "loss_mode", "loss_window_bytes"}
//   PUT  /config  change any of those keys (JSON body; the others keep their values) -> the link
//   GET  /stats   the proxy's counters             -> ProxyStats as JSON
// Errors are 400 {"error": "..."}.
#pragma once
#include <memory>
#include <string>

#include "netsim/proxy.h"

namespace tandem::netsim {

class ControlServer {
 public:
  ControlServer(Proxy& proxy, std::string host, int port);  // port 0: any free port
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  int start();  // returns the bound port; throws Error if it cannot listen
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The JSON forms of the API (also printed by the CLI).
std::string link_to_json(const LinkConfig& link);
std::string stats_to_json(const ProxyStats& stats);
// `base` with the keys of a JSON object applied; throws Error on bad JSON, unknown keys or values.
LinkConfig link_from_json(const LinkConfig& base, const std::string& json_text);

}  // namespace tandem::netsim
