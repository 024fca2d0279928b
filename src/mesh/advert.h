// The LAN mesh's advertisement (docs/mesh.md): one UDP datagram in which a tandem serve or edge
// says "I serve this model at this URL and have this much room now". Datagrams are JSON with the
// sender's clock time; with a mesh key they carry an HMAC-SHA256 over everything else, and a
// receiver that holds the key drops any datagram whose MAC does not verify, whose time is far
// from its own clock, or that is not newer than the last one from the same name (replays).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::mesh {

inline constexpr size_t kMaxAdvertBytes = 1400;  // one Ethernet frame, no IP fragments
inline constexpr int kAdvertVersion = 1;

struct Advert {
  std::string name;               // unique on the LAN; shown in the gateway's /health and ledger
  std::string url;                // base URL of its OpenAI-compatible API
  std::string kind = "serve";     // "serve" or "edge"
  std::string model;              // its model id
  std::string vocab_fingerprint;  // as in GET /v1/models (speculation needs the device's)
  std::string sha256;             // of its model file
  int32_t slots = 0;              // sequences it decodes together
  int32_t idle = 0;               // of those, free now
  int32_t queue = 0;              // requests waiting for a slot
  int64_t interval_ms = 1000;     // how often it advertises: a receiver expires it after 3 silent intervals
  int64_t time_ms = 0;            // sender's Unix time at sending
};

// The datagram for `a`; signed when key is not empty. Throws tandem::Error if it would not fit
// kMaxAdvertBytes or a field is invalid.
std::string encode_advert(const Advert& a, std::string_view key);

struct Decoded {
  std::optional<Advert> advert;  // set when accepted
  bool signed_ok = false;        // the MAC verified with the receiver's key
  std::string error;             // why it was dropped
};
// Parses and checks one datagram (untrusted input: never throws). With a key, only a datagram
// whose MAC verifies is accepted. Without one, every well-formed datagram is accepted with
// signed_ok false: nobody can tell who sent it (the gateway uses such peers only when its config
// says mesh.accept_unsigned).
Decoded decode_advert(std::string_view datagram, std::string_view key);

// Drops replays and stale clocks: accepts an advert when its time is within max_skew_ms of
// now_ms and later than the last accepted one of the same name. Not thread-safe.
class ReplayGuard {
 public:
  explicit ReplayGuard(int64_t max_skew_ms = 30000) : max_skew_ms_(max_skew_ms) {}
  bool accept(const Advert& a, int64_t now_ms, std::string* why);

 private:
  int64_t max_skew_ms_;
  std::map<std::string, int64_t> last_;  // name -> time_ms of the last accepted advert
};

std::string hmac_sha256_hex(std::string_view key, std::string_view message);

}  // namespace tandem::mesh
