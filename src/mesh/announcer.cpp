#include "mesh/announcer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "format/error.h"

namespace tandem::mesh {

std::pair<uint32_t, uint16_t> parse_ipv4_endpoint(const std::string& text, bool allow_port_0) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) throw Error("'" + text + "' is not HOST:PORT");
  std::string host = text.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";
  in_addr addr{};
  if (inet_pton(AF_INET, host.c_str(), &addr) != 1) throw Error("'" + host + "' is not a numeric IPv4 address");
  const std::string port = text.substr(colon + 1);
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < (allow_port_0 ? 0 : 1) || p > 65535)
    throw Error("'" + port + "' is not a port (" + (allow_port_0 ? "0" : "1") + "..65535)");
  return {addr.s_addr, htons(uint16_t(p))};
}

Announcer::Announcer(AnnouncerConfig cfg, std::function<Capacity()> capacity)
    : cfg_(std::move(cfg)), capacity_(std::move(capacity)) {
  if (cfg_.targets.empty()) throw Error("mesh: no target to advertise to");
  for (const auto& t : cfg_.targets) targets_.push_back(parse_ipv4_endpoint(t));
  encode_advert(cfg_.advert, cfg_.key);  // fails now, not on the thread
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw Error(std::string("mesh: socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  unsigned char ttl = 1;  // multicast stays on the local network
  ::setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
}

Announcer::~Announcer() {
  stop();
  if (fd_ >= 0) ::close(fd_);
}

void Announcer::send_once() {
  Advert a = cfg_.advert;
  const Capacity c = capacity_ ? capacity_() : Capacity{};
  a.slots = c.slots;
  a.idle = c.idle < 0 ? 0 : c.idle > c.slots ? c.slots : c.idle;
  a.queue = c.queue < 0 ? 0 : c.queue;
  a.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string d = encode_advert(a, cfg_.key);
  for (const auto& [ip, port] : targets_) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = ip;
    to.sin_port = port;
    // A lost datagram is what UDP means: the next interval sends another.
    ::sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }
  std::lock_guard<std::mutex> lk(mu_);
  ++sent_;
}

int64_t Announcer::sent() const {
  std::lock_guard<std::mutex> lk(mu_);
  return sent_;
}

void Announcer::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lk(mu_);
    while (!stop_) {
      lk.unlock();
      send_once();
      lk.lock();
      cv_.wait_for(lk, std::chrono::milliseconds(cfg_.advert.interval_ms), [this] { return stop_; });
    }
  });
}

void Announcer::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tandem::mesh
