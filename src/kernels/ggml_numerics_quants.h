// Scalar specifications of the dot products of Q4_1 / Q5_1 (x Q8_1) and Q4_K / Q5_K / Q6_K
// (x Q8_K), in the float order of ggml's AVX2 functions ggml_vec_dot_{q4_1_q8_1, q5_1_q8_1,
// q4_K_q8_K, q5_K_q8_K, q6_K_q8_K}. Integer sums are exact whatever computes them; only the
// float steps are ordered, and every SIMD kernel must reproduce them bit for bit.
//
// Common shape: 8 float lanes; lane l collects, from every 32-element run of a block, the
// integer sum over elements 4l .. 4l+3 of the run ("quads"), scaled as the type says; per block,
// lane_l = fma(d, float(isum_l), lane_l); at the end hsum8_tree (lanes l and l+4 added, then
// (t0 + t2) + (t1 + t3)). Types with a minimum add a separately accumulated correction:
//   Q4_1 / Q5_1: d = dx * dy, isum over unsigned q; summs = fma(m_x, s_y, summs) per block;
//                result = hsum8_tree + summs.
//   Q4_K: d = dy * dx; isum_l = sum over sub-blocks j of sc_j * quad; the mins go to 4 lanes:
//         lane i (< 4) = fma(-dy * dmin, float(m_2i * S_2i + m_2i+1 * S_2i+1), lane i) with S_j the
//         sum of the 32 activations of sub-block j (from bsums); result = hsum8_tree +
//         ((mins0 + mins2) + (mins1 + mins3)).
//   Q5_K: as Q4_K but the mins in one scalar: summs = fma(-dy * dmin, float(sum_j m_j S_j), summs).
//   Q6_K: d = dy * dx; isum_l = sum over the 16-element sub-blocks of scale * quad of (q - 32).
#pragma once
#include <cstddef>

#include "format/tensor_type.h"

namespace tandem::ggml_exact {

float dot_q1_lanes(TensorType w, const void* w_row, const void* a_row, size_t nb);  // nb blocks of 32
float dot_q4_k(const void* w_row, const void* a_row, size_t nb);                    // nb blocks of 256
float dot_q5_k(const void* w_row, const void* a_row, size_t nb);
float dot_q6_k(const void* w_row, const void* a_row, size_t nb);

// 8 float lanes reduced as ggml's hsum_float_8: lo+hi halves, then (l0+l2)+(l1+l3).
float hsum8_tree(const float* v);

}  // namespace tandem::ggml_exact
