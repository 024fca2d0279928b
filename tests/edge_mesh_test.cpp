// The gateway and the LAN mesh (docs/mesh.md): peers found from their UDP adverts take PEER work
// (the text is the peer's own greedy answer), show in /health with their capacity, are skipped
// when they have no idle slot, disappear when they go silent, need a valid MAC when the gateway
// holds a mesh key, never take over a configured endpoint's name; a gateway advertises itself;
// a call from another gateway is answered on the device; and the processes as a user runs them
// (`tandem serve --advertise`, `tandem edge` with [mesh] listen).
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "edge/gateway.h"
#include "edge_e2e_util.h"
#include "edge_test_util.h"
#include "format/error.h"
#include "mesh/announcer.h"
#include "mesh/listener.h"
#include "serve_test_util.h"

using namespace tandem;
using namespace tandem::edge;
using nlohmann::json;

namespace {

const char* kDevice = "stories260K-q4_0.gguf";
const char* kCloud = "stories260K-f32.gguf";

struct MeshEdge : test::GatewayFixture {
  using GatewayFixture::GatewayFixture;
  json health() const {
    auto c = client();
    auto r = c.Get("/health");
    return r ? json::parse(r->body) : json();
  }
  json endpoint(const std::string& name) const {
    const json h = health();  // not health()["endpoints"] in the loop: that temporary would dangle
    if (h.is_object())
      for (const auto& e : h["endpoints"])
        if (e["name"] == name) return e;
    return nullptr;
  }
  json complete(const json& body, const httplib::Headers& h = {}) const {
    auto c = client();
    auto r = c.Post("/v1/completions", h, body.dump(), "application/json");
    if (!r) return nullptr;
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body);
  }
};

EdgeConfig mesh_config(const std::string& key_env = "") {
  EdgeConfig c = test::edge_test_config(kDevice);
  c.mesh_listen = "127.0.0.1:0";
  c.mesh_key_env = key_env;
  c.mesh_accept_unsigned = key_env.empty();
  return c;
}

// What `tandem serve --advertise` sends, for an in-process server.
std::unique_ptr<mesh::Announcer> advertise(const test::ServeFixture& s, int mesh_port, const std::string& name,
                                           std::atomic<int>* idle, const std::string& key = "") {
  mesh::AnnouncerConfig ac;
  ac.advert.name = name;
  ac.advert.url = "http://127.0.0.1:" + std::to_string(s.port);
  ac.advert.model = s.server->model_id();
  ac.advert.vocab_fingerprint = s.server->vocab_fingerprint();
  ac.advert.sha256 = s.server->file_sha256();
  ac.advert.interval_ms = 250;  // expires after 750 ms of silence: slack for a loaded, sanitized run
  ac.targets = {"127.0.0.1:" + std::to_string(mesh_port)};
  ac.key = key;
  auto a = std::make_unique<mesh::Announcer>(ac, [idle] { return mesh::Capacity{4, idle->load(), 0}; });
  a->start();
  return a;
}

const json kAsk = {{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"temperature", 0}, {"tandem", {{"route", "peer"}}}};

}  // namespace

TEST(EdgeMesh, ADiscoveredPeerTakesPeerWorkUntilItGoesSilent) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture peer(kCloud);
  MeshEdge edge(mesh_config());
  ASSERT_GT(edge.gw->mesh_port(), 0);
  // Before any advert: no peer, the device answers.
  json r = edge.complete(kAsk);
  EXPECT_EQ(r["tandem"]["route"], "LOCAL");
  EXPECT_EQ(r["tandem"]["reasons"].back(), "connectivity:no_endpoint");

  std::atomic<int> idle{3};
  auto ann = advertise(peer, edge.gw->mesh_port(), "lan-box", &idle);
  ASSERT_TRUE(edge_e2e::poll_until([&] { return !edge.endpoint("lan-box").is_null(); }, std::chrono::seconds(10)));
  json e = edge.endpoint("lan-box");
  EXPECT_EQ(e["kind"], "peer");
  EXPECT_EQ(e["sync"], "ok");  // the advert's vocabulary fingerprint is the device model's
  EXPECT_EQ(e["discovered"]["kind"], "serve");
  EXPECT_EQ(e["discovered"]["slots"], 4);
  EXPECT_EQ(e["discovered"]["signed"], false);
  EXPECT_GE(edge.health()["mesh"]["accepted"].get<int>(), 1);

  // PEER work goes to it, and the answer is its own greedy text.
  r = edge.complete(kAsk);
  EXPECT_EQ(r["tandem"]["route"], "PEER");
  EXPECT_EQ(r["tandem"]["served_by"], "lan-box");
  const json direct = peer.post("/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"temperature", 0}}).body;
  EXPECT_EQ(r["choices"][0]["text"], direct["choices"][0]["text"]);
  EXPECT_TRUE(r["tandem"]["data_left_device"].get<bool>());

  // No idle slot: skipped (the device answers) until it has room again.
  idle = 0;
  ASSERT_TRUE(edge_e2e::poll_until([&] { return edge.endpoint("lan-box")["usable"] == false; }, std::chrono::seconds(10)));
  r = edge.complete(kAsk);
  EXPECT_EQ(r["tandem"]["route"], "LOCAL");
  idle = 2;
  ASSERT_TRUE(edge_e2e::poll_until([&] { return edge.endpoint("lan-box")["usable"] == true; }, std::chrono::seconds(10)));
  EXPECT_EQ(edge.complete(kAsk)["tandem"]["route"], "PEER");

  // Silent for three of its intervals: gone.
  ann->stop();
  ASSERT_TRUE(edge_e2e::poll_until([&] { return edge.endpoint("lan-box").is_null(); }, std::chrono::seconds(10)));
  r = edge.complete(kAsk);
  EXPECT_EQ(r["tandem"]["route"], "LOCAL");
}

TEST(EdgeMesh, UnderAMeshKeyOnlySignedAdvertsCount) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture peer(kCloud);
  ::setenv("TANDEM_MESH_TEST_KEY", "mesh-secret", 1);
  MeshEdge edge(mesh_config("TANDEM_MESH_TEST_KEY"));
  std::atomic<int> idle{4};
  auto stranger = advertise(peer, edge.gw->mesh_port(), "stranger", &idle);               // unsigned
  auto impostor = advertise(peer, edge.gw->mesh_port(), "impostor", &idle, "guessed");    // another key
  ASSERT_TRUE(edge_e2e::poll_until([&] { return edge.health()["mesh"]["dropped"].get<int>() >= 4; }, std::chrono::seconds(10)));
  EXPECT_TRUE(edge.endpoint("stranger").is_null());
  EXPECT_TRUE(edge.endpoint("impostor").is_null());
  auto friend_ = advertise(peer, edge.gw->mesh_port(), "friend", &idle, "mesh-secret");
  ASSERT_TRUE(edge_e2e::poll_until([&] { return !edge.endpoint("friend").is_null(); }, std::chrono::seconds(10)));
  EXPECT_EQ(edge.endpoint("friend")["discovered"]["signed"], true);
  EXPECT_EQ(edge.complete(kAsk)["tandem"]["served_by"], "friend");
  EXPECT_TRUE(edge.endpoint("stranger").is_null());
}

TEST(EdgeMesh, AnAdvertCannotTakeOverAConfiguredEndpoint) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud), other(kCloud);
  EdgeConfig cfg = mesh_config();
  cfg.clouds = test::edge_test_config(kDevice, cloud.port).clouds;  // "primary"
  MeshEdge edge(cfg);
  std::atomic<int> idle{4};
  auto ann = advertise(other, edge.gw->mesh_port(), "primary", &idle);
  ASSERT_TRUE(edge_e2e::poll_until([&] { return edge.health()["mesh"]["accepted"].get<int>() >= 3; }, std::chrono::seconds(10)));
  const json h = edge.health();
  ASSERT_EQ(h["endpoints"].size(), 1u);
  EXPECT_EQ(h["endpoints"][0]["url"], "http://127.0.0.1:" + std::to_string(cloud.port));
  EXPECT_TRUE(h["endpoints"][0]["discovered"].is_null());
}

TEST(EdgeMesh, AGatewayAdvertisesItselfAndAnswersPeersOnItsDevice) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud);
  std::mutex mu;
  std::vector<mesh::Advert> heard;
  mesh::Listener listener({.listen = "127.0.0.1:0", .key = ""}, [&](const mesh::Advert& a, bool) {
    std::lock_guard<std::mutex> lk(mu);
    heard.push_back(a);
  });
  listener.start();
  EdgeConfig cfg = test::edge_test_config(kDevice, cloud.port);
  cfg.mesh_advertise = {"127.0.0.1:" + std::to_string(listener.port())};
  cfg.mesh_name = "phone";
  cfg.mesh_interval_ms = 100;
  MeshEdge edge(cfg);
  ASSERT_TRUE(edge_e2e::poll_until([&] {
    std::lock_guard<std::mutex> lk(mu);
    return !heard.empty();
  }, std::chrono::seconds(10)));
  {
    std::lock_guard<std::mutex> lk(mu);
    EXPECT_EQ(heard[0].name, "phone");
    EXPECT_EQ(heard[0].kind, "edge");
    EXPECT_EQ(heard[0].url, "http://127.0.0.1:" + std::to_string(edge.port));
    EXPECT_EQ(heard[0].slots, cfg.device_parallel);
    EXPECT_EQ(heard[0].idle, cfg.device_parallel);
  }
  EXPECT_EQ(edge.health()["mesh"]["advertising"]["name"], "phone");
  // A request from another gateway (x-tandem-hop) is answered here even when it asks for the cloud.
  json ask = kAsk;
  ask["tandem"]["route"] = "cloud";
  json r = edge.complete(ask, {{"x-tandem-hop", "1"}});
  EXPECT_EQ(r["tandem"]["route"], "LOCAL");
  EXPECT_EQ(r["tandem"]["reasons"].back(), "mesh:from_peer");
  EXPECT_EQ(edge.complete(ask)["tandem"]["route"], "CLOUD");
  listener.stop();
}

TEST(EdgeMesh, BadMeshSettingsAreRefusedByName) {
  TANDEM_REQUIRE_FILE(test::model_path(kDevice));
  EdgeConfig cfg = mesh_config("TANDEM_MESH_TEST_UNSET_KEY");
  ::unsetenv("TANDEM_MESH_TEST_UNSET_KEY");
  try {
    Gateway gw(cfg);
    gw.start();
    gw.stop();
    ADD_FAILURE() << "an unset mesh key was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("TANDEM_MESH_TEST_UNSET_KEY"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_config("[mesh]\ninterval_ms = 5\n"), Error);
  EXPECT_THROW(parse_config("[mesh]\nlisten = 7707\n"), Error);
  EXPECT_THROW(parse_config("[mesh]\nbroadcast = true\n"), Error);
  const EdgeConfig ok = parse_config("[mesh]\nlisten = \"0.0.0.0:7707\"\nadvertise = [\"255.255.255.255:7707\"]\nprice_output_per_1m = 0.5\n");
  EXPECT_EQ(ok.mesh_listen, "0.0.0.0:7707");
  EXPECT_EQ(ok.mesh_advertise.size(), 1u);
  EXPECT_EQ(ok.mesh_peer.price_output_per_1m, 0.5);
  EXPECT_TRUE(ok.mesh_peer.peer);
}

// As a user runs it: `tandem serve --advertise` and `tandem edge` with [mesh] listen, separate
// processes, the edge's config naming no peer at all.
TEST(EdgeMesh, ProcessesFindEachOther) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  edge_e2e::TempDir tmp;
  const std::string conf = tmp.file("edge.toml");
  std::ofstream(conf) << "[edge]\nport = 0\nledger = \"none\"\n[device]\nmodel = "
                      << edge_e2e::toml_string(test::model_path(kDevice))
                      << "\nthreads = 1\nstate_source = \"push\"\n[connectivity]\nprobe_interval_ms = 0\n"
                      << "[mesh]\nlisten = \"127.0.0.1:0\"\nkey_env = \"TANDEM_MESH_KEY\"\n";
  test::ChildProcess edge({test::tandem_binary(), "edge", "--config", conf}, {"TANDEM_MESH_KEY=k"});
  const int port = edge.wait_for_port("tandem edge: tandem on ", "http://");
  const edge_e2e::Http health = edge_e2e::get(port, "/health");
  ASSERT_EQ(health.status, 200) << health.text;
  const int mesh_port = health.body["mesh"]["port"].get<int>();
  test::ChildProcess serve({test::tandem_binary(), "serve", "-m", test::model_path(kCloud), "--port", "0", "-q", "-t", "1",
                            "--advertise", "127.0.0.1:" + std::to_string(mesh_port), "--advertise-name", "desk",
                            "--advertise-interval-ms", "250", "--mesh-key-env", "TANDEM_MESH_KEY"},
                           {"TANDEM_MESH_KEY=k"});
  ASSERT_TRUE(edge_e2e::poll_until([&] {
    const json h = edge_e2e::get(port, "/health").body;
    return h.is_object() && h["endpoints"].size() == 1 && h["endpoints"][0]["usable"] == true;
  }, std::chrono::seconds(60)));
  const edge_e2e::Http r = edge_e2e::post(port, "/v1/completions", kAsk);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["tandem"]["route"], "PEER");
  EXPECT_EQ(r.body["tandem"]["served_by"], "desk");
  EXPECT_EQ(r.body["tandem"]["tokens"]["cloud"]["completion"], 12);
}
