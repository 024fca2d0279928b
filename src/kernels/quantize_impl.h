// Scalar quantizers of the types beyond Q8_0/Q4_0 (quantize_legacy.cpp: the 32-element block
// types; quantize_kquants.cpp: the 256-element K-quants). Internal to kernels/quantize.cpp, which
// validates sizes and dispatches. Each follows ggml's reference quantizer (quantize_row_*_ref,
// the path llama-quantize takes without an importance matrix) operation for operation, so the
// files we write hold the bytes llama.cpp would write.
#pragma once
#include <cmath>
#include <cstddef>

#include "kernels/blocks.h"

namespace tandem::quant {

void quantize_q4_1(const float* x, BlockQ4_1* y, size_t nb);
void quantize_q5_0(const float* x, BlockQ5_0* y, size_t nb);
void quantize_q5_1(const float* x, BlockQ5_1* y, size_t nb);
void quantize_q8_1(const float* x, BlockQ8_1* y, size_t nb);
void quantize_q4_k(const float* x, BlockQ4_K* y, size_t nb);
void quantize_q5_k(const float* x, BlockQ5_K* y, size_t nb);
void quantize_q6_k(const float* x, BlockQ6_K* y, size_t nb);
void quantize_q8_k(const float* x, BlockQ8_K* y, size_t nb);

void dequantize_q4_1(const BlockQ4_1* x, float* y, size_t nb);
void dequantize_q5_0(const BlockQ5_0* x, float* y, size_t nb);
void dequantize_q5_1(const BlockQ5_1* x, float* y, size_t nb);
void dequantize_q8_1(const BlockQ8_1* x, float* y, size_t nb);
void dequantize_q4_k(const BlockQ4_K* x, float* y, size_t nb);
void dequantize_q5_k(const BlockQ5_K* x, float* y, size_t nb);
void dequantize_q6_k(const BlockQ6_K* x, float* y, size_t nb);
void dequantize_q8_k(const BlockQ8_K* x, float* y, size_t nb);

// ggml's nearest_int: round to nearest, ties to even, via the 1.5 * 2^23 shifter (|v| < 2^22).
// The value of largest magnitude in x[0, n), with its sign (the first one on ties): ggml's
// Q4_0 / Q5_0 scale is that value divided by -8 / -16.
inline float signed_absmax(const float* x, int n) {
  float amax = 0, max = 0;
  for (int j = 0; j < n; ++j)
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  return max;
}

inline int nearest_int(float v) {
  const float s = v + 12582912.f;
  uint32_t i;
  __builtin_memcpy(&i, &s, 4);
  return int(i & 0x007fffff) - 0x00400000;
}

}  // namespace tandem::quant
