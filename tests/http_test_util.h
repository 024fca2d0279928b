// Raw loopback sockets for the HTTP hardening tests: clients that send a request slowly, in
// parts or not at all, a slow-client crowd on a thread of its own, and the worst time of a few
// requests. Every wait is bounded.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace tandem::test {

// A connected loopback TCP socket (closed when it goes); fd < 0 if the connect failed.
class RawConn {
 public:
  explicit RawConn(int port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  RawConn(RawConn&& o) noexcept : fd(o.fd) { o.fd = -1; }
  RawConn(const RawConn&) = delete;
  ~RawConn() {
    if (fd >= 0) ::close(fd);
  }
  bool send(const std::string& s) const {
    return fd >= 0 && ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size());
  }
  // What arrives until the server closes or `timeout` passes; *closed says whether it closed.
  std::string read_all(std::chrono::milliseconds timeout, bool* closed = nullptr) const {
    std::string out;
    const auto until = std::chrono::steady_clock::now() + timeout;
    if (closed) *closed = false;
    while (fd >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      pollfd p{fd, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, int(left.count())) <= 0) break;
      char buf[4096];
      const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r <= 0) {
        if (closed) *closed = true;
        break;
      }
      out.append(buf, size_t(r));
    }
    return out;
  }
  // The response's status line code, or 0.
  static int status_of(const std::string& response) {
    return response.rfind("HTTP/1.1 ", 0) == 0 && response.size() >= 12 ? std::atoi(response.substr(9, 3).c_str()) : 0;
  }
  int fd = -1;
};

// `n` connections that each began a request and add one header line every `every`, from a
// thread of their own, until stopped (or `limit` passes).
class SlowCrowd {
 public:
  SlowCrowd(int port, int n, std::chrono::milliseconds every, std::chrono::seconds limit = std::chrono::seconds(30)) {
    for (int i = 0; i < n; ++i) {
      conns_.emplace_back(port);
      conns_.back().send("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    }
    thread_ = std::thread([this, every, limit] {
      const auto until = std::chrono::steady_clock::now() + limit;
      for (int line = 0; !stop_ && std::chrono::steady_clock::now() < until; ++line) {
        for (auto& c : conns_) c.send("X-Slow-" + std::to_string(line) + ": 1\r\n");
        for (auto t = std::chrono::milliseconds(0); t < every && !stop_; t += std::chrono::milliseconds(10))
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  }
  ~SlowCrowd() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int connected() const {
    int n = 0;
    for (const auto& c : conns_) n += c.fd >= 0;
    return n;
  }

 private:
  std::vector<RawConn> conns_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The longest of `n` calls of `fn`, in milliseconds, with `gap` before each (not timed).
inline double worst_ms(int n, const std::function<void()>& fn,
                       std::chrono::milliseconds gap = std::chrono::milliseconds(0)) {
  double worst = 0;
  for (int i = 0; i < n; ++i) {
    std::this_thread::sleep_for(gap);
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    worst = std::max(worst, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return worst;
}

// The bound asked of both servers while a slow crowd is open: the worst of 5 /health calls
// (spread over a second) and of 2 completions each answers within 1 s, and the crowd is still
// held, not dropped. Each call returns whether it got 200.
inline void expect_answers_within_a_second(const std::function<bool()>& health,
                                           const std::function<bool()>& completion,
                                           const std::function<int()>& open_connections) {
  int health_ok = 0, completions_ok = 0;
  const double health_ms = worst_ms(5, [&] { health_ok += health(); }, std::chrono::milliseconds(200));
  const double completion_ms = worst_ms(2, [&] { completions_ok += completion(); });
  EXPECT_EQ(health_ok, 5);
  EXPECT_EQ(completions_ok, 2);
  EXPECT_LT(health_ms, 1000) << "worst /health";
  EXPECT_LT(completion_ms, 1000) << "worst completion";
  EXPECT_GE(open_connections(), 200);
}

}  // namespace tandem::test
