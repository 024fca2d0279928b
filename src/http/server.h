// The HTTP server under `tandem serve` and `tandem edge`: cpp-httplib's request parsing and
// routing, with connection handling that slow or idle clients cannot starve (docs/serve.md,
// "Connections and limits").
//
// httplib gives every connection a worker thread for its whole life, so clients that send their
// headers slowly, or keep a connection open doing nothing, hold every thread and the server
// answers nobody. Here a single watcher thread holds every connection until its request head
// (and a small body) has fully arrived, with a deadline; only then does a worker thread run the
// request, and a kept-alive connection goes back to the watcher between requests. Beyond
// `max_connections` a new connection is answered 503 at once. A body larger than the limit is
// answered 413 from its Content-Length, before it is sent. stop() closes every connection and
// makes reads and writes under way fail at once, so shutdown takes as long as handlers do.
//
// Every route declares whether it needs an API key (RouteAccess), and routes() lists them, so a
// test can walk them all. Over TLS (set_tls) the watcher can only wait for readability, not look
// at the encrypted head: the worker runs the handshake and reads the head (server_tls.cpp).
#pragma once
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/replies.h"
#include "protocol/openai.h"

namespace tandem::http {

struct HttpLimits {
  int max_connections = 512;  // open connections; one more is answered 503 + Retry-After at once
  int workers = 16;           // threads that run handlers
  // From a connection's start (or the end of its previous response) until its request line,
  // headers and (up to inline_body_bytes of) body have arrived; then 408, or a silent close
  // when nothing was sent (an idle kept-alive connection).
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};   // the rest of a larger body, read by a worker
  std::chrono::milliseconds write_timeout{30000};  // one write waiting for the client to read
  size_t max_head_bytes = size_t(64) << 10;        // request line and headers; beyond: 431
  size_t max_body_bytes = size_t(16) << 20;        // beyond: 413 (chunked bodies: their encoded size)
  size_t inline_body_bytes = size_t(64) << 10;     // bodies up to this arrive before a worker runs
  size_t keep_alive_max_requests = 1000;           // then the connection is closed
};

// HTTPS: the server's PEM certificate (chain) and key; with `ca`, clients must present a
// certificate signed by one of its CAs (mutual TLS).
struct TlsFiles {
  std::string cert, key, ca;
};

enum class RouteAccess { Key, Open };

struct RouteInfo {
  std::string method;   // GET, POST, PUT, DELETE
  std::string pattern;  // httplib's regular expression
  RouteAccess access;
};

class GuardedHttpServer : private httplib::Server {
 public:
  using Handler = httplib::Server::Handler;
  // Throws ApiError (401) when the request may not use a Key route.
  using Authenticator = std::function<void(const httplib::Request&)>;

  explicit GuardedHttpServer(HttpLimits limits);
  ~GuardedHttpServer() override;

  // Serves HTTPS instead of HTTP (before serve()); throws Error when the files do not load.
  void set_tls(const TlsFiles& files);
  bool tls() const { return tls_ctx_ != nullptr; }
  // Runs before every Key route's handler; a route cannot skip it.
  void set_authenticator(Authenticator auth) { auth_ = std::move(auth); }
  // Registers a handler; a thrown ApiError becomes its error object, any other exception a 500.
  void route(const std::string& method, const std::string& pattern, RouteAccess access, Handler handler);
  const std::vector<RouteInfo>& routes() const { return routes_; }

  using httplib::Server::set_error_handler;
  using httplib::Server::set_logger;
  using httplib::Server::set_post_routing_handler;

  // Binds host:port (0: any free port) and returns the port; throws Error when it cannot.
  int bind(const std::string& host, int port);
  // Serves on threads of its own until stop(); bind() first.
  void serve();
  int start(const std::string& host, int port) {
    const int p = bind(host, port);
    serve();
    return p;
  }
  void stop();
  int port() const { return port_; }
  int open_connections() const { return open_.load(); }
  const HttpLimits& limits() const { return limits_; }

  struct Conn;  // defined in conn.h (the implementation's)

 private:
  enum class WatchNext { Keep, Dispatch, Close };
  using ConnMap = std::unordered_map<int, std::unique_ptr<Conn>>;

  bool process_and_close_socket(socket_t sock) override;  // on the accepting thread: admit
  void watch();                                           // the watcher thread (watcher.cpp)
  WatchNext on_readable(Conn& c, uint32_t events);
  WatchNext reject(Conn& c, int status, const std::string& message, const std::string& code);
  void sweep_deadlines(ConnMap& conns);
  void work();  // a worker thread
  WatchNext on_tls_readable(Conn& c);                 // server_tls.cpp
  void serve_tls_request(std::unique_ptr<Conn> c);   // handshake (once), then one request
  void free_conn_tls(Conn& c);
  void free_tls();
  void serve_request(std::unique_ptr<Conn> c);
  void park(std::unique_ptr<Conn> c);      // to the watcher, from any thread
  void dispatch(std::unique_ptr<Conn> c);  // to a worker
  void close_conn(std::unique_ptr<Conn> c);
  // Answers at once (an error object, "Connection: close") and shuts the connection for writing;
  // the watcher then drops what the client still sends, until it closes or a short deadline.
  void start_lingering(Conn& c, int status, const std::string& message, const std::string& code);

  HttpLimits limits_;
  SSL_CTX* tls_ctx_ = nullptr;  // HTTPS when set
  Authenticator auth_;
  std::vector<RouteInfo> routes_;
  int port_ = -1;
  int stop_fd_ = -1;  // an eventfd, readable once stop() began: wakes every poll
  int wake_fd_ = -1;  // an eventfd: the inbox has connections for the watcher
  int epoll_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> open_{0};       // connections counted under max_connections
  std::atomic<int> lingering_{0};  // rejected connections being closed

  std::mutex inbox_mu_;
  std::vector<std::unique_ptr<Conn>> inbox_;  // connections handed to the watcher

  std::mutex ready_mu_;
  std::condition_variable ready_cv_;
  std::deque<std::unique_ptr<Conn>> ready_;  // complete heads waiting for a worker

  std::thread accept_thread_, watch_thread_;
  std::vector<std::thread> workers_;
  std::once_flag stop_once_;
};

}  // namespace tandem::http
