// libFuzzer target for the LAN mesh's advert parser (src/mesh/advert.h), which reads datagrams
// from anyone on the network: any bytes must give an accepted advert or a reason, never a crash.
// An accepted advert must encode again and decode to the same fields; under a key, the bytes
// are accepted only when they carry a MAC that verifies, which random bytes essentially never do.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "format/error.h"
#include "mesh/advert.h"

namespace {
void check(bool ok) {
  if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  using namespace tandem::mesh;
  const Decoded d = decode_advert(bytes, "");
  check(d.advert.has_value() != !d.error.empty());
  if (d.advert) {
    check(d.advert->idle <= d.advert->slots && !d.advert->name.empty() && !d.advert->url.empty());
    try {
      const Decoded again = decode_advert(encode_advert(*d.advert, "k"), "k");
      check(again.advert && again.signed_ok);
      check(again.advert->name == d.advert->name && again.advert->url == d.advert->url &&
            again.advert->slots == d.advert->slots && again.advert->idle == d.advert->idle &&
            again.advert->time_ms == d.advert->time_ms);
    } catch (const tandem::Error&) {
      // Re-encoding may exceed one datagram (escapes grow text): refused, not crashed.
    }
  }
  const Decoded keyed = decode_advert(bytes, "k");
  if (keyed.advert) check(keyed.signed_ok);
  ReplayGuard guard;
  if (d.advert) guard.accept(*d.advert, d.advert->time_ms, nullptr);
  return 0;
}
