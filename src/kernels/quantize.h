// Scalar quantization and dequantization of rows. These are the definitions the SIMD
// conversions are tested against; they follow ggml's rounding so that the files we write and
// the activations we quantize match llama.cpp's bit for bit.
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
// with weights of type w (F32 -> F32, F16 -> F16, BF16 -> BF16, Q8_0 / Q4_0 / Q5_0 -> Q8_0,
// Q4_1 / Q5_1 -> Q8_1, Q4_K / Q5_K / Q6_K -> Q8_K).
TensorType activation_type(TensorType w);


}  // namespace tandem
