// The register-tile kernels of the matrix products for AVX2 / AVX3 / AVX3_DL (fx::): F32/F16
// dot products and tiles in ggml's orders, and the Q8_0/Q4_0 integer "quads" with their tiles.
// Defines TANDEM_FMA8 (1 on those targets; elsewhere the scalar ref:: code runs) and TANDEM_VNNI.
// Included by matmul-inl.h; see matmul_common-inl.h for the conventions.

// Per-target include guard: toggled by foreach_target.h for each target.
#if defined(TANDEM_KERNELS_MATMUL_TILES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TANDEM_KERNELS_MATMUL_TILES_INL_H_
#undef TANDEM_KERNELS_MATMUL_TILES_INL_H_
#else
#define TANDEM_KERNELS_MATMUL_TILES_INL_H_
#endif

#include "kernels/matmul_common-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tandem::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
#undef TANDEM_FMA8
#if HWY_ARCH_X86 && (HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL)
#define TANDEM_FMA8 1

// SIMD kernels for AVX2 / AVX3 / AVX3_DL: raw intrinsics where Highway 1.0.3 lacks the ops
// (8-bit multiply-adds, horizontal adds), the 8 logical lanes of a row in one __m256.
namespace fx {

using DF8 = hn::Full256<float>;

// ---- F32 / F16

template <typename T>
HWY_INLINE float VecDot(const T* HWY_RESTRICT w, const T* HWY_RESTRICT a, size_t k) {
  const DF8 d;
  auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
  const size_t np = k / 32 * 32;
  for (size_t i = 0; i < np; i += 32) {
    a0 = hn::MulAdd(LoadRow(d, w + i), LoadRow(d, a + i), a0);
    a1 = hn::MulAdd(LoadRow(d, w + i + 8), LoadRow(d, a + i + 8), a1);
    a2 = hn::MulAdd(LoadRow(d, w + i + 16), LoadRow(d, a + i + 16), a2);
    a3 = hn::MulAdd(LoadRow(d, w + i + 24), LoadRow(d, a + i + 24), a3);
  }
  a0 = hn::Add(a0, a2);
  a1 = hn::Add(a1, a3);
  a0 = hn::Add(a0, a1);
  HWY_ALIGN float l[8];
  hn::Store(a0, d, l);
  return VecDotLeftover(Hadd8(l), w, a, np, k);
}

// One pass of 8-lane FMA chains, kR weight rows x kT activation rows: for i = off, off + kStride,
// ... < end, acc[r][t] = fma(w[r][i..i+8), a[t][i..i+8), acc[r][t]). Lanes out: l[(r * kT + t) * 8].
template <size_t kR, size_t kT, size_t kStride, typename T>
HWY_INLINE void ChainPass(const T* const* w, const T* const* a, size_t off, size_t end, float* l) {
  const DF8 d;
  hn::Vec<DF8> acc[kR][kT];
  for (size_t r = 0; r < kR; ++r)
    for (size_t t = 0; t < kT; ++t) acc[r][t] = hn::Zero(d);
  for (size_t i = off; i < end; i += kStride) {
    hn::Vec<DF8> av[kT];
    for (size_t t = 0; t < kT; ++t) av[t] = LoadRow(d, a[t] + i);
    for (size_t r = 0; r < kR; ++r) {
      const auto wv = LoadRow(d, w[r] + i);
      for (size_t t = 0; t < kT; ++t) acc[r][t] = hn::MulAdd(wv, av[t], acc[r][t]);
    }
  }
  for (size_t r = 0; r < kR; ++r)
    for (size_t t = 0; t < kT; ++t) hn::StoreU(acc[r][t], d, l + (r * kT + t) * 8);
}

// kR weight rows x kT activation rows, one 8-lane chain each (k % 8 == 0): res[r * kT + t].
template <size_t kR, size_t kT, typename T>
HWY_INLINE void ChainTile(const T* const* w, const T* const* a, size_t k, float* res) {
  HWY_ALIGN float l[kR * kT * 8];
  ChainPass<kR, kT, 8>(w, a, 0, k, l);
  for (size_t i = 0; i < kR * kT; ++i) res[i] = Tree8(l + i * 8);
}

// kC of VecDot's 4 chains (c0 .. c0 + kC - 1) for kR weight rows x kT activation rows over the
// 32-element steps in [begin, end): chain c takes elements 8c..8c+7 of every step. The chains'
// lanes are kept in l[((c - c0) * kR * kT + r * kT + t) * 8]: zeros first, else continued.
template <size_t kC, size_t kR, size_t kT, typename T>
HWY_INLINE void VecDotPass(const T* const* w, const T* const* a, size_t c0, size_t begin, size_t end, bool first,
                           float* l) {
  const DF8 d;
  hn::Vec<DF8> acc[kC][kR][kT];
  for (size_t c = 0; c < kC; ++c)
    for (size_t r = 0; r < kR; ++r)
      for (size_t t = 0; t < kT; ++t) acc[c][r][t] = first ? hn::Zero(d) : hn::Load(d, l + ((c * kR + r) * kT + t) * 8);
  for (size_t i = begin + 8 * c0; i < end; i += 32)
    for (size_t c = 0; c < kC; ++c) {
      hn::Vec<DF8> av[kT];
      for (size_t t = 0; t < kT; ++t) av[t] = LoadRow(d, a[t] + i + 8 * c);
      for (size_t r = 0; r < kR; ++r) {
        const auto wv = LoadRow(d, w[r] + i + 8 * c);
        for (size_t t = 0; t < kT; ++t) acc[c][r][t] = hn::MulAdd(wv, av[t], acc[c][r][t]);
      }
    }
  for (size_t c = 0; c < kC; ++c)
    for (size_t r = 0; r < kR; ++r)
      for (size_t t = 0; t < kT; ++t) hn::Store(acc[c][r][t], d, l + ((c * kR + r) * kT + t) * 8);
}

// Elements per block of the single-token-order tiles: a block of the tile's rows and tokens
// stays in L1 while the passes over its chains run.
constexpr size_t kVecDotBlock = 512;

// kR weight rows x kT activation rows in VecDot's order, bit for bit: each of VecDot's 4
// accumulators is a chain independent of the others, so the chains run kC at a time as register
// tiles over the rows and tokens (instead of one 4-chain dot product per row and token), block
// by block of k; then (c0 + c2) + (c1 + c3) lane by lane, Hadd8, leftovers.
template <size_t kC, size_t kR, size_t kT, typename T>
HWY_INLINE void VecDotTile(const T* const* w, const T* const* a, size_t k, float* res) {
  constexpr size_t n = kR * kT * 8;
  HWY_ALIGN float c[4][n];
  const size_t np = k / 32 * 32;
  if (np == 0) std::memset(c, 0, sizeof c);
  for (size_t b = 0; b < np; b += kVecDotBlock) {
    const size_t e = b + kVecDotBlock < np ? b + kVecDotBlock : np;
    for (size_t j = 0; j < 4; j += kC) VecDotPass<kC, kR, kT>(w, a, j, b, e, b == 0, c[j]);
  }
  for (size_t r = 0; r < kR; ++r)
    for (size_t t = 0; t < kT; ++t) {
      const size_t o = (r * kT + t) * 8;
      const __m256 v = _mm256_add_ps(_mm256_add_ps(_mm256_load_ps(c[0] + o), _mm256_load_ps(c[2] + o)),
                                     _mm256_add_ps(_mm256_load_ps(c[1] + o), _mm256_load_ps(c[3] + o)));
      // Hadd8: lo + hi halves, then (t0 + t1) + (t2 + t3).
      const __m128 t4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
      const __m128 h = _mm_hadd_ps(t4, t4);
      const float red = _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
      res[r * kT + t] = np == k ? red : VecDotLeftover(red, w[r], a[t], np, k);
    }
}

// ---- Q8_0 / Q4_0: exact int32 sums of elements 4l..4l+3 of a block in lane l ("quads").

#undef TANDEM_VNNI
#if HWY_TARGET == HWY_AVX3_DL
#define TANDEM_VNNI 1
// acc + sums of 4 products u8 x s8 per int32 lane. EVEX encoding (AVX512_VNNI + VL, which
// Highway requires for AVX3_DL): the VEX form is a different extension (AVX-VNNI).
HWY_INLINE __m256i Dpbusd(__m256i acc, __m256i u, __m256i s) {
  __asm__("%{evex%} vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(s));
  return acc;
}
#else
#define TANDEM_VNNI 0
#endif

// One Q4_0 block: its 32 nibbles as bytes (0..15) in element order (low nibbles, then high).
HWY_INLINE __m256i Nibbles(const BlockQ4_0* HWY_RESTRICT w) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w->qs));
  const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

// An activation block prepared for the quads of weight type kQ4 (shared by all weight rows).
struct Act {
  __m256i x, y;
};
// A weight block prepared likewise.
struct WBlk {
  __m256i x, y;
};

template <bool kQ4>
HWY_INLINE Act PrepAct(const BlockQ8_0* HWY_RESTRICT a) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a->qs));
#if TANDEM_VNNI
  // x = the bytes, y = -sum(bias * a) over each quad (bias 8 for the nibbles, 128 for the
  // int8 weights shifted to unsigned).
  const __m256i bias = _mm256_set1_epi8(kQ4 ? 8 : char(0x80));
  return {v, _mm256_sub_epi32(_mm256_setzero_si256(), Dpbusd(_mm256_setzero_si256(), bias, v))};
#else
  if constexpr (kQ4) {
    // x = the bytes, y = maddubs(8, a): the pairwise products of the -8 offset.
    return {v, _mm256_maddubs_epi16(_mm256_set1_epi8(8), v)};
  } else {
    // The even and odd bytes of each 16-bit pair, sign-extended to int16.
    return {_mm256_srai_epi16(_mm256_slli_epi16(v, 8), 8), _mm256_srai_epi16(v, 8)};
  }
#endif
}

template <bool kQ4>
HWY_INLINE WBlk PrepW(const uint8_t* HWY_RESTRICT row, size_t b) {
  if constexpr (kQ4) {
    return {Nibbles(reinterpret_cast<const BlockQ4_0*>(row) + b), _mm256_setzero_si256()};
  } else {
    const __m256i v = _mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(reinterpret_cast<const BlockQ8_0*>(row)[b].qs));
#if TANDEM_VNNI
    return {_mm256_xor_si256(v, _mm256_set1_epi8(char(0x80))), _mm256_setzero_si256()};
#else
    return {_mm256_srai_epi16(_mm256_slli_epi16(v, 8), 8), _mm256_srai_epi16(v, 8)};
#endif
  }
}

template <bool kQ4>
HWY_INLINE __m256i Quads(const WBlk& w, const Act& a) {
#if TANDEM_VNNI
  return Dpbusd(a.y, w.x, a.x);
#else
  if constexpr (kQ4) {
    // Pair sums of nibble * a minus 8 * a: |.| <= 2 * 15 * 128, no saturation.
    const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(w.x, a.x), a.y);
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
  } else {
    return _mm256_add_epi32(_mm256_madd_epi16(w.x, a.x), _mm256_madd_epi16(w.y, a.y));
  }
#endif
}

template <bool kQ4>
HWY_INLINE float WScale(const uint8_t* HWY_RESTRICT row, size_t b) {
  if constexpr (kQ4) return ScaleToF32(&reinterpret_cast<const BlockQ4_0*>(row)[b].d);
  return ScaleToF32(&reinterpret_cast<const BlockQ8_0*>(row)[b].d);
}

// "lanes": kR weight rows x kT activation rows, res[r * kT + t].
template <bool kQ4, size_t kR, size_t kT, class AS>
HWY_INLINE void LanesTile(const uint8_t* const* w, const BlockQ8_0* const* a, const AS& as,
                          size_t nb, float* res, size_t pf = 0) {
  constexpr size_t kBB = kQ4 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0);
  __m256 acc[kR][kT];
  for (size_t r = 0; r < kR; ++r)
    for (size_t t = 0; t < kT; ++t) acc[r][t] = _mm256_setzero_ps();
  for (size_t b = 0; b < nb; ++b) {
    Act act[kT];
    float da[kT];
    for (size_t t = 0; t < kT; ++t) {
      act[t] = PrepAct<kQ4>(a[t] + b);
      da[t] = as(t, b);
    }
    for (size_t r = 0; r < kR; ++r) {
      if (pf) _mm_prefetch(reinterpret_cast<const char*>(w[r] + b * kBB + pf), _MM_HINT_T0);
      const WBlk wb = PrepW<kQ4>(w[r], b);
      const float dw = WScale<kQ4>(w[r], b);
      for (size_t t = 0; t < kT; ++t) {
        const float d = dw * da[t];
        acc[r][t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(Quads<kQ4>(wb, act[t])),
                                    acc[r][t]);
      }
    }
  }
  HWY_ALIGN float l[8];
  for (size_t r = 0; r < kR; ++r)
    for (size_t t = 0; t < kT; ++t) {
      _mm256_store_ps(l, acc[r][t]);
      res[r * kT + t] = Tree8(l);
    }
}

// Lane i of the result: the sum of the 8 lanes of v[i].
HWY_INLINE __m256i Totals8(const __m256i* v) {
  const __m256i h01 = _mm256_hadd_epi32(v[0], v[1]), h23 = _mm256_hadd_epi32(v[2], v[3]);
  const __m256i h45 = _mm256_hadd_epi32(v[4], v[5]), h67 = _mm256_hadd_epi32(v[6], v[7]);
  const __m256i h0123 = _mm256_hadd_epi32(h01, h23), h4567 = _mm256_hadd_epi32(h45, h67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20),
                          _mm256_permute2x128_si256(h0123, h4567, 0x31));
}

// The fp16 scales of block b of 8 Q4_0 rows, lane i = row i.
HWY_INLINE __m256 RowScales8(const uint8_t* const* w, size_t b) {
  const auto d = [&](int i) { return int(LoadU16(&reinterpret_cast<const BlockQ4_0*>(w[i])[b].d)); };
  __m128i h = _mm_cvtsi32_si128(d(0));
  h = _mm_insert_epi16(h, d(1), 1);
  h = _mm_insert_epi16(h, d(2), 2);
  h = _mm_insert_epi16(h, d(3), 3);
  h = _mm_insert_epi16(h, d(4), 4);
  h = _mm_insert_epi16(h, d(5), 5);
  h = _mm_insert_epi16(h, d(6), 6);
  h = _mm_insert_epi16(h, d(7), 7);
  return _mm256_cvtph_ps(h);
}

// "repacked" Q4_0: 8 weight rows (lanes) x kT activation rows, res[t * 8 + i].
template <size_t kT, class AS>
HWY_INLINE void RepackedTile(const uint8_t* const* w, const BlockQ8_0* const* a, const AS& as,
                             size_t nb, float* res, size_t pf = 0) {
  __m256 acc[kT];
  for (size_t t = 0; t < kT; ++t) acc[t] = _mm256_setzero_ps();
  for (size_t b = 0; b < nb; ++b) {
    WBlk wb[8];
    for (int i = 0; i < 8; ++i) {
      if (pf) _mm_prefetch(reinterpret_cast<const char*>(w[i] + b * sizeof(BlockQ4_0) + pf), _MM_HINT_T0);
      wb[i] = PrepW<true>(w[i], b);
    }
    const __m256 dx = RowScales8(w, b);
    for (size_t t = 0; t < kT; ++t) {
      const Act act = PrepAct<true>(a[t] + b);
      __m256i q[8];
      for (int i = 0; i < 8; ++i) q[i] = Quads<true>(wb[i], act);
      const __m256 d = _mm256_mul_ps(dx, _mm256_set1_ps(as(t, b)));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(Totals8(q)), d, acc[t]);
    }
  }
  for (size_t t = 0; t < kT; ++t) _mm256_storeu_ps(res + t * 8, acc[t]);
}

}  // namespace fx
#else
#define TANDEM_FMA8 0
#undef TANDEM_VNNI
#define TANDEM_VNNI 0
#endif  // SIMD FMA kernels

}  // namespace HWY_NAMESPACE
}  // namespace tandem::kernels
HWY_AFTER_NAMESPACE();

#endif  // TANDEM_KERNELS_MATMUL_TILES_INL_H_ toggle
