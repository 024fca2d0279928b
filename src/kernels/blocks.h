// Block layouts of the quantized types, byte-compatible with ggml/GGUF.
#pragma once
#include <cstdint>

namespace tandem {

constexpr int kQK = 32;    // elements per Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0 / Q8_1 block
constexpr int kQK_K = 256; // elements per K-quant super-block (Q4_K, Q5_K, Q6_K, Q8_K)

// Q4_0: value = (nibble - 8) * d. Element j (j < 16) is the low nibble of qs[j], element j + 16
// the high nibble.
struct BlockQ4_0 {
  uint16_t d;  // fp16 scale
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// Q4_1: value = nibble * d + m, nibbles laid out as Q4_0.
struct BlockQ4_1 {
  uint16_t d, m;  // fp16 scale and minimum
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// Q5_0: value = (q - 16) * d with q = nibble | (bit j of qh) << 4 (qh little-endian, 32 bits,
// bit j for element j), nibbles laid out as Q4_0.
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// Q5_1: value = q * d + m, q as Q5_0.
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// Q8_0: value = q * d.
struct BlockQ8_0 {
  uint16_t d;  // fp16 scale
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 34);

// Q8_1 (activations for Q4_1 / Q5_1): value = q * d; s = d * sum(q), both fp16.
struct BlockQ8_1 {
  uint16_t d, s;
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_1) == 36);

// Q4_K: 8 sub-blocks of 32 with 6-bit scales sc and mins m packed in `scales` (see
// kquant_scale_min); value = d * sc * q - dmin * m. Bytes qs[32c .. 32c+31] hold elements
// 64c .. 64c+31 in their low nibbles and 64c+32 .. 64c+63 in their high nibbles.
struct BlockQ4_K {
  uint16_t d, dmin;  // fp16 super-block scales of the scales and of the mins
  uint8_t scales[12];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// Q5_K: Q4_K plus a fifth bit: element 64c + l (l < 32) has bit 2c of qh[l], element
// 64c + 32 + l bit 2c + 1.
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// Q6_K: 16 sub-blocks of 16 with int8 scales; value = d * scales[e / 16] * (q - 32). In each
// half h (128 elements), element 128h + 32s + l (s < 4, l < 32) has low 4 bits from
// ql[64h + l + 32(s & 1)] (low nibble for s < 2, high for s >= 2) and high 2 bits from bits
// 2s, 2s+1 of qh[32h + l].
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Q8_K (activations for K-quants): value = q * d (f32 scale); bsums[j] = sum of q[16j .. 16j+15].
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(BlockQ8_K) == 292);

// The 6-bit scale and min of sub-block j (< 8) of a Q4_K / Q5_K block (ggml's get_scale_min_k4).
inline void kquant_scale_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

}  // namespace tandem
