// IEEE half <-> single conversion, bit-exact with hardware (round to nearest even), no tables.
#pragma once
#include <cstdint>
#include <cstring>

namespace tandem {

inline float bits_to_f32(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t f32_to_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

inline float fp16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0) {
    float v = float(mant) * 5.9604644775390625e-8f;  // subnormal: mant * 2^-24
    return bits_to_f32(f32_to_bits(v) | sign);
  }
  if (exp == 31) return bits_to_f32(sign | 0x7f800000u | (mant << 13));
  return bits_to_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

inline uint16_t f32_to_fp16(float f) {
  uint32_t x = f32_to_bits(f);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t a = x & 0x7fffffffu;
  if (a >= 0x7f800000u) return uint16_t(sign | (a > 0x7f800000u ? 0x7e00 : 0x7c00));
  if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00);  // rounds to infinity
  if (a < 0x38800000u) {
    // Below the smallest normal half: adding 0.5 puts the value in units of 2^-24 in the low
    // mantissa bits, and the FPU rounds to nearest even for us.
    float v = bits_to_f32(a) + 0.5f;
    return uint16_t(sign | (f32_to_bits(v) - 0x3f000000u));
  }
  uint32_t odd = (a >> 13) & 1;
  a += 0xc8000fffu + odd;  // rebias the exponent by -112 and round to nearest even
  return uint16_t(sign | (a >> 13));
}

// bfloat16 is the top half of an f32.
inline float bf16_to_f32(uint16_t h) { return bits_to_f32(uint32_t(h) << 16); }

// f32 -> bfloat16 as ggml rounds it: to nearest even; NaN stays a quiet NaN.
inline uint16_t f32_to_bf16(float f) {
  const uint32_t u = f32_to_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 64);
  return uint16_t((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}

}  // namespace tandem
