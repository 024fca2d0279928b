// Instantiates the kernels of matmul_kquants-inl.h for every target and dispatches to the best
// one the CPU supports.
#include "kernels/matmul_kquants.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/matmul_kquants-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/matmul_kquants-inl.h"

#if HWY_ONCE
namespace tandem::kernels {

HWY_EXPORT(KquantMatmulImpl);

bool is_kquant_kernel_type(TensorType w) {
  switch (w) {
    case TensorType::BF16:
    case TensorType::Q4_1:
    case TensorType::Q5_0:
    case TensorType::Q5_1:
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K: return true;
    default: return false;
  }
}

void kquant_matmul(TensorType wtype, const void* W, size_t k, size_t row_begin, size_t row_end, const void* A,
                   size_t n_tok, float* out, size_t out_stride, bool batched) {
  HWY_DYNAMIC_DISPATCH(KquantMatmulImpl)(wtype, W, k, row_begin, row_end, A, n_tok, out, out_stride, batched);
}

}  // namespace tandem::kernels
#endif  // HWY_ONCE
