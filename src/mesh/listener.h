// Receives mesh adverts (advert.h) on a UDP address — a unicast address, 0.0.0.0 for broadcasts,
// or a multicast group it joins — checks each (size, JSON, MAC with the key, clock and replay)
// and hands the accepted ones to a callback on its own thread. Datagrams are untrusted input:
// anything malformed is counted and dropped.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "mesh/advert.h"

namespace tandem::mesh {

struct ListenerConfig {
  std::string listen = "0.0.0.0:7707";  // HOST:PORT; a 224.0.0.0/4 host is a multicast group to join
  std::string key;                      // mesh key; "" accepts unsigned adverts (signed_ok false)
  int64_t max_skew_ms = 30000;          // adverts timed further from this clock are dropped
};

struct ListenerStats {
  int64_t received = 0, accepted = 0, dropped = 0;
  std::string last_drop;  // why the last dropped datagram was dropped
};

class Listener {
 public:
  using OnAdvert = std::function<void(const Advert&, bool signed_ok)>;
  // Binds now (throws tandem::Error when it cannot); on_tick runs on the thread at least every
  // 200 ms (the gateway expires silent peers there).
  Listener(ListenerConfig cfg, OnAdvert on_advert, std::function<void()> on_tick = {});
  ~Listener();  // stop()
  int port() const { return port_; }  // the bound port (listen port 0: an ephemeral one)
  void start();
  void stop();
  ListenerStats stats() const;

 private:
  void loop();
  void handle(std::string_view datagram);
  ListenerConfig cfg_;
  OnAdvert on_advert_;
  std::function<void()> on_tick_;
  int fd_ = -1;
  int port_ = 0;
  ReplayGuard replay_;
  mutable std::mutex mu_;
  ListenerStats stats_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tandem::mesh
