// Block layouts of the quantized types, byte-compatible with ggml/GGUF.
#pragma once
#include <cstdint>

namespace tandem {

constexpr int kQK = 32;  // elements per Q4_0 / Q8_0 block

// Q4_0: value = (nibble - 8) * d. Element j (j < 16) is the low nibble of qs[j], element j + 16
// the high nibble.
struct BlockQ4_0 {
  uint16_t d;  // fp16 scale
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// Q8_0: value = q * d.
struct BlockQ8_0 {
  uint16_t d;  // fp16 scale
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 34);

}  // namespace tandem
