#include "mesh/advert.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "format/error.h"

namespace tandem::mesh {

using nlohmann::json;

namespace {

constexpr size_t kMaxField = 256;

bool printable(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

// The signed bytes: the object without "mac", dumped with sorted keys (nlohmann's default), so
// sender and receiver agree on them whatever order the fields arrived in.
std::string signed_bytes(json j) {
  j.erase("mac");
  return j.dump();
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  unsigned diff = unsigned(a.size() ^ b.size());
  for (size_t i = 0; i < a.size(); ++i) diff |= unsigned(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac, &n);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += hex[mac[i] >> 4];
    out += hex[mac[i] & 15];
  }
  return out;
}

std::string encode_advert(const Advert& a, std::string_view key) {
  for (const auto* f : {&a.name, &a.url, &a.kind, &a.model, &a.vocab_fingerprint, &a.sha256})
    if (f->size() > kMaxField || !printable(*f)) throw Error("mesh advert: a field is too long or not printable");
  if (a.name.empty() || a.url.empty()) throw Error("mesh advert: name and url are required");
  json j = {{"tandem_mesh", kAdvertVersion}, {"name", a.name}, {"url", a.url}, {"kind", a.kind},
            {"model", a.model}, {"vocab_fingerprint", a.vocab_fingerprint}, {"sha256", a.sha256},
            {"slots", a.slots}, {"idle", a.idle}, {"queue", a.queue}, {"interval_ms", a.interval_ms},
            {"time_ms", a.time_ms}};
  if (!key.empty()) j["mac"] = hmac_sha256_hex(key, signed_bytes(j));
  std::string out = j.dump();
  if (out.size() > kMaxAdvertBytes) throw Error("mesh advert: " + std::to_string(out.size()) + " bytes, more than one datagram");
  return out;
}

Decoded decode_advert(std::string_view datagram, std::string_view key) {
  Decoded d;
  if (datagram.size() > kMaxAdvertBytes) {
    d.error = "datagram larger than " + std::to_string(kMaxAdvertBytes) + " bytes";
    return d;
  }
  const json j = json::parse(datagram.begin(), datagram.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    d.error = "not a JSON object";
    return d;
  }
  const auto it = j.find("tandem_mesh");
  if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() != kAdvertVersion) {
    d.error = "not a tandem mesh advert of version " + std::to_string(kAdvertVersion);
    return d;
  }
  const auto mac = j.find("mac");
  if (!key.empty()) {
    if (mac == j.end() || !mac->is_string()) {
      d.error = "unsigned (this receiver holds a mesh key)";
      return d;
    }
    if (!equal_constant_time(hmac_sha256_hex(key, signed_bytes(j)), mac->get<std::string>())) {
      d.error = "the MAC does not verify (another key, or altered)";
      return d;
    }
    d.signed_ok = true;
  }
  Advert a;
  const auto str = [&](const char* k, std::string& out, bool required) {
    const auto f = j.find(k);
    if (f == j.end()) return !required;
    if (!f->is_string()) return false;
    out = f->get<std::string>();
    return out.size() <= kMaxField && printable(out) && (!required || !out.empty());
  };
  const auto num = [&](const char* k, auto& out, int64_t lo, int64_t hi) {
    const auto f = j.find(k);
    if (f == j.end() || !f->is_number_integer()) return false;
    const int64_t v = f->get<int64_t>();
    if (v < lo || v > hi) return false;
    out = static_cast<std::remove_reference_t<decltype(out)>>(v);
    return true;
  };
  if (!str("name", a.name, true) || !str("url", a.url, true) || !str("kind", a.kind, false) ||
      !str("model", a.model, false) || !str("vocab_fingerprint", a.vocab_fingerprint, false) ||
      !str("sha256", a.sha256, false)) {
    d.error = "a text field is missing, too long or not printable";
    return d;
  }
  if (a.kind != "serve" && a.kind != "edge") {
    d.error = "kind must be serve or edge";
    return d;
  }
  if (a.url.rfind("http://", 0) != 0 && a.url.rfind("https://", 0) != 0) {
    d.error = "url must be http:// or https://";
    return d;
  }
  if (!num("slots", a.slots, 0, 1 << 20) || !num("idle", a.idle, 0, 1 << 20) || !num("queue", a.queue, 0, 1 << 30) ||
      !num("interval_ms", a.interval_ms, 50, 3600 * 1000) || !num("time_ms", a.time_ms, 0, int64_t(1) << 50) ||
      a.idle > a.slots) {
    d.error = "a number is missing or out of range";
    return d;
  }
  d.advert = std::move(a);
  return d;
}

bool ReplayGuard::accept(const Advert& a, int64_t now_ms, std::string* why) {
  if (a.time_ms < now_ms - max_skew_ms_ || a.time_ms > now_ms + max_skew_ms_) {
    if (why) *why = "its time is more than " + std::to_string(max_skew_ms_ / 1000) + " s from this clock";
    return false;
  }
  auto it = last_.find(a.name);
  if (it != last_.end() && a.time_ms <= it->second) {
    if (why) *why = "not newer than the last advert from " + a.name + " (a replay)";
    return false;
  }
  // Bounded: entries older than the skew window can go, since their replays fail the time check.
  if (last_.size() >= 4096 && it == last_.end())
    std::erase_if(last_, [&](const auto& e) { return e.second < now_ms - max_skew_ms_; });
  if (last_.size() >= 4096 && it == last_.end()) {
    if (why) *why = "too many advertisers";
    return false;
  }
  last_[a.name] = a.time_ms;
  return true;
}

}  // namespace tandem::mesh
