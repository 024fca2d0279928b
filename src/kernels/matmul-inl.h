// Highway kernels behind kernels/matmul.h, compiled once per SIMD target: matmul.cpp includes
// this file through hwy/foreach_target.h, and each pass defines the functions below in
// tandem::kernels::N_<TARGET>. The public wrappers in matmul.cpp dispatch to the best target.
//
// Conventions:
// - Every loop is written for an arbitrary number of lanes (1 for HWY_SCALAR, 4/8/16 floats for
//   SSE4/AVX2/AVX-512). Rows of arbitrary length end with a tail shorter than a vector: the tail
//   is copied into a zero-padded stack buffer and processed as one full vector, so nothing is
//   ever read or written past the end of a row.
// - Matrix products are bit-identical to ggml_exact::dot (kernels/ggml_numerics.h): integer sums
//   are exact whatever computes them, the float steps follow ggml's order exactly (see "Matrix
//   products in llama.cpp's exact order" below).
// - No heap memory, no mutable state: every function may run concurrently on many threads.
// - The matrix-product kernels of AVX2/AVX3/AVX3_DL use raw x86 intrinsics where Highway 1.0.3
//   lacks the ops (8-bit multiply-adds, horizontal adds; vpdpbusd by inline asm on AVX3_DL);
//   targets without SIMD FMA run scalar code with std::fma.

// Per-target include guard: toggled by foreach_target.h for each target.
#if defined(TANDEM_KERNELS_MATMUL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TANDEM_KERNELS_MATMUL_INL_H_
#undef TANDEM_KERNELS_MATMUL_INL_H_
#else
#define TANDEM_KERNELS_MATMUL_INL_H_
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "format/tensor_type.h"
#include "hwy/highway.h"
#include "kernels/blocks.h"
#include "kernels/fp16.h"
#include "kernels/quantize.h"

// Whether this target converts fp16 <-> f32 in hardware with IEEE round-to-nearest-even (x86
// F16C, implied by AVX2 in Highway). Elsewhere Highway 1.0.3 emulates the conversions without
// rounding (and without infinities), so we use our own integer code, bit-exact with fp16.h.
#undef TANDEM_HWY_NATIVE_F16
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2 && !defined(HWY_DISABLE_F16C)
#define TANDEM_HWY_NATIVE_F16 1
#else
#define TANDEM_HWY_NATIVE_F16 0
#endif

HWY_BEFORE_NAMESPACE();
namespace tandem::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ------------------------------------------------------------------------------------------------
// Small helpers

template <class D>
HWY_INLINE float ReduceSum(D d, hn::Vec<D> v) {
  return hn::GetLane(hn::SumOfLanes(d, v));
}

// Largest number of lanes of a float vector on this target; sizes the tail buffers.
constexpr size_t kMaxF32Lanes = HWY_MAX_BYTES / sizeof(float);

// Matmul tiling: rows are processed in chunks of about kChunkBytes of weights, and activation rows
// in tiles of kTile (see MatmulRows).
constexpr size_t kChunkBytes = 64 * 1024;
constexpr size_t kTile = 4;

HWY_INLINE uint16_t LoadU16(const void* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// One fp16 scale to f32.
HWY_INLINE float ScaleToF32(const void* p) {
#if TANDEM_HWY_NATIVE_F16
  const hn::CappedTag<float, 1> d1;
  const hn::Rebind<hwy::float16_t, decltype(d1)> dh1;
  return hn::GetLane(hn::PromoteTo(d1, hn::LoadU(dh1, static_cast<const hwy::float16_t*>(p))));
#else
  return fp16_to_f32(LoadU16(p));
#endif
}

// ------------------------------------------------------------------------------------------------
// fp16 <-> f32 for Lanes(df) values

#if !TANDEM_HWY_NATIVE_F16
// Widens fp16 bit patterns (one per u32 lane) to f32, as fp16_to_f32.
template <class DF, class VU>
HWY_INLINE hn::Vec<DF> F16BitsToF32(DF df, VU h) {
  const hn::RebindToUnsigned<DF> du;
  const hn::RebindToSigned<DF> di;
  const VU sign = hn::ShiftLeft<16>(hn::And(h, hn::Set(du, 0x8000u)));
  const VU exp = hn::And(hn::ShiftRight<10>(h), hn::Set(du, 0x1fu));
  const VU mant = hn::And(h, hn::Set(du, 0x3ffu));
  const VU normal =
      hn::Or(hn::ShiftLeft<23>(hn::Add(exp, hn::Set(du, 112u))), hn::ShiftLeft<13>(mant));
  const VU inf_nan = hn::Or(hn::Set(du, 0x7f800000u), hn::ShiftLeft<13>(mant));
  const VU subnormal = hn::BitCast(
      du, hn::Mul(hn::ConvertTo(df, hn::BitCast(di, mant)), hn::Set(df, 5.9604644775390625e-8f)));
  VU bits = hn::IfThenElse(hn::Eq(exp, hn::Set(du, 31u)), inf_nan, normal);
  bits = hn::IfThenElse(hn::Eq(exp, hn::Zero(du)), subnormal, bits);
  return hn::BitCast(df, hn::Or(bits, sign));
}

// Narrows f32 to fp16 bit patterns (one per u32 lane), as f32_to_fp16.
template <class DF>
HWY_INLINE hn::Vec<hn::RebindToUnsigned<DF>> F32ToF16Bits(DF df, hn::Vec<DF> v) {
  const hn::RebindToUnsigned<DF> du;
  const hn::RebindToSigned<DF> di;
  using VU = hn::Vec<decltype(du)>;
  const VU x = hn::BitCast(du, v);
  const VU sign = hn::And(hn::ShiftRight<16>(x), hn::Set(du, 0x8000u));
  const VU a = hn::And(x, hn::Set(du, 0x7fffffffu));
  const auto ai = hn::BitCast(di, a);  // non-negative: signed compares are unsigned compares
  // Normal range: rebias the exponent and round to nearest even.
  const VU odd = hn::And(hn::ShiftRight<13>(a), hn::Set(du, 1u));
  VU r = hn::ShiftRight<13>(hn::Add(hn::Add(a, hn::Set(du, 0xc8000fffu)), odd));
  // Below the smallest normal half: the FPU rounds a + 0.5 to units of 2^-24.
  const VU small = hn::Sub(hn::BitCast(du, hn::Add(hn::BitCast(df, a), hn::Set(df, 0.5f))),
                           hn::Set(du, 0x3f000000u));
  r = hn::IfThenElse(hn::RebindMask(du, hn::Lt(ai, hn::Set(di, 0x38800000))), small, r);
  r = hn::IfThenElse(hn::RebindMask(du, hn::Gt(ai, hn::Set(di, 0x477fefff))),
                     hn::Set(du, 0x7c00u), r);
  const VU nan_or_inf = hn::IfThenElse(hn::RebindMask(du, hn::Gt(ai, hn::Set(di, 0x7f800000))),
                                       hn::Set(du, 0x7e00u), hn::Set(du, 0x7c00u));
  r = hn::IfThenElse(hn::RebindMask(du, hn::Gt(ai, hn::Set(di, 0x7f7fffff))), nan_or_inf, r);
  return hn::Or(r, sign);
}
#endif  // !TANDEM_HWY_NATIVE_F16

template <class DF>
HWY_INLINE hn::Vec<DF> LoadF16(DF df, const uint16_t* HWY_RESTRICT p) {
#if TANDEM_HWY_NATIVE_F16
  const hn::Rebind<hwy::float16_t, DF> dh;
  return hn::PromoteTo(df, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(p)));
#else
  const hn::RebindToUnsigned<DF> du;
  const hn::Rebind<uint16_t, DF> du16;
  return F16BitsToF32(df, hn::PromoteTo(du, hn::LoadU(du16, p)));
#endif
}

template <class DF>
HWY_INLINE void StoreF16(DF df, hn::Vec<DF> v, uint16_t* HWY_RESTRICT p) {
#if TANDEM_HWY_NATIVE_F16
  const hn::Rebind<hwy::float16_t, DF> dh;
  hn::StoreU(hn::DemoteTo(dh, v), dh, reinterpret_cast<hwy::float16_t*>(p));
#else
  const hn::RebindToSigned<DF> di;
  const hn::Rebind<uint16_t, DF> du16;
  // The patterns are <= 0xffff, so the saturating demotion keeps them.
  hn::StoreU(hn::DemoteTo(du16, hn::BitCast(di, F32ToF16Bits(df, v))), du16, p);
#endif
}

// Loads Lanes(df) elements of a row of floats or fp16 as f32.
template <class DF>
HWY_INLINE hn::Vec<DF> LoadRow(DF df, const float* HWY_RESTRICT p) {
  return hn::LoadU(df, p);
}
template <class DF>
HWY_INLINE hn::Vec<DF> LoadRow(DF df, const uint16_t* HWY_RESTRICT p) {
  return LoadF16(df, p);
}

// Copies the last `n` (< Lanes) elements of a row into a zero-padded buffer of a full vector.
template <typename T>
HWY_INLINE void CopyTail(const T* HWY_RESTRICT src, size_t n, T* HWY_RESTRICT buf, size_t lanes) {
  std::memcpy(buf, src, n * sizeof(T));
  std::memset(buf + n, 0, (lanes - n) * sizeof(T));
}

// ------------------------------------------------------------------------------------------------
// Activation conversion

template <class DF>
HWY_INLINE void QuantizeRowQ8_0(DF df, const float* HWY_RESTRICT x, BlockQ8_0* HWY_RESTRICT y,
                                size_t nb) {
  const size_t N = hn::Lanes(df);  // divides 32
  const hn::RebindToSigned<DF> di;
  const hn::Rebind<int8_t, DF> d8;
  for (size_t b = 0; b < nb; ++b, x += kQK) {
    auto vmax = hn::Zero(df);
    for (size_t j = 0; j < size_t(kQK); j += N) vmax = hn::Max(vmax, hn::Abs(hn::LoadU(df, x + j)));
    const float amax = hn::GetLane(hn::MaxOfLanes(df, vmax));
    const float d = amax / 127.f;
    const float id = amax != 0 ? 127.f / amax : 0.f;
    const uint16_t dh = f32_to_fp16(d);
    std::memcpy(&y[b].d, &dh, 2);
    const auto vid = hn::Set(df, id);
    for (size_t j = 0; j < size_t(kQK); j += N) {
      const auto v = hn::Mul(hn::LoadU(df, x + j), vid);
#if HWY_TARGET == HWY_SCALAR || HWY_TARGET == HWY_EMU128
      // Their NearestInt adds 0.5, which misrounds values just below 0.5. |v| <= 127 here, so
      // adding and subtracting 1.5 * 2^23 rounds to nearest even exactly.
      const auto magic = hn::Set(df, 12582912.f);
      const auto q = hn::ConvertTo(di, hn::Sub(hn::Add(v, magic), magic));
#else
      const auto q = hn::NearestInt(v);  // round to nearest even, as nearbyint
#endif
      hn::StoreU(hn::DemoteTo(d8, q), d8, y[b].qs + j);
    }
  }
}

template <class DF>
HWY_INLINE void F32ToF16Row(DF df, const float* HWY_RESTRICT x, uint16_t* HWY_RESTRICT out,
                            size_t n) {
  const size_t N = hn::Lanes(df);
  size_t i = 0;
  for (; i + N <= n; i += N) StoreF16(df, hn::LoadU(df, x + i), out + i);
  if (i < n) {
    HWY_ALIGN float xb[kMaxF32Lanes];
    uint16_t ob[kMaxF32Lanes];
    CopyTail(x + i, n - i, xb, N);
    StoreF16(df, hn::Load(df, xb), ob);
    std::memcpy(out + i, ob, (n - i) * 2);
  }
}

// ------------------------------------------------------------------------------------------------
// Matrix products in llama.cpp's exact order of floating-point operations
//
// Every output equals ggml_exact::dot (kernels/ggml_numerics.h) bit for bit. Integer sums of
// products are exact however they are computed, so only the float steps follow the spec:
//  - "lanes" (Q8_0, and Q4_0 whose matrix rows % 8 != 0): 8 float lanes, lane l accumulates
//    fma(d_w * d_a, isum of elements 4l..4l+3, lane) block after block; Tree8 at the end.
//  - "repacked" (Q4_0 with rows % 8 == 0): one float per row, fma(isum of the block, d_w * d_a).
//  - F32/F16: VecDot order (4 accumulators of 8 lanes over 32-element steps, Hadd8, leftovers
//    one at a time) for a single token or k % 8 != 0, else one 8-lane chain and Tree8.
// The 8 logical lanes of a row live in one 256-bit vector; they never mix before the end.
// Targets with hardware FMA (AVX2, AVX3, AVX3_DL) run the SIMD kernels below; the others
// (SSE4, SSSE3, scalar) have no fused multiply-add in SIMD and run the scalar code in ref::,
// whose std::fma rounds once as the spec requires.

// 8 lanes reduced as tinyBLAS / hsum_float_8: lo + hi halves, then (t0 + t2) + (t1 + t3).
HWY_INLINE float Tree8(const float* v) {
  const float t0 = v[0] + v[4], t1 = v[1] + v[5], t2 = v[2] + v[6], t3 = v[3] + v[7];
  return (t0 + t2) + (t1 + t3);
}

// 8 lanes reduced as GGML_F32x8_REDUCE: lo + hi halves, then (t0 + t1) + (t2 + t3).
HWY_INLINE float Hadd8(const float* v) {
  const float t0 = v[0] + v[4], t1 = v[1] + v[5], t2 = v[2] + v[6], t3 = v[3] + v[7];
  return (t0 + t1) + (t2 + t3);
}

HWY_INLINE float ElemF(const float* p, size_t i) { return p[i]; }
HWY_INLINE float ElemF(const uint16_t* p, size_t i) { return fp16_to_f32(p[i]); }

// VecDot's leftover elements [np, k) after the SIMD part `red`: fp16 products are added in
// double, f32 products in float; a product is rounded before it is added (no contraction).
HWY_INLINE float VecDotLeftover(float red, const uint16_t* w, const uint16_t* a, size_t np,
                                size_t k) {
  double s = red;
  for (size_t i = np; i < k; ++i) {
    const float p = ElemF(w, i) * ElemF(a, i);
    s += double(p);
  }
  return float(s);
}
HWY_INLINE float VecDotLeftover(float red, const float* w, const float* a, size_t np, size_t k) {
  float s = red;
  for (size_t i = np; i < k; ++i) {
    volatile float p = w[i] * a[i];  // keeps the compiler from fusing it into the add
    s += p;
  }
  return s;
}

// Scalar kernels (targets without SIMD FMA).
namespace ref {

template <typename T>
HWY_INLINE float VecDot(const T* w, const T* a, size_t k) {
  float acc[4][8] = {};
  const size_t np = k / 32 * 32;
  for (size_t i = 0; i < np; i += 32)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 8; ++l)
        acc[j][l] = std::fma(ElemF(w, i + 8 * j + l), ElemF(a, i + 8 * j + l), acc[j][l]);
  for (int l = 0; l < 8; ++l) acc[0][l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
  return VecDotLeftover(Hadd8(acc[0]), w, a, np, k);
}

template <typename T>
HWY_INLINE float ChainDot(const T* w, const T* a, size_t k) {  // k % 8 == 0
  float acc[8] = {};
  for (size_t i = 0; i < k; i += 8)
    for (int l = 0; l < 8; ++l) acc[l] = std::fma(ElemF(w, i + l), ElemF(a, i + l), acc[l]);
  return Tree8(acc);
}

// Signed weights of block b and its scale.
template <bool kQ4>
HWY_INLINE float BlockQ(const uint8_t* row, size_t b, int* q) {
  if constexpr (kQ4) {
    const BlockQ4_0& x = reinterpret_cast<const BlockQ4_0*>(row)[b];
    for (int j = 0; j < kQK / 2; ++j) {
      q[j] = (x.qs[j] & 0x0f) - 8;
      q[j + kQK / 2] = (x.qs[j] >> 4) - 8;
    }
    return fp16_to_f32(LoadU16(&x.d));
  } else {
    const BlockQ8_0& x = reinterpret_cast<const BlockQ8_0*>(row)[b];
    for (int j = 0; j < kQK; ++j) q[j] = x.qs[j];
    return fp16_to_f32(LoadU16(&x.d));
  }
}

template <bool kQ4>
HWY_INLINE float LanesDot(const uint8_t* w, const BlockQ8_0* a, size_t nb) {
  float acc[8] = {};
  int q[kQK];
  for (size_t b = 0; b < nb; ++b) {
    const float d = BlockQ<kQ4>(w, b, q) * fp16_to_f32(LoadU16(&a[b].d));
    for (int l = 0; l < 8; ++l) {
      int s = 0;
      for (int j = 4 * l; j < 4 * l + 4; ++j) s += q[j] * a[b].qs[j];
      acc[l] = std::fma(d, float(s), acc[l]);
    }
  }
  return Tree8(acc);
}

HWY_INLINE float RepackedDot(const uint8_t* w, const BlockQ8_0* a, size_t nb) {
  float acc = 0;
  int q[kQK];
  for (size_t b = 0; b < nb; ++b) {
    const float dx = BlockQ<true>(w, b, q);
    int s = 0;
    for (int j = 0; j < kQK; ++j) s += q[j] * a[b].qs[j];
    acc = std::fma(float(s), dx * fp16_to_f32(LoadU16(&a[b].d)), acc);
  }
  return acc;
}

}  // namespace ref

// Activation scales of a tile: converted beforehand into a stack buffer (rows of up to
// kScaleBlocks blocks), or when used (longer rows).
constexpr size_t kScaleBlocks = 1024;

struct PrecomputedScales {
  const float* const* s;
  HWY_INLINE float operator()(size_t t, size_t b) const { return s[t][b]; }
};

struct InlineScales {
  const BlockQ8_0* const* a;
  HWY_INLINE float operator()(size_t t, size_t b) const { return ScaleToF32(&a[t][b].d); }
};

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

// ------------------------------------------------------------------------------------------------
// Matmul driver.
//
// Decode (one activation row): the rows in order, 2 at a time (8 for repacked Q4_0), a single
// sequential stream. Prefill: rows in chunks of about kChunkBytes of weights, which stay in L2
// while every tile of up to kTile activation rows passes over them.

struct MatmulArgs {
  const uint8_t* W;
  size_t w_bytes;  // per row
  size_t k;
  size_t row_begin, row_end;
  const uint8_t* A;
  size_t a_bytes;  // per activation row
  size_t n_tok;
  float* out;
  size_t out_stride;
  bool batched;  // float weights: tinyBLAS order (ggml's n_tok >= 2) instead of vec_dot's
};

HWY_INLINE size_t ChunkRows(size_t w_bytes, size_t multiple) {
  size_t rows = w_bytes == 0 || w_bytes >= kChunkBytes ? 1 : kChunkBytes / w_bytes;
  return (rows + multiple - 1) / multiple * multiple;
}

#if TANDEM_FMA8
// Float rows by register tiles of kR rows x up to kT tokens, each result computed by `tile`
// (a ChainTile or VecDotTile instantiation picked per shape).
template <size_t kR, size_t kT, typename T, class Tile>
HWY_INLINE void FloatTiles(const MatmulArgs& m, const Tile& tile) {
  const auto row = [&](size_t r) { return reinterpret_cast<const T*>(m.W + r * m.w_bytes); };
  const auto act = [&](size_t t) { return reinterpret_cast<const T*>(m.A + t * m.a_bytes); };
  const size_t chunk = ChunkRows(m.w_bytes, kR);
  const size_t token_tiles = (m.n_tok + kT - 1) / kT;
  for (size_t r0 = m.row_begin; r0 < m.row_end; r0 += chunk) {
    const size_t r1 = r0 + chunk < m.row_end ? r0 + chunk : m.row_end;
    // The chunk's rows are reused from L2 by every token tile. Meanwhile the next chunk's rows
    // are prefetched, a slice before each register tile, so that reading them from memory
    // overlaps this chunk's compute instead of stalling the next one's first tile.
    const size_t r2 = r1 + chunk < m.row_end ? r1 + chunk : m.row_end;
    const uint8_t* next = m.W + r1 * m.w_bytes;
    const size_t next_lines = (r2 - r1) * m.w_bytes / 64, calls = ((r1 - r0) / kR + 1) * token_tiles;
    const size_t lines_per_call = (next_lines + calls - 1) / calls;
    size_t line = 0;
    for (size_t t0 = 0; t0 < m.n_tok; t0 += kT) {
      const size_t nt = m.n_tok - t0 < kT ? m.n_tok - t0 : kT;
      const T* a[kT];
      for (size_t i = 0; i < kT; ++i) a[i] = act(t0 + (i < nt ? i : 0));
      float res[kR * kT];
      size_t r = r0;
      for (; r + kR <= r1; r += kR) {
        const T* w[kR];
        for (size_t i = 0; i < kR; ++i) w[i] = row(r + i);
        for (size_t e = line + lines_per_call < next_lines ? line + lines_per_call : next_lines; line < e; ++line)
          _mm_prefetch(reinterpret_cast<const char*>(next + line * 64), _MM_HINT_T1);
        tile(std::integral_constant<size_t, kR>(), w, a, nt, res);  // res[i * nt + t]
        for (size_t i = 0; i < kR; ++i)
          for (size_t t = 0; t < nt; ++t) m.out[(t0 + t) * m.out_stride + r + i] = res[i * nt + t];
      }
      for (; r < r1; ++r) {
        const T* w[1] = {row(r)};
        tile(std::integral_constant<size_t, 1>(), w, a, nt, res);
        for (size_t t = 0; t < nt; ++t) m.out[(t0 + t) * m.out_stride + r] = res[t];
      }
    }
  }
}

template <typename T>
HWY_INLINE void FloatRows(const MatmulArgs& m) {
  // Rows per register tile: 4 x 4 accumulators where AVX-512 gives 32 vector registers, else
  // 2 x 4. The tile shape does not change any result (each row x token is its own chains).
  constexpr size_t kR = (HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL) ? 4 : 2;
  const size_t k = m.k;
  if (!m.batched || k % 8 != 0) {
    if (m.n_tok == 1) {
      // One token (decode): a weight row streams through once; a 4-chain dot product per row.
      const T* a = reinterpret_cast<const T*>(m.A);
      for (size_t r = m.row_begin; r < m.row_end; ++r)
        m.out[r] = fx::VecDot(reinterpret_cast<const T*>(m.W + r * m.w_bytes), a, k);
      return;
    }
    // Several tokens each in the single-token order (serving's decode steps): register tiles.
    // Tiles of 2 chains x kSR rows x kST tokens: 24 accumulators on AVX-512, 8 on AVX2.
    constexpr bool kWide = HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL;
    constexpr size_t kSR = kWide ? 3 : 2, kST = kWide ? 4 : 2;
    FloatTiles<kSR, kST, T>(m, [k](auto R, const T* const* w, const T* const* a, size_t nt, float* res) {
      constexpr size_t r = decltype(R)::value;
      switch (nt) {
        case 1: fx::VecDotTile<2, r, 1>(w, a, k, res); break;
        case 2: fx::VecDotTile<2, r, 2>(w, a, k, res); break;
        case 3: if constexpr (kST >= 3) fx::VecDotTile<2, r, 3>(w, a, k, res); break;
        default: if constexpr (kST >= 4) fx::VecDotTile<2, r, 4>(w, a, k, res); break;
      }
    });
    return;
  }
  FloatTiles<kR, kTile, T>(m, [k](auto R, const T* const* w, const T* const* a, size_t nt, float* res) {
    switch (nt) {
      case 1: fx::ChainTile<decltype(R)::value, 1>(w, a, k, res); break;
      case 2: fx::ChainTile<decltype(R)::value, 2>(w, a, k, res); break;
      case 3: fx::ChainTile<decltype(R)::value, 3>(w, a, k, res); break;
      default: fx::ChainTile<decltype(R)::value, 4>(w, a, k, res); break;
    }
  });
}

constexpr size_t kDecodeRows = 4;
// Decode prefetches the weights this many row groups ahead: the hardware prefetchers follow one
// sequential stream well, several interleaved ones (the rows of a group) poorly.
constexpr size_t kPrefetchGroups = 4;

// Quantized rows with activation scales `as` for the tile of activation rows `a`.
template <bool kQ4, bool kRepacked, class AS>
HWY_INLINE void QuantTile(const MatmulArgs& m, size_t r0, size_t r1, size_t t0, size_t nt,
                          const BlockQ8_0* const* a, const AS& as) {
  const size_t nb = m.k / kQK;
  const auto row = [&](size_t r) { return m.W + r * m.w_bytes; };
  float res[8 * kTile];
  if constexpr (kRepacked) {
    for (size_t r = r0; r < r1; r += 8) {
      const size_t n = r1 - r < 8 ? r1 - r : 8;
      const uint8_t* w[8];
      for (size_t i = 0; i < 8; ++i) w[i] = row(r + (i < n ? i : 0));  // lanes past n: unused
      switch (nt) {
        case 1: fx::RepackedTile<1>(w, a, as, nb, res, kPrefetchGroups * 8 * m.w_bytes); break;
        case 2: fx::RepackedTile<2>(w, a, as, nb, res); break;
        case 3: fx::RepackedTile<3>(w, a, as, nb, res); break;
        default: fx::RepackedTile<4>(w, a, as, nb, res); break;
      }
      for (size_t t = 0; t < nt; ++t)
        for (size_t i = 0; i < n; ++i) m.out[(t0 + t) * m.out_stride + r + i] = res[t * 8 + i];
    }
  } else if (nt == 1) {
    // kDecodeRows independent FMA chains: one row's chain is latency-bound.
    size_t r = r0;
    for (; r + kDecodeRows <= r1; r += kDecodeRows) {
      const uint8_t* w[kDecodeRows];
      for (size_t i = 0; i < kDecodeRows; ++i) w[i] = row(r + i);
      fx::LanesTile<kQ4, kDecodeRows, 1>(w, a, as, nb, res, kPrefetchGroups * kDecodeRows * m.w_bytes);
      for (size_t i = 0; i < kDecodeRows; ++i) m.out[t0 * m.out_stride + r + i] = res[i];
    }
    for (; r < r1; ++r) {
      const uint8_t* w[1] = {row(r)};
      fx::LanesTile<kQ4, 1, 1>(w, a, as, nb, res);
      m.out[t0 * m.out_stride + r] = res[0];
    }
  } else {
    for (size_t r = r0; r < r1; ++r) {
      const uint8_t* w[1] = {row(r)};
      switch (nt) {
        case 2: fx::LanesTile<kQ4, 1, 2>(w, a, as, nb, res); break;
        case 3: fx::LanesTile<kQ4, 1, 3>(w, a, as, nb, res); break;
        default: fx::LanesTile<kQ4, 1, 4>(w, a, as, nb, res); break;
      }
      for (size_t t = 0; t < nt; ++t) m.out[(t0 + t) * m.out_stride + r] = res[t];
    }
  }
}

template <bool kQ4, bool kRepacked>
HWY_INLINE void QuantRows(const MatmulArgs& m) {
  const size_t nb = m.k / kQK;
  HWY_ALIGN float scales[kTile][kScaleBlocks];
  const float* sp[kTile] = {scales[0], scales[1], scales[2], scales[3]};
  const size_t chunk = m.n_tok == 1 ? m.row_end - m.row_begin : ChunkRows(m.w_bytes, 8);
  for (size_t r0 = m.row_begin; r0 < m.row_end; r0 += chunk) {
    const size_t r1 = r0 + chunk < m.row_end ? r0 + chunk : m.row_end;
    for (size_t t0 = 0; t0 < m.n_tok; t0 += kTile) {
      const size_t nt = m.n_tok - t0 < kTile ? m.n_tok - t0 : kTile;
      const BlockQ8_0* a[kTile];
      for (size_t i = 0; i < kTile; ++i)
        a[i] = reinterpret_cast<const BlockQ8_0*>(m.A + (t0 + (i < nt ? i : 0)) * m.a_bytes);
      if (nb <= kScaleBlocks) {
        for (size_t i = 0; i < nt; ++i)
          for (size_t b = 0; b < nb; ++b) scales[i][b] = ScaleToF32(&a[i][b].d);
        QuantTile<kQ4, kRepacked>(m, r0, r1, t0, nt, a, PrecomputedScales{sp});
      } else {
        QuantTile<kQ4, kRepacked>(m, r0, r1, t0, nt, a, InlineScales{a});
      }
    }
  }
}
#else
// Scalar kernels: each output on its own.
HWY_INLINE void RefRows(TensorType wtype, bool repacked, const MatmulArgs& m) {
  for (size_t t = 0; t < m.n_tok; ++t) {
    const uint8_t* a = m.A + t * m.a_bytes;
    for (size_t r = m.row_begin; r < m.row_end; ++r) {
      const uint8_t* w = m.W + r * m.w_bytes;
      float v = 0;
      const bool chain = m.batched && m.k % 8 == 0;
      const auto* aq = reinterpret_cast<const BlockQ8_0*>(a);
      switch (wtype) {
        case TensorType::F32: {
          const auto* wf = reinterpret_cast<const float*>(w);
          const auto* af = reinterpret_cast<const float*>(a);
          v = chain ? ref::ChainDot(wf, af, m.k) : ref::VecDot(wf, af, m.k);
          break;
        }
        case TensorType::F16: {
          const auto* wf = reinterpret_cast<const uint16_t*>(w);
          const auto* af = reinterpret_cast<const uint16_t*>(a);
          v = chain ? ref::ChainDot(wf, af, m.k) : ref::VecDot(wf, af, m.k);
          break;
        }
        case TensorType::Q8_0: v = ref::LanesDot<false>(w, aq, m.k / kQK); break;
        case TensorType::Q4_0:
          v = repacked ? ref::RepackedDot(w, aq, m.k / kQK) : ref::LanesDot<true>(w, aq, m.k / kQK);
          break;
        default: break;
      }
      m.out[t * m.out_stride + r] = v;
    }
  }
}
#endif  // TANDEM_FMA8

// ------------------------------------------------------------------------------------------------
// Entry points (exported per target by matmul.cpp). Types are validated by the callers.

inline void ConvertActivationsImpl(TensorType at, const float* HWY_RESTRICT x, void* out,
                                   size_t n) {
  switch (at) {
    case TensorType::F32: std::memcpy(out, x, n * sizeof(float)); return;
    case TensorType::F16: {
      const hn::ScalableTag<float> df;
      F32ToF16Row(df, x, static_cast<uint16_t*>(out), n);
      return;
    }
    case TensorType::Q8_0: {
      const hn::CappedTag<float, kQK> df;
      QuantizeRowQ8_0(df, x, static_cast<BlockQ8_0*>(out), n / kQK);
      return;
    }
    default: return;
  }
}

inline void MatmulImpl(TensorType wtype, const void* W, size_t k, size_t row_begin,
                       size_t row_end, const void* A, size_t n_tok, float* out, size_t out_stride,
                       size_t w_rows, bool batched) {
  MatmulArgs m{static_cast<const uint8_t*>(W), row_bytes(wtype, k), k, row_begin, row_end,
               static_cast<const uint8_t*>(A), row_bytes(activation_type(wtype), k), n_tok, out,
               out_stride, batched};
  const bool repacked = wtype == TensorType::Q4_0 && w_rows % 8 == 0;
#if TANDEM_FMA8
  switch (wtype) {
    case TensorType::F32: return FloatRows<float>(m);
    case TensorType::F16: return FloatRows<uint16_t>(m);
    case TensorType::Q8_0: return QuantRows<false, false>(m);
    case TensorType::Q4_0:
      return repacked ? QuantRows<true, true>(m) : QuantRows<true, false>(m);
    default: return;
  }
#else
  RefRows(wtype, repacked, m);
#endif
}

inline float DotImpl(TensorType wtype, const void* w_row, const void* a_row, size_t k,
                     size_t w_rows) {
  float out = 0;
  MatmulImpl(wtype, w_row, k, 0, 1, a_row, 1, &out, 1, w_rows, false);
  return out;
}

inline float DotF16GgmlImpl(const uint16_t* HWY_RESTRICT a, const uint16_t* HWY_RESTRICT b,
                            size_t n) {
#if TANDEM_FMA8
  return fx::VecDot(a, b, n);
#else
  return ref::VecDot(a, b, n);
#endif
}

// The fp16 accumulator of llama.cpp's flash attention, one value row at a time:
// y = f16(f32(y) * s) when the running maximum rises, y = f16(fma(f32(x), s, f32(y))) per
// position. Bit-exact with the scalar loops below (hardware fp16 conversion rounds to nearest
// even, MulAdd is a fused multiply-add on these targets); other targets run the loops.
inline void F16ScaleRowImpl(uint16_t* HWY_RESTRICT y, float s, size_t n) {
  size_t i = 0;
#if TANDEM_FMA8 && TANDEM_HWY_NATIVE_F16
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  const auto vs = hn::Set(df, s);
  for (; i + N <= n; i += N) StoreF16(df, hn::Mul(LoadF16(df, y + i), vs), y + i);
#endif
  for (; i < n; ++i) y[i] = f32_to_fp16(fp16_to_f32(y[i]) * s);
}

inline void F16FmaRowImpl(uint16_t* HWY_RESTRICT y, const uint16_t* HWY_RESTRICT x, float s, size_t n) {
  size_t i = 0;
#if TANDEM_FMA8 && TANDEM_HWY_NATIVE_F16
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  const auto vs = hn::Set(df, s);
  for (; i + N <= n; i += N) StoreF16(df, hn::MulAdd(LoadF16(df, x + i), vs, LoadF16(df, y + i)), y + i);
#endif
  for (; i < n; ++i) y[i] = f32_to_fp16(std::fma(fp16_to_f32(x[i]), s, fp16_to_f32(y[i])));
}

inline void F32ToF16RowImpl(const float* HWY_RESTRICT x, uint16_t* HWY_RESTRICT out, size_t n) {
  const hn::ScalableTag<float> df;
  F32ToF16Row(df, x, out, n);
}

inline float SumF32Impl(const float* HWY_RESTRICT p, size_t n) {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  auto s0 = hn::Zero(df), s1 = hn::Zero(df), s2 = hn::Zero(df), s3 = hn::Zero(df);
  size_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    s0 = hn::Add(s0, hn::LoadU(df, p + i));
    s1 = hn::Add(s1, hn::LoadU(df, p + i + N));
    s2 = hn::Add(s2, hn::LoadU(df, p + i + 2 * N));
    s3 = hn::Add(s3, hn::LoadU(df, p + i + 3 * N));
  }
  for (; i + N <= n; i += N) s0 = hn::Add(s0, hn::LoadU(df, p + i));
  if (i < n) {
    HWY_ALIGN float b[kMaxF32Lanes];
    CopyTail(p + i, n - i, b, N);
    s1 = hn::Add(s1, hn::Load(df, b));
  }
  return ReduceSum(df, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3)));
}

inline const char* TargetNameImpl() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace tandem::kernels
HWY_AFTER_NAMESPACE();

#endif  // TANDEM_KERNELS_MATMUL_INL_H_ toggle
