// TLS on tandem's HTTP links, client side: which CAs an https client trusts and which certificate
// it presents (mutual TLS), and a failure put in words (an untrusted CA, a certificate for another
// host, a handshake the server refused) rather than httplib's bare error name.
#pragma once
#include <httplib.h>

#include <memory>
#include <string>

namespace tandem::http {

struct TlsClientConfig {
  std::string ca_file;      // PEM CA certificates trusted for the server; "": the system's CAs
  std::string client_cert;  // PEM certificate presented to the server; "": none
  std::string client_key;   // its PEM private key (with client_cert)
};

// scheme://host[:port] of a URL (its path dropped), what a client is made for.
std::string url_origin(const std::string& url);

// A client for scheme://host[:port]. Over https the server's certificate chain and host name are
// always verified. Throws Error for an unusable URL or TLS files that do not load.
std::unique_ptr<httplib::Client> make_http_client(const std::string& origin, const TlsClientConfig& tls);

// Forgets earlier TLS errors of this thread: call before a request whose failure may be described.
void clear_tls_errors();

// Why a request on `c` to `origin` got no answer, in words; for TLS with OpenSSL's reason.
std::string describe_http_error(const httplib::Client& c, httplib::Error e, const std::string& origin,
                                const TlsClientConfig& tls);

// Whether the request bytes surely never left: no connection, or no TLS session with a server
// this client trusts.
bool failed_before_sending(httplib::Error e);

}  // namespace tandem::http
