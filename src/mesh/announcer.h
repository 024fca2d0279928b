// Sends this server's mesh advert (advert.h) every interval to each target: a unicast address,
// the broadcast address 255.255.255.255, or a multicast group (TTL 1: it stays on the LAN). The
// capacity is asked for at each send, so the advert says how much room there is now.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mesh/advert.h"

namespace tandem::mesh {

struct Capacity {
  int32_t slots = 0, idle = 0, queue = 0;
};

struct AnnouncerConfig {
  Advert advert;                     // name, url, kind, model, fingerprint, sha256, interval_ms
  std::vector<std::string> targets;  // "HOST:PORT", numeric IPv4
  std::string key;                   // mesh key; "" sends unsigned adverts
};

class Announcer {
 public:
  // Throws tandem::Error for a bad target or an advert that does not encode.
  Announcer(AnnouncerConfig cfg, std::function<Capacity()> capacity);
  ~Announcer();  // stop()
  void start();  // sends now, then every interval on a thread of its own
  void stop();
  void send_once();  // one advert to every target now
  int64_t sent() const;

 private:
  AnnouncerConfig cfg_;
  std::function<Capacity()> capacity_;
  int fd_ = -1;
  std::vector<std::pair<uint32_t, uint16_t>> targets_;  // network byte order
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  int64_t sent_ = 0;
  std::thread thread_;
};

// "HOST:PORT" with a numeric IPv4 host (or "localhost"), in network byte order; port 0 only
// where allow_port_0 (a listener's "any free port"). Throws tandem::Error naming the problem.
std::pair<uint32_t, uint16_t> parse_ipv4_endpoint(const std::string& text, bool allow_port_0 = false);

}  // namespace tandem::mesh
