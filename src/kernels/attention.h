// Attention of one query head over an fp16 KV cache, computed the way llama.cpp's CPU flash
// attention does (its default): the query rounded to fp16, fp16·fp16 dot products, an online
// softmax, and the weighted sum of values accumulated in an fp16 buffer. Reproducing its
// roundings matters: on quantized models a 1e-3 difference here flips int8 activations later.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tandem::kernels {

// out[0, hd) = softmax_p(scale * q·k_p) · v_p over positions p in [0, n_pos), where k_p and v_p
// are at k + p * stride and v + p * stride. q16 and acc16 are caller scratch of hd elements.
void attend_head_f16(const float* q, const uint16_t* k, const uint16_t* v, size_t stride, int n_pos, int hd,
                     float scale, uint16_t* q16, uint16_t* acc16, float* out);

}  // namespace tandem::kernels
