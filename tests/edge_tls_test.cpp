// The device -> cloud link over TLS on loopback, with a certificate authority made for the test:
// tandem serve with --ssl-cert/--ssl-key (and --ssl-ca: client certificates required), and an edge
// gateway whose cloud endpoint is https://127.0.0.1:PORT. Trusted through ca_file, CLOUD and
// SPECULATIVE complete over it; an unknown CA (the system's CAs only), a certificate for another
// host, or a missing client certificate is refused, with the reason in /health.
#include <gtest/gtest.h>

#include "edge/config.h"
#include "edge/speculative_runner.h"
#include "format/error.h"
#include "verify/verify_client.h"
#include "edge_e2e_util.h"
#include "edge_test_util.h"
#include "serve_test_util.h"
#include "tls_test_util.h"

using namespace tandem;
using nlohmann::json;

namespace {

const char* kModel = "stories260K-f32.gguf";

// A TLS tandem serve: the server certificate names `sans`; client_ca: require client certificates.
std::unique_ptr<test::ServeFixture> https_serve(test::TestPki& pki, const std::string& sans = "IP:127.0.0.1,DNS:localhost",
                                                bool require_client_cert = false) {
  const auto cert = pki.leaf("server", pki.server_ca(), sans);
  const std::string client_ca = require_client_cert ? pki.client_ca().cert_file : "";
  return std::make_unique<test::ServeFixture>(kModel, [&](serve::ServerConfig& c) {
    c.ssl_cert = cert.cert_file;
    c.ssl_key = cert.key_file;
    c.ssl_ca = client_ca;
  });
}

edge::EdgeConfig https_edge_config(int cloud_port, const http::TlsClientConfig& tls) {
  edge::EdgeConfig cfg = test::edge_test_config(kModel, cloud_port);
  cfg.clouds[0].url = "https://127.0.0.1:" + std::to_string(cloud_port);
  cfg.clouds[0].tls = tls;
  return cfg;
}

edge_e2e::Http ask_cloud(const test::GatewayFixture& edge, const std::string& route = "cloud") {
  return edge_e2e::post(edge.port, "/v1/completions", edge_e2e::completion(6, "", route));
}

std::string last_error(const test::GatewayFixture& edge) {
  const json h = edge_e2e::get(edge.port, "/health").body;
  return h["endpoints"][0]["last_error"].get<std::string>();
}

}  // namespace

TEST(ServeTls, AnswersHttpsAndOnlyOverTls) {
  TANDEM_REQUIRE_FILE(test::model_path(kModel));
  test::TestPki pki;
  auto cloud = https_serve(pki);
  httplib::Client tls("https://127.0.0.1:" + std::to_string(cloud->port));
  tls.enable_server_certificate_verification(true);
  tls.set_ca_cert_path(pki.server_ca().cert_file);
  auto r = tls.Get("/v1/models");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  httplib::Client plain("127.0.0.1", cloud->port);
  plain.set_read_timeout(5);
  EXPECT_FALSE(plain.Get("/v1/models"));  // plain HTTP gets no answer from a TLS port

  serve::ServerConfig bad;
  bad.model_path = test::model_path(kModel);
  bad.ssl_cert = pki.leaf("other", pki.server_ca(), "DNS:localhost").cert_file;
  EXPECT_THROW(serve::Server s(bad), Error);  // no key
  bad.ssl_key = pki.client_ca().key_file;     // a key of another certificate
  EXPECT_THROW(serve::Server s(bad), Error);
}

// The real `tandem serve --ssl-cert --ssl-key --ssl-ca`: its startup line says https, and a
// client with a certificate from the client CA is answered.
TEST(ServeTls, CommandLineFlags) {
  TANDEM_REQUIRE_FILE(test::model_path(kModel));
  test::TestPki pki;
  const auto cert = pki.leaf("server", pki.server_ca(), "IP:127.0.0.1");
  const auto device = pki.leaf("device", pki.client_ca(), "DNS:device");
  test::ChildProcess serve({test::tandem_binary(), "serve", "-m", test::model_path(kModel), "--port", "0", "-t", "1",
                            "-q", "--ssl-cert", cert.cert_file, "--ssl-key", cert.key_file, "--ssl-ca",
                            pki.client_ca().cert_file});
  const int port = serve.wait_for_port("tandem serve:", "https://");
  ASSERT_GT(port, 0) << serve.log();
  EXPECT_NE(serve.log().find("client certificates required"), std::string::npos) << serve.log();
  httplib::Client c("https://127.0.0.1:" + std::to_string(port), device.cert_file, device.key_file);
  c.enable_server_certificate_verification(true);
  c.set_ca_cert_path(pki.server_ca().cert_file);
  const auto r = c.Get("/v1/models");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);

  test::ChildProcess half({test::tandem_binary(), "serve", "-m", test::model_path(kModel), "--ssl-cert", cert.cert_file});
  EXPECT_NE(half.wait_for_line("--ssl-key"), "") << half.log();  // refused, naming the missing flag
  EXPECT_EQ(half.stop(), 1);
}

TEST(EdgeTls, CloudOverHttpsWithTheConfiguredCa) {
  TANDEM_REQUIRE_FILE(test::model_path(kModel));
  test::TestPki pki;
  auto cloud = https_serve(pki);
  test::GatewayFixture edge(https_edge_config(cloud->port, {pki.server_ca().cert_file, "", ""}));
  const auto r = ask_cloud(edge);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["route"], "CLOUD");
  EXPECT_EQ(r.body["tandem"]["served_by"], "primary") << r.text;
  EXPECT_FALSE(r.body["choices"][0]["text"].get<std::string>().empty());
  // GET /v1/models went over TLS too: the endpoint's model was checked (same vocabulary).
  const json h = edge_e2e::get(edge.port, "/health").body;
  EXPECT_EQ(h["endpoints"][0]["sync"], "ok") << h.dump();
}

TEST(EdgeTls, SystemCasRefuseAPrivateCaWithAReason) {
  TANDEM_REQUIRE_FILE(test::model_path(kModel));
  test::TestPki pki;
  auto cloud = https_serve(pki);
  test::GatewayFixture edge(https_edge_config(cloud->port, {}));
  const auto r = ask_cloud(edge);
  ASSERT_EQ(r.status, 200) << r.text;  // the device answered instead
  EXPECT_EQ(r.body["tandem"]["served_by"], "device") << r.text;
  EXPECT_EQ(r.header("x-tandem-failure"), "connection");
  const std::string why = last_error(edge);
  EXPECT_NE(why.find("not trusted"), std::string::npos) << why;
  EXPECT_NE(why.find("system"), std::string::npos) << why;
}

TEST(EdgeTls, ACertificateForAnotherHostIsRefused) {
  TANDEM_REQUIRE_FILE(test::model_path(kModel));
  test::TestPki pki;
  auto cloud = https_serve(pki, "DNS:cloud.example");
  test::GatewayFixture edge(https_edge_config(cloud->port, {pki.server_ca().cert_file, "", ""}));
  const auto r = ask_cloud(edge);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["served_by"], "device") << r.text;
  const std::string why = last_error(edge);
  EXPECT_NE(why.find("does not name the host '127.0.0.1'"), std::string::npos) << why;
}

TEST(EdgeTls, MutualTlsNeedsTheClientCertificate) {
  TANDEM_REQUIRE_FILE(test::model_path(kModel));
  test::TestPki pki;
  auto cloud = https_serve(pki, "IP:127.0.0.1,DNS:localhost", /*require_client_cert=*/true);
  {
    test::GatewayFixture edge(https_edge_config(cloud->port, {pki.server_ca().cert_file, "", ""}));
    const auto r = ask_cloud(edge);
    ASSERT_EQ(r.status, 200) << r.text;
    EXPECT_EQ(r.body["tandem"]["served_by"], "device") << r.text;
    const std::string why = last_error(edge);
    EXPECT_NE(why.find("TLS"), std::string::npos) << why;
    EXPECT_NE(why.find("certificate"), std::string::npos) << why;
  }
  {  // a certificate from a CA the server does not accept
    const auto stranger = pki.leaf("stranger", pki.server_ca(), "DNS:device");
    test::GatewayFixture edge(https_edge_config(
        cloud->port, {pki.server_ca().cert_file, stranger.cert_file, stranger.key_file}));
    EXPECT_EQ(ask_cloud(edge).body["tandem"]["served_by"], "device");
  }
  const auto device = pki.leaf("device", pki.client_ca(), "DNS:device");
  test::GatewayFixture edge(
      https_edge_config(cloud->port, {pki.server_ca().cert_file, device.cert_file, device.key_file}));
  const auto r = ask_cloud(edge);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["served_by"], "primary") << r.text;
}

TEST(EdgeTls, SpeculativeVerifiesOverMutualTls) {
  TANDEM_REQUIRE_FILE(test::model_path(kModel));
  test::TestPki pki;
  auto cloud = https_serve(pki, "IP:127.0.0.1,DNS:localhost", true);
  const auto device = pki.leaf("device", pki.client_ca(), "DNS:device");
  const http::TlsClientConfig tls{pki.server_ca().cert_file, device.cert_file, device.key_file};
  edge::GatewayHooks hooks;
  edge::SpeculativeRunnerConfig sc;
  sc.n_threads = 1;
  sc.draft_max = 4;
  hooks.speculative = std::make_shared<edge::VerifySpeculativeRunner>(sc);
  test::GatewayFixture edge(https_edge_config(cloud->port, tls), hooks);
  const auto r = ask_cloud(edge, "speculative");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["route"], "SPECULATIVE") << r.text;
  EXPECT_GT(r.body["tandem"]["speculative"]["rounds"].get<int>(), 0) << r.text;

  // The verify client on its own: without the CA it refuses the server, with a reason.
  verify::ClientConfig vc;
  vc.url = "https://127.0.0.1:" + std::to_string(cloud->port);
  verify::VerifyClient untrusting(vc);
  std::string why;
  EXPECT_FALSE(untrusting.fetch_model(&why));
  EXPECT_NE(why.find("not trusted"), std::string::npos) << why;
  vc.tls = tls;
  verify::VerifyClient trusting(vc);
  EXPECT_TRUE(trusting.fetch_model(&why)) << why;
}

TEST(EdgeTls, ConfigKeysAreCheckedAtLoad) {
  test::TestPki pki;
  const std::string ca = pki.server_ca().cert_file;
  auto load = [](const std::string& endpoint) { return edge::parse_config("[device]\nmodel = \"m.gguf\"\n[[cloud]]\n" + endpoint); };
  const edge::EdgeConfig c = load("url = \"https://cloud.example\"\nca_file = \"" + ca + "\"\n");
  EXPECT_EQ(c.clouds[0].tls.ca_file, ca);
  auto error_of = [&](const std::string& endpoint) {
    try {
      load(endpoint);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of("url = \"http://x\"\nca_file = \"" + ca + "\"\n").find("cloud[0].ca_file"), std::string::npos);
  EXPECT_NE(error_of("url = \"https://x\"\nclient_cert = \"" + ca + "\"\n").find("cloud[0].client_key"), std::string::npos);
  EXPECT_NE(error_of("url = \"https://x\"\nca_file = \"/nonexistent/ca.pem\"\n").find("cloud[0].ca_file"),
            std::string::npos);
}
