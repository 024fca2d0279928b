// SHA-256 (FIPS 180-4), small and dependency-free, so that the engine (and so a device linking
// only libtandem) can compute the same fingerprints as the server.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tandem {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::array<uint8_t, 32> finish();  // the object is spent afterwards
  std::string finish_hex();

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_n_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view data);
// Hashes a whole file in streamed chunks; throws Error if it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace tandem
