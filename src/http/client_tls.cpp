#include "http/client_tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <filesystem>

#include "format/error.h"

namespace tandem::http {

namespace {

void require_file(const std::string& path, const char* what) {
  std::error_code ec;
  if (!path.empty() && !std::filesystem::is_regular_file(path, ec))
    throw Error(std::string(what) + " '" + path + "' is not a readable file");
}

// This thread's OpenSSL errors, oldest first ("tlsv13 alert certificate required"), without
// the "shutdown while in init" that closing a failed handshake adds; "" when none.
std::string take_openssl_errors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    const char* r = ERR_reason_error_string(code);
    const std::string reason = r ? r : buf;
    if (reason == "shutdown while in init" || out.find(reason) != std::string::npos) continue;
    out += (out.empty() ? "" : "; ") + reason;
  }
  return out;
}

std::string host_of(const std::string& origin) {
  const size_t at = origin.find("://");
  std::string host = at == std::string::npos ? origin : origin.substr(at + 3);
  if (!host.empty() && host[0] == '[') return host.substr(1, host.find(']') - 1);  // [::1]:443
  return host.substr(0, host.rfind(':') == std::string::npos ? host.size() : host.rfind(':'));
}

}  // namespace

std::string url_origin(const std::string& url) {
  const size_t scheme = url.find("://");
  return url.substr(0, url.find('/', scheme == std::string::npos ? 0 : scheme + 3));
}

std::unique_ptr<httplib::Client> make_http_client(const std::string& origin, const TlsClientConfig& tls) {
  const bool https = origin.rfind("https://", 0) == 0;
  if (!https && (!tls.ca_file.empty() || !tls.client_cert.empty() || !tls.client_key.empty()))
    throw Error("TLS settings (ca_file, client_cert, client_key) need an https:// URL, not " + origin);
  if (tls.client_cert.empty() != tls.client_key.empty())
    throw Error("a client certificate needs both client_cert and client_key");
  require_file(tls.ca_file, "ca_file");
  require_file(tls.client_cert, "client_cert");
  require_file(tls.client_key, "client_key");
  auto c = tls.client_cert.empty() ? std::make_unique<httplib::Client>(origin)
                                   : std::make_unique<httplib::Client>(origin, tls.client_cert, tls.client_key);
  if (!c->is_valid())
    throw Error(tls.client_cert.empty() ? "cannot use the URL '" + origin + "'"
                                        : "cannot load the client certificate '" + tls.client_cert + "' with key '" +
                                              tls.client_key + "' (PEM, and the key must match)");
  if (https) {
    c->enable_server_certificate_verification(true);
    if (!tls.ca_file.empty()) c->set_ca_cert_path(tls.ca_file);
  }
  return c;
}

void clear_tls_errors() { ERR_clear_error(); }

std::string describe_http_error(const httplib::Client& c, httplib::Error e, const std::string& origin,
                                const TlsClientConfig& tls) {
  const std::string trusted_by = tls.ca_file.empty() ? "the system's CAs (set ca_file for a private CA)"
                                                     : "the CAs in ca_file '" + tls.ca_file + "'";
  switch (e) {
    case httplib::Error::SSLServerVerification: {
      const long v = c.get_openssl_verify_result();
      ERR_clear_error();
      if (v != X509_V_OK)
        return "TLS: the server's certificate is not trusted: " + std::string(X509_verify_cert_error_string(v)) +
               " (checked against " + trusted_by + ")";
      return "TLS: the server's certificate does not name the host '" + host_of(origin) + "'";
    }
    case httplib::Error::SSLLoadingCerts: {
      const std::string why = take_openssl_errors();
      return "TLS: cannot load " + trusted_by + (why.empty() ? "" : ": " + why);
    }
    case httplib::Error::SSLConnection:
    case httplib::Error::Read:
    case httplib::Error::Write: {
      // A server that requires a client certificate refuses the handshake (TLS 1.2) or, with
      // TLS 1.3, answers the request with an alert, or closes the connection before the client
      // has read the alert (then only the closing is known).
      const std::string why = take_openssl_errors();
      if (origin.rfind("https://", 0) != 0) return httplib::to_string(e);
      std::string s = !why.empty() ? "TLS: the server refused the connection: " + why
                      : e == httplib::Error::SSLConnection
                          ? std::string("TLS: the handshake failed")
                          : "TLS: the server closed the connection (" + httplib::to_string(e) + ")";
      if (why.empty() || why.find("certificate") != std::string::npos || why.find("unknown ca") != std::string::npos)
        s += tls.client_cert.empty() ? " (if it requires a client certificate: set client_cert and client_key)"
                                     : " (if it requires client certificates: is client_cert signed by a CA it accepts?)";
      return s;
    }
    default: return httplib::to_string(e);
  }
}

bool failed_before_sending(httplib::Error e) {
  return e == httplib::Error::Connection || e == httplib::Error::ConnectionTimeout ||
         e == httplib::Error::SSLConnection || e == httplib::Error::SSLLoadingCerts ||
         e == httplib::Error::SSLServerVerification;
}

}  // namespace tandem::http
