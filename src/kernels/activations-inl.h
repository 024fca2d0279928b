// Highway kernels behind kernels/activations.h, compiled per target (activations.cpp).

// Per-target include guard: toggled by foreach_target.h for each target.
#if defined(TANDEM_KERNELS_ACTIVATIONS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TANDEM_KERNELS_ACTIVATIONS_INL_H_
#undef TANDEM_KERNELS_ACTIVATIONS_INL_H_
#else
#define TANDEM_KERNELS_ACTIVATIONS_INL_H_
#endif

#include <cmath>

#include "kernels/ggml_numerics.h"
#include "kernels/matmul-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tandem::kernels {
namespace HWY_NAMESPACE {

#if TANDEM_FMA8
// ggml_exact::v_expf in every lane (valid for |x| < 87): the same constants and fused
// multiply-adds; 2^n built from its exponent bits (n is an integer in [-126, 126] there).
template <class D>
HWY_INLINE hn::Vec<D> VExpf(D d, hn::Vec<D> x) {
  const hn::RebindToSigned<D> di;
  const auto shifter = hn::Set(d, 0x1.8p23f);
  const auto z = hn::MulAdd(x, hn::Set(d, 0x1.715476p+0f), shifter);
  const auto n = hn::Sub(z, shifter);
  const auto nn = hn::Neg(n);
  const auto b = hn::MulAdd(nn, hn::Set(d, 0x1.7f7d1cp-20f), hn::MulAdd(nn, hn::Set(d, 0x1.62e4p-1f), x));
  const auto u = hn::Mul(b, b);
  const auto hi = hn::MulAdd(hn::MulAdd(hn::Set(d, 0x1.0e4020p-7f), b, hn::Set(d, 0x1.573e2ep-5f)), u,
                             hn::MulAdd(hn::Set(d, 0x1.555e66p-3f), b, hn::Set(d, 0x1.fffdb6p-2f)));
  const auto p = hn::MulAdd(hi, u, hn::Mul(hn::Set(d, 0x1.ffffecp-1f), b));
  const auto k = hn::BitCast(d, hn::ShiftLeft<23>(hn::Add(hn::ConvertTo(di, n), hn::Set(di, 127))));
  return hn::MulAdd(p, k, k);
}
#endif

inline void SwigluRangeImpl(float* HWY_RESTRICT g, const float* HWY_RESTRICT up, size_t begin, size_t end,
                            size_t n) {
  const size_t nv = n / 8 * 8;  // elements ggml computes with its SIMD exp
  size_t i = begin;
#if TANDEM_FMA8
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const size_t simd_end = end < nv ? end : nv;
  const auto one = hn::Set(d, 1.0f), limit = hn::Set(d, 87.0f);
  for (; i + N <= simd_end; i += N) {
    const auto x = hn::LoadU(d, g + i);
    const auto neg = hn::Sub(hn::Zero(d), x);
    if (!hn::AllTrue(d, hn::Lt(hn::Abs(neg), limit))) break;  // rare: finish with the scalar code
    const auto e = VExpf(d, neg);
    hn::StoreU(hn::Mul(hn::Div(x, hn::Add(one, e)), hn::LoadU(d, up + i)), d, g + i);
  }
#endif
  for (; i < end; ++i) {
    const float x = g[i];
    const float e = i < nv ? ggml_exact::v_expf(0.0f - x) : std::exp(-x);
    g[i] = (x / (1.0f + e)) * up[i];
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace tandem::kernels
HWY_AFTER_NAMESPACE();

#endif  // TANDEM_KERNELS_ACTIVATIONS_INL_H_ toggle
