#include "kernels/ggml_numerics.h"

#include <cmath>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/fp16.h"
#include "kernels/ggml_numerics_quants.h"

namespace tandem::ggml_exact {

// 8 float lanes reduced as tinyBLAS hsum(__m256) / hsum_float_8 do: lo+hi halves, then
// (l0+l2)+(l1+l3) of the 4 remaining lanes.
float hsum8_tree(const float* v) {
  float t[4];
  for (int i = 0; i < 4; ++i) t[i] = v[i] + v[i + 4];
  return (t[0] + t[2]) + (t[1] + t[3]);
}

namespace {


// GGML_F32x8_REDUCE's last step (hadd twice): lo+hi halves, then (l0+l1)+(l2+l3).
float hsum8_hadd(const float* v) {
  float t[4];
  for (int i = 0; i < 4; ++i) t[i] = v[i] + v[i + 4];
  return (t[0] + t[1]) + (t[2] + t[3]);
}

inline float load(TensorType w, const void* p, size_t i) {
  if (w == TensorType::F32) return static_cast<const float*>(p)[i];
  const uint16_t h = static_cast<const uint16_t*>(p)[i];
  return w == TensorType::BF16 ? bf16_to_f32(h) : fp16_to_f32(h);
}

// Signed 8-bit weights of block b of a Q8_0, Q4_0 or Q5_0 row, and its scale.
float block_weights(TensorType w, const void* row, size_t b, int8_t* q) {
  if (w == TensorType::Q5_0) {
    const auto& x = static_cast<const BlockQ5_0*>(row)[b];
    uint32_t qh;
    std::memcpy(&qh, x.qh, 4);
    for (int j = 0; j < kQK / 2; ++j) {
      q[j] = int8_t(((x.qs[j] & 0x0f) | ((qh >> j) & 1) << 4) - 16);
      q[j + kQK / 2] = int8_t(((x.qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4) - 16);
    }
    return fp16_to_f32(x.d);
  }
  if (w == TensorType::Q8_0) {
    const auto& x = static_cast<const BlockQ8_0*>(row)[b];
    for (int j = 0; j < kQK; ++j) q[j] = x.qs[j];
    return fp16_to_f32(x.d);
  }
  const auto& x = static_cast<const BlockQ4_0*>(row)[b];
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = int8_t((x.qs[j] & 0x0f) - 8);
    q[j + kQK / 2] = int8_t((x.qs[j] >> 4) - 8);
  }
  return fp16_to_f32(x.d);
}

// Q8_0/Q4_0 x Q8_0, ggml_vec_dot_q*_0_q8_0 (AVX2) and tinyBLAS_Q0_AVX alike: 8 float lanes, lane l
// holds the integer sum of products 4l..4l+3 of each block; lane_l = fma(dx*dy, float(isum_l),
// lane_l) block after block; then hsum8_tree.
float dot_q0_lanes(TensorType w, const void* w_row, const BlockQ8_0* y, size_t nb) {
  float acc[8] = {};
  int8_t q[kQK];
  for (size_t b = 0; b < nb; ++b) {
    const float d = block_weights(w, w_row, b, q) * fp16_to_f32(y[b].d);
    for (int l = 0; l < 8; ++l) {
      int s = 0;
      for (int j = 4 * l; j < 4 * l + 4; ++j) s += q[j] * y[b].qs[j];
      acc[l] = std::fma(d, float(s), acc[l]);
    }
  }
  return hsum8_tree(acc);
}

// Q4_0 repacked to q4_0x8 (ggml_gemv/gemm_q4_0_8x8_q8_0, AVX2): whole-block integer sums,
// acc = fma(float(isum_b), dx_b*dy_b, acc) block after block, no lane split.
float dot_q4_repacked(const void* w_row, const BlockQ8_0* y, size_t nb) {
  float acc = 0;
  int8_t q[kQK];
  for (size_t b = 0; b < nb; ++b) {
    const float dx = block_weights(TensorType::Q4_0, w_row, b, q);
    int s = 0;
    for (int j = 0; j < kQK; ++j) s += q[j] * y[b].qs[j];
    acc = std::fma(float(s), dx * fp16_to_f32(y[b].d), acc);
  }
  return acc;
}

// F32/F16/BF16 (activations already in the weight's type). BF16 follows F16's order (ggml's
// AVX2 BF16 paths have the same shape); its leftover products are added in double too.
float dot_float(TensorType w, const void* a, const void* b, size_t k, size_t n_tok) {
  if (n_tok >= 2 && k % 8 == 0) {
    // llamafile tinyBLAS<8, __m256>: one 8-lane fma accumulator over the row, hsum8_tree.
    float acc[8] = {};
    for (size_t i = 0; i < k; i += 8)
      for (int l = 0; l < 8; ++l) acc[l] = std::fma(load(w, a, i + l), load(w, b, i + l), acc[l]);
    return hsum8_tree(acc);
  }
  // ggml_vec_dot_f32 / ggml_vec_dot_f16 (AVX2): 4 accumulators of 8 lanes over 32-element
  // steps (element i + 8j + l goes to accumulator j lane l), reduced acc0+=acc2, acc1+=acc3,
  // acc0+=acc1, then hsum8_hadd. Leftover elements: f16 products added in double, f32
  // products added in float (multiply, round, add: no fma).
  float acc[4][8] = {};
  const size_t np = k / 32 * 32;
  for (size_t i = 0; i < np; i += 32)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 8; ++l) acc[j][l] = std::fma(load(w, a, i + 8 * j + l), load(w, b, i + 8 * j + l), acc[j][l]);
  for (int l = 0; l < 8; ++l) {
    acc[0][l] += acc[2][l];
    acc[1][l] += acc[3][l];
  }
  for (int l = 0; l < 8; ++l) acc[0][l] += acc[1][l];
  const float red = hsum8_hadd(acc[0]);
  if (w == TensorType::F16 || w == TensorType::BF16) {
    double s = red;
    for (size_t i = np; i < k; ++i) s += double(load(w, a, i) * load(w, b, i));
    return float(s);
  }
  float s = red;
  for (size_t i = np; i < k; ++i) {
    const float p = load(w, a, i) * load(w, b, i);
    s += p;
  }
  return s;
}

}  // namespace

float dot(TensorType w, const void* w_row, const void* a_row, size_t k, size_t n_tok, size_t w_rows) {
  switch (w) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16: return dot_float(w, w_row, a_row, k, n_tok);
    case TensorType::Q4_0:
      if (w_rows % 8 == 0) return dot_q4_repacked(w_row, static_cast<const BlockQ8_0*>(a_row), k / kQK);
      [[fallthrough]];
    case TensorType::Q5_0:  // ggml_vec_dot_q5_0_q8_0 and tinyBLAS_Q0_AVX: the same lanes
    case TensorType::Q8_0: return dot_q0_lanes(w, w_row, static_cast<const BlockQ8_0*>(a_row), k / kQK);
    case TensorType::Q4_1:
    case TensorType::Q5_1: return dot_q1_lanes(w, w_row, a_row, k / kQK);
    case TensorType::Q4_K: return dot_q4_k(w_row, a_row, k / kQK_K);
    case TensorType::Q5_K: return dot_q5_k(w_row, a_row, k / kQK_K);
    case TensorType::Q6_K: return dot_q6_k(w_row, a_row, k / kQK_K);
    default: return 0.f;  // callers only pass supported weight types
  }
}

// Range reduction n = round(x/ln2) with the 1.5*2^23 shifter, b = x - n*ln2 in two fma steps
// (ln2 split into 0x1.62e4p-1 + 0x1.7f7d1cp-20); P(b) ~ exp(b)-1 =
// ((c5*b+c4)*u + (c3*b+c2))*u + c1*b with u = b*b (fmas as nested), result fma(P, 2^n, 2^n).
float v_expf(float x) {
  if (!(std::fabs(x) < 87.f)) return std::exp(x);  // outside the approximation's range (and NaN)
  const float shifter = 0x1.8p23f;
  const float z = std::fma(x, 0x1.715476p+0f, shifter);
  const float n = z - shifter;
  const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
  const float u = b * b;
  const float hi = std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f));
  const float p = std::fma(hi, u, 0x1.ffffecp-1f * b);
  const float k = std::ldexp(1.0f, int(n));
  return std::fma(p, k, k);
}

void swiglu_row(float* g, const float* up, int n) {
  const int nv = n / 8 * 8;
  for (int i = 0; i < nv; ++i) {
    const float x = g[i];
    g[i] = (x / (1.0f + v_expf(0.0f - x))) * up[i];
  }
  for (int i = nv; i < n; ++i) {
    const float x = g[i];
    g[i] = (x / (1.0f + std::exp(-x))) * up[i];
  }
}

}  // namespace tandem::ggml_exact
