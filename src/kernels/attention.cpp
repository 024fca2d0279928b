#include "kernels/attention.h"

#include <cmath>

#include "kernels/fp16.h"

namespace tandem::kernels {

void attend_head_f16(const float* q, const uint16_t* k, const uint16_t* v, size_t stride, int n_pos, int hd,
                     float scale, uint16_t* q16, uint16_t* acc16, float* out) {
  for (int d = 0; d < hd; ++d) {
    q16[d] = f32_to_fp16(q[d]);
    acc16[d] = 0;
  }
  float m = -INFINITY, s = 0;
  for (int p = 0; p < n_pos; ++p) {
    const uint16_t* kp = k + size_t(p) * stride;
    double dot = 0;
    for (int d = 0; d < hd; ++d) dot += double(fp16_to_f32(kp[d]) * fp16_to_f32(q16[d]));
    const float score = float(dot) * scale;
    float ms = 1.f, vs = 1.f;  // rescale of the running sum, weight of this position
    if (score > m) {
      ms = std::exp(m - score);
      m = score;
      for (int d = 0; d < hd; ++d) acc16[d] = f32_to_fp16(fp16_to_f32(acc16[d]) * ms);
    } else {
      vs = std::exp(score - m);
    }
    const uint16_t* vp = v + size_t(p) * stride;
    for (int d = 0; d < hd; ++d) {
      const float prod = fp16_to_f32(vp[d]) * vs;  // not fused: ggml rounds the product first
      acc16[d] = f32_to_fp16(fp16_to_f32(acc16[d]) + prod);
    }
    s = s * ms + vs;
  }
  const float inv = 1.0f / s;
  for (int d = 0; d < hd; ++d) out[d] = fp16_to_f32(acc16[d]) * inv;
}

}  // namespace tandem::kernels
