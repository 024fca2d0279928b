// Internal to the kernels: the SIMD matrix products of BF16, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and
// Q6_K weights (matmul_kquants-inl.h), reached through kernels::matmul / kernels::dot.
#pragma once
#include <cstddef>

#include "format/tensor_type.h"

namespace tandem::kernels {

// True for the weight types kquant_matmul handles.
bool is_kquant_kernel_type(TensorType w);

// kernels::matmul for those types (arguments validated by the caller); batched: BF16's summation
// order (kernels::DotOrder), the others have one.
void kquant_matmul(TensorType wtype, const void* W, size_t k, size_t row_begin, size_t row_end, const void* A,
                   size_t n_tok, float* out, size_t out_stride, bool batched);

}  // namespace tandem::kernels
