// SIMD kernels (Highway, compiled for every target and dispatched at run time): the matrix
// products of the forward pass and the vector helpers of attention. Definitions live in
// matmul-inl.h; matmul.cpp instantiates them per target.
//
// Weights are GGUF row-major: row r of a [k x rows] tensor is `row_bytes(wtype, k)` bytes at
// W + r * row_bytes. Activations are rows already converted with convert_activations() to
// activation_type(wtype) (see quantize.h).
#pragma once
#include <cstddef>
#include <cstdint>

#include "format/tensor_type.h"

namespace tandem::kernels {

// Converts n floats to activation type `at` (F32, F16, BF16, Q8_0, Q8_1 or Q8_K); same results
// as quantize_row.
void convert_activations(TensorType at, const float* x, void* out, size_t n);

// Every result below is bit-identical to ggml_exact::dot (kernels/ggml_numerics.h), i.e. to
// llama.cpp's CPU backend, on every SIMD target. Weight types: F32, F16, BF16, Q8_0, Q4_0, Q4_1,
// Q5_0, Q5_1, Q4_K, Q5_K, Q6_K (BF16 and the last six in matmul_kquants-inl.h).

// Dot product of one weight row with one activation row of k elements, as a single-token matmul
// of a matrix of w_rows rows: ggml_exact::dot(wtype, w_row, a_row, k, 1, w_rows).
float dot(TensorType wtype, const void* w_row, const void* a_row, size_t k, size_t w_rows);

// The summation order of a float-weight (F32/F16/BF16) dot product. ggml sums one token's products in
// vec_dot's order and several tokens' in tinyBLAS's, so the same row gets last-bit different
// results in a batch of 1 and a batch of 2+; quantized weights have a single order. ByCount is
// ggml's choice; Single and Batched fix the order whatever the batch, so that a token's result
// does not depend on what else is in its batch (the server batches unrelated sequences).
enum class DotOrder : uint8_t { ByCount, Single, Batched };

// out[t * out_stride + r] = ggml_exact::dot(wtype, W row r, A row t, k, n, w_rows) for r in
// [row_begin, row_end) and t < n_tok. w_rows is the row count of the whole matrix (Q4_0 with
// w_rows % 8 == 0 follows ggml's repacked order). A holds n_tok activation rows of
// row_bytes(activation_type(wtype), k) bytes each. Each weight block is loaded once and used for
// several activation rows (the prefill / verify path). n is n_tok for DotOrder::ByCount, 1 for
// Single and 2 for Batched.
void matmul(TensorType wtype, const void* W, size_t k, size_t row_begin, size_t row_end,
            const void* A, size_t n_tok, float* out, size_t out_stride, size_t w_rows,
            DotOrder order = DotOrder::ByCount);

// Dot of two fp16 rows in ggml_vec_dot_f16's order: ggml_exact::dot(F16, a, b, n, 1, 0).
float dot_f16_ggml(const uint16_t* a, const uint16_t* b, size_t n);

// Attention helpers over an fp16 KV cache.
// The flash-attention accumulator (see attention.h): y = f16(f32(y) * s) and
// y = f16(fma(f32(x), s, f32(y))), element-wise over n fp16 values.
void f16_scale_row(uint16_t* y, float s, size_t n);
void f16_fma_row(uint16_t* y, const uint16_t* x, float s, size_t n);
void f32_to_f16_row(const float* x, uint16_t* out, size_t n);

// Streams through n floats with SIMD loads and returns their sum: the memory bandwidth probe.
float sum_f32(const float* p, size_t n);

// Name of the SIMD target the dispatcher picked (e.g. "AVX3", "AVX2", "NEON").
const char* active_target_name();

}  // namespace tandem::kernels
