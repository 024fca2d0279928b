// Highway kernels behind kernels/matmul.h, compiled once per SIMD target: matmul.cpp includes
// this file through hwy/foreach_target.h, and each pass defines the functions below in
// tandem::kernels::N_<TARGET>. The public wrappers in matmul.cpp dispatch to the best target.
//
// Conventions:
// - Every loop is written for an arbitrary number of lanes (1 for HWY_SCALAR, 4/8/16 floats for
//   SSE4/AVX2/AVX-512). Rows of arbitrary length end with a tail shorter than a vector: the tail
//   is copied into a zero-padded stack buffer and processed as one full vector, so nothing is
//   ever read or written past the end of a row.
// - Quantized dot products follow ggml: the products of a block are summed exactly in int32
//   lanes (generic path: int8 values widened to int16, then pairwise multiply-add; x86 Q4_0 path:
//   pmaddubsw on the bytes), the int32 lanes are converted to float and accumulated with one FMA
//   per block against the scale d_w * d_a; the lanes are reduced once at the end.
// - No heap memory, no mutable state: every function may run concurrently on many threads.
// - The only target-specific code (raw x86 intrinsics, as Highway 1.0.3 lacks the ops) is the
//   Q4_0 path in namespace x86, compiled for AVX2/AVX3/AVX3_DL; all other targets use the
//   generic Highway code.

// Per-target include guard: toggled by foreach_target.h for each target.
#if defined(TANDEM_KERNELS_MATMUL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TANDEM_KERNELS_MATMUL_INL_H_
#undef TANDEM_KERNELS_MATMUL_INL_H_
#else
#define TANDEM_KERNELS_MATMUL_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "format/tensor_type.h"
#include "hwy/highway.h"
#include "kernels/blocks.h"
#include "kernels/fp16.h"

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
// Float rows (F32 weights with F32 activations, F16 with F16)

// Dot of one row with one row, four independent accumulators.
template <class DF, typename TW, typename TA>
HWY_INLINE float DotFloat(DF df, const TW* HWY_RESTRICT w, const TA* HWY_RESTRICT a, size_t k) {
  const size_t N = hn::Lanes(df);
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df), acc2 = hn::Zero(df), acc3 = hn::Zero(df);
  size_t i = 0;
  for (; i + 4 * N <= k; i += 4 * N) {
    acc0 = hn::MulAdd(LoadRow(df, w + i), LoadRow(df, a + i), acc0);
    acc1 = hn::MulAdd(LoadRow(df, w + i + N), LoadRow(df, a + i + N), acc1);
    acc2 = hn::MulAdd(LoadRow(df, w + i + 2 * N), LoadRow(df, a + i + 2 * N), acc2);
    acc3 = hn::MulAdd(LoadRow(df, w + i + 3 * N), LoadRow(df, a + i + 3 * N), acc3);
  }
  for (; i + N <= k; i += N) acc0 = hn::MulAdd(LoadRow(df, w + i), LoadRow(df, a + i), acc0);
  if (i < k) {
    HWY_ALIGN TW wb[kMaxF32Lanes];
    HWY_ALIGN TA ab[kMaxF32Lanes];
    CopyTail(w + i, k - i, wb, N);
    CopyTail(a + i, k - i, ab, N);
    acc1 = hn::MulAdd(LoadRow(df, wb), LoadRow(df, ab), acc1);
  }
  return ReduceSum(df, hn::Add(hn::Add(acc0, acc1), hn::Add(acc2, acc3)));
}

// One weight row against kT (1..4) activation rows: each weight vector is loaded once.
template <size_t kT, class DF, typename TW, typename TA>
HWY_INLINE void DotTileFloat(DF df, const TW* HWY_RESTRICT w, const TA* const* a, size_t k,
                             float* res) {
  static_assert(kT >= 1 && kT <= 4);
  const size_t N = hn::Lanes(df);
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df), acc2 = hn::Zero(df), acc3 = hn::Zero(df);
  size_t i = 0;
  for (; i + N <= k; i += N) {
    const auto wv = LoadRow(df, w + i);
    acc0 = hn::MulAdd(wv, LoadRow(df, a[0] + i), acc0);
    if constexpr (kT > 1) acc1 = hn::MulAdd(wv, LoadRow(df, a[1] + i), acc1);
    if constexpr (kT > 2) acc2 = hn::MulAdd(wv, LoadRow(df, a[2] + i), acc2);
    if constexpr (kT > 3) acc3 = hn::MulAdd(wv, LoadRow(df, a[3] + i), acc3);
  }
  if (i < k) {
    const size_t n = k - i;
    HWY_ALIGN TW wb[kMaxF32Lanes];
    HWY_ALIGN TA ab[kMaxF32Lanes];
    CopyTail(w + i, n, wb, N);
    const auto wv = LoadRow(df, wb);
    CopyTail(a[0] + i, n, ab, N);
    acc0 = hn::MulAdd(wv, LoadRow(df, ab), acc0);
    if constexpr (kT > 1) {
      CopyTail(a[1] + i, n, ab, N);
      acc1 = hn::MulAdd(wv, LoadRow(df, ab), acc1);
    }
    if constexpr (kT > 2) {
      CopyTail(a[2] + i, n, ab, N);
      acc2 = hn::MulAdd(wv, LoadRow(df, ab), acc2);
    }
    if constexpr (kT > 3) {
      CopyTail(a[3] + i, n, ab, N);
      acc3 = hn::MulAdd(wv, LoadRow(df, ab), acc3);
    }
  }
  res[0] = ReduceSum(df, acc0);
  if constexpr (kT > 1) res[1] = ReduceSum(df, acc1);
  if constexpr (kT > 2) res[2] = ReduceSum(df, acc2);
  if constexpr (kT > 3) res[3] = ReduceSum(df, acc3);
}

// ------------------------------------------------------------------------------------------------
// Quantized rows (Q8_0 or Q4_0 weights with Q8_0 activations)
//
// Scales: in matmul, the activation block scales are converted once per activation row (and k
// segment, see MatmulRows) into a stack buffer; the weight scales are converted inside the block
// loops, where the scalar work overlaps the vector work (converting them beforehand, with gathers
// or scalar loops, measured slower). d_w * d_a is rounded to float as in dot_ref. Kernels read
// activation scales through an accessor `as(t, b)` (token t of the tile, block b).
//
// Generic path (every target): a block of 32 values is processed in chunks of N16 = Lanes(D16)
// <= 32 int16 lanes (int8 or nibbles widened to int16, multiplied pairwise into int32 lanes);
// the int32 partial sums of a chunk go to Lanes(D32) = N16 / 2 lanes (on HWY_SCALAR 1 and 1).
//
// x86 path for Q4_0 (AVX2, AVX3, AVX3_DL; see below): the nibbles stay bytes and are multiplied
// with the activation bytes by pmaddubsw, one block per 256 bits, two per 512 bits.

// Activation scales converted beforehand: s[t][b].
struct PrecomputedScales {
  const float* const* s;
  HWY_INLINE float operator()(size_t t, size_t b) const { return s[t][b]; }
};

// Activation scales converted when used (single dot products).
struct InlineScales {
  const BlockQ8_0* const* a;
  HWY_INLINE float operator()(size_t t, size_t b) const { return ScaleToF32(&a[t][b].d); }
};

using D16 = hn::CappedTag<int16_t, kQK>;
using D32 = hn::Repartition<int32_t, D16>;
using DF32 = hn::Rebind<float, D32>;

// Elements [j, j + N16) of a Q8_0 block, widened to int16.
HWY_INLINE hn::Vec<D16> LoadQ8(D16 d16, const int8_t* HWY_RESTRICT qs) {
  const hn::Rebind<int8_t, D16> d8;
  return hn::PromoteTo(d16, hn::LoadU(d8, qs));
}

// Elements [j, j + N16) of a Q4_0 block as int16 in [-8, 7]. Element e < 16 is the low nibble
// of qs[e], element e >= 16 the high nibble of qs[e - 16].
template <class D>
HWY_INLINE hn::Vec<D> LoadQ4(D d16, const uint8_t* HWY_RESTRICT qs, size_t j) {
  const hn::RebindToUnsigned<D> du16;
#if HWY_TARGET != HWY_SCALAR  // which has no Combine (and a single lane)
  if constexpr (hn::MaxLanes(D()) >= 32) {
    if (hn::Lanes(d16) == 32) {  // the whole block in one vector: low nibbles, then high
      const hn::Half<decltype(du16)> dh;
      const hn::Rebind<uint8_t, decltype(dh)> d8;
      const auto raw = hn::PromoteTo(dh, hn::LoadU(d8, qs));
      const auto lo = hn::And(raw, hn::Set(dh, 0x0f));
      const auto hi = hn::ShiftRight<4>(raw);
      return hn::Sub(hn::BitCast(d16, hn::Combine(du16, hi, lo)), hn::Set(d16, 8));
    }
  }
#endif
  const hn::Rebind<uint8_t, D> d8;
  const auto raw = hn::PromoteTo(du16, hn::LoadU(d8, qs + (j & 15)));
  const auto nib = j < 16 ? hn::And(raw, hn::Set(du16, 0x0f)) : hn::ShiftRight<4>(raw);
  return hn::Sub(hn::BitCast(d16, nib), hn::Set(d16, 8));
}

template <bool kQ4>
struct WeightBlock;
template <>
struct WeightBlock<true> {
  using type = BlockQ4_0;
};
template <>
struct WeightBlock<false> {
  using type = BlockQ8_0;
};

template <bool kQ4, class WB>
HWY_INLINE hn::Vec<D16> LoadWeightChunk(D16 d16, const WB* HWY_RESTRICT blk, size_t j) {
  if constexpr (kQ4) {
    return LoadQ4(d16, blk->qs, j);
  } else {
    return LoadQ8(d16, blk->qs + j);
  }
}

// Generic: one weight row, one activation row (decode, single dot products). Two accumulators
// so that consecutive blocks' FMAs do not wait on each other.
template <bool kQ4, class AS>
HWY_INLINE float DotRowQ(const void* HWY_RESTRICT w_row, const void* HWY_RESTRICT a_row,
                         const AS& as, size_t nb) {
  using WB = typename WeightBlock<kQ4>::type;
  const D16 d16;
  const D32 d32;
  const DF32 df;
  const size_t N16 = hn::Lanes(d16);
  const WB* HWY_RESTRICT w = static_cast<const WB*>(w_row);
  const BlockQ8_0* HWY_RESTRICT a = static_cast<const BlockQ8_0*>(a_row);
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df);
  size_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    auto i0 = hn::Zero(d32), i1 = hn::Zero(d32), e0 = hn::Zero(d32), e1 = hn::Zero(d32);
    for (size_t j = 0; j < size_t(kQK); j += N16) {
      i0 = hn::ReorderWidenMulAccumulate(d32, LoadWeightChunk<kQ4>(d16, w + b, j),
                                         LoadQ8(d16, a[b].qs + j), i0, e0);
      i1 = hn::ReorderWidenMulAccumulate(d32, LoadWeightChunk<kQ4>(d16, w + b + 1, j),
                                         LoadQ8(d16, a[b + 1].qs + j), i1, e1);
    }
    acc0 = hn::MulAdd(hn::ConvertTo(df, hn::Add(i0, e0)),
                      hn::Set(df, ScaleToF32(&w[b].d) * as(0, b)), acc0);
    acc1 = hn::MulAdd(hn::ConvertTo(df, hn::Add(i1, e1)),
                      hn::Set(df, ScaleToF32(&w[b + 1].d) * as(0, b + 1)), acc1);
  }
  if (b < nb) {
    auto i0 = hn::Zero(d32), e0 = hn::Zero(d32);
    for (size_t j = 0; j < size_t(kQK); j += N16) {
      i0 = hn::ReorderWidenMulAccumulate(d32, LoadWeightChunk<kQ4>(d16, w + b, j),
                                         LoadQ8(d16, a[b].qs + j), i0, e0);
    }
    acc0 = hn::MulAdd(hn::ConvertTo(df, hn::Add(i0, e0)),
                      hn::Set(df, ScaleToF32(&w[b].d) * as(0, b)), acc0);
  }
  return ReduceSum(df, hn::Add(acc0, acc1));
}

// Generic: one weight row against kT (1..4) activation rows (prefill; kT = 1 for single dot
// products). Each weight chunk is loaded and unpacked once and used for the kT activation rows.
template <bool kQ4, size_t kT, class AS>
HWY_INLINE void DotTileQ(const void* HWY_RESTRICT w_row, const BlockQ8_0* const* a, const AS& as,
                         size_t nb, float* res) {
  static_assert(kT >= 1 && kT <= 4);
  using WB = typename WeightBlock<kQ4>::type;
  const D16 d16;
  const D32 d32;
  const DF32 df;
  const size_t N16 = hn::Lanes(d16);
  const WB* HWY_RESTRICT w = static_cast<const WB*>(w_row);
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df), acc2 = hn::Zero(df), acc3 = hn::Zero(df);
  for (size_t b = 0; b < nb; ++b) {
    auto i0 = hn::Zero(d32), i1 = hn::Zero(d32), i2 = hn::Zero(d32), i3 = hn::Zero(d32);
    auto e0 = hn::Zero(d32), e1 = hn::Zero(d32), e2 = hn::Zero(d32), e3 = hn::Zero(d32);
    for (size_t j = 0; j < size_t(kQK); j += N16) {
      const auto wv = LoadWeightChunk<kQ4>(d16, w + b, j);
      i0 = hn::ReorderWidenMulAccumulate(d32, wv, LoadQ8(d16, a[0][b].qs + j), i0, e0);
      if constexpr (kT > 1)
        i1 = hn::ReorderWidenMulAccumulate(d32, wv, LoadQ8(d16, a[1][b].qs + j), i1, e1);
      if constexpr (kT > 2)
        i2 = hn::ReorderWidenMulAccumulate(d32, wv, LoadQ8(d16, a[2][b].qs + j), i2, e2);
      if constexpr (kT > 3)
        i3 = hn::ReorderWidenMulAccumulate(d32, wv, LoadQ8(d16, a[3][b].qs + j), i3, e3);
    }
    const float dw = ScaleToF32(&w[b].d);
    acc0 = hn::MulAdd(hn::ConvertTo(df, hn::Add(i0, e0)), hn::Set(df, dw * as(0, b)), acc0);
    if constexpr (kT > 1)
      acc1 = hn::MulAdd(hn::ConvertTo(df, hn::Add(i1, e1)), hn::Set(df, dw * as(1, b)), acc1);
    if constexpr (kT > 2)
      acc2 = hn::MulAdd(hn::ConvertTo(df, hn::Add(i2, e2)), hn::Set(df, dw * as(2, b)), acc2);
    if constexpr (kT > 3)
      acc3 = hn::MulAdd(hn::ConvertTo(df, hn::Add(i3, e3)), hn::Set(df, dw * as(3, b)), acc3);
  }
  res[0] = ReduceSum(df, acc0);
  if constexpr (kT > 1) res[1] = ReduceSum(df, acc1);
  if constexpr (kT > 2) res[2] = ReduceSum(df, acc2);
  if constexpr (kT > 3) res[3] = ReduceSum(df, acc3);
}

// ------------------------------------------------------------------------------------------------
// x86 Q4_0 path. Highway 1.0.3 has no 8-bit multiply-add op, so this uses pmaddubsw (unsigned x
// signed bytes -> pairwise int16 sums) through raw intrinsics wrapped in Highway vectors:
//   sum_j (n_j - 8) * a_j = madd16(maddubs(n, a) - maddubs(8, a), 1)
// with the nibbles n in [0, 15]: every int16 pair sum is at most 2 * 15 * 128 in magnitude, so
// nothing saturates and the integer sums are exact for any activation bytes. On AVX3 targets a
// 512-bit vector holds two blocks; their int32 lanes (8 per block) get their own block scales.

#undef TANDEM_X86_Q4
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
#define TANDEM_X86_Q4 1

namespace x86 {

using D8x32 = hn::Full256<uint8_t>;
using DI8x32 = hn::Full256<int8_t>;
using D16x16 = hn::Full256<int16_t>;
using DIx8 = hn::Full256<int32_t>;
using DFx8 = hn::Full256<float>;

// One Q4_0 block: its 32 nibbles as bytes, in element order (low nibbles, then high).
HWY_INLINE hn::Vec<D8x32> Nibbles1(const BlockQ4_0* HWY_RESTRICT w) {
  const hn::Full128<uint8_t> d128;
  const hn::Full128<uint16_t> d128u16;
  const auto q = hn::LoadU(d128, w->qs);
  const auto hi = hn::BitCast(d128, hn::ShiftRight<4>(hn::BitCast(d128u16, q)));
  return hn::And(hn::Combine(D8x32(), hi, q), hn::Set(D8x32(), 0x0f));
}

HWY_INLINE hn::Vec<DI8x32> Act1(const BlockQ8_0* HWY_RESTRICT a) {
  return hn::LoadU(DI8x32(), a->qs);
}

// maddubs(8, a) for one activation block, the correction term of the -8 offset.
HWY_INLINE hn::Vec<D16x16> Offset1(hn::Vec<DI8x32> a) {
  return hn::Vec<D16x16>{_mm256_maddubs_epi16(_mm256_set1_epi8(8), a.raw)};
}

// Exact int32 partial sums of one block: sum over the 8 lanes = sum_j (n_j - 8) * a_j.
HWY_INLINE hn::Vec<DIx8> Dot1(hn::Vec<D8x32> n, hn::Vec<DI8x32> a, hn::Vec<D16x16> off) {
  const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(n.raw, a.raw), off.raw);
  return hn::Vec<DIx8>{_mm256_madd_epi16(p, _mm256_set1_epi16(1))};
}

#if HWY_TARGET == HWY_AVX2
constexpr size_t kG = 1;  // blocks per vector
using DI = DIx8;
using DF = DFx8;
using V8 = hn::Vec<D8x32>;
using VA = hn::Vec<DI8x32>;
using VOff = hn::Vec<D16x16>;
HWY_INLINE V8 Nibbles(const BlockQ4_0* HWY_RESTRICT w) { return Nibbles1(w); }
HWY_INLINE VA Act(const BlockQ8_0* HWY_RESTRICT a) { return Act1(a); }
HWY_INLINE VOff Offset(VA a) { return Offset1(a); }
HWY_INLINE hn::Vec<DI> Dot(V8 n, VA a, VOff off) { return Dot1(n, a, off); }
// Scale products: the fp16 weight scales of a group are converted together (F16C), multiplied
// by the activation scales in a 128-bit vector, then spread to the lanes of their blocks.
// [d_w(w[b]), d_w(w[b+1]), 0, 0]: the weight scales of two consecutive groups.
HWY_INLINE __m128 WScalesRun(const BlockQ4_0* HWY_RESTRICT w) {
  __m128i h = _mm_cvtsi32_si128(LoadU16(&w[0].d));
  h = _mm_insert_epi16(h, LoadU16(&w[1].d), 1);
  return _mm_cvtph_ps(h);
}
// The matching activation scales of activation row t.
template <class AS>
HWY_INLINE __m128 ActScalesRun(const AS& as, size_t t, size_t b) {
  return _mm_setr_ps(as(t, b), as(t, b + 1), 0.f, 0.f);
}
HWY_INLINE __m128 ActScalesRun(const PrecomputedScales& as, size_t t, size_t b) {
  return _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(as.s[t] + b)));
}
// [d_w(w[b]), 0, 0, 0]
HWY_INLINE __m128 WScales1Row(const BlockQ4_0* HWY_RESTRICT w) {
  return _mm_cvtph_ps(_mm_cvtsi32_si128(LoadU16(&w->d)));
}
// The activation scale of one group, repeated to match WScales1Row.
template <class AS>
HWY_INLINE __m128 ActScalesOf(const AS& as, size_t t, size_t b) {
  return _mm_set1_ps(as(t, b));
}
// The lanes of the result vector of group g (0 or 1) of the products p: all get p[g].
HWY_INLINE hn::Vec<DF> LaneScales(__m128 p, int g) {
  return hn::Vec<DF>{_mm256_permutevar8x32_ps(_mm256_castps128_ps256(p), _mm256_set1_epi32(g))};
}
#else
constexpr size_t kG = 2;
using DI = hn::Full512<int32_t>;
using DF = hn::Full512<float>;
using V8 = hn::Vec<hn::Full512<uint8_t>>;
using VA = hn::Vec<hn::Full512<int8_t>>;
using VOff = hn::Vec<hn::Full512<int16_t>>;

// Nibbles of two blocks, laid out as Act(): 128-bit blocks [lo0 hi0 lo1 hi1].
HWY_INLINE V8 Nibbles(const BlockQ4_0* HWY_RESTRICT w) {
  const hn::Full128<uint8_t> d128;
  const hn::Full256<uint16_t> du16;
  const auto q = hn::Combine(D8x32(), hn::LoadU(d128, w[1].qs), hn::LoadU(d128, w[0].qs));
  const auto mask = hn::Set(D8x32(), 0x0f);
  const auto lo = hn::And(q, mask);
  const auto hi = hn::And(hn::BitCast(D8x32(), hn::ShiftRight<4>(hn::BitCast(du16, q))), mask);
  const __m512i idx = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
  return V8{_mm512_permutex2var_epi64(_mm512_castsi256_si512(lo.raw), idx,
                                      _mm512_castsi256_si512(hi.raw))};
}
// Activations of two blocks: [a0.qs | a1.qs].
HWY_INLINE VA Act(const BlockQ8_0* HWY_RESTRICT a) {
  return hn::Combine(hn::Full512<int8_t>(), Act1(a + 1), Act1(a));
}
HWY_INLINE VOff Offset(VA a) { return VOff{_mm512_maddubs_epi16(_mm512_set1_epi8(8), a.raw)}; }
HWY_INLINE hn::Vec<DI> Dot(V8 n, VA a, VOff off) {
  const __m512i p = _mm512_sub_epi16(_mm512_maddubs_epi16(n.raw, a.raw), off.raw);
  return hn::Vec<DI>{_mm512_madd_epi16(p, _mm512_set1_epi16(1))};
}
// Scale products: the fp16 weight scales of a group are converted together (F16C), multiplied
// by the activation scales in a 128-bit vector, then spread to the lanes of their blocks.
// [d_w(w[b]), .., d_w(w[b+3])]: the weight scales of two consecutive groups.
HWY_INLINE __m128 WScalesRun(const BlockQ4_0* HWY_RESTRICT w) {
  __m128i h = _mm_cvtsi32_si128(LoadU16(&w[0].d));
  h = _mm_insert_epi16(h, LoadU16(&w[1].d), 1);
  h = _mm_insert_epi16(h, LoadU16(&w[2].d), 2);
  h = _mm_insert_epi16(h, LoadU16(&w[3].d), 3);
  return _mm_cvtph_ps(h);
}
// The matching activation scales of activation row t.
template <class AS>
HWY_INLINE __m128 ActScalesRun(const AS& as, size_t t, size_t b) {
  return _mm_setr_ps(as(t, b), as(t, b + 1), as(t, b + 2), as(t, b + 3));
}
HWY_INLINE __m128 ActScalesRun(const PrecomputedScales& as, size_t t, size_t b) {
  return _mm_loadu_ps(as.s[t] + b);
}
// [d_w(w[b]), d_w(w[b+1]), 0, 0]
HWY_INLINE __m128 WScales1Row(const BlockQ4_0* HWY_RESTRICT w) {
  __m128i h = _mm_cvtsi32_si128(LoadU16(&w[0].d));
  h = _mm_insert_epi16(h, LoadU16(&w[1].d), 1);
  return _mm_cvtph_ps(h);
}
// [d_a(b), d_a(b+1), d_a(b), d_a(b+1)] of activation row t.
template <class AS>
HWY_INLINE __m128 ActScalesOf(const AS& as, size_t t, size_t b) {
  const float s0 = as(t, b), s1 = as(t, b + 1);
  return _mm_setr_ps(s0, s1, s0, s1);
}
HWY_INLINE __m128 ActScalesOf(const PrecomputedScales& as, size_t t, size_t b) {
  const __m128 p = _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(as.s[t] + b)));
  return _mm_movelh_ps(p, p);
}
// The lanes of the result vector of group g (0 or 1) of the products p: lanes 0..7 get p[2 * g]
// (the group's first block), lanes 8..15 p[2 * g + 1].
HWY_INLINE hn::Vec<DF> LaneScales(__m128 p, int g) {
  const __m512i idx = _mm512_add_epi32(
      _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0), _mm512_set1_epi32(2 * g));
  return hn::Vec<DF>{_mm512_permutexvar_ps(idx, _mm512_castps128_ps512(p))};
}
#endif

// The last block of a row when kG == 2 and the block count is odd.
HWY_INLINE hn::Vec<DFx8> TailBlock(const BlockQ4_0* HWY_RESTRICT w,
                                   const BlockQ8_0* HWY_RESTRICT a, float s,
                                   hn::Vec<DFx8> acc) {
  const auto av = Act1(a);
  const auto isum = Dot1(Nibbles1(w), av, Offset1(av));
  return hn::MulAdd(hn::ConvertTo(DFx8(), isum), hn::Set(DFx8(), s), acc);
}

HWY_INLINE float Reduce(hn::Vec<DF> acc, hn::Vec<DFx8> tail) {
  return ReduceSum(DF(), acc) + ReduceSum(DFx8(), tail);
}

// One weight row, one activation row, two groups per iteration into two accumulators.
template <class AS>
HWY_INLINE float DotRowQ4(const void* HWY_RESTRICT w_row, const void* HWY_RESTRICT a_row,
                          const AS& as, size_t nb) {
  const DF df;
  const auto* HWY_RESTRICT w = static_cast<const BlockQ4_0*>(w_row);
  const auto* HWY_RESTRICT a = static_cast<const BlockQ8_0*>(a_row);
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df);
  auto tail = hn::Zero(DFx8());
  size_t b = 0;
  for (; b + 2 * kG <= nb; b += 2 * kG) {
    const auto a0 = Act(a + b), a1 = Act(a + b + kG);
    const auto i0 = Dot(Nibbles(w + b), a0, Offset(a0));
    const auto i1 = Dot(Nibbles(w + b + kG), a1, Offset(a1));
    const __m128 p = _mm_mul_ps(WScalesRun(w + b), ActScalesRun(as, 0, b));
    acc0 = hn::MulAdd(hn::ConvertTo(df, i0), LaneScales(p, 0), acc0);
    acc1 = hn::MulAdd(hn::ConvertTo(df, i1), LaneScales(p, 1), acc1);
  }
  for (; b + kG <= nb; b += kG) {
    const auto a0 = Act(a + b);
    const __m128 p = _mm_mul_ps(WScales1Row(w + b), ActScalesOf(as, 0, b));
    acc0 = hn::MulAdd(hn::ConvertTo(df, Dot(Nibbles(w + b), a0, Offset(a0))), LaneScales(p, 0),
                      acc0);
  }
  if (b < nb) tail = TailBlock(w + b, a + b, ScaleToF32(&w[b].d) * as(0, b), tail);
  return Reduce(hn::Add(acc0, acc1), tail);
}

// One weight row, kT (1..4) activation rows: the nibbles are unpacked once per block group.
template <size_t kT, class AS>
HWY_INLINE void DotTileQ4(const void* HWY_RESTRICT w_row, const BlockQ8_0* const* a, const AS& as,
                          size_t nb, float* res) {
  static_assert(kT >= 1 && kT <= 4);
  const DF df;
  const auto* HWY_RESTRICT w = static_cast<const BlockQ4_0*>(w_row);
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df), acc2 = hn::Zero(df), acc3 = hn::Zero(df);
  auto t0 = hn::Zero(DFx8()), t1 = hn::Zero(DFx8()), t2 = hn::Zero(DFx8()), t3 = hn::Zero(DFx8());
  size_t b = 0;
  for (; b + kG <= nb; b += kG) {
    const auto nib = Nibbles(w + b);
    const __m128 dw = WScales1Row(w + b);
    {
      const auto av = Act(a[0] + b);
      const __m128 p = _mm_mul_ps(dw, ActScalesOf(as, 0, b));
      acc0 = hn::MulAdd(hn::ConvertTo(df, Dot(nib, av, Offset(av))), LaneScales(p, 0), acc0);
    }
    if constexpr (kT > 1) {
      const auto av = Act(a[1] + b);
      const __m128 p = _mm_mul_ps(dw, ActScalesOf(as, 1, b));
      acc1 = hn::MulAdd(hn::ConvertTo(df, Dot(nib, av, Offset(av))), LaneScales(p, 0), acc1);
    }
    if constexpr (kT > 2) {
      const auto av = Act(a[2] + b);
      const __m128 p = _mm_mul_ps(dw, ActScalesOf(as, 2, b));
      acc2 = hn::MulAdd(hn::ConvertTo(df, Dot(nib, av, Offset(av))), LaneScales(p, 0), acc2);
    }
    if constexpr (kT > 3) {
      const auto av = Act(a[3] + b);
      const __m128 p = _mm_mul_ps(dw, ActScalesOf(as, 3, b));
      acc3 = hn::MulAdd(hn::ConvertTo(df, Dot(nib, av, Offset(av))), LaneScales(p, 0), acc3);
    }
  }
  if (b < nb) {
    const float dw = ScaleToF32(&w[b].d);
    t0 = TailBlock(w + b, a[0] + b, dw * as(0, b), t0);
    if constexpr (kT > 1) t1 = TailBlock(w + b, a[1] + b, dw * as(1, b), t1);
    if constexpr (kT > 2) t2 = TailBlock(w + b, a[2] + b, dw * as(2, b), t2);
    if constexpr (kT > 3) t3 = TailBlock(w + b, a[3] + b, dw * as(3, b), t3);
  }
  res[0] = Reduce(acc0, t0);
  if constexpr (kT > 1) res[1] = Reduce(acc1, t1);
  if constexpr (kT > 2) res[2] = Reduce(acc2, t2);
  if constexpr (kT > 3) res[3] = Reduce(acc3, t3);
}

}  // namespace x86
#else
#define TANDEM_X86_Q4 0
#endif  // x86 Q4_0 path

// The quantized kernels: the x86 byte path for Q4_0 where there is one, else the generic path.
template <bool kQ4, class AS>
HWY_INLINE float DotRowQuant(const void* HWY_RESTRICT w, const void* HWY_RESTRICT a, const AS& as,
                             size_t nb) {
#if TANDEM_X86_Q4
  if constexpr (kQ4) return x86::DotRowQ4(w, a, as, nb);
#endif
  return DotRowQ<kQ4>(w, a, as, nb);
}

template <bool kQ4, size_t kT, class AS>
HWY_INLINE void DotTileQuant(const void* HWY_RESTRICT w, const BlockQ8_0* const* a, const AS& as,
                             size_t nb, float* res) {
#if TANDEM_X86_Q4
  if constexpr (kQ4) return x86::DotTileQ4<kT>(w, a, as, nb, res);
#endif
  DotTileQ<kQ4, kT>(w, a, as, nb, res);
}

// ------------------------------------------------------------------------------------------------
// Matmul driver, shared by all weight types.
//
// Decode (one activation row): one weight row after the other. Prefill: rows are processed in
// chunks of about kChunkBytes of weights, which stay in L2 while every tile of up to kTile
// activation rows passes over them; the activation tile stays in L1. The quantized kernels see
// the K dimension in segments of at most kSegBlocks blocks, so that the activation scales of a
// tile fit on the stack (16 KiB); the results of later segments are added to those of the first.

constexpr size_t kSegBlocks = 1024;

template <typename TW>
struct FloatKernel {
  static constexpr size_t kScaleBlocks = 1;  // no activation scales
  size_t k;
  size_t Segments() const { return 1; }
  FloatKernel Segment(size_t, size_t* w_off, size_t* a_off) const {
    *w_off = *a_off = 0;
    return *this;
  }
  void ActScales(const uint8_t*, float*) const {}
  float Row(const uint8_t* w, const uint8_t* a, const float*) const {
    const hn::ScalableTag<float> df;
    return DotFloat(df, reinterpret_cast<const TW*>(w), reinterpret_cast<const TW*>(a), k);
  }
  template <size_t kT>
  void Tile(const uint8_t* w, const uint8_t* const* a, const float* const*, float* res) const {
    const hn::ScalableTag<float> df;
    const TW* rows[kTile];
    for (size_t t = 0; t < kT; ++t) rows[t] = reinterpret_cast<const TW*>(a[t]);
    DotTileFloat<kT>(df, reinterpret_cast<const TW*>(w), rows, k, res);
  }
};

template <bool kQ4>
struct QuantKernel {
  using WB = typename WeightBlock<kQ4>::type;
  static constexpr size_t kScaleBlocks = kSegBlocks;
  size_t nb;
  size_t Segments() const { return nb == 0 ? 1 : (nb + kSegBlocks - 1) / kSegBlocks; }
  QuantKernel Segment(size_t s, size_t* w_off, size_t* a_off) const {
    const size_t b0 = s * kSegBlocks;
    *w_off = b0 * sizeof(WB);
    *a_off = b0 * sizeof(BlockQ8_0);
    return QuantKernel{nb - b0 < kSegBlocks ? nb - b0 : kSegBlocks};
  }
  void ActScales(const uint8_t* a, float* out) const {
    const auto* blk = reinterpret_cast<const BlockQ8_0*>(a);
    for (size_t b = 0; b < nb; ++b) out[b] = ScaleToF32(&blk[b].d);
  }
  float Row(const uint8_t* w, const uint8_t* a, const float* as) const {
    return DotRowQuant<kQ4>(w, a, PrecomputedScales{&as}, nb);
  }
  template <size_t kT>
  void Tile(const uint8_t* w, const uint8_t* const* a, const float* const* as, float* res) const {
    const BlockQ8_0* rows[kTile];
    for (size_t t = 0; t < kT; ++t) rows[t] = reinterpret_cast<const BlockQ8_0*>(a[t]);
    DotTileQuant<kQ4, kT>(w, rows, PrecomputedScales{as}, nb, res);
  }
};

template <class Kernel>
HWY_INLINE void MatmulRows(const Kernel& kernel, const uint8_t* W, size_t w_bytes,
                           size_t row_begin, size_t row_end, const uint8_t* A, size_t a_bytes,
                           size_t n_tok, float* out, size_t out_stride) {
  HWY_ALIGN float scales[kTile][Kernel::kScaleBlocks];
  const float* as[kTile] = {scales[0], scales[1], scales[2], scales[3]};
  const size_t chunk_rows = w_bytes == 0 || w_bytes >= kChunkBytes ? 1 : kChunkBytes / w_bytes;
  const size_t segments = kernel.Segments();
  for (size_t s = 0; s < segments; ++s) {
    size_t w_off, a_off;
    const Kernel ks = kernel.Segment(s, &w_off, &a_off);
    const uint8_t* Ws = W + w_off;
    const uint8_t* As = A + a_off;
    auto put = [&](size_t t, size_t r, float v) {
      float& o = out[t * out_stride + r];
      o = s == 0 ? v : o + v;
    };
    float res[kTile];
    if (n_tok == 1) {
      // One row after the other: a single sequential stream, which the hardware prefetchers
      // follow best (interleaving two rows measured 3x slower from DRAM).
      ks.ActScales(As, scales[0]);
      for (size_t r = row_begin; r < row_end; ++r)
        put(0, r, ks.Row(Ws + r * w_bytes, As, scales[0]));
      continue;
    }
    for (size_t r0 = row_begin; r0 < row_end; r0 += chunk_rows) {
      const size_t r1 = r0 + chunk_rows < row_end ? r0 + chunk_rows : row_end;
      for (size_t t = 0; t < n_tok; t += kTile) {
        const size_t nt = n_tok - t < kTile ? n_tok - t : kTile;
        const uint8_t* a[kTile];
        for (size_t i = 0; i < kTile; ++i) {
          a[i] = As + (t + (i < nt ? i : 0)) * a_bytes;
          if (i < nt) ks.ActScales(a[i], scales[i]);
        }
        for (size_t r = r0; r < r1; ++r) {
          const uint8_t* wr = Ws + r * w_bytes;
          switch (nt) {
            case 1: ks.template Tile<1>(wr, a, as, res); break;
            case 2: ks.template Tile<2>(wr, a, as, res); break;
            case 3: ks.template Tile<3>(wr, a, as, res); break;
            default: ks.template Tile<4>(wr, a, as, res); break;
          }
          for (size_t i = 0; i < nt; ++i) put(t + i, r, res[i]);
        }
      }
    }
  }
}

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

inline float DotImpl(TensorType wtype, const void* w_row, const void* a_row, size_t k) {
  const hn::ScalableTag<float> df;
  switch (wtype) {
    case TensorType::F32:
      return DotFloat(df, static_cast<const float*>(w_row), static_cast<const float*>(a_row), k);
    case TensorType::F16:
      return DotFloat(df, static_cast<const uint16_t*>(w_row), static_cast<const uint16_t*>(a_row),
                      k);
    case TensorType::Q8_0:
    case TensorType::Q4_0: {
      const auto* a = static_cast<const BlockQ8_0*>(a_row);
      if (wtype == TensorType::Q4_0) return DotRowQuant<true>(w_row, a, InlineScales{&a}, k / kQK);
      return DotRowQuant<false>(w_row, a, InlineScales{&a}, k / kQK);
    }
    default: return 0.f;
  }
}

inline void MatmulImpl(TensorType wtype, const void* W, size_t k, size_t row_begin,
                       size_t row_end, const void* A, size_t n_tok, float* out,
                       size_t out_stride) {
  const auto* w = static_cast<const uint8_t*>(W);
  const auto* a = static_cast<const uint8_t*>(A);
  switch (wtype) {
    case TensorType::F32:
      MatmulRows(FloatKernel<float>{k}, w, k * 4, row_begin, row_end, a, k * 4, n_tok, out,
                 out_stride);
      return;
    case TensorType::F16:
      MatmulRows(FloatKernel<uint16_t>{k}, w, k * 2, row_begin, row_end, a, k * 2, n_tok, out,
                 out_stride);
      return;
    case TensorType::Q8_0:
      MatmulRows(QuantKernel<false>{k / kQK}, w, k / kQK * sizeof(BlockQ8_0), row_begin, row_end,
                 a, k / kQK * sizeof(BlockQ8_0), n_tok, out, out_stride);
      return;
    case TensorType::Q4_0:
      MatmulRows(QuantKernel<true>{k / kQK}, w, k / kQK * sizeof(BlockQ4_0), row_begin, row_end,
                 a, k / kQK * sizeof(BlockQ8_0), n_tok, out, out_stride);
      return;
    default: return;
  }
}

inline float DotF32F16Impl(const float* HWY_RESTRICT a, const uint16_t* HWY_RESTRICT b, size_t n) {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df);
  size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    acc0 = hn::MulAdd(hn::LoadU(df, a + i), LoadF16(df, b + i), acc0);
    acc1 = hn::MulAdd(hn::LoadU(df, a + i + N), LoadF16(df, b + i + N), acc1);
  }
  if (i + N <= n) {
    acc0 = hn::MulAdd(hn::LoadU(df, a + i), LoadF16(df, b + i), acc0);
    i += N;
  }
  if (i < n) {
    HWY_ALIGN float ab[kMaxF32Lanes];
    HWY_ALIGN uint16_t bb[kMaxF32Lanes];
    CopyTail(a + i, n - i, ab, N);
    CopyTail(b + i, n - i, bb, N);
    acc1 = hn::MulAdd(hn::Load(df, ab), LoadF16(df, bb), acc1);
  }
  return ReduceSum(df, hn::Add(acc0, acc1));
}

inline void AxpyF16Impl(float alpha, const uint16_t* HWY_RESTRICT x, float* HWY_RESTRICT y,
                        size_t n) {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  const auto va = hn::Set(df, alpha);
  size_t i = 0;
  for (; i + N <= n; i += N)
    hn::StoreU(hn::MulAdd(va, LoadF16(df, x + i), hn::LoadU(df, y + i)), df, y + i);
  if (i < n) {
    HWY_ALIGN float yb[kMaxF32Lanes];
    HWY_ALIGN uint16_t xb[kMaxF32Lanes];
    CopyTail(y + i, n - i, yb, N);
    CopyTail(x + i, n - i, xb, N);
    hn::Store(hn::MulAdd(va, LoadF16(df, xb), hn::Load(df, yb)), df, yb);
    std::memcpy(y + i, yb, (n - i) * sizeof(float));
  }
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
