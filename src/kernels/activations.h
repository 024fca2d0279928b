// Element-wise activation functions of the forward pass, SIMD with run-time dispatch and
// bit-identical to the scalar order spec of ggml_numerics.h on every target.
#pragma once
#include <cstddef>

namespace tandem::kernels {

// ggml_exact::swiglu_row over elements [begin, end) of a row of n: g[i] = silu(g[i]) * up[i],
// with ggml's exp approximation on the first floor(n / 8) * 8 elements of the row and libm's
// expf after them, so that slices of a row can run on different threads.
void swiglu_range(float* g, const float* up, size_t begin, size_t end, size_t n);

}  // namespace tandem::kernels
