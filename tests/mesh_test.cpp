// The LAN mesh's adverts (src/mesh): encoding and signing, every way a datagram is refused (bad
// JSON, wrong version, missing or out-of-range fields, oversize, unsigned or altered under a key,
// old clocks and replays), and the announcer and listener talking over real UDP on loopback,
// including garbage datagrams that must not stop the listener.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "format/error.h"
#include "mesh/advert.h"
#include "mesh/announcer.h"
#include "mesh/listener.h"

using namespace tandem;
using namespace tandem::mesh;
using nlohmann::json;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Advert sample() {
  Advert a;
  a.name = "lan-box";
  a.url = "http://192.168.1.20:8080";
  a.model = "stories260K-f32";
  a.vocab_fingerprint = "sha256:abc";
  a.sha256 = "0123";
  a.slots = 4;
  a.idle = 3;
  a.queue = 1;
  a.interval_ms = 500;
  a.time_ms = now_ms();
  return a;
}

// Sends raw bytes to 127.0.0.1:port.
void send_raw(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(uint16_t(port));
  ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  ::close(fd);
}

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

}  // namespace

TEST(MeshAdvert, RoundTripSignedAndUnsigned) {
  const Advert a = sample();
  const std::string signed_dgram = encode_advert(a, "k3y");
  Decoded d = decode_advert(signed_dgram, "k3y");
  ASSERT_TRUE(d.advert) << d.error;
  EXPECT_TRUE(d.signed_ok);
  EXPECT_EQ(d.advert->name, a.name);
  EXPECT_EQ(d.advert->url, a.url);
  EXPECT_EQ(d.advert->kind, "serve");
  EXPECT_EQ(d.advert->model, a.model);
  EXPECT_EQ(d.advert->vocab_fingerprint, a.vocab_fingerprint);
  EXPECT_EQ(d.advert->sha256, a.sha256);
  EXPECT_EQ(d.advert->slots, 4);
  EXPECT_EQ(d.advert->idle, 3);
  EXPECT_EQ(d.advert->queue, 1);
  EXPECT_EQ(d.advert->interval_ms, 500);
  EXPECT_EQ(d.advert->time_ms, a.time_ms);

  // Without a key on the receiver: accepted, but nobody vouches for it.
  d = decode_advert(signed_dgram, "");
  ASSERT_TRUE(d.advert);
  EXPECT_FALSE(d.signed_ok);
  d = decode_advert(encode_advert(a, ""), "");
  ASSERT_TRUE(d.advert) << d.error;
  EXPECT_FALSE(d.signed_ok);
  // The MAC does not depend on the order the fields arrive in.
  json j = json::parse(signed_dgram);
  std::string reordered = "{\"time_ms\":" + j["time_ms"].dump();
  for (const auto& [k, v] : j.items())
    if (k != "time_ms") reordered += ",\"" + k + "\":" + v.dump();
  reordered += "}";
  EXPECT_TRUE(decode_advert(reordered, "k3y").signed_ok);
  // HMAC-SHA256 itself, against RFC 4231's test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(MeshAdvert, UnderAKeyOnlyAValidMacIsAccepted) {
  const Advert a = sample();
  EXPECT_NE(decode_advert(encode_advert(a, ""), "k3y").error.find("unsigned"), std::string::npos);
  EXPECT_NE(decode_advert(encode_advert(a, "other"), "k3y").error.find("does not verify"), std::string::npos);
  // Any altered field breaks the MAC: here a peer claiming more idle slots than it signed.
  json j = json::parse(encode_advert(a, "k3y"));
  j["idle"] = 4;
  const Decoded d = decode_advert(j.dump(), "k3y");
  EXPECT_FALSE(d.advert);
  EXPECT_NE(d.error.find("does not verify"), std::string::npos);
  j = json::parse(encode_advert(a, "k3y"));
  j["url"] = "http://10.0.0.66:8080";
  EXPECT_FALSE(decode_advert(j.dump(), "k3y").advert);
}

TEST(MeshAdvert, MalformedDatagramsAreDroppedWithAReason) {
  const json good = json::parse(encode_advert(sample(), ""));
  const auto with = [&](const std::string& k, const json& v) {
    json j = good;
    if (v.is_null()) j.erase(k);
    else j[k] = v;
    return j.dump();
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "not a JSON object"},
      {"[1,2]", "not a JSON object"},
      {"{\"name\":", "not a JSON object"},
      {with("tandem_mesh", 2), "version"},
      {with("tandem_mesh", nullptr), "version"},
      {with("name", nullptr), "text field"},
      {with("name", ""), "text field"},
      {with("url", 5), "text field"},
      {with("name", std::string(300, 'x')), "text field"},
      {with("name", "a\nb"), "text field"},
      {with("kind", "router"), "kind"},
      {with("url", "ftp://x"), "url"},
      {with("slots", -1), "number"},
      {with("idle", 9), "number"},  // more idle than slots
      {with("interval_ms", 1), "number"},
      {with("time_ms", "now"), "number"},
      {with("queue", 1.5), "number"},
      {std::string(kMaxAdvertBytes + 1, ' '), "larger"},
  };
  for (const auto& [dgram, why] : cases) {
    const Decoded d = decode_advert(dgram, "");
    EXPECT_FALSE(d.advert) << dgram;
    EXPECT_NE(d.error.find(why), std::string::npos) << dgram << " -> " << d.error;
  }
  Advert big = sample();
  big.name = std::string(300, 'n');
  EXPECT_THROW(encode_advert(big, ""), Error);
  big = sample();
  big.url = "";
  EXPECT_THROW(encode_advert(big, ""), Error);
}

TEST(MeshAdvert, ReplayGuardWantsNewerAndTimelyAdverts) {
  ReplayGuard g(30000);
  const int64_t now = now_ms();
  Advert a = sample();
  std::string why;
  a.time_ms = now;
  EXPECT_TRUE(g.accept(a, now, &why));
  EXPECT_FALSE(g.accept(a, now, &why));  // the same datagram again
  EXPECT_NE(why.find("replay"), std::string::npos);
  a.time_ms = now - 10;
  EXPECT_FALSE(g.accept(a, now, &why));
  a.time_ms = now + 1;
  EXPECT_TRUE(g.accept(a, now, &why));
  a.time_ms = now - 60000;
  a.name = "other";
  EXPECT_FALSE(g.accept(a, now, &why));
  EXPECT_NE(why.find("from this clock"), std::string::npos);
  a.time_ms = now + 60000;
  EXPECT_FALSE(g.accept(a, now, &why));
}

TEST(MeshAdvert, TargetsAreCheckedHostPortPairs) {
  EXPECT_EQ(ntohs(parse_ipv4_endpoint("127.0.0.1:7707").second), 7707);
  EXPECT_EQ(parse_ipv4_endpoint("localhost:1").first, htonl(INADDR_LOOPBACK));
  for (const char* bad : {"127.0.0.1", "host.lan:7707", "1.2.3.4:0", "1.2.3.4:70000", "1.2.3.4:x", "1.2.3.4:"})
    EXPECT_THROW(parse_ipv4_endpoint(bad), Error) << bad;
}

TEST(MeshUdp, TheListenerHearsTheAnnouncerAndSurvivesGarbage) {
  std::mutex mu;
  std::vector<std::pair<Advert, bool>> heard;
  std::atomic<int> ticks{0};
  Listener listener({.listen = "127.0.0.1:0", .key = "k3y"},
                    [&](const Advert& a, bool signed_ok) {
                      std::lock_guard<std::mutex> lk(mu);
                      heard.emplace_back(a, signed_ok);
                    },
                    [&] { ++ticks; });
  ASSERT_GT(listener.port(), 0);
  listener.start();

  // Garbage first: none of it reaches the callback, and the listener keeps working.
  send_raw(listener.port(), "not json");
  send_raw(listener.port(), std::string(4000, '{'));
  send_raw(listener.port(), encode_advert(sample(), ""));       // unsigned under a key
  send_raw(listener.port(), encode_advert(sample(), "wrong"));  // another key
  ASSERT_TRUE(wait_for([&] { return listener.stats().dropped == 4; })) << listener.stats().dropped;

  std::atomic<int> idle{2};
  AnnouncerConfig ac;
  ac.advert = sample();
  ac.advert.interval_ms = 50;
  ac.targets = {"127.0.0.1:" + std::to_string(listener.port())};
  ac.key = "k3y";
  Announcer announcer(ac, [&] { return Capacity{4, idle.load(), 0}; });
  announcer.start();
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard<std::mutex> lk(mu);
    return heard.size() >= 3;
  }));
  idle = 0;
  const int64_t before = listener.stats().accepted;
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard<std::mutex> lk(mu);
    return listener.stats().accepted > before + 1 && heard.back().first.idle == 0;
  }));
  announcer.stop();
  {
    std::lock_guard<std::mutex> lk(mu);
    EXPECT_TRUE(heard.front().second);  // signed
    EXPECT_EQ(heard.front().first.name, "lan-box");
    EXPECT_EQ(heard.front().first.slots, 4);
    EXPECT_EQ(heard.front().first.idle, 2);
    for (size_t i = 1; i < heard.size(); ++i) EXPECT_GT(heard[i].first.time_ms, heard[i - 1].first.time_ms);
  }
  // A captured advert sent again is a replay.
  const ListenerStats s0 = listener.stats();
  Advert last;
  {
    std::lock_guard<std::mutex> lk(mu);
    last = heard.back().first;
  }
  send_raw(listener.port(), encode_advert(last, "k3y"));
  ASSERT_TRUE(wait_for([&] { return listener.stats().dropped == s0.dropped + 1; }));
  EXPECT_NE(listener.stats().last_drop.find("replay"), std::string::npos) << listener.stats().last_drop;
  EXPECT_EQ(listener.stats().accepted, s0.accepted);
  EXPECT_GT(ticks.load(), 0);
  EXPECT_GE(announcer.sent(), 3);
  listener.stop();
}

TEST(MeshUdp, AnnouncerAndListenerRefuseBadSettings) {
  AnnouncerConfig ac;
  ac.advert = sample();
  EXPECT_THROW(Announcer(ac, {}), Error);  // no target
  ac.targets = {"nowhere"};
  EXPECT_THROW(Announcer(ac, {}), Error);
  ac.targets = {"127.0.0.1:9"};
  ac.advert.name = "";
  EXPECT_THROW(Announcer(ac, {}), Error);
  EXPECT_THROW(Listener({.listen = "300.1.1.1:7707", .key = ""}, {}), Error);
  EXPECT_THROW(Listener({.listen = "127.0.0.1:99999", .key = ""}, {}), Error);
}
