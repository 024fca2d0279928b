// GuardedHttpServer's watcher: one thread holds every connection that is not running a request,
// reads request heads as they trickle in, and hands complete ones to the workers.
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "http/conn.h"

namespace tandem::http {

namespace {

constexpr auto kLingerTime = std::chrono::seconds(2);

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

// Reads and drops what the client sends; false once it has closed (or the socket failed).
bool drop_input(int fd) {
  char buf[16384];
  for (;;) {
    const ssize_t r = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r > 0) continue;
    if (r < 0 && errno == EINTR) continue;
    return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

}  // namespace

size_t find_head_end(std::string_view in, size_t scanned) {
  // httplib reads lines up to '\n' and stops at a line that is exactly "\r\n".
  const size_t from = scanned >= 2 ? scanned - 2 : 0;
  const size_t at = in.find("\n\r\n", from);
  return at == std::string_view::npos ? 0 : at + 3;
}

HeadCheck check_head(std::string_view head, size_t max_body_bytes) {
  HeadCheck hc;
  bool has_length = false, chunked = false;
  uint64_t length = 0;
  size_t pos = head.find('\n');  // after the request line
  while (pos != std::string_view::npos && pos + 1 < head.size()) {
    const size_t end = head.find('\n', pos + 1);
    const std::string_view line = head.substr(pos + 1, (end == std::string_view::npos ? head.size() : end) - pos - 1);
    pos = end;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
      if (value.empty() || value.size() > 18 || !std::all_of(value.begin(), value.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) ||
          (has_length && std::stoull(std::string(value)) != length)) {
        hc.status = 400;
        hc.message = "invalid Content-Length header";
        return hc;
      }
      has_length = true;
      length = std::stoull(std::string(value));
    } else if (iequals(name, "Transfer-Encoding")) {
      if (!iequals(value, "chunked")) {
        hc.status = 400;
        hc.message = "unsupported Transfer-Encoding (only chunked)";
        return hc;
      }
      chunked = true;
    } else if (iequals(name, "Expect")) {
      hc.framing.expect_continue = iequals(value, "100-continue");
    }
  }
  if (chunked && has_length) {
    hc.status = 400;
    hc.message = "a request cannot have both Content-Length and Transfer-Encoding";
    return hc;
  }
  if (has_length && length > max_body_bytes) {
    hc.status = 413;
    hc.message = "the request body is too large (" + std::to_string(length) + " bytes; at most " +
                 std::to_string(max_body_bytes) + ")";
    return hc;
  }
  hc.framing.kind = chunked ? BodyFraming::Chunked : has_length ? BodyFraming::Length : BodyFraming::None;
  hc.framing.length = length;
  return hc;
}

bool send_now(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t r = ::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    data.remove_prefix(size_t(r));
  }
  return true;
}

std::string error_response(int status, const std::string& message, const std::string& code) {
  const std::string body = protocol::dump(protocol::error_json(protocol::ApiError(status, message, "", code)));
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n";
  if (status == 503) r += "Retry-After: 1\r\n";
  return r + "\r\n" + body;
}

void GuardedHttpServer::start_lingering(Conn& c, int status, const std::string& message, const std::string& code) {
  send_now(c.fd, error_response(status, message, code));
  ::shutdown(c.fd, SHUT_WR);
  if (c.counted) --open_;
  c.counted = false;
  c.lingering = true;
  ++lingering_;
  c.in.clear();
  c.deadline = HttpClock::now() + kLingerTime;
}

GuardedHttpServer::WatchNext GuardedHttpServer::reject(Conn& c, int status, const std::string& message,
                                                       const std::string& code) {
  if (lingering_.load() >= limits_.max_connections) return WatchNext::Close;
  start_lingering(c, status, message, code);
  return drop_input(c.fd) ? WatchNext::Keep : WatchNext::Close;
}

GuardedHttpServer::WatchNext GuardedHttpServer::on_readable(Conn& c, uint32_t events) {
  if (c.lingering) return drop_input(c.fd) ? WatchNext::Keep : WatchNext::Close;
  if (tls_ctx_) return on_tls_readable(c);
  if (!c.head_len) {
    c.head_len = find_head_end(c.in, c.scanned);  // a pipelined request may be here already
    c.scanned = c.in.size();
    while (!c.head_len && c.in.size() <= limits_.max_head_bytes) {
      char buf[16384];
      const ssize_t r = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return WatchNext::Keep;
      if (r <= 0) return WatchNext::Close;  // closed, perhaps mid-head: nobody to answer
      c.in.append(buf, size_t(r));
      c.head_len = find_head_end(c.in, c.scanned);
      c.scanned = c.in.size();
    }
    if (!c.head_len || c.head_len > limits_.max_head_bytes)
      return reject(c, 431, "the request head is larger than " + std::to_string(limits_.max_head_bytes) + " bytes",
                    "request_too_large");
    const HeadCheck hc = check_head(std::string_view(c.in).substr(0, c.head_len), limits_.max_body_bytes);
    if (hc.status) return reject(c, hc.status, hc.message, hc.status == 413 ? "request_too_large" : "invalid_request");
    c.framing = hc.framing;
  }
  // A small body is awaited here too, so a worker never waits for one.
  if (c.framing.kind != BodyFraming::Length || c.framing.expect_continue) return WatchNext::Dispatch;
  const uint64_t need = std::min<uint64_t>(c.framing.length, limits_.inline_body_bytes);
  uint64_t have = c.in.size() - c.head_len;
  int queued = 0;
  if (have < need && ::ioctl(c.fd, FIONREAD, &queued) == 0) have += uint64_t(std::max(queued, 0));
  if (have >= need) return WatchNext::Dispatch;
  return events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR) ? WatchNext::Close : WatchNext::Keep;
}

void GuardedHttpServer::sweep_deadlines(ConnMap& conns) {
  const auto now = HttpClock::now();
  std::vector<int> expired;
  for (const auto& [fd, c] : conns)
    if (now >= c->deadline) expired.push_back(fd);
  for (const int fd : expired) {
    auto it = conns.find(fd);
    Conn& c = *it->second;
    // An idle kept-alive connection just closes; one that began a request hears why.
    const bool close = c.lingering || c.in.empty() ||
                       reject(c, 408, "the request did not arrive within " +
                                          std::to_string(limits_.request_timeout.count()) + " ms",
                              "request_timeout") == WatchNext::Close;
    if (!close) continue;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    close_conn(std::move(it->second));
    conns.erase(it);
  }
}

void GuardedHttpServer::watch() {
  ConnMap conns;
  const auto settle = [&](int fd, WatchNext next) {
    if (next == WatchNext::Keep) return;
    auto it = conns.find(fd);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    std::unique_ptr<Conn> c = std::move(it->second);
    conns.erase(it);
    if (next == WatchNext::Dispatch) dispatch(std::move(c));
    else close_conn(std::move(c));
  };
  const auto take_inbox = [&] {
    std::vector<std::unique_ptr<Conn>> incoming;
    {
      std::lock_guard<std::mutex> lk(inbox_mu_);
      incoming.swap(inbox_);
    }
    for (auto& c : incoming) {
      const int fd = c->fd;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
      ev.data.fd = fd;
      if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close_conn(std::move(c));
        continue;
      }
      Conn& ref = *c;
      conns[fd] = std::move(c);
      settle(fd, on_readable(ref, 0));  // what arrived before it was watched
    }
  };
  epoll_event evs[64];
  auto last_sweep = HttpClock::now();
  while (!stopping_) {
    const int n = ::epoll_wait(epoll_fd_, evs, 64, 100);
    for (int i = 0; i < n && !stopping_; ++i) {
      const int fd = evs[i].data.fd;
      if (fd == stop_fd_) break;
      if (fd == wake_fd_) {
        uint64_t v;
        (void)!::read(wake_fd_, &v, sizeof v);
        take_inbox();
        continue;
      }
      auto it = conns.find(fd);
      if (it != conns.end()) settle(fd, on_readable(*it->second, evs[i].events));
    }
    if (HttpClock::now() - last_sweep >= std::chrono::milliseconds(100)) {
      sweep_deadlines(conns);
      last_sweep = HttpClock::now();
    }
  }
  for (auto& [fd, c] : conns) close_conn(std::move(c));
  std::lock_guard<std::mutex> lk(inbox_mu_);
  for (auto& c : inbox_) close_conn(std::move(c));
  inbox_.clear();
}

}  // namespace tandem::http
