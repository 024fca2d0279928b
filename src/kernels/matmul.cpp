// Placeholder until the Highway kernels land (scalar fallbacks so the tree links).
#include "kernels/matmul.h"
#include "kernels/quantize.h"
#include "kernels/fp16.h"
#include <vector>
namespace tandem::kernels {
void convert_activations(TensorType at, const float* x, void* out, size_t n) { quantize_row(at, x, out, n); }
float dot(TensorType w, const void* a, const void* b, size_t k) { return dot_ref(w, a, b, k); }
void matmul(TensorType w, const void* W, size_t k, size_t r0, size_t r1, const void* A, size_t nt, float* out, size_t os) {
  size_t wb = row_bytes(w, k), ab = row_bytes(activation_type(w), k);
  for (size_t r = r0; r < r1; ++r) for (size_t t = 0; t < nt; ++t)
    out[t * os + r] = dot_ref(w, (const uint8_t*)W + r * wb, (const uint8_t*)A + t * ab, k);
}
float dot_f32_f16(const float* a, const uint16_t* b, size_t n) { float s = 0; for (size_t i = 0; i < n; ++i) s += a[i] * fp16_to_f32(b[i]); return s; }
void axpy_f16(float al, const uint16_t* x, float* y, size_t n) { for (size_t i = 0; i < n; ++i) y[i] += al * fp16_to_f32(x[i]); }
void f32_to_f16_row(const float* x, uint16_t* o, size_t n) { for (size_t i = 0; i < n; ++i) o[i] = f32_to_fp16(x[i]); }
float sum_f32(const float* p, size_t n) { float s = 0; for (size_t i = 0; i < n; ++i) s += p[i]; return s; }
const char* active_target_name() { return "scalar"; }
}
