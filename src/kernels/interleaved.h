// Interleaved weight layouts for the quantized matrix products.
//
// GGUF stores a matrix row after row. With one token (decode), the Q4_0 and Q8_0 kernels over
// that layout are limited by instructions, not by memory: every row needs its own loads, nibble
// unpacking and a horizontal sum per block, and the scales of the rows sit 18 or 34 bytes apart.
// Interleaving a group of rows block by block lets one vector load feed two rows, puts each row's
// sums in fixed lanes and the group's scales in one load, so decode can run at memory speed.
// llama.cpp repacks Q4_0 for its AVX2 CPU backend for the same reason.
//
// Results are bit-identical to kernels::matmul on the GGUF rows (the order of floating-point
// operations is unchanged; only where the bytes live differs).
#pragma once
#include <cstddef>
#include <cstdint>

#include "format/tensor_type.h"

namespace tandem::kernels {

enum class WeightLayout : uint8_t {
  Rows,    // GGUF rows
  Q4_0x8,  // 8 Q4_0 rows per group. Per block: the 8 fp16 scales, then 4 chunks of 32 bytes;
           // chunk m holds bytes qs[4m..4m+3] of rows 0..7 in turn, so that each 32-bit lane
           // is one row: low nibbles are elements 4m..4m+3, high nibbles 16+4m..16+4m+3.
  Q8_0x4,  // 4 Q8_0 rows per group. Per block: the 4 fp16 scales, then the 32 bytes of each
           // row, stored as q ^ 0x80 (unsigned, for u8 x s8 multiply-adds).
};

// The layout the engine uses for a matrix of `rows` rows of k elements of type t. Q4_0 is
// interleaved only when rows % 8 == 0: that is when ggml repacks it, and the order of its
// float operations depends on it (see ggml_numerics.h).
WeightLayout preferred_layout(TensorType t, size_t k, size_t rows);

// Rows per group (1 for Rows).
size_t layout_group_rows(WeightLayout l);

// Bytes of a matrix of rows x k in layout l (rows rounded up to whole groups).
size_t layout_bytes(WeightLayout l, size_t k, size_t rows);

// Writes groups [group_begin, group_end) of the GGUF-row matrix W (rows x k) in layout l to
// `out` (the whole interleaved matrix). Rows past the end of W are written as zeros.
void interleave_groups(WeightLayout l, const void* W, size_t k, size_t rows, size_t group_begin,
                       size_t group_end, void* out);

// kernels::matmul for a matrix stored in layout l (not Rows): out[t * out_stride + r] for r in
// [row_begin, row_end), t < n_tok; A holds n_tok Q8_0 activation rows.
void matmul_interleaved(WeightLayout l, const void* W, size_t k, size_t row_begin, size_t row_end,
                        const void* A, size_t n_tok, float* out, size_t out_stride);

}  // namespace tandem::kernels
