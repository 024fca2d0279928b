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
template <size_t kT, class AS>
HWY_INLINE void Q4x8Tile(const uint8_t* HWY_RESTRICT g, const BlockQ8_0* const* a, const AS& as,
                         size_t nb, float* res) {
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  const __m256i eight = _mm256_set1_epi8(8);
#if !TANDEM_VNNI
  const __m256i ones = _mm256_set1_epi16(1);
#endif
  __m256 acc[kT];
  for (size_t t = 0; t < kT; ++t) acc[t] = _mm256_setzero_ps();
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* p = g + b * kQ4x8Block;
    const __m256 dx = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    __m256i lo[4], hi[4];  // chunk j: row j in the low half, row j + 4 in the high half
    for (int j = 0; j < 4; ++j) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16 + 32 * j));
      lo[j] = _mm256_and_si256(v, m4);                         // elements 0..15
      hi[j] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);  // elements 16..31
    }
    for (size_t t = 0; t < kT; ++t) {
      const int8_t* q = a[t][b].qs;
      const __m256i al = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
      const __m256i ah = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16)));
      __m256i s[4];
#if TANDEM_VNNI
      // The -8 offset of the nibbles: each row's 4 lanes start from -8 * (their activations).
      const __m256i bias = _mm256_sub_epi32(_mm256_setzero_si256(),
                                            fx::Dpbusd(fx::Dpbusd(_mm256_setzero_si256(), eight, al), eight, ah));
      for (int j = 0; j < 4; ++j) s[j] = fx::Dpbusd(fx::Dpbusd(bias, lo[j], al), hi[j], ah);
#else
      // int16 pair sums: |nibble products| <= 2 * 2 * 15 * 128 and the offset <= 2 * 2 * 8 * 128.
      const __m256i bias = _mm256_add_epi16(_mm256_maddubs_epi16(eight, al), _mm256_maddubs_epi16(eight, ah));
      for (int j = 0; j < 4; ++j) {
        const __m256i pj = _mm256_add_epi16(_mm256_maddubs_epi16(lo[j], al), _mm256_maddubs_epi16(hi[j], ah));
        s[j] = _mm256_madd_epi16(_mm256_sub_epi16(pj, bias), ones);
      }
#endif
      // Lane i of the totals: row i's sum (low half rows 0..3, high half rows 4..7).
      const __m256i tot = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
      const __m256 d = _mm256_mul_ps(dx, _mm256_set1_ps(as(t, b)));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(tot), d, acc[t]);
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
      const int j = i % 4, half = i / 4;
      for (size_t b = 0; b < nb; ++b) {
        const uint8_t* p = g + b * kQ4x8Block;
        const uint8_t* qs = p + 16 + 32 * j + 16 * half;
        int s = 0;
        for (int e = 0; e < 16; ++e)
          s += ((qs[e] & 0x0f) - 8) * a[t][b].qs[e] + ((qs[e] >> 4) - 8) * a[t][b].qs[e + 16];
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

// One group of G rows against a tile of nt (<= kTile) activation rows: res[t * G + i].
template <class AS>
HWY_INLINE void InterleavedGroup(WeightLayout l, const uint8_t* g, const BlockQ8_0* const* a,
                                 const AS& as, size_t nt, size_t nb, float* res) {
  if (l == WeightLayout::Q4_0x8) {
#if TANDEM_FMA8
    switch (nt) {
      case 1: return ix::Q4x8Tile<1>(g, a, as, nb, res);
      case 2: return ix::Q4x8Tile<2>(g, a, as, nb, res);
      case 3: return ix::Q4x8Tile<3>(g, a, as, nb, res);
      default: return ix::Q4x8Tile<4>(g, a, as, nb, res);
    }
#else
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
  const float* sp[kTile] = {scales[0], scales[1], scales[2], scales[3]};
  float res[8 * kTile];
  for (size_t c0 = g_begin; c0 < g_end; c0 += chunk) {
    const size_t c1 = c0 + chunk < g_end ? c0 + chunk : g_end;
    for (size_t t0 = 0; t0 < n_tok; t0 += kTile) {
      const size_t nt = n_tok - t0 < kTile ? n_tok - t0 : kTile;
      const BlockQ8_0* a[kTile];
      for (size_t i = 0; i < kTile; ++i)
        a[i] = reinterpret_cast<const BlockQ8_0*>(Ab + (t0 + (i < nt ? i : 0)) * a_bytes);
      const bool pre = nb <= kScaleBlocks;
      if (pre)
        for (size_t i = 0; i < nt; ++i)
          for (size_t b = 0; b < nb; ++b) scales[i][b] = ScaleToF32(&a[i][b].d);
      for (size_t g = c0; g < c1; ++g) {
        const uint8_t* gp = Wb + g * group_bytes;
        if (pre) InterleavedGroup(l, gp, a, PrecomputedScales{sp}, nt, nb, res);
        else InterleavedGroup(l, gp, a, InlineScales{a}, nt, nb, res);
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
