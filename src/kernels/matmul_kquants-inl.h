// Highway kernels for the weight types beyond F32/F16/Q8_0/Q4_0: BF16, Q4_1, Q5_0, Q5_1 and the
// K-quants Q4_K, Q5_K, Q6_K. Compiled once per SIMD target (matmul_kquants.cpp includes this
// file through hwy/foreach_target.h); the public entry point is kernels::matmul (matmul.h).
//
// Every result is bit-identical to ggml_exact::dot (ggml_numerics.h / ggml_numerics_quants.h):
// integer sums are exact however they are computed, and the float steps follow the spec's order
// (8 float lanes of "quads", one fused multiply-add per block and lane, hsum_float_8). On
// AVX2 / AVX3 / AVX3_DL the kernels use x86 intrinsics where Highway 1.0.3 lacks the ops (8-bit
// multiply-adds with 16-bit pair sums, maddubs / madd, which also apply the per-sub-block
// scales), as ggml's AVX2 kernels do; other targets compute the spec itself.
//
// Decode (one activation row) walks the rows 4 at a time as one prefetched sequential stream;
// batches process rows in ~64 KiB chunks that stay in cache while tiles of up to 4 activation
// rows pass over them, each weight block (and its unpacked scales) prepared once per tile.

// Per-target include guard: toggled by foreach_target.h for each target.
#if defined(TANDEM_KERNELS_MATMUL_KQUANTS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TANDEM_KERNELS_MATMUL_KQUANTS_INL_H_
#undef TANDEM_KERNELS_MATMUL_KQUANTS_INL_H_
#else
#define TANDEM_KERNELS_MATMUL_KQUANTS_INL_H_
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "format/tensor_type.h"
#include "hwy/highway.h"
#include "kernels/blocks.h"
#include "kernels/fp16.h"
#include "kernels/ggml_numerics.h"
#include "kernels/quantize.h"

HWY_BEFORE_NAMESPACE();
namespace tandem::kernels {
namespace HWY_NAMESPACE {
namespace kq {

struct Args {
  TensorType wtype;
  const uint8_t* W;
  size_t w_bytes;  // per row
  size_t k;
  size_t row_begin, row_end;
  const uint8_t* A;
  size_t a_bytes;  // per activation row
  size_t n_tok;
  float* out;
  size_t out_stride;
  bool batched;  // BF16: tinyBLAS order (ggml's n_tok >= 2) instead of vec_dot's (kernels::DotOrder)
};

constexpr size_t kChunkBytes = 64 * 1024;
constexpr size_t kTile = 4;
constexpr size_t kDecodeRows = 4;
constexpr size_t kPrefetchGroups = 4;

HWY_INLINE size_t ChunkRows(size_t w_bytes) {
  return w_bytes == 0 || w_bytes >= kChunkBytes ? 1 : kChunkBytes / w_bytes;
}

// Targets without the x86 kernels: the specification, one output at a time.
HWY_INLINE void SpecRows(const Args& m) {
  for (size_t t = 0; t < m.n_tok; ++t)
    for (size_t r = m.row_begin; r < m.row_end; ++r)
      m.out[t * m.out_stride + r] =
          ggml_exact::dot(m.wtype, m.W + r * m.w_bytes, m.A + t * m.a_bytes, m.k, m.batched ? 2 : 1, 0);
}

#undef TANDEM_KQ_SIMD
#if HWY_ARCH_X86 && (HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL)
#define TANDEM_KQ_SIMD 1

HWY_INLINE float F16(const uint16_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

// ggml's hsum_float_8: lo + hi halves, then (l0 + l2) + (l1 + l3).
HWY_INLINE float Tree8(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

// (l0 + l2) + (l1 + l3) of 4 lanes.
HWY_INLINE float Tree4(__m128 r) {
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

// GGML_F32x8_REDUCE's last step: lo + hi halves, then (l0 + l1) + (l2 + l3).
HWY_INLINE float Hadd8(__m256 v) {
  HWY_ALIGN float l[8];
  _mm256_store_ps(l, v);
  float t[4];
  for (int i = 0; i < 4; ++i) t[i] = l[i] + l[i + 4];
  return (t[0] + t[1]) + (t[2] + t[3]);
}

HWY_INLINE __m256i Load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
HWY_INLINE __m256i Low4(__m256i v) { return _mm256_and_si256(v, _mm256_set1_epi8(0x0f)); }
HWY_INLINE __m256i High4(__m256i v) { return Low4(_mm256_srli_epi16(v, 4)); }
HWY_INLINE __m256i SumPairs16(__m256i v) { return _mm256_madd_epi16(v, _mm256_set1_epi16(1)); }

// The 32 nibbles of a 32-element block as bytes in element order (low nibbles, then high).
HWY_INLINE __m256i Nibbles(const uint8_t* qs) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return Low4(_mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1));
}

// Byte i = 0x10 where bit i of the 32-bit qh is set, else 0.
HWY_INLINE __m256i FifthBits(const uint8_t* qh) {
  uint32_t x;
  std::memcpy(&x, qh, 4);
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(int(x)), _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                   0x0101010101010101, 0x0000000000000000));
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201ull));
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
}

// ---- Kernels: Prep (per weight block), PrepA (per activation block), Step (one pair), Finish.

// Q5_0 x Q8_0 (the spec's dot_q0_lanes).
struct KQ5_0 {
  static constexpr size_t kElems = kQK, kWB = sizeof(BlockQ5_0), kAB = sizeof(BlockQ8_0);
  struct W { __m256i q; float d; };
  struct A { __m256i a, bias; float d; };
  struct Acc { __m256 v; };
  static W Prep(const uint8_t* row, size_t b) {
    const auto* x = reinterpret_cast<const BlockQ5_0*>(row) + b;
    return {_mm256_or_si256(Nibbles(x->qs), FifthBits(x->qh)), F16(&x->d)};
  }
  static A PrepA(const uint8_t* row, size_t b) {
    const auto* y = reinterpret_cast<const BlockQ8_0*>(row) + b;
    const __m256i a = Load32(y->qs);
    return {a, _mm256_maddubs_epi16(_mm256_set1_epi8(16), a), F16(&y->d)};
  }
  static void Init(Acc& c) { c.v = _mm256_setzero_ps(); }
  static void Step(const W& w, const A& a, Acc& c) {
    // Pair sums of q * a minus 16 * a: |.| <= 2 * 31 * 128, no saturation.
    const __m256i quads = SumPairs16(_mm256_sub_epi16(_mm256_maddubs_epi16(w.q, a.a), a.bias));
    c.v = _mm256_fmadd_ps(_mm256_set1_ps(w.d * a.d), _mm256_cvtepi32_ps(quads), c.v);
  }
  static float Finish(const Acc& c) { return Tree8(c.v); }
};

// Q4_1 / Q5_1 x Q8_1.
template <bool kQ5>
struct KQ1 {
  using Block = std::conditional_t<kQ5, BlockQ5_1, BlockQ4_1>;
  static constexpr size_t kElems = kQK, kWB = sizeof(Block), kAB = sizeof(BlockQ8_1);
  struct W { __m256i q; float d, m; };
  struct A { __m256i a; float d, s; };
  struct Acc { __m256 v; float summs; };
  static W Prep(const uint8_t* row, size_t b) {
    const auto* x = reinterpret_cast<const Block*>(row) + b;
    __m256i q = Nibbles(x->qs);
    if constexpr (kQ5) q = _mm256_or_si256(q, FifthBits(x->qh));
    return {q, F16(&x->d), F16(&x->m)};
  }
  static A PrepA(const uint8_t* row, size_t b) {
    const auto* y = reinterpret_cast<const BlockQ8_1*>(row) + b;
    return {Load32(y->qs), F16(&y->d), F16(&y->s)};
  }
  static void Init(Acc& c) { c.v = _mm256_setzero_ps(); c.summs = 0; }
  static void Step(const W& w, const A& a, Acc& c) {
    c.summs = std::fma(w.m, a.s, c.summs);
    const __m256i quads = SumPairs16(_mm256_maddubs_epi16(w.q, a.a));
    c.v = _mm256_fmadd_ps(_mm256_set1_ps(w.d * a.d), _mm256_cvtepi32_ps(quads), c.v);
  }
  static float Finish(const Acc& c) { return Tree8(c.v) + c.summs; }
};

// Q4_K / Q5_K x Q8_K.
template <bool kQ5>
struct KQK {
  using Block = std::conditional_t<kQ5, BlockQ5_K, BlockQ4_K>;
  static constexpr size_t kElems = kQK_K, kWB = sizeof(Block), kAB = sizeof(BlockQ8_K);
  struct W {
    const uint8_t* qs;
    const uint8_t* qh;
    __m256i scales;  // int16 sub-block scales sc0..sc7 in both 128-bit halves
    __m128i mins;    // int16 m0..m7
    float d, dmin;
  };
  struct A { const int8_t* q; __m128i sums; float d; };  // sums: int16 sums of the 8 sub-blocks
  struct Acc { __m256 v; __m128 m; float summs; };
  static W Prep(const uint8_t* row, size_t b) {
    const auto* x = reinterpret_cast<const Block*>(row) + b;
    // Unpack the 6-bit scales and mins: bytes of u[0..1] = sc0..7, of u[2..3] = m0..7.
    uint32_t u[4];
    std::memcpy(u, x->scales, 12);
    const uint32_t k1 = 0x3f3f3f3f, k2 = 0x0f0f0f0f, k3 = 0x03030303;
    u[3] = ((u[2] >> 4) & k2) | (((u[1] >> 6) & k3) << 4);
    const uint32_t m03 = u[1] & k1;
    u[1] = (u[2] & k2) | (((u[0] >> 6) & k3) << 4);
    u[2] = m03;
    u[0] &= k1;
    const __m256i sm = _mm256_cvtepu8_epi16(_mm_set_epi32(int(u[3]), int(u[2]), int(u[1]), int(u[0])));
    const uint8_t* qh = nullptr;
    if constexpr (kQ5) qh = x->qh;
    return {x->qs, qh, _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sm)),
            _mm256_extracti128_si256(sm, 1), F16(&x->d), F16(&x->dmin)};
  }
  static A PrepA(const uint8_t* row, size_t b) {
    const auto* y = reinterpret_cast<const BlockQ8_K*>(row) + b;
    const __m256i bs = Load32(y->bsums);
    return {y->qs, _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1)), y->d};
  }
  static void Init(Acc& c) { c.v = _mm256_setzero_ps(); c.m = _mm_setzero_ps(); c.summs = 0; }
  static void Step(const W& w, const A& a, Acc& c) {
    const __m128i prod = _mm_madd_epi16(w.mins, a.sums);
    const float dmin = -a.d * w.dmin;
    if constexpr (kQ5) {
      const __m128i s2 = _mm_add_epi32(prod, _mm_unpackhi_epi64(prod, prod));
      const int msum = _mm_cvtsi128_si32(_mm_add_epi32(s2, _mm_shuffle_epi32(s2, 1)));
      c.summs = std::fma(dmin, float(msum), c.summs);
    } else {
      c.m = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(prod), c.m);
    }
    __m256i sumi = _mm256_setzero_si256();
    __m256i hb = _mm256_setzero_si256();
    if constexpr (kQ5) hb = Load32(w.qh);
    for (int j = 0; j < 4; ++j) {
      const __m256i q = Load32(w.qs + 32 * j);
      __m256i lo = Low4(q), hi = High4(q);
      if constexpr (kQ5) {
        const __m256i one = _mm256_set1_epi8(1);
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j), one), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j + 1), one), 4));
      }
      const __m256i sc_lo = _mm256_shuffle_epi8(w.scales, _mm256_set1_epi16(int16_t(((4 * j + 1) << 8) | (4 * j))));
      const __m256i sc_hi = _mm256_shuffle_epi8(w.scales, _mm256_set1_epi16(int16_t(((4 * j + 3) << 8) | (4 * j + 2))));
      const __m256i p_lo = _mm256_madd_epi16(sc_lo, _mm256_maddubs_epi16(lo, Load32(a.q + 64 * j)));
      const __m256i p_hi = _mm256_madd_epi16(sc_hi, _mm256_maddubs_epi16(hi, Load32(a.q + 64 * j + 32)));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p_lo, p_hi));
    }
    c.v = _mm256_fmadd_ps(_mm256_set1_ps(a.d * w.d), _mm256_cvtepi32_ps(sumi), c.v);
  }
  static float Finish(const Acc& c) {
    if constexpr (kQ5) return Tree8(c.v) + c.summs;
    return Tree8(c.v) + Tree4(c.m);
  }
};

// Q6_K x Q8_K.
struct KQ6K {
  static constexpr size_t kElems = kQK_K, kWB = sizeof(BlockQ6_K), kAB = sizeof(BlockQ8_K);
  struct W { const BlockQ6_K* x; __m128i sc; float d; };
  struct A { const int8_t* q; float d; };
  struct Acc { __m256 v; };
  static W Prep(const uint8_t* row, size_t b) {
    const auto* x = reinterpret_cast<const BlockQ6_K*>(row) + b;
    return {x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(x->scales)), F16(&x->d)};
  }
  static A PrepA(const uint8_t* row, size_t b) {
    const auto* y = reinterpret_cast<const BlockQ8_K*>(row) + b;
    return {y->qs, y->d};
  }
  static void Init(Acc& c) { c.v = _mm256_setzero_ps(); }
  // Run r (elements 32r .. 32r+31): int16 scale of sub-block 2r in the low 128 bits, 2r+1 high.
  static __m256i RunScales(__m128i sc, int r) {
    const __m128i idx = _mm_set_epi64x(0x0101010101010101ll * (2 * r + 1), 0x0101010101010101ll * (2 * r));
    return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc, idx));
  }
  static void Step(const W& w, const A& a, Acc& c) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(3), m32 = _mm256_set1_epi8(32);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i b1 = Load32(w.x->ql + 64 * h), b2 = Load32(w.x->ql + 64 * h + 32);
      const __m256i bh = Load32(w.x->qh + 32 * h);
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(b1, m4), _mm256_slli_epi16(_mm256_and_si256(bh, m2), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(b2, m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(bh, 2), m2), 4));
      q[2] = _mm256_or_si256(High4(b1), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(bh, 4), m2), 4));
      q[3] = _mm256_or_si256(High4(b2), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(bh, 6), m2), 4));
      for (int s = 0; s < 4; ++s) {
        const int r = 4 * h + s;
        const __m256i av = Load32(a.q + 32 * r);
        // (q - 32) * a in pairs: |.| <= 2 * 32 * 128, no saturation.
        const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(q[s], av), _mm256_maddubs_epi16(m32, av));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(RunScales(w.sc, r), p));
      }
    }
    c.v = _mm256_fmadd_ps(_mm256_set1_ps(a.d * w.d), _mm256_cvtepi32_ps(sumi), c.v);
  }
  static float Finish(const Acc& c) { return Tree8(c.v); }
};

// kR weight rows x kT activation rows: res[r * kT + t]. pf: prefetch distance in bytes (decode).
template <class K, size_t kR, size_t kT>
HWY_INLINE void Tile(const uint8_t* const* w, const uint8_t* const* a, size_t nb, float* res, size_t pf) {
  typename K::Acc acc[kR][kT];
  for (size_t r = 0; r < kR; ++r)
    for (size_t t = 0; t < kT; ++t) K::Init(acc[r][t]);
  for (size_t b = 0; b < nb; ++b) {
    typename K::A act[kT];
    for (size_t t = 0; t < kT; ++t) act[t] = K::PrepA(a[t], b);
    for (size_t r = 0; r < kR; ++r) {
      if (pf)
        for (size_t o = 0; o < K::kWB; o += 64)
          _mm_prefetch(reinterpret_cast<const char*>(w[r] + b * K::kWB + o + pf), _MM_HINT_T0);
      const typename K::W wb = K::Prep(w[r], b);
      for (size_t t = 0; t < kT; ++t) K::Step(wb, act[t], acc[r][t]);
    }
  }
  for (size_t r = 0; r < kR; ++r)
    for (size_t t = 0; t < kT; ++t) res[r * kT + t] = K::Finish(acc[r][t]);
}

template <class K>
HWY_INLINE void QuantRows(const Args& m) {
  const size_t nb = m.k / K::kElems;
  const auto row = [&](size_t r) { return m.W + r * m.w_bytes; };
  float res[kDecodeRows * kTile];
  if (m.n_tok == 1) {
    const uint8_t* a[1] = {m.A};
    size_t r = m.row_begin;
    for (; r + kDecodeRows <= m.row_end; r += kDecodeRows) {
      const uint8_t* w[kDecodeRows];
      for (size_t i = 0; i < kDecodeRows; ++i) w[i] = row(r + i);
      Tile<K, kDecodeRows, 1>(w, a, nb, res, kPrefetchGroups * kDecodeRows * m.w_bytes);
      for (size_t i = 0; i < kDecodeRows; ++i) m.out[r + i] = res[i];
    }
    for (; r < m.row_end; ++r) {
      const uint8_t* w[1] = {row(r)};
      Tile<K, 1, 1>(w, a, nb, res, 0);
      m.out[r] = res[0];
    }
    return;
  }
  const size_t chunk = ChunkRows(m.w_bytes);
  for (size_t r0 = m.row_begin; r0 < m.row_end; r0 += chunk) {
    const size_t r1 = r0 + chunk < m.row_end ? r0 + chunk : m.row_end;
    for (size_t t0 = 0; t0 < m.n_tok; t0 += kTile) {
      const size_t nt = m.n_tok - t0 < kTile ? m.n_tok - t0 : kTile;
      const uint8_t* a[kTile];
      for (size_t i = 0; i < kTile; ++i) a[i] = m.A + (t0 + (i < nt ? i : 0)) * m.a_bytes;
      for (size_t r = r0; r < r1; ++r) {
        const uint8_t* w[1] = {row(r)};
        switch (nt) {
          case 1: Tile<K, 1, 1>(w, a, nb, res, 0); break;
          case 2: Tile<K, 1, 2>(w, a, nb, res, 0); break;
          case 3: Tile<K, 1, 3>(w, a, nb, res, 0); break;
          default: Tile<K, 1, 4>(w, a, nb, res, 0); break;
        }
        for (size_t t = 0; t < nt; ++t) m.out[(t0 + t) * m.out_stride + r] = res[t];
      }
    }
  }
}

// ---- BF16: ggml_vec_dot_f16's order (decode, or rows not a multiple of 8) and tinyBLAS's one
// 8-lane chain per output (batches), with bf16 -> f32 by a 16-bit shift.

HWY_INLINE __m256 LoadBF16(const uint16_t* p) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

HWY_INLINE float VecDotBF16(const uint16_t* w, const uint16_t* a, size_t k) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  const size_t np = k / 32 * 32;
  for (size_t i = 0; i < np; i += 32) {
    a0 = _mm256_fmadd_ps(LoadBF16(w + i), LoadBF16(a + i), a0);
    a1 = _mm256_fmadd_ps(LoadBF16(w + i + 8), LoadBF16(a + i + 8), a1);
    a2 = _mm256_fmadd_ps(LoadBF16(w + i + 16), LoadBF16(a + i + 16), a2);
    a3 = _mm256_fmadd_ps(LoadBF16(w + i + 24), LoadBF16(a + i + 24), a3);
  }
  const __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3));
  double sum = Hadd8(s);
  for (size_t i = np; i < k; ++i) {
    const float p = bf16_to_f32(w[i]) * bf16_to_f32(a[i]);
    sum += double(p);
  }
  return float(sum);
}

template <size_t kT>
HWY_INLINE void ChainTileBF16(const uint16_t* w, const uint16_t* const* a, size_t k, float* res) {
  __m256 acc[kT];
  for (size_t t = 0; t < kT; ++t) acc[t] = _mm256_setzero_ps();
  for (size_t i = 0; i < k; i += 8) {
    const __m256 wv = LoadBF16(w + i);
    for (size_t t = 0; t < kT; ++t) acc[t] = _mm256_fmadd_ps(wv, LoadBF16(a[t] + i), acc[t]);
  }
  for (size_t t = 0; t < kT; ++t) res[t] = Tree8(acc[t]);
}

HWY_INLINE void BF16Rows(const Args& m) {
  const auto row = [&](size_t r) { return reinterpret_cast<const uint16_t*>(m.W + r * m.w_bytes); };
  const auto act = [&](size_t t) { return reinterpret_cast<const uint16_t*>(m.A + t * m.a_bytes); };
  if (!m.batched || m.k % 8 != 0) {
    for (size_t t = 0; t < m.n_tok; ++t)
      for (size_t r = m.row_begin; r < m.row_end; ++r) m.out[t * m.out_stride + r] = VecDotBF16(row(r), act(t), m.k);
    return;
  }
  const size_t chunk = ChunkRows(m.w_bytes);
  float res[kTile];
  for (size_t r0 = m.row_begin; r0 < m.row_end; r0 += chunk) {
    const size_t r1 = r0 + chunk < m.row_end ? r0 + chunk : m.row_end;
    for (size_t t0 = 0; t0 < m.n_tok; t0 += kTile) {
      const size_t nt = m.n_tok - t0 < kTile ? m.n_tok - t0 : kTile;
      const uint16_t* a[kTile];
      for (size_t i = 0; i < kTile; ++i) a[i] = act(t0 + (i < nt ? i : 0));
      for (size_t r = r0; r < r1; ++r) {
        switch (nt) {
          case 1: ChainTileBF16<1>(row(r), a, m.k, res); break;
          case 2: ChainTileBF16<2>(row(r), a, m.k, res); break;
          case 3: ChainTileBF16<3>(row(r), a, m.k, res); break;
          default: ChainTileBF16<4>(row(r), a, m.k, res); break;
        }
        for (size_t t = 0; t < nt; ++t) m.out[(t0 + t) * m.out_stride + r] = res[t];
      }
    }
  }
}

#else
#define TANDEM_KQ_SIMD 0
#endif  // x86 SIMD kernels

}  // namespace kq

// Entry point (exported per target by matmul_kquants.cpp); the caller validated the type and k.
inline void KquantMatmulImpl(TensorType wtype, const void* W, size_t k, size_t row_begin, size_t row_end,
                             const void* A, size_t n_tok, float* out, size_t out_stride, bool batched) {
  const kq::Args m{wtype, static_cast<const uint8_t*>(W), row_bytes(wtype, k), k, row_begin, row_end,
                   static_cast<const uint8_t*>(A), row_bytes(activation_type(wtype), k), n_tok, out, out_stride,
                   batched};
#if TANDEM_KQ_SIMD
  switch (wtype) {
    case TensorType::BF16: return kq::BF16Rows(m);
    case TensorType::Q5_0: return kq::QuantRows<kq::KQ5_0>(m);
    case TensorType::Q4_1: return kq::QuantRows<kq::KQ1<false>>(m);
    case TensorType::Q5_1: return kq::QuantRows<kq::KQ1<true>>(m);
    case TensorType::Q4_K: return kq::QuantRows<kq::KQK<false>>(m);
    case TensorType::Q5_K: return kq::QuantRows<kq::KQK<true>>(m);
    case TensorType::Q6_K: return kq::QuantRows<kq::KQ6K>(m);
    default: return;
  }
#else
  kq::SpecRows(m);
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace tandem::kernels
HWY_AFTER_NAMESPACE();

#endif  // TANDEM_KERNELS_MATMUL_KQUANTS_INL_H_ toggle
