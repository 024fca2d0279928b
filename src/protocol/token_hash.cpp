#include "protocol/token_hash.h"

#include <cstdio>

namespace tandem::protocol {

uint64_t token_hash_step(uint64_t h, int32_t token) {
  const auto u = uint32_t(token);
  for (int i = 0; i < 4; ++i) {
    h ^= uint8_t(u >> (8 * i));
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t token_hash(const int32_t* tokens, size_t n) {
  uint64_t h = kTokenHashSeed;
  for (size_t i = 0; i < n; ++i) h = token_hash_step(h, tokens[i]);
  return h;
}

std::string hash_hex(uint64_t h) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(h));
  return b;
}

}  // namespace tandem::protocol
