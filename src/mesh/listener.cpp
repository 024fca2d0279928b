#include "mesh/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "format/error.h"
#include "mesh/announcer.h"

namespace tandem::mesh {

Listener::Listener(ListenerConfig cfg, OnAdvert on_advert, std::function<void()> on_tick)
    : cfg_(std::move(cfg)), on_advert_(std::move(on_advert)), on_tick_(std::move(on_tick)), replay_(cfg_.max_skew_ms) {
  const auto [ip, port] = parse_ipv4_endpoint(cfg_.listen, true);
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw Error(std::string("mesh: socket: ") + std::strerror(errno));
  // Several gateways on one host may listen to the same broadcast or group port.
  int one = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  const bool multicast = (ntohl(ip) >> 28) == 0xE;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = multicast ? htonl(INADDR_ANY) : ip;
  addr.sin_port = port;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    throw Error("mesh: cannot listen on " + cfg_.listen + ": " + why);
  }
  if (multicast) {
    ip_mreq m{};
    m.imr_multiaddr.s_addr = ip;
    m.imr_interface.s_addr = htonl(INADDR_ANY);
    if (::setsockopt(fd_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) != 0) {
      const std::string why = std::strerror(errno);
      ::close(fd_);
      throw Error("mesh: cannot join multicast group " + cfg_.listen + ": " + why);
    }
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

Listener::~Listener() {
  stop();
  if (fd_ >= 0) ::close(fd_);
}

void Listener::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
}

void Listener::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

ListenerStats Listener::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return stats_;
}

void Listener::handle(std::string_view datagram) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  Decoded d = decode_advert(datagram, cfg_.key);
  std::string why = d.error;
  const bool ok = d.advert && replay_.accept(*d.advert, now, &why);
  {
    std::lock_guard<std::mutex> lk(mu_);
    ++stats_.received;
    if (ok) ++stats_.accepted;
    else {
      ++stats_.dropped;
      stats_.last_drop = why;
    }
  }
  if (ok && on_advert_) on_advert_(*d.advert, d.signed_ok);
}

void Listener::loop() {
  char buf[kMaxAdvertBytes + 1];
  auto last_tick = std::chrono::steady_clock::now();
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) > 0 && (p.revents & POLLIN)) {
      // One more byte than an advert may have: a longer datagram arrives truncated and is dropped.
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
      if (n > 0) handle(std::string_view(buf, size_t(n) < sizeof buf ? size_t(n) : sizeof buf));
    }
    const auto now = std::chrono::steady_clock::now();
    if (on_tick_ && now - last_tick >= std::chrono::milliseconds(200)) {
      last_tick = now;
      on_tick_();
    }
  }
}

}  // namespace tandem::mesh
