// Highway kernels behind kernels/interleaved.h, compiled once per SIMD target (interleaved.cpp
// includes this file through hwy/foreach_target.h). They reuse the helpers and the numerics of
// matmul-inl.h: every result is bit-identical to MatmulImpl on the same rows in GGUF layout.

// Per-target include guard: toggled by foreach_target.h for each target.
#if defined(TANDEM_KERNELS_INTERLEAVED_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TANDEM_KERNELS_INTERLEAVED_INL_H_
#undef TANDEM_KERNELS_INTERLEAVED_INL_H_
#else
#define TANDEM_KERNELS_INTERLEAVED_INL_H_
#endif

#include "kernels/interleaved.h"
#include "kernels/matmul-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tandem::kernels {
namespace HWY_NAMESPACE {

// Bytes of one block of a group.
constexpr size_t kQ4x8Block = 8 * 2 + 8 * 16;  // 144
constexpr size_t kQ8x4Block = 4 * 2 + 4 * 32;  // 136

#if TANDEM_FMA8
namespace ix {

// Q4_0x8, kT activation rows: res[t * 8 + i] for row i of the group. Per row the "repacked"
// order of ggml_numerics.h: acc = fma(float(isum of the block), d_w * d_a, acc), block by block.
// Lane i of every vector is row i, so the integer sums need no horizontal adds: each
// multiply-add takes 4 elements of all 8 rows against the same 4 activations (broadcast).
// bias(t, b) = -8 * (sum of activation block b of row t): the nibbles' offset.
template <size_t kT, class AS, class BS>
HWY_INLINE void Q4x8Tile(const uint8_t* HWY_RESTRICT g, const BlockQ8_0* const* a, const AS& as,
                         const BS& bias, size_t nb, float* res) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
#if !TANDEM_VNNI
  const __m256i ones = _mm256_set1_epi16(1);
#endif
  __m256 acc[kT];
  for (size_t t = 0; t < kT; ++t) acc[t] = _mm256_setzero_ps();
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* p = g + b * kQ4x8Block;
    const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    __m256i w[8];  // w[m]: elements 4m..4m+3 of each row (m < 4 low nibbles, m >= 4 high)
    for (int m = 0; m < 4; ++m) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16 + 32 * m));
      w[m] = _mm256_and_si256(v, m4);
      w[m + 4] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    }
    for (size_t t = 0; t < kT; ++t) {
      const int8_t* q = a[t][b].qs;
      const auto act = [&](int m) {
        int32_t x;
        std::memcpy(&x, q + 4 * m, 4);
        return _mm256_set1_epi32(x);
      };
      // Two chains of multiply-adds (latency), joined at the end.
#if TANDEM_VNNI
      __m256i s0 = _mm256_set1_epi32(bias(t, b)), s1 = _mm256_setzero_si256();
      for (int m = 0; m < 8; m += 2) {
        s0 = fx::Dpbusd(s0, w[m], act(m));
        s1 = fx::Dpbusd(s1, w[m + 1], act(m + 1));
      }
#else
      // u8 x s8 pair sums fit int16: 2 * 15 * 128.
      __m256i s0 = _mm256_set1_epi32(bias(t, b)), s1 = _mm256_setzero_si256();
      for (int m = 0; m < 8; m += 2) {
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_maddubs_epi16(w[m], act(m)), ones));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_maddubs_epi16(w[m + 1], act(m + 1)), ones));
      }
#endif
      const __m256 d = _mm256_mul_ps(dx, _mm256_set1_ps(as(t, b)));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), d, acc[t]);
    }
  }
  for (size_t t = 0; t < kT; ++t) _mm256_storeu_ps(res + t * 8, acc[t]);
}

// Q8_0x4, kT activation rows: res[i * kT + t] for row i of the group. Per row the "lanes" order:
// lane l accumulates fma(d_w * d_a, isum of elements 4l..4l+3, lane), then Tree8.
template <size_t kT, class AS>
HWY_INLINE void Q8x4Tile(const uint8_t* HWY_RESTRICT g, const BlockQ8_0* const* a, const AS& as,
                         size_t nb, float* res) {
  __m256 acc[4][kT];
  for (size_t r = 0; r < 4; ++r)
    for (size_t t = 0; t < kT; ++t) acc[r][t] = _mm256_setzero_ps();
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* p = g + b * kQ8x4Block;
    const __m128 dw = _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    fx::WBlk w[4];
    for (int r = 0; r < 4; ++r) {
      const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 8 + 32 * r));
#if TANDEM_VNNI
      w[r] = {u, _mm256_setzero_si256()};
#else
      const __m256i v = _mm256_xor_si256(u, _mm256_set1_epi8(char(0x80)));
      w[r] = {_mm256_srai_epi16(_mm256_slli_epi16(v, 8), 8), _mm256_srai_epi16(v, 8)};
#endif
    }
    for (size_t t = 0; t < kT; ++t) {
      const fx::Act act = fx::PrepAct<false>(a[t] + b);
      const __m256 d4 = _mm256_castps128_ps256(_mm_mul_ps(dw, _mm_set1_ps(as(t, b))));
      for (int r = 0; r < 4; ++r) {
        const __m256 d = _mm256_permutevar8x32_ps(d4, _mm256_set1_epi32(r));
        acc[r][t] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(fx::Quads<false>(w[r], act)), acc[r][t]);
      }
    }
  }
  HWY_ALIGN float l[8];
  for (size_t r = 0; r < 4; ++r)
    for (size_t t = 0; t < kT; ++t) {
      _mm256_store_ps(l, acc[r][t]);
      res[r * kT + t] = Tree8(l);
    }
}

}  // namespace ix
#endif  // TANDEM_FMA8

// Scalar versions (targets without SIMD FMA): the loops of ref:: over the interleaved bytes.
namespace ixref {

template <class AS>
HWY_INLINE void Q4x8Group(const uint8_t* g, const BlockQ8_0* const* a, const AS& as, size_t nt,
                          size_t nb, float* res) {  // res[t * 8 + i]
  for (size_t t = 0; t < nt; ++t)
    for (int i = 0; i < 8; ++i) {
      float acc = 0;
      for (size_t b = 0; b < nb; ++b) {
        const uint8_t* p = g + b * kQ4x8Block;
        int s = 0;
        for (int m = 0; m < 4; ++m)
          for (int c = 0; c < 4; ++c) {
            const uint8_t x = p[16 + 32 * m + 4 * i + c];
            s += ((x & 0x0f) - 8) * a[t][b].qs[4 * m + c] + ((x >> 4) - 8) * a[t][b].qs[16 + 4 * m + c];
          }
        acc = std::fma(float(s), fp16_to_f32(LoadU16(p + 2 * i)) * as(t, b), acc);
      }
      res[t * 8 + i] = acc;
    }
}

template <class AS>
HWY_INLINE void Q8x4Group(const uint8_t* g, const BlockQ8_0* const* a, const AS& as, size_t nt,
                          size_t nb, float* res) {  // res[i * nt + t]
  for (size_t t = 0; t < nt; ++t)
    for (int i = 0; i < 4; ++i) {
      float acc[8] = {};
      for (size_t b = 0; b < nb; ++b) {
        const uint8_t* p = g + b * kQ8x4Block;
        const uint8_t* qs = p + 8 + 32 * i;
        const float d = fp16_to_f32(LoadU16(p + 2 * i)) * as(t, b);
        for (int l = 0; l < 8; ++l) {
          int s = 0;
          for (int e = 4 * l; e < 4 * l + 4; ++e) s += int(int8_t(qs[e] ^ 0x80)) * a[t][b].qs[e];
          acc[l] = std::fma(d, float(s), acc[l]);
        }
      }
      res[i * nt + t] = Tree8(acc);
    }
}

}  // namespace ixref

// -8 * the sum of an activation block: the offset of Q4_0's nibbles (value = nibble - 8).
HWY_INLINE int32_t ActivationBias(const BlockQ8_0& a) {
  int32_t s = 0;
  for (int i = 0; i < kQK; ++i) s += a.qs[i];
  return -8 * s;
}
struct PrecomputedBias {
  const int32_t* const* s;
  HWY_INLINE int32_t operator()(size_t t, size_t b) const { return s[t][b]; }
};
struct InlineBias {
  const BlockQ8_0* const* a;
  HWY_INLINE int32_t operator()(size_t t, size_t b) const { return ActivationBias(a[t][b]); }
};

// One group of G rows against a tile of nt (<= kTile) activation rows: res[t * G + i].
template <class AS, class BS>
HWY_INLINE void InterleavedGroup(WeightLayout l, const uint8_t* g, const BlockQ8_0* const* a,
                                 const AS& as, const BS& bias, size_t nt, size_t nb, float* res) {
  if (l == WeightLayout::Q4_0x8) {
#if TANDEM_FMA8
    switch (nt) {
      case 1: return ix::Q4x8Tile<1>(g, a, as, bias, nb, res);
      case 2: return ix::Q4x8Tile<2>(g, a, as, bias, nb, res);
      case 3: return ix::Q4x8Tile<3>(g, a, as, bias, nb, res);
      default: return ix::Q4x8Tile<4>(g, a, as, bias, nb, res);
    }
#else
    (void)bias;
    return ixref::Q4x8Group(g, a, as, nt, nb, res);
#endif
  }
  float r4[4 * kTile];  // [i * nt + t]
#if TANDEM_FMA8
  switch (nt) {
    case 1: ix::Q8x4Tile<1>(g, a, as, nb, r4); break;
    case 2: ix::Q8x4Tile<2>(g, a, as, nb, r4); break;
    case 3: ix::Q8x4Tile<3>(g, a, as, nb, r4); break;
    default: ix::Q8x4Tile<4>(g, a, as, nb, r4); break;
  }
#else
  ixref::Q8x4Group(g, a, as, nt, nb, r4);
#endif
  for (size_t i = 0; i < 4; ++i)
    for (size_t t = 0; t < nt; ++t) res[t * 4 + i] = r4[i * nt + t];
}

// Decode streams through the groups in order (one sequential stream per thread); prefill takes
// chunks of groups that stay in L2 while every tile of activation rows passes over them.
inline void MatmulInterleavedImpl(WeightLayout l, const void* W, size_t k, size_t row_begin,
                                  size_t row_end, const void* A, size_t n_tok, float* out,
                                  size_t out_stride) {
  const size_t G = l == WeightLayout::Q4_0x8 ? 8 : 4;
  const size_t nb = k / kQK;
  const size_t group_bytes = nb * (l == WeightLayout::Q4_0x8 ? kQ4x8Block : kQ8x4Block);
  const size_t a_bytes = nb * sizeof(BlockQ8_0);
  const auto* Wb = static_cast<const uint8_t*>(W);
  const auto* Ab = static_cast<const uint8_t*>(A);
  const size_t g_begin = row_begin / G, g_end = (row_end + G - 1) / G;
  const size_t chunk = n_tok == 1 ? g_end - g_begin : ChunkRows(group_bytes, 1);
  HWY_ALIGN float scales[kTile][kScaleBlocks];
  int32_t biases[kTile][kScaleBlocks];
  const float* sp[kTile] = {scales[0], scales[1], scales[2], scales[3]};
  const int32_t* bp[kTile] = {biases[0], biases[1], biases[2], biases[3]};
  float res[8 * kTile];
  for (size_t c0 = g_begin; c0 < g_end; c0 += chunk) {
    const size_t c1 = c0 + chunk < g_end ? c0 + chunk : g_end;
    for (size_t t0 = 0; t0 < n_tok; t0 += kTile) {
      const size_t nt = n_tok - t0 < kTile ? n_tok - t0 : kTile;
      const BlockQ8_0* a[kTile];
      for (size_t i = 0; i < kTile; ++i)
        a[i] = reinterpret_cast<const BlockQ8_0*>(Ab + (t0 + (i < nt ? i : 0)) * a_bytes);
      // Per activation block: its scale, and for Q4_0 the nibble offset -8 * sum(q).
      const bool pre = nb <= kScaleBlocks;
      if (pre)
        for (size_t i = 0; i < nt; ++i)
          for (size_t b = 0; b < nb; ++b) {
            scales[i][b] = ScaleToF32(&a[i][b].d);
            if (l == WeightLayout::Q4_0x8) biases[i][b] = ActivationBias(a[i][b]);
          }
      for (size_t g = c0; g < c1; ++g) {
        const uint8_t* gp = Wb + g * group_bytes;
        if (pre) InterleavedGroup(l, gp, a, PrecomputedScales{sp}, PrecomputedBias{bp}, nt, nb, res);
        else InterleavedGroup(l, gp, a, InlineScales{a}, InlineBias{a}, nt, nb, res);
        const size_t r0 = g * G;
        const size_t lo = row_begin > r0 ? row_begin - r0 : 0;
        const size_t hi = row_end - r0 < G ? row_end - r0 : G;
        for (size_t t = 0; t < nt; ++t)
          for (size_t i = lo; i < hi; ++i) out[(t0 + t) * out_stride + r0 + i] = res[t * G + i];
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace tandem::kernels
HWY_AFTER_NAMESPACE();

#endif  // TANDEM_KERNELS_INTERLEAVED_INL_H_ toggle
