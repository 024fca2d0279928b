#include "kernels/ggml_numerics_quants.h"

#include <cmath>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/fp16.h"

namespace tandem::ggml_exact {

namespace {

// The 32 unsigned values of a Q4_1 / Q5_1 block and its scale and minimum.
void q1_block(TensorType w, const void* row, size_t b, int* q, float* d, float* m) {
  if (w == TensorType::Q4_1) {
    const auto& x = static_cast<const BlockQ4_1*>(row)[b];
    for (int j = 0; j < kQK / 2; ++j) {
      q[j] = x.qs[j] & 0x0f;
      q[j + kQK / 2] = x.qs[j] >> 4;
    }
    *d = fp16_to_f32(x.d);
    *m = fp16_to_f32(x.m);
    return;
  }
  const auto& x = static_cast<const BlockQ5_1*>(row)[b];
  uint32_t qh;
  std::memcpy(&qh, x.qh, 4);
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = (x.qs[j] & 0x0f) | int(((qh >> j) & 1) << 4);
    q[j + kQK / 2] = (x.qs[j] >> 4) | int(((qh >> (j + 16)) & 1) << 4);
  }
  *d = fp16_to_f32(x.d);
  *m = fp16_to_f32(x.m);
}

// The 256 unsigned values of a Q4_K / Q5_K block in element order.
void k_values(const uint8_t* qs, const uint8_t* qh, int* q) {
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      q[64 * c + l] = qs[32 * c + l] & 0xF;
      q[64 * c + 32 + l] = qs[32 * c + l] >> 4;
      if (qh) {
        q[64 * c + l] |= ((qh[l] >> (2 * c)) & 1) << 4;
        q[64 * c + 32 + l] |= ((qh[l] >> (2 * c + 1)) & 1) << 4;
      }
    }
}

// Lane sums of a K block: isum[l] = sum over sub-blocks j of scale[j] * (quad l of sub-block j).
void k_lanes(const int* q, const int8_t* a, const uint8_t* sc, int* isum) {
  for (int l = 0; l < 8; ++l) {
    isum[l] = 0;
    for (int j = 0; j < 8; ++j) {
      int s = 0;
      for (int e = 32 * j + 4 * l; e < 32 * j + 4 * l + 4; ++e) s += q[e] * a[e];
      isum[l] += int(sc[j]) * s;
    }
  }
}

// Sum of the 32 activations of each sub-block, from the 16-element bsums.
void sub_sums(const BlockQ8_K& y, int* S) {
  for (int j = 0; j < 8; ++j) S[j] = y.bsums[2 * j] + y.bsums[2 * j + 1];
}

}  // namespace

float dot_q1_lanes(TensorType w, const void* w_row, const void* a_row, size_t nb) {
  const auto* y = static_cast<const BlockQ8_1*>(a_row);
  float acc[8] = {};
  float summs = 0;
  int q[kQK];
  for (size_t b = 0; b < nb; ++b) {
    float dx, mx;
    q1_block(w, w_row, b, q, &dx, &mx);
    summs = std::fma(mx, fp16_to_f32(y[b].s), summs);
    const float d = dx * fp16_to_f32(y[b].d);
    for (int l = 0; l < 8; ++l) {
      int s = 0;
      for (int j = 4 * l; j < 4 * l + 4; ++j) s += q[j] * y[b].qs[j];
      acc[l] = std::fma(d, float(s), acc[l]);
    }
  }
  return hsum8_tree(acc) + summs;
}

float dot_q4_k(const void* w_row, const void* a_row, size_t nb) {
  const auto* x = static_cast<const BlockQ4_K*>(w_row);
  const auto* y = static_cast<const BlockQ8_K*>(a_row);
  float acc[8] = {}, accm[4] = {};
  int q[kQK_K], isum[8], S[8];
  uint8_t sc[8], m[8];
  for (size_t b = 0; b < nb; ++b) {
    for (int j = 0; j < 8; ++j) kquant_scale_min(j, x[b].scales, &sc[j], &m[j]);
    const float d = y[b].d * fp16_to_f32(x[b].d);
    const float dmin = -y[b].d * fp16_to_f32(x[b].dmin);
    sub_sums(y[b], S);
    for (int i = 0; i < 4; ++i)
      accm[i] = std::fma(dmin, float(m[2 * i] * S[2 * i] + m[2 * i + 1] * S[2 * i + 1]), accm[i]);
    k_values(x[b].qs, nullptr, q);
    k_lanes(q, y[b].qs, sc, isum);
    for (int l = 0; l < 8; ++l) acc[l] = std::fma(d, float(isum[l]), acc[l]);
  }
  return hsum8_tree(acc) + ((accm[0] + accm[2]) + (accm[1] + accm[3]));
}

float dot_q5_k(const void* w_row, const void* a_row, size_t nb) {
  const auto* x = static_cast<const BlockQ5_K*>(w_row);
  const auto* y = static_cast<const BlockQ8_K*>(a_row);
  float acc[8] = {};
  float summs = 0;
  int q[kQK_K], isum[8], S[8];
  uint8_t sc[8], m[8];
  for (size_t b = 0; b < nb; ++b) {
    for (int j = 0; j < 8; ++j) kquant_scale_min(j, x[b].scales, &sc[j], &m[j]);
    const float d = y[b].d * fp16_to_f32(x[b].d);
    const float dmin = -y[b].d * fp16_to_f32(x[b].dmin);
    sub_sums(y[b], S);
    int msum = 0;
    for (int j = 0; j < 8; ++j) msum += m[j] * S[j];
    summs = std::fma(dmin, float(msum), summs);
    k_values(x[b].qs, x[b].qh, q);
    k_lanes(q, y[b].qs, sc, isum);
    for (int l = 0; l < 8; ++l) acc[l] = std::fma(d, float(isum[l]), acc[l]);
  }
  return hsum8_tree(acc) + summs;
}

float dot_q6_k(const void* w_row, const void* a_row, size_t nb) {
  const auto* x = static_cast<const BlockQ6_K*>(w_row);
  const auto* y = static_cast<const BlockQ8_K*>(a_row);
  float acc[8] = {};
  int q[kQK_K];
  for (size_t b = 0; b < nb; ++b) {
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x[b].ql + 64 * h;
      const uint8_t* qh = x[b].qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        q[128 * h + l] = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32;
        q[128 * h + 32 + l] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        q[128 * h + 64 + l] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        q[128 * h + 96 + l] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      }
    }
    const float d = y[b].d * fp16_to_f32(x[b].d);
    for (int l = 0; l < 8; ++l) {
      int isum = 0;
      for (int r = 0; r < 8; ++r) {  // 32-element runs; elements 4l..4l+3 share a 16-element scale
        int s = 0;
        for (int e = 32 * r + 4 * l; e < 32 * r + 4 * l + 4; ++e) s += q[e] * y[b].qs[e];
        isum += int(x[b].scales[(32 * r + 4 * l) / 16]) * s;
      }
      acc[l] = std::fma(d, float(isum), acc[l]);
    }
  }
  return hsum8_tree(acc);
}

}  // namespace tandem::ggml_exact
