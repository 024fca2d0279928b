#include "http/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "format/error.h"
#include "http/conn.h"

namespace tandem::http {

using nlohmann::json;
using protocol::ApiError;

void peer_address(int fd, std::string& ip, int& port, bool remote) {
  sockaddr_storage a{};
  socklen_t n = sizeof a;
  if ((remote ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &n) : ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n)) != 0)
    return;
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&a), n, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return;
  ip = host;
  port = std::atoi(serv);
}

namespace {

// httplib hands each accepted socket to its task queue; this one runs the hand-over at once on
// the accepting thread, where GuardedHttpServer only admits the connection (it never blocks).
class AdmitInline : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

// A request's view of its connection: the head and any body bytes the watcher already read,
// then the socket, never past the body's end (the next request stays for the watcher). Every
// wait also ends when the server stops.
class ConnStream : public httplib::Stream {
 public:
  ConnStream(GuardedHttpServer::Conn& c, const HttpLimits& limits, int stop_fd, const std::atomic<bool>& stopping)
      : c_(c), limits_(limits), stop_fd_(stop_fd), stopping_(stopping),
        body_deadline_(HttpClock::now() + limits.body_timeout) {
    head_left_ = c.head_len;
    body_left_ = c.framing.kind == BodyFraming::Length    ? c.framing.length
                 : c.framing.kind == BodyFraming::Chunked ? limits.max_body_bytes
                                                          : 0;
  }

  bool is_readable() const override { return pos_ < c_.in.size() || wait_for(POLLIN, 0) > 0; }
  bool is_writable() const override {
    // As httplib's: writable in time, and the client has not gone away.
    if (wait_for(POLLOUT, int(limits_.write_timeout.count())) <= 0) return false;
    if (wait_for(POLLIN, 0) <= 0) return true;
    char b;
    return ::recv(c_.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
  }

  ssize_t read(char* ptr, size_t size) override {
    if (head_left_ > 0) return take(ptr, std::min(size, head_left_), &head_left_);
    if (body_left_ == 0) return c_.framing.kind == BodyFraming::Chunked ? -1 : 0;  // a chunked body over the limit
    size = size_t(std::min<uint64_t>(size, body_left_));
    if (pos_ < c_.in.size()) {
      const ssize_t n = take(ptr, std::min(size, c_.in.size() - pos_), nullptr);
      body_left_ -= uint64_t(n);
      return n;
    }
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(body_deadline_ - HttpClock::now());
      if (left.count() <= 0 || wait_for(POLLIN, int(left.count())) <= 0) return -1;
      const ssize_t r = ::recv(c_.fd, ptr, size, MSG_DONTWAIT);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
      if (r > 0) body_left_ -= uint64_t(r);
      return r;
    }
  }

  ssize_t write(const char* ptr, size_t size) override {
    for (;;) {
      if (wait_for(POLLOUT, int(limits_.write_timeout.count())) <= 0) return -1;
      const ssize_t r = ::send(c_.fd, ptr, size, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
      return r;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { peer_address(c_.fd, ip, port, true); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { peer_address(c_.fd, ip, port, false); }
  socket_t socket() const override { return c_.fd; }

  size_t consumed() const { return pos_; }
  bool whole_request_read() const { return head_left_ == 0 && body_left_ == 0; }

 private:
  ssize_t take(char* ptr, size_t n, size_t* left) {
    std::memcpy(ptr, c_.in.data() + pos_, n);
    pos_ += n;
    if (left) *left -= n;
    return ssize_t(n);
  }
  // > 0: ready; 0: timed out; < 0: the server is stopping or the socket failed.
  int wait_for(short what, int timeout_ms) const {
    if (stopping_) return -1;
    pollfd p[2] = {{c_.fd, what, 0}, {stop_fd_, POLLIN, 0}};
    int r;
    do r = ::poll(p, 2, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r <= 0) return r;
    if (p[1].revents) return -1;
    return p[0].revents & (POLLERR | POLLNVAL) ? -1 : 1;
  }

  GuardedHttpServer::Conn& c_;
  const HttpLimits& limits_;
  int stop_fd_;
  const std::atomic<bool>& stopping_;
  HttpClock::time_point body_deadline_;
  size_t pos_ = 0;        // consumed from c_.in
  size_t head_left_ = 0;  // of the head, still to be read
  uint64_t body_left_ = 0;  // of the body (chunked: of the limit), still to be read
};

}  // namespace

GuardedHttpServer::GuardedHttpServer(HttpLimits limits) : limits_(limits) {
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (stop_fd_ < 0 || wake_fd_ < 0 || epoll_fd_ < 0) throw Error(std::string("cannot set up the HTTP server: ") + std::strerror(errno));
  for (const int fd : {stop_fd_, wake_fd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  new_task_queue = [] { return new AdmitInline; };
  set_payload_max_length(limits_.max_body_bytes);
  set_socket_options([](socket_t sock) {
    int one = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // Accepted sockets inherit it (Linux): each streamed chunk leaves at once instead of waiting
    // for the client's delayed ACK of the previous one (Nagle).
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  });
}

GuardedHttpServer::~GuardedHttpServer() {
  stop();
  free_tls();
  for (const int fd : {stop_fd_, wake_fd_, epoll_fd_})
    if (fd >= 0) ::close(fd);
}

void GuardedHttpServer::route(const std::string& method, const std::string& pattern, RouteAccess access,
                              Handler handler) {
  routes_.push_back({method, pattern, access});
  Handler guarded = [this, access, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    try {
      if (access == RouteAccess::Key && auth_) auth_(req);
      handler(req, res);
    } catch (const ApiError& e) {
      send_error(res, e);
    } catch (const std::exception& e) {
      send_error(res, ApiError(500, std::string("internal error: ") + e.what()));
    }
  };
  if (method == "GET") Get(pattern, std::move(guarded));
  else if (method == "POST") Post(pattern, std::move(guarded));
  else if (method == "PUT") Put(pattern, std::move(guarded));
  else if (method == "DELETE") Delete(pattern, std::move(guarded));
  else throw Error("unsupported HTTP method " + method);
}

int GuardedHttpServer::bind(const std::string& host, int port) {
  port_ = port == 0 ? bind_to_any_port(host) : (bind_to_port(host, port) ? port : -1);
  if (port_ < 0) throw Error("cannot listen on " + host + ":" + std::to_string(port));
  // httplib listens with a backlog of 5: a burst of clients would overflow it and wait for their
  // SYN to be retransmitted (a second). Linux lets listen() raise it in place.
  ::listen(svr_sock_, 1024);
  return port_;
}

void GuardedHttpServer::serve() {
  watch_thread_ = std::thread([this] { watch(); });
  for (int i = 0; i < std::max(1, limits_.workers); ++i) workers_.emplace_back([this] { work(); });
  accept_thread_ = std::thread([this] { listen_after_bind(); });
  for (int i = 0; i < 5000 && !is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void GuardedHttpServer::stop() {
  std::call_once(stop_once_, [this] {
    stopping_ = true;
    const uint64_t one = 1;
    (void)!::write(stop_fd_, &one, sizeof one);  // every wait in a read, a write or the watcher ends
    if (accept_thread_.joinable()) {
      for (int i = 0; i < 5000 && !is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      httplib::Server::stop();
      accept_thread_.join();
    } else if (svr_sock_ != INVALID_SOCKET) {  // bound, never served
      ::close(svr_sock_.exchange(INVALID_SOCKET));
    }
    {
      std::lock_guard<std::mutex> lk(ready_mu_);  // no worker is between its check and its wait
    }
    ready_cv_.notify_all();
    for (auto& t : workers_) t.join();
    if (watch_thread_.joinable()) watch_thread_.join();
    std::deque<std::unique_ptr<Conn>> left;
    {
      std::lock_guard<std::mutex> lk(ready_mu_);
      left.swap(ready_);
    }
    for (auto& c : left) close_conn(std::move(c));
    std::lock_guard<std::mutex> lk(inbox_mu_);
    for (auto& c : inbox_) close_conn(std::move(c));
    inbox_.clear();
  });
}

bool GuardedHttpServer::process_and_close_socket(socket_t sock) {
  auto c = std::make_unique<Conn>();
  c->fd = sock;
  c->deadline = HttpClock::now() + limits_.request_timeout;
  if (stopping_) {
    close_conn(std::move(c));
  } else if (open_.load() < limits_.max_connections) {
    c->counted = true;
    ++open_;
    park(std::move(c));
  } else if (lingering_.load() < limits_.max_connections) {
    start_lingering(*c, 503, "too many open connections; retry later", "too_many_connections");
    park(std::move(c));
  } else {
    close_conn(std::move(c));
  }
  return true;
}

void GuardedHttpServer::park(std::unique_ptr<Conn> c) {
  {
    std::lock_guard<std::mutex> lk(inbox_mu_);
    if (!stopping_) {
      inbox_.push_back(std::move(c));
    }
  }
  if (c) {
    close_conn(std::move(c));
    return;
  }
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void GuardedHttpServer::dispatch(std::unique_ptr<Conn> c) {
  {
    std::lock_guard<std::mutex> lk(ready_mu_);
    ready_.push_back(std::move(c));
  }
  ready_cv_.notify_one();
}

void GuardedHttpServer::close_conn(std::unique_ptr<Conn> c) {
  if (!c) return;
  if (c->counted) --open_;
  if (c->lingering) --lingering_;
  free_conn_tls(*c);
  ::shutdown(c->fd, SHUT_RDWR);
  ::close(c->fd);
}

void GuardedHttpServer::work() {
  for (;;) {
    std::unique_ptr<Conn> c;
    {
      std::unique_lock<std::mutex> lk(ready_mu_);
      ready_cv_.wait(lk, [this] { return stopping_ || !ready_.empty(); });
      if (stopping_) return;
      c = std::move(ready_.front());
      ready_.pop_front();
    }
    serve_request(std::move(c));
  }
}

void GuardedHttpServer::serve_request(std::unique_ptr<Conn> c) {
  if (tls_ctx_) return serve_tls_request(std::move(c));
  const bool last = stopping_ || ++c->requests >= limits_.keep_alive_max_requests;
  bool client_closes = false;
  bool keep = false;
  {
    ConnStream strm(*c, limits_, stop_fd_, stopping_);
    keep = process_request(strm, last, client_closes, nullptr);
    // A request not read to its end leaves bytes that are not a request: the connection ends.
    keep = keep && !last && !client_closes && !stopping_ && strm.whole_request_read() &&
           c->framing.kind != BodyFraming::Chunked;
    c->in.erase(0, strm.consumed());
  }
  if (!keep) {
    close_conn(std::move(c));
    return;
  }
  c->reset_request();
  c->deadline = HttpClock::now() + limits_.request_timeout;
  park(std::move(c));
}

}  // namespace tandem::http
