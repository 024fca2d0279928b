// Scalar quantization and dequantization of rows, and scalar reference dot products.
// These are the definitions the SIMD kernels are tested against; they follow ggml's reference
// rounding so that files we write and activations we quantize match llama.cpp's.
#pragma once
#include <cstddef>
#include <cstdint>

#include "format/tensor_type.h"

namespace tandem {

// True for the weight types the engine computes with.
bool is_supported_weight_type(TensorType t);

// Writes row_bytes(t, n) bytes; n must be a multiple of the block size of t.
void quantize_row(TensorType t, const float* x, void* out, size_t n);
void dequantize_row(TensorType t, const void* in, float* out, size_t n);

// ggml's "vec_dot_type": the format a row of activations is converted to before its dot product
// with weights of type w (F32 -> F32, F16 -> F16, Q8_0 and Q4_0 -> Q8_0).
TensorType activation_type(TensorType w);

// Scalar reference: dot of a weight row of type w with an activation row of activation_type(w).
float dot_ref(TensorType w, const void* w_row, const void* a_row, size_t n);

}  // namespace tandem
