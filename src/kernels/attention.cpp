#include "kernels/attention.h"

#include <cmath>

#include "kernels/fp16.h"
#include "kernels/matmul.h"

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
    // ggml_vec_dot_f16's order (its SIMD part for long heads, double-summed leftovers).
    const float score = dot_f16_ggml(kp, q16, size_t(hd)) * scale;
    float ms = 1.f, vs = 1.f;  // rescale of the running sum, weight of this position
    if (score > m) {
      ms = std::exp(m - score);
      m = score;
      f16_scale_row(acc16, ms, size_t(hd));
    } else {
      vs = std::exp(score - m);
    }
    const uint16_t* vp = v + size_t(p) * stride;
    f16_fma_row(acc16, vp, vs, size_t(hd));
    s = std::fma(s, ms, vs);  // ggml is compiled with FMA contraction: these round once
  }
  const float inv = 1.0f / s;
  for (int d = 0; d < hd; ++d) out[d] = fp16_to_f32(acc16[d]) * inv;
}

}  // namespace tandem::kernels
