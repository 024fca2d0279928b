// Arithmetic that reproduces llama.cpp's CPU backend (ggml, x86 AVX2 + FMA + F16C build) bit for
// bit on the shapes of the reference models. Every function documents the exact order of
// operations it reproduces; all of it is scalar code written from that description.
#pragma once
#include <cstddef>
#include <cstdint>

#include "format/tensor_type.h"

namespace tandem::ggml_exact {

// One output element of a matmul: weight row (type w) · activation row (activation_type(w)).
// n_tok: tokens in this matmul (ggml routes n_tok >= 2 through llamafile tinyBLAS);
// w_rows: rows of the whole weight matrix (Q4_0 with w_rows % 8 == 0 is "repacked" by ggml).
// F32/F16/Q8_0/Q4_0 are pinned by llama.cpp's outputs. BF16, Q5_0, Q4_1, Q5_1, Q4_K, Q5_K and
// Q6_K follow ggml's AVX2 vec_dot functions as read from their source (see
// ggml_numerics_quants.h); no llama.cpp outputs for them exist here to confirm it, and they
// ignore ggml's optional repacking of Q4_K.
float dot(TensorType w, const void* w_row, const void* a_row, size_t k, size_t n_tok, size_t w_rows);

// exp(x) as ggml_v_expf (AVX2 flavour) computes it in one SIMD lane; valid for |x| < 87.
float v_expf(float x);

// g[i] = silu(g[i]) * up[i] as ggml_vec_swiglu_f32 on AVX2: the first floor(n/8)*8 elements use
// v_expf, the rest libm expf.
void swiglu_row(float* g, const float* up, int n);

}  // namespace tandem::ggml_exact
