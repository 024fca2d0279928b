// A throwaway public-key infrastructure for the TLS tests, made at run time with OpenSSL's C API
// (no private keys in the repository): a server CA, a client CA, and PEM files of certificates
// they sign, written into a temporary directory that goes away with the object.
#pragma once
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "test_util.h"

namespace tandem::test {

class TestPki {
 public:
  // A key pair and its certificate; the CA ones sign others.
  struct Cert {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    std::string cert_file, key_file;
  };

  TestPki() : dir_(temp_path("tls") + "-" + std::to_string(counter()++)) { std::filesystem::create_directories(dir_); }
  ~TestPki() {
    for (Cert* c : {&server_ca_, &client_ca_}) free(*c);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  const Cert& server_ca() { return ca(server_ca_, "tandem test server CA"); }
  const Cert& client_ca() { return ca(client_ca_, "tandem test client CA"); }

  // A certificate signed by `issuer` for the names in `sans` (OpenSSL's syntax, e.g.
  // "IP:127.0.0.1,DNS:localhost"), its files named after `stem`.
  Cert leaf(const std::string& stem, const Cert& issuer, const std::string& sans) {
    Cert c;
    c.key = EVP_EC_gen("P-256");
    c.cert = make_cert(c.key, stem, &issuer, sans);
    write(c, stem);
    free(c);  // only the files are needed from here on
    return c;
  }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  static void free(Cert& c) {
    X509_free(c.cert);
    EVP_PKEY_free(c.key);
    c.cert = nullptr;
    c.key = nullptr;
  }

  const Cert& ca(Cert& c, const std::string& cn) {
    if (c.cert) return c;
    c.key = EVP_EC_gen("P-256");
    c.cert = make_cert(c.key, cn, nullptr, "");
    write(c, cn == "tandem test server CA" ? "server-ca" : "client-ca");
    return c;
  }

  static void add_ext(X509* x, X509V3_CTX* ctx, int nid, const std::string& value) {
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
    if (!e) throw std::runtime_error("bad extension " + value);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
  }

  // Self-signed CA when issuer is null; valid from an hour ago for a day.
  static X509* make_cert(EVP_PKEY* key, const std::string& cn, const Cert* issuer, const std::string& sans) {
    static long serial = 1;
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert) : X509_get_subject_name(x));
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer->cert : x, x, nullptr, nullptr, 0);
    add_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (!issuer) {
      add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
      add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
      add_ext(x, &ctx, NID_basic_constraints, "CA:FALSE");
      add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
      add_ext(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
      if (!sans.empty()) add_ext(x, &ctx, NID_subject_alt_name, sans);
    }
    if (!X509_sign(x, issuer ? issuer->key : key, EVP_sha256())) throw std::runtime_error("cannot sign " + cn);
    return x;
  }

  void write(Cert& c, const std::string& stem) const {
    c.cert_file = dir_ + "/" + stem + ".crt";
    c.key_file = dir_ + "/" + stem + ".key";
    FILE* f = std::fopen(c.cert_file.c_str(), "w");
    PEM_write_X509(f, c.cert);
    std::fclose(f);
    f = std::fopen(c.key_file.c_str(), "w");
    PEM_write_PrivateKey(f, c.key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
  }

  std::string dir_;
  Cert server_ca_, client_ca_;
};

}  // namespace tandem::test
