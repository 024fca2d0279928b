// Q4_1, Q5_0, Q5_1 and Q8_1: ggml's 32-element block types beyond Q4_0/Q8_0, following
// quantize_row_q4_1_ref / q5_0_ref / q5_1_ref and the SIMD quantize_row_q8_1 (activations).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "kernels/fp16.h"
#include "kernels/quantize_impl.h"

namespace tandem::quant {

namespace {

// Packs 32 values q (< 32) as Q5 nibbles + high bits.
void pack5(const uint8_t* q, uint8_t* qs, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = uint8_t((q[j] & 0x0F) | ((q[j + kQK / 2] & 0x0F) << 4));
    qh |= uint32_t((q[j] & 0x10u) >> 4) << j;
    qh |= uint32_t((q[j + kQK / 2] & 0x10u) >> 4) << (j + kQK / 2);
  }
  std::memcpy(qh_bytes, &qh, 4);
}

// The 32 values (0..31) of a Q5 block.
void unpack5(const uint8_t* qs, const uint8_t* qh_bytes, int* q) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = (qs[j] & 0x0F) | int(((qh >> j) & 1) << 4);
    q[j + kQK / 2] = (qs[j] >> 4) | int(((qh >> (j + kQK / 2)) & 1) << 4);
  }
}

// Minimum and maximum of a block, for the asymmetric types.
void min_max(const float* x, float* mn, float* mx) {
  float lo = FLT_MAX, hi = -FLT_MAX;
  for (int j = 0; j < kQK; ++j) {
    if (x[j] < lo) lo = x[j];
    if (x[j] > hi) hi = x[j];
  }
  *mn = lo;
  *mx = hi;
}

}  // namespace

void quantize_q4_1(const float* x, BlockQ4_1* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK) {
    float mn, mx;
    min_max(x, &mn, &mx);
    const float d = (mx - mn) / 15;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[b].d = f32_to_fp16(d);
    y[b].m = f32_to_fp16(mn);
    for (int j = 0; j < kQK / 2; ++j) {
      const uint8_t lo = uint8_t(std::min(15, int(uint8_t((x[j] - mn) * id + 0.5f))));
      const uint8_t hi = uint8_t(std::min(15, int(uint8_t((x[j + kQK / 2] - mn) * id + 0.5f))));
      y[b].qs[j] = uint8_t(lo | (hi << 4));
    }
  }
}

void quantize_q5_0(const float* x, BlockQ5_0* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK) {
    const float max = signed_absmax(x, kQK);
    const float d = max / -16;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[b].d = f32_to_fp16(d);
    uint8_t q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = uint8_t(std::min(31, int(int8_t(x[j] * id + 16.5f))));
    pack5(q, y[b].qs, y[b].qh);
  }
}

void quantize_q5_1(const float* x, BlockQ5_1* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK) {
    float mn, mx;
    min_max(x, &mn, &mx);
    const float d = (mx - mn) / 31;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[b].d = f32_to_fp16(d);
    y[b].m = f32_to_fp16(mn);
    uint8_t q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = uint8_t((x[j] - mn) * id + 0.5f);
    pack5(q, y[b].qs, y[b].qh);
  }
}

void quantize_q8_1(const float* x, BlockQ8_1* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.f;
    const float id = amax != 0 ? 127.f / amax : 0.f;
    y[b].d = f32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      y[b].qs[j] = int8_t(std::nearbyint(x[j] * id));
      sum += y[b].qs[j];
    }
    y[b].s = f32_to_fp16(d * float(sum));
  }
}

void dequantize_q4_1(const BlockQ4_1* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK) {
    const float d = fp16_to_f32(x[b].d), m = fp16_to_f32(x[b].m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = float(x[b].qs[j] & 0x0F) * d + m;
      y[j + kQK / 2] = float(x[b].qs[j] >> 4) * d + m;
    }
  }
}

void dequantize_q5_0(const BlockQ5_0* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK) {
    const float d = fp16_to_f32(x[b].d);
    int q[kQK];
    unpack5(x[b].qs, x[b].qh, q);
    for (int j = 0; j < kQK; ++j) y[j] = float(q[j] - 16) * d;
  }
}

void dequantize_q5_1(const BlockQ5_1* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK) {
    const float d = fp16_to_f32(x[b].d), m = fp16_to_f32(x[b].m);
    int q[kQK];
    unpack5(x[b].qs, x[b].qh, q);
    for (int j = 0; j < kQK; ++j) y[j] = float(q[j]) * d + m;
  }
}

void dequantize_q8_1(const BlockQ8_1* x, float* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, y += kQK) {
    const float d = fp16_to_f32(x[b].d);
    for (int j = 0; j < kQK; ++j) y[j] = float(x[b].qs[j]) * d;
  }
}

}  // namespace tandem::quant
