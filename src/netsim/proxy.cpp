#include "netsim/proxy.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "format/error.h"

namespace tandem::netsim {

HostPort parse_host_port(const std::string& text, const std::string& what, bool allow_port_zero) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw Error(what + ": expected HOST:PORT, got '" + text + "'");
  HostPort hp;
  hp.host = text.substr(0, colon);
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']') hp.host = hp.host.substr(1, hp.host.size() - 2);
  const std::string port = text.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    throw Error(what + ": '" + port + "' is not a port number (in '" + text + "')");
  hp.port = std::stoi(port);
  if (hp.port > 65535 || (hp.port == 0 && !allow_port_zero))
    throw Error(what + ": port " + port + " is out of range (1-65535" + (allow_port_zero ? ", or 0 for any free port)" : ")"));
  return hp;
}

namespace {

constexpr size_t kQueueCap = size_t(1) << 20;  // bytes held per direction before reading pauses
constexpr size_t kMaxChunk = 64 * 1024;

enum Dir { kUp = 0, kDown = 1 };  // up: client -> upstream; down: upstream -> client

struct Address {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_INET;
};

Address resolve(const std::string& host, int port, bool passive, const std::string& what) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (passive) hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0 || !res) throw Error(what + " host '" + host + "' cannot be resolved: " + gai_strerror(rc));
  Address a;
  std::memcpy(&a.addr, res->ai_addr, res->ai_addrlen);
  a.len = res->ai_addrlen;
  a.family = res->ai_family;
  freeaddrinfo(res);
  return a;
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Closing with a zero linger sends RST: the peer's next read or write fails with ECONNRESET.
void close_reset(int& fd) {
  if (fd < 0) return;
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
  fd = -1;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

struct Chunk {
  Clock::time_point release;
  std::string data;
  size_t sent = 0;
  size_t captured = 0;  // bytes already written to the capture file (a send may be partial)
  bool fin = false;  // the source's end of stream, delivered as shutdown(SHUT_WR)
};

struct Direction {
  explicit Direction(uint64_t seed) : pacer(seed) {}
  std::deque<Chunk> queue;
  size_t queued = 0;
  bool eof_read = false;
  bool fin_sent = false;
  Pacer pacer;
};

struct Connection {
  Connection(uint64_t idx, int client_fd, uint64_t seed)
      : index(idx), client(client_fd), dir{Direction(mix_seed(seed, 2 * idx + 1)), Direction(mix_seed(seed, 2 * idx + 2))} {}
  uint64_t index;
  int client = -1, upstream = -1;
  bool connecting = false;  // non-blocking connect to the upstream in progress
  Direction dir[2];
  LossDecision loss;
  LossMode loss_mode = LossMode::Reset;  // the mode when it was accepted
  uint64_t forwarded = 0;  // bytes delivered, both directions (loss counts these)
  bool stalled = false;
  bool dead = false;  // fds closed, to be removed
  int pfd_client = -1, pfd_upstream = -1;  // index in this iteration's pollfd array

  int from(int d) const { return d == kUp ? client : upstream; }
  int to(int d) const { return d == kUp ? upstream : client; }
  bool upstream_ready() const { return upstream >= 0 && !connecting; }
};

}  // namespace

struct Proxy::Impl {
  ProxyConfig cfg;
  Address upstream_addr;
  int listen_fd = -1, wake_r = -1, wake_w = -1, bound_port = 0;
  FILE* capture[2] = {nullptr, nullptr};
  std::thread thread;

  // Shared with the callers' threads.
  mutable std::mutex mu;
  std::condition_variable cv;
  LinkConfig link;
  bool dark = false, stopping = false, running = false;
  uint64_t requests = 0, acked = 0, cut_requests = 0;
  size_t last_cut = 0;
  std::atomic<uint64_t> n_connections{0}, n_open{0}, n_bytes[2] = {0, 0}, n_dropped{0}, n_stalled{0}, n_cut{0},
      n_upstream_failures{0};

  // The loop thread's own.
  std::list<Connection> conns;
  uint64_t next_index = 0;
  Wire wire[2];
  char buf[kMaxChunk];

  void wake() {
    const char c = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_w, &c, 1);
  }
  // Posts a change (applied under the lock) and waits until the loop has taken it in.
  template <class F>
  void request(F&& change) {
    std::unique_lock lk(mu);
    change();
    const uint64_t id = ++requests;
    if (!running) return;
    wake();
    cv.wait(lk, [&] { return acked >= id || !running; });
  }

  // The loop: each round takes in the posted changes, polls, then serves what is ready.
  void run();
  struct Round {
    LinkConfig link;
    bool dark = false;
  };
  std::optional<Round> begin_round(uint64_t& cuts_done);  // nullopt: stopping
  // The descriptors to poll, each connection's index in it; returns when a delayed chunk is due.
  Clock::time_point poll_set(std::vector<pollfd>& pfds, bool is_dark);
  void wait(std::vector<pollfd>& pfds, Clock::time_point next_due);
  void serve(Connection& c, short client_events, short upstream_events, const LinkConfig& lk, Clock::time_point t);
  void accept_all(const LinkConfig& lk, bool is_dark);
  void start_connect(Connection& c);
  void finish_connect(Connection& c);
  void read_from(Connection& c, int d, const LinkConfig& lk);
  void flush(Connection& c, int d, Clock::time_point now);
  void fault(Connection& c);
  void reset(Connection& c);
  void close_done(Connection& c);
};

Proxy::Proxy(ProxyConfig config) : impl_(std::make_unique<Impl>()) {
  validate(config.link);
  impl_->cfg = std::move(config);
  impl_->link = impl_->cfg.link;
}

Proxy::~Proxy() { stop(); }

int Proxy::start() {
  Impl& m = *impl_;
  if (m.thread.joinable()) return m.bound_port;
  if (m.cfg.upstream_port <= 0 || m.cfg.upstream_port > 65535)
    throw Error("upstream port " + std::to_string(m.cfg.upstream_port) + " is out of range (1-65535)");
  if (m.cfg.listen_port < 0 || m.cfg.listen_port > 65535)
    throw Error("listen port " + std::to_string(m.cfg.listen_port) + " is out of range (0-65535)");
  m.upstream_addr = resolve(m.cfg.upstream_host, m.cfg.upstream_port, false, "upstream");
  const Address la = resolve(m.cfg.listen_host, m.cfg.listen_port, true, "listen");
  auto fail = [&](const std::string& what) {
    const int e = errno;
    close_fd(m.listen_fd);
    for (FILE*& f : m.capture)
      if (f) std::fclose(f), f = nullptr;
    throw Error(what + ": " + std::strerror(e));
  };
  m.listen_fd = ::socket(la.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (m.listen_fd < 0) fail("cannot create a socket");
  int one = 1;
  setsockopt(m.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const std::string where = m.cfg.listen_host + ":" + std::to_string(m.cfg.listen_port);
  if (::bind(m.listen_fd, reinterpret_cast<const sockaddr*>(&la.addr), la.len) != 0) fail("cannot listen on " + where);
  if (::listen(m.listen_fd, 128) != 0) fail("cannot listen on " + where);
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  getsockname(m.listen_fd, reinterpret_cast<sockaddr*>(&bound), &blen);
  m.bound_port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                   : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  const std::string* paths[2] = {&m.cfg.capture_up, &m.cfg.capture_down};
  for (int d = 0; d < 2; ++d) {
    if (paths[d]->empty()) continue;
    m.capture[d] = std::fopen(paths[d]->c_str(), "ab");
    if (!m.capture[d]) fail("cannot open the capture file '" + *paths[d] + "'");
  }
  int p[2];
  if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) fail("cannot create a pipe");
  m.wake_r = p[0];
  m.wake_w = p[1];
  {
    std::lock_guard lk(m.mu);
    m.stopping = false;
    m.running = true;
  }
  m.thread = std::thread([&m] { m.run(); });
  return m.bound_port;
}

void Proxy::stop() {
  Impl& m = *impl_;
  if (!m.thread.joinable()) return;
  {
    std::lock_guard lk(m.mu);
    m.stopping = true;
  }
  m.wake();
  m.thread.join();
  {
    std::lock_guard lk(m.mu);
    m.running = false;
  }
  m.cv.notify_all();
  close_fd(m.listen_fd);
  close_fd(m.wake_r);
  close_fd(m.wake_w);
  for (FILE*& f : m.capture)
    if (f) std::fclose(f), f = nullptr;
}

int Proxy::port() const { return impl_->bound_port; }

size_t Proxy::cut_all() {
  Impl& m = *impl_;
  size_t n = 0;
  m.request([&] { ++m.cut_requests; });
  std::lock_guard lk(m.mu);
  n = m.last_cut;
  return n;
}

void Proxy::set_dark(bool dark) {
  impl_->request([&] { impl_->dark = dark; });
}

bool Proxy::dark() const {
  std::lock_guard lk(impl_->mu);
  return impl_->dark;
}

void Proxy::set_link(const LinkConfig& link) {
  validate(link);
  impl_->request([&] { impl_->link = link; });
}

LinkConfig Proxy::link() const {
  std::lock_guard lk(impl_->mu);
  return impl_->link;
}

ProxyStats Proxy::stats() const {
  const Impl& m = *impl_;
  ProxyStats s;
  s.connections = m.n_connections.load();
  s.open = m.n_open.load();
  s.bytes_up = m.n_bytes[kUp].load();
  s.bytes_down = m.n_bytes[kDown].load();
  s.dropped = m.n_dropped.load();
  s.stalled = m.n_stalled.load();
  s.cut = m.n_cut.load();
  s.upstream_failures = m.n_upstream_failures.load();
  s.dark = dark();
  return s;
}

// ---- the loop ----

void Proxy::Impl::reset(Connection& c) {
  close_reset(c.client);
  close_reset(c.upstream);
  c.dead = true;
}

void Proxy::Impl::close_done(Connection& c) {
  close_fd(c.client);
  close_fd(c.upstream);
  c.dead = true;
}

// A lost connection reaches its fault point.
void Proxy::Impl::fault(Connection& c) {
  if (c.loss_mode == LossMode::Reset) {
    ++n_dropped;
    reset(c);
    return;
  }
  ++n_stalled;
  c.stalled = true;
  for (Direction& d : c.dir) {
    d.queue.clear();
    d.queued = 0;
  }
}

void Proxy::Impl::start_connect(Connection& c) {
  c.upstream = ::socket(upstream_addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.upstream >= 0) {
    set_nodelay(c.upstream);
    if (::connect(c.upstream, reinterpret_cast<const sockaddr*>(&upstream_addr.addr), upstream_addr.len) == 0) return;
    if (errno == EINPROGRESS) {
      c.connecting = true;
      return;
    }
  }
  ++n_upstream_failures;
  reset(c);
}

void Proxy::Impl::finish_connect(Connection& c) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c.upstream, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == EINPROGRESS || err == EALREADY) return;
  if (err != 0) {
    ++n_upstream_failures;
    reset(c);
    return;
  }
  c.connecting = false;
}

void Proxy::Impl::accept_all(const LinkConfig& lk, bool is_dark) {
  for (;;) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a connection that died in the backlog
    set_nodelay(fd);
    Connection& c = conns.emplace_back(next_index, fd, cfg.seed);
    c.loss = decide_loss(cfg.seed, next_index, lk);
    c.loss_mode = lk.loss_mode;
    ++next_index;
    ++n_connections;
    ++n_open;
    if (c.loss.lost && c.loss.after_bytes == 0) {
      fault(c);
      continue;
    }
    if (!is_dark) start_connect(c);
  }
}

void Proxy::Impl::read_from(Connection& c, int d, const LinkConfig& lk) {
  Direction& dir = c.dir[d];
  // Smaller reads under a bandwidth limit (about 10 ms of the link each) keep delivery smooth.
  size_t want = kMaxChunk;
  if (lk.bandwidth_kbps > 0) want = std::clamp(size_t(lk.bandwidth_kbps * 1.25), size_t(1024), kMaxChunk);
  const ssize_t n = ::recv(c.from(d), buf, want, 0);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) reset(c);
    return;
  }
  const Clock::time_point now = Clock::now();
  Chunk ch;
  ch.release = dir.pacer.release(wire[d].transmit(now, uint64_t(n), lk.bandwidth_kbps), lk);
  if (n == 0) {
    ch.fin = true;
    dir.eof_read = true;
  } else {
    ch.data.assign(buf, size_t(n));
    dir.queued += size_t(n);
  }
  dir.queue.push_back(std::move(ch));
}

// Delivers what is due in direction d.
void Proxy::Impl::flush(Connection& c, int d, Clock::time_point now) {
  Direction& dir = c.dir[d];
  const int to = c.to(d);
  while (!c.dead && !c.stalled && !dir.queue.empty() && dir.queue.front().release <= now) {
    if (d == kUp && !c.upstream_ready()) return;
    Chunk& ch = dir.queue.front();
    if (ch.fin) {
      // A lost connection never ends cleanly: its fault comes at the latest with the end.
      if (c.loss.lost) return fault(c);
      ::shutdown(to, SHUT_WR);
      dir.fin_sent = true;
      dir.queue.pop_front();
      continue;
    }
    size_t len = ch.data.size() - ch.sent;
    if (c.loss.lost) {
      if (c.forwarded >= c.loss.after_bytes) return fault(c);
      len = std::min<uint64_t>(len, c.loss.after_bytes - c.forwarded);
    }
    // Counted and captured before send(): once the receiver has the bytes, whoever it tells
    // (a test reading stats() or the capture file) must find them there.
    n_bytes[d] += uint64_t(len);
    if (capture[d] && ch.captured < ch.sent + len) {
      std::fwrite(ch.data.data() + ch.captured, 1, ch.sent + len - ch.captured, capture[d]);
      std::fflush(capture[d]);
      ch.captured = ch.sent + len;
    }
    const ssize_t n = ::send(to, ch.data.data() + ch.sent, len, MSG_NOSIGNAL);
    n_bytes[d] -= uint64_t(len) - uint64_t(std::max<ssize_t>(n, 0));
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) reset(c);
      return;
    }
    c.forwarded += uint64_t(n);
    ch.sent += size_t(n);
    dir.queued -= size_t(n);
    if (ch.sent == ch.data.size()) dir.queue.pop_front();
    if (c.loss.lost && c.forwarded >= c.loss.after_bytes) return fault(c);
    if (size_t(n) < len) return;  // the socket's buffer is full: wait for POLLOUT
  }
}

std::optional<Proxy::Impl::Round> Proxy::Impl::begin_round(uint64_t& cuts_done) {
  Round round;
  uint64_t seen, cuts;
  {
    std::lock_guard lock(mu);
    if (stopping) return std::nullopt;
    round.link = link;
    round.dark = dark;
    seen = requests;
    cuts = cut_requests;
  }
  if (cuts != cuts_done) {
    const size_t n = conns.size();
    for (Connection& c : conns) reset(c);
    conns.clear();
    n_cut += n;
    n_open -= n;
    cuts_done = cuts;
    std::lock_guard lock(mu);
    last_cut = n;
  }
  {
    std::lock_guard lock(mu);
    acked = seen;
  }
  cv.notify_all();
  return round;
}

Clock::time_point Proxy::Impl::poll_set(std::vector<pollfd>& pfds, bool is_dark) {
  const Clock::time_point now = Clock::now();
  Clock::time_point next_due = Clock::time_point::max();
  pfds.clear();
  pfds.push_back({wake_r, POLLIN, 0});
  pfds.push_back({listen_fd, POLLIN, 0});
  for (Connection& c : conns) {
    c.pfd_client = c.pfd_upstream = -1;
    if (is_dark) continue;  // a dark network neither delivers nor notices anything
    if (c.upstream < 0 && !c.stalled) start_connect(c);  // accepted while dark
    if (c.dead) continue;
    short ev_client = 0, ev_upstream = 0;
    if (c.stalled) {
      ev_client = POLLRDHUP;  // only to notice that the client gave up
    } else {
      if (c.connecting) ev_upstream |= POLLOUT;
      for (int d = 0; d < 2; ++d) {
        Direction& dir = c.dir[d];
        short& ev_from = d == kUp ? ev_client : ev_upstream;
        short& ev_to = d == kUp ? ev_upstream : ev_client;
        if (!dir.eof_read && dir.queued < kQueueCap && (d == kUp || c.upstream_ready())) ev_from |= POLLIN;
        if (!dir.queue.empty() && (d == kDown || c.upstream_ready())) {
          if (dir.queue.front().release <= now) ev_to |= POLLOUT;  // due but the socket was full
          else next_due = std::min(next_due, dir.queue.front().release);
        }
      }
    }
    if (ev_client) {
      c.pfd_client = int(pfds.size());
      pfds.push_back({c.client, ev_client, 0});
    }
    if (ev_upstream) {
      c.pfd_upstream = int(pfds.size());
      pfds.push_back({c.upstream, ev_upstream, 0});
    }
  }
  return next_due;
}

void Proxy::Impl::wait(std::vector<pollfd>& pfds, Clock::time_point next_due) {
  timespec ts{}, *timeout = nullptr;
  if (next_due != Clock::time_point::max()) {
    const auto wait = std::max(next_due - Clock::now(), Clock::duration::zero());
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
    ts.tv_sec = ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    timeout = &ts;
  }
  if (::ppoll(pfds.data(), pfds.size(), timeout, nullptr) < 0 && errno != EINTR)
    std::fprintf(stderr, "tandem netsim: poll failed: %s\n", std::strerror(errno));
  if (pfds[0].revents) {
    char drain[64];
    while (::read(wake_r, drain, sizeof drain) > 0) {
    }
  }
}

void Proxy::Impl::serve(Connection& c, short client_events, short upstream_events, const LinkConfig& lk,
                        Clock::time_point t) {
  if (c.stalled) {
    if (client_events) reset(c);
    return;
  }
  if (c.connecting && upstream_events) finish_connect(c);
  constexpr short kReadable = POLLIN | POLLERR | POLLHUP;
  if (!c.dead && (client_events & kReadable) && !c.dir[kUp].eof_read) read_from(c, kUp, lk);
  if (!c.dead && (upstream_events & kReadable) && c.upstream_ready() && !c.dir[kDown].eof_read)
    read_from(c, kDown, lk);
  for (int d = 0; d < 2 && !c.dead; ++d) flush(c, d, t);
  if (!c.dead && c.dir[kUp].fin_sent && c.dir[kDown].fin_sent) close_done(c);
}

void Proxy::Impl::run() {
  uint64_t cuts_done;
  {
    std::lock_guard lock(mu);
    cuts_done = cut_requests;  // cuts asked for before start() had nothing to cut
  }
  std::vector<pollfd> pfds;
  while (const std::optional<Round> round = begin_round(cuts_done)) {
    wait(pfds, poll_set(pfds, round->dark));
    // Connections accepted now are handled from the next round on.
    const size_t n_before = conns.size();
    if (pfds[1].revents & POLLIN) accept_all(round->link, round->dark);
    if (!round->dark) {
      size_t i = 0;
      const Clock::time_point t = Clock::now();
      for (auto it = conns.begin(); it != conns.end() && i < n_before; ++it, ++i) {
        Connection& c = *it;
        if (c.dead) continue;
        serve(c, c.pfd_client >= 0 ? pfds[size_t(c.pfd_client)].revents : 0,
              c.pfd_upstream >= 0 ? pfds[size_t(c.pfd_upstream)].revents : 0, round->link, t);
      }
    }
    for (auto it = conns.begin(); it != conns.end();) {
      if (it->dead) {
        --n_open;
        it = conns.erase(it);
      } else {
        ++it;
      }
    }
  }
  n_open -= conns.size();
  for (Connection& c : conns) reset(c);
  conns.clear();
}

}  // namespace tandem::netsim
