// The first of the three per-target files behind kernels/matmul.h (matmul-inl.h includes the
// others): small SIMD helpers (reductions, fp16 conversion, row loads, Q8_0 quantization of
// activations) and the scalar reference of every matrix-product order (ref::). Compiled once per
// SIMD target through hwy/foreach_target.h, like all -inl.h files here.
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
#if defined(TANDEM_KERNELS_MATMUL_COMMON_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TANDEM_KERNELS_MATMUL_COMMON_INL_H_
#undef TANDEM_KERNELS_MATMUL_COMMON_INL_H_
#else
#define TANDEM_KERNELS_MATMUL_COMMON_INL_H_
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

}  // namespace HWY_NAMESPACE
}  // namespace tandem::kernels
HWY_AFTER_NAMESPACE();
#endif  // TANDEM_KERNELS_MATMUL_COMMON_INL_H_ toggle
