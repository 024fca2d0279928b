// Highway kernels behind kernels/matmul.h, compiled once per SIMD target: matmul.cpp includes
// this file through hwy/foreach_target.h, and each pass defines the functions below in
// tandem::kernels::N_<TARGET>. The public wrappers in matmul.cpp dispatch to the best target.
// This file is the matmul driver (chunks, tiles, dispatch by weight type) and the entry points;
// the helpers and the scalar reference are in matmul_common-inl.h, the SIMD register tiles in
// matmul_tiles-inl.h (both included here).

// Per-target include guard: toggled by foreach_target.h for each target.
#if defined(TANDEM_KERNELS_MATMUL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef TANDEM_KERNELS_MATMUL_INL_H_
#undef TANDEM_KERNELS_MATMUL_INL_H_
#else
#define TANDEM_KERNELS_MATMUL_INL_H_
#endif

#include "kernels/matmul_common-inl.h"
#include "kernels/matmul_tiles-inl.h"

HWY_BEFORE_NAMESPACE();
namespace tandem::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

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
