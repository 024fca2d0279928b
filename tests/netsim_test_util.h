// Loopback sockets for the netsim tests: an echo server upstream and a blocking client.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

namespace tandem::test {

// Echoes every byte back on every connection, one thread per connection.
class EchoServer {
 public:
  EchoServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~EchoServer() {
    stop_ = true;
    thread_.join();
    for (auto& t : workers_) t.join();
    ::close(fd_);
  }
  int port = 0;
  std::atomic<int> accepted{0};
  std::atomic<int> resets{0};  // connections that ended with an error rather than EOF

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++accepted;
      workers_.emplace_back([this, c] { echo(c); });
    }
  }
  void echo(int c) {
    timeval tv{0, 200 * 1000};
    ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::vector<char> buf(1 << 16);
    while (!stop_) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const ssize_t n = ::recv(c, buf.data(), buf.size(), 0);
      if (n < 0) ++resets;
      if (n <= 0) break;
      for (ssize_t off = 0; off < n && !stop_;) {
        const ssize_t w = ::send(c, buf.data() + off, size_t(n - off), MSG_NOSIGNAL);
        if (w > 0) off += w;
        else if (errno != EAGAIN && errno != EWOULDBLOCK) break;
      }
    }
    ::close(c);
  }
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> workers_;  // touched by accept_loop only until it is joined
};

// A blocking loopback client whose reads give up after timeout_ms.
class TcpClient {
 public:
  explicit TcpClient(int port, int timeout_ms = 10000) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_timeout(timeout_ms);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(uint16_t(port));
    connected = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~TcpClient() {
    if (fd >= 0) ::close(fd);
  }
  void set_timeout(int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  bool send_all(const std::string& s) {
    for (size_t off = 0; off < s.size();) {
      const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        note(errno);
        return false;
      }
      off += size_t(n);
    }
    return true;
  }
  // Reads until n bytes arrived, or EOF, an error or the timeout (timed_out).
  std::string recv_n(size_t n) {
    std::string out;
    char buf[65536];
    timed_out = false;
    while (out.size() < n) {
      const ssize_t r = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
      if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) timed_out = true;
        else note(errno);
        break;
      }
      if (r == 0) break;
      out.append(buf, size_t(r));
    }
    return out;
  }
  // Whether the connection was reset: Linux reports the RST once (ECONNRESET, to whichever
  // call comes first), later sends fail with EPIPE and reads see EOF.
  bool was_reset() const { return error == ECONNRESET || error == EPIPE; }

  int fd = -1;
  bool connected = false;
  int error = 0;           // the first error of a send or recv, 0 if none
  bool timed_out = false;  // the last recv_n ran out of time

 private:
  void note(int e) {
    if (!error) error = e;
  }
};

}  // namespace tandem::test
