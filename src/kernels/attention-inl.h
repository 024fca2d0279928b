// Highway kernel behind kernels/attention.h, compiled per target (attention.cpp). One call runs a
// whole query head over its positions, so the per-position work (a 64- or 128-element dot
// product and accumulator update) is not a dispatched call of its own.

// Per-target include guard: toggled by foreach_target.h for each target.
#if defined(TANDEM_KERNELS_ATTENTION_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TANDEM_KERNELS_ATTENTION_INL_H_
#undef TANDEM_KERNELS_ATTENTION_INL_H_
#else
#define TANDEM_KERNELS_ATTENTION_INL_H_
#endif

#include <cmath>

#include "kernels/matmul-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tandem::kernels {
namespace HWY_NAMESPACE {

#if TANDEM_FMA8 && TANDEM_HWY_NATIVE_F16
// kV = hd / 8 vectors of 8 lanes, kV % 4 == 0 (hd a multiple of 32, so that ggml_vec_dot_f16's
// SIMD loop covers the whole head and there are no leftovers). The fp16 accumulator lives in
// registers as floats that are always exactly fp16 values: each update is rounded to fp16 and
// back, which is what storing it in an fp16 buffer does.
template <size_t kV>
HWY_INLINE void AttendHeadRegs(const uint16_t* HWY_RESTRICT q16, const uint16_t* HWY_RESTRICT k,
                               const uint16_t* HWY_RESTRICT v, size_t stride, int n_pos, float scale,
                               float* HWY_RESTRICT out) {
  const auto load = [](const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  };
  const auto round16 = [](__m256 x) {
    return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  };
  __m256 q[kV], acc[kV];
  for (size_t i = 0; i < kV; ++i) {
    q[i] = load(q16 + 8 * i);
    acc[i] = _mm256_setzero_ps();
  }
  float m = -INFINITY, s = 0;
  for (int p = 0; p < n_pos; ++p) {
    const uint16_t* kp = k + size_t(p) * stride;
    // fx::VecDot's order: 4 chains over 32-element steps, (a0 + a2) + (a1 + a3), then Hadd8.
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < kV; i += 4) {
      a0 = _mm256_fmadd_ps(load(kp + 8 * i), q[i], a0);
      a1 = _mm256_fmadd_ps(load(kp + 8 * i + 8), q[i + 1], a1);
      a2 = _mm256_fmadd_ps(load(kp + 8 * i + 16), q[i + 2], a2);
      a3 = _mm256_fmadd_ps(load(kp + 8 * i + 24), q[i + 3], a3);
    }
    const __m256 r = _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3));
    const __m128 h = _mm_add_ps(_mm256_castps256_ps128(r), _mm256_extractf128_ps(r, 1));  // t0..t3
    const __m128 h2 = _mm_hadd_ps(h, h);                                                  // t0+t1, t2+t3
    const float score = _mm_cvtss_f32(_mm_hadd_ps(h2, h2)) * scale;
    float ms = 1.f, vs = 1.f;
    if (score > m) {
      ms = std::exp(m - score);
      m = score;
      const __m256 vms = _mm256_set1_ps(ms);
      for (size_t i = 0; i < kV; ++i) acc[i] = round16(_mm256_mul_ps(acc[i], vms));
    } else {
      vs = std::exp(score - m);
    }
    const uint16_t* vp = v + size_t(p) * stride;
    const __m256 vvs = _mm256_set1_ps(vs);
    for (size_t i = 0; i < kV; ++i) acc[i] = round16(_mm256_fmadd_ps(load(vp + 8 * i), vvs, acc[i]));
    s = std::fma(s, ms, vs);
  }
  const __m256 inv = _mm256_set1_ps(1.0f / s);
  for (size_t i = 0; i < kV; ++i) _mm256_storeu_ps(out + 8 * i, _mm256_mul_ps(acc[i], inv));
}
#endif

inline void AttendHeadF16Impl(const float* HWY_RESTRICT q, const uint16_t* HWY_RESTRICT k,
                              const uint16_t* HWY_RESTRICT v, size_t stride, int n_pos, int hd, float scale,
                              uint16_t* HWY_RESTRICT q16, uint16_t* HWY_RESTRICT acc16, float* HWY_RESTRICT out) {
  for (int d = 0; d < hd; ++d) q16[d] = f32_to_fp16(q[d]);
#if TANDEM_FMA8 && TANDEM_HWY_NATIVE_F16
  switch (hd) {
    case 32: return AttendHeadRegs<4>(q16, k, v, stride, n_pos, scale, out);
    case 64: return AttendHeadRegs<8>(q16, k, v, stride, n_pos, scale, out);
    case 128: return AttendHeadRegs<16>(q16, k, v, stride, n_pos, scale, out);
    default: break;
  }
#endif
  // Any head size: the same steps through the row helpers and the fp16 buffer.
  for (int d = 0; d < hd; ++d) acc16[d] = 0;
  float m = -INFINITY, s = 0;
  for (int p = 0; p < n_pos; ++p) {
    const uint16_t* kp = k + size_t(p) * stride;
    // ggml_vec_dot_f16's order (its SIMD part for long heads, double-summed leftovers).
    const float score = DotF16GgmlImpl(kp, q16, size_t(hd)) * scale;
    float ms = 1.f, vs = 1.f;  // rescale of the running sum, weight of this position
    if (score > m) {
      ms = std::exp(m - score);
      m = score;
      F16ScaleRowImpl(acc16, ms, size_t(hd));
    } else {
      vs = std::exp(score - m);
    }
    F16FmaRowImpl(acc16, v + size_t(p) * stride, vs, size_t(hd));
    s = std::fma(s, ms, vs);  // ggml is compiled with FMA contraction: these round once
  }
  const float inv = 1.0f / s;
  for (int d = 0; d < hd; ++d) out[d] = fp16_to_f32(acc16[d]) * inv;
}

}  // namespace HWY_NAMESPACE
}  // namespace tandem::kernels
HWY_AFTER_NAMESPACE();

#endif  // TANDEM_KERNELS_ATTENTION_INL_H_ toggle
