// The token hash of /v1/verify (docs/verify-protocol.md): FNV-1a 64 over the token ids as
// little-endian u32. A speculative client and the server compare it to agree on the tokens the
// server's session holds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace tandem::protocol {

constexpr uint64_t kTokenHashSeed = 0xcbf29ce484222325ull;
uint64_t token_hash_step(uint64_t h, int32_t token);
uint64_t token_hash(const int32_t* tokens, size_t n);
// As the wire carries it: 16 lowercase hex digits.
std::string hash_hex(uint64_t h);

}  // namespace tandem::protocol
