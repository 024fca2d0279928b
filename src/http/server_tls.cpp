// HTTPS for GuardedHttpServer. The watcher cannot read a TLS connection's request head (it is
// encrypted), so it only waits until the client sends something; the worker then runs the
// handshake and the request under the same deadlines as plain connections, and a kept-alive
// connection with nothing buffered in TLS goes back to the watcher between requests.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "format/error.h"
#include "http/conn.h"

namespace tandem::http {

namespace {

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return std::string(": ") + buf;
}

// > 0: ready; 0: timed out; < 0: the server is stopping or the socket failed.
int wait_socket(int fd, short what, int stop_fd, HttpClock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - HttpClock::now()).count();
  if (left <= 0) return 0;
  pollfd p[2] = {{fd, what, 0}, {stop_fd, POLLIN, 0}};
  int r;
  do r = ::poll(p, 2, int(left));
  while (r < 0 && errno == EINTR);
  if (r <= 0) return r;
  if (p[1].revents) return -1;
  return p[0].revents & (POLLERR | POLLNVAL) ? -1 : 1;
}

// Runs one non-blocking OpenSSL call until it completes, waiting for the socket as it asks.
template <class Op>
int tls_call(SSL* ssl, int fd, int stop_fd, HttpClock::time_point deadline, Op op) {
  for (;;) {
    const int r = op();
    if (r > 0) return r;
    const int err = SSL_get_error(ssl, r);
    short what = 0;
    if (err == SSL_ERROR_WANT_READ) what = POLLIN;
    else if (err == SSL_ERROR_WANT_WRITE) what = POLLOUT;
    else return err == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    if (wait_socket(fd, what, stop_fd, deadline) <= 0) return -1;
  }
}

// A request's view of a TLS connection, with the plain ConnStream's deadlines.
class TlsStream : public httplib::Stream {
 public:
  TlsStream(GuardedHttpServer::Conn& c, const HttpLimits& limits, int stop_fd)
      : c_(c), limits_(limits), stop_fd_(stop_fd),
        read_deadline_(HttpClock::now() + limits.request_timeout + limits.body_timeout) {}

  bool is_readable() const override {
    return SSL_pending(c_.ssl) > 0 || wait_socket(c_.fd, POLLIN, stop_fd_, HttpClock::now() + std::chrono::milliseconds(1)) > 0;
  }
  bool is_writable() const override {
    return wait_socket(c_.fd, POLLOUT, stop_fd_, HttpClock::now() + limits_.write_timeout) > 0;
  }
  ssize_t read(char* ptr, size_t size) override {
    const int n = int(std::min<size_t>(size, 1 << 30));
    return tls_call(c_.ssl, c_.fd, stop_fd_, read_deadline_, [&] { return SSL_read(c_.ssl, ptr, n); });
  }
  ssize_t write(const char* ptr, size_t size) override {
    const int n = int(std::min<size_t>(size, 1 << 30));
    return tls_call(c_.ssl, c_.fd, stop_fd_, HttpClock::now() + limits_.write_timeout,
                    [&] { return SSL_write(c_.ssl, ptr, n); });
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override { peer_address(c_.fd, ip, port, true); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { peer_address(c_.fd, ip, port, false); }
  socket_t socket() const override { return c_.fd; }

 private:
  GuardedHttpServer::Conn& c_;
  const HttpLimits& limits_;
  int stop_fd_;
  HttpClock::time_point read_deadline_;
};

}  // namespace

void GuardedHttpServer::set_tls(const TlsFiles& files) {
  if (files.cert.empty() || files.key.empty()) {
    if (!files.ca.empty()) throw Error("--ssl-ca needs --ssl-cert and --ssl-key");
    throw Error("HTTPS needs both --ssl-cert and --ssl-key");
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) throw Error("cannot set up TLS" + openssl_error());
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> guard(ctx, SSL_CTX_free);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, files.key.c_str(), SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    throw Error("cannot use the TLS certificate '" + files.cert + "' with key '" + files.key +
                "' (PEM files, and the key must match the certificate)" + openssl_error());
  if (!files.ca.empty()) {
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.ca.c_str());
    if (!names || SSL_CTX_load_verify_locations(ctx, files.ca.c_str(), nullptr) != 1)
      throw Error("cannot use the client CAs '" + files.ca + "' (a PEM file of certificates)" + openssl_error());
    SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  if (tls_ctx_) SSL_CTX_free(tls_ctx_);
  tls_ctx_ = guard.release();
}

void GuardedHttpServer::free_tls() {
  if (tls_ctx_) SSL_CTX_free(tls_ctx_);
  tls_ctx_ = nullptr;
}

void GuardedHttpServer::free_conn_tls(Conn& c) {
  if (!c.ssl) return;
  SSL_set_quiet_shutdown(c.ssl, 1);  // no close_notify exchange: the socket closes next
  SSL_free(c.ssl);
  c.ssl = nullptr;
}

GuardedHttpServer::WatchNext GuardedHttpServer::on_tls_readable(Conn& c) {
  char b;
  const ssize_t r = ::recv(c.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  if (r > 0) return WatchNext::Dispatch;
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return WatchNext::Keep;
  return WatchNext::Close;
}

void GuardedHttpServer::serve_tls_request(std::unique_ptr<Conn> c) {
  if (!c->ssl) {
    ::fcntl(c->fd, F_SETFL, ::fcntl(c->fd, F_GETFL) | O_NONBLOCK);  // every wait is a poll with a deadline
    c->ssl = SSL_new(tls_ctx_);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 ||
        tls_call(c->ssl, c->fd, stop_fd_, HttpClock::now() + limits_.request_timeout,
                 [&] { return SSL_accept(c->ssl); }) <= 0) {
      ERR_clear_error();
      close_conn(std::move(c));  // not a TLS client, a refused certificate, or too slow
      return;
    }
  }
  const bool last = stopping_ || ++c->requests >= limits_.keep_alive_max_requests;
  bool client_closes = false;
  TlsStream strm(*c, limits_, stop_fd_);
  const bool keep = process_request(strm, last, client_closes, nullptr) && !last && !client_closes && !stopping_;
  ERR_clear_error();
  if (!keep) {
    close_conn(std::move(c));
    return;
  }
  c->deadline = HttpClock::now() + limits_.request_timeout;
  if (SSL_pending(c->ssl) > 0) dispatch(std::move(c));  // the next request is already decrypted
  else park(std::move(c));
}

}  // namespace tandem::http
