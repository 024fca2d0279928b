// Instantiates the kernels of interleaved-inl.h for every target and dispatches to the best one;
// the layout conversion itself is plain byte copying.
#include "kernels/interleaved.h"

#include <cstring>
#include <string>

#include "format/error.h"
#include "kernels/blocks.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/interleaved-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/interleaved-inl.h"

#if HWY_ONCE
namespace tandem::kernels {

HWY_EXPORT(MatmulInterleavedImpl);

namespace {

size_t block_bytes(WeightLayout l) {
  return l == WeightLayout::Q4_0x8 ? 8 * sizeof(BlockQ4_0) : 4 * sizeof(BlockQ8_0);
}

}  // namespace

WeightLayout preferred_layout(TensorType t, size_t k, size_t rows) {
  if (k == 0 || k % kQK != 0 || rows == 0) return WeightLayout::Rows;
  if (t == TensorType::Q4_0 && rows % 8 == 0) return WeightLayout::Q4_0x8;
  if (t == TensorType::Q8_0) return WeightLayout::Q8_0x4;
  return WeightLayout::Rows;
}

size_t layout_group_rows(WeightLayout l) {
  switch (l) {
    case WeightLayout::Q4_0x8: return 8;
    case WeightLayout::Q8_0x4: return 4;
    default: return 1;
  }
}

size_t layout_bytes(WeightLayout l, size_t k, size_t rows) {
  if (l == WeightLayout::Rows) throw Error("layout_bytes: not an interleaved layout");
  const size_t g = layout_group_rows(l);
  return (rows + g - 1) / g * (k / kQK) * block_bytes(l);
}

void interleave_groups(WeightLayout l, const void* W, size_t k, size_t rows, size_t group_begin,
                       size_t group_end, void* out) {
  if (l == WeightLayout::Rows || k % kQK != 0) throw Error("interleave_groups: bad layout or row length");
  const size_t G = layout_group_rows(l), nb = k / kQK, bb = block_bytes(l);
  const bool q4 = l == WeightLayout::Q4_0x8;
  const size_t row_bytes = nb * (q4 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0));
  const auto* src = static_cast<const uint8_t*>(W);
  auto* dst = static_cast<uint8_t*>(out);
  for (size_t g = group_begin; g < group_end; ++g) {
    for (size_t b = 0; b < nb; ++b) {
      uint8_t* p = dst + (g * nb + b) * bb;
      std::memset(p, 0, bb);
      for (size_t i = 0; i < G; ++i) {
        const size_t r = g * G + i;
        if (r >= rows) continue;  // padding rows stay zero (scale 0)
        const uint8_t* blk = src + r * row_bytes;
        if (q4) {
          const auto& x = reinterpret_cast<const BlockQ4_0*>(blk)[b];
          std::memcpy(p + 2 * i, &x.d, 2);
          for (int m = 0; m < 4; ++m) std::memcpy(p + 16 + 32 * m + 4 * i, x.qs + 4 * m, 4);
        } else {
          const auto& x = reinterpret_cast<const BlockQ8_0*>(blk)[b];
          std::memcpy(p + 2 * i, &x.d, 2);
          for (int e = 0; e < kQK; ++e) p[8 + 32 * i + e] = uint8_t(x.qs[e]) ^ 0x80;
        }
      }
    }
  }
}

void matmul_interleaved(WeightLayout l, const void* W, size_t k, size_t row_begin, size_t row_end,
                        const void* A, size_t n_tok, float* out, size_t out_stride) {
  if (l == WeightLayout::Rows) throw Error("matmul_interleaved: not an interleaved layout");
  if (k % kQK != 0) throw Error("matmul_interleaved: row length is not a multiple of 32");
  if (row_begin >= row_end || n_tok == 0) return;
  HWY_DYNAMIC_DISPATCH(MatmulInterleavedImpl)(l, W, k, row_begin, row_end, A, n_tok, out, out_stride);
}

}  // namespace tandem::kernels
#endif  // HWY_ONCE
