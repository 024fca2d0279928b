// Instantiates the Highway kernels of matmul-inl.h for every target and dispatches to the best
// one the CPU supports (see matmul.h).


#include "kernels/matmul.h"

#include <string>

#include "format/error.h"
#include "kernels/blocks.h"
#include "kernels/matmul_kquants.h"
#include "kernels/quantize.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/matmul-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/matmul-inl.h"

#if HWY_ONCE
namespace tandem::kernels {

HWY_EXPORT(ConvertActivationsImpl);
HWY_EXPORT(DotImpl);
HWY_EXPORT(MatmulImpl);
HWY_EXPORT(DotF16GgmlImpl);
HWY_EXPORT(F16ScaleRowImpl);
HWY_EXPORT(F16FmaRowImpl);
HWY_EXPORT(F32ToF16RowImpl);
HWY_EXPORT(SumF32Impl);
HWY_EXPORT(TargetNameImpl);

namespace {

[[noreturn]] void unsupported(TensorType w) {
  throw Error("no SIMD kernels for weight type " + std::string(type_name(w)));
}

void check_blocks(TensorType w, size_t k) {
  const size_t block = traits(w).block_elems;
  if (k % block != 0)
    throw Error("row of " + std::to_string(k) + " elements is not a multiple of the " +
                std::string(type_name(w)) + " block size " + std::to_string(block));
}

}  // namespace

void convert_activations(TensorType at, const float* x, void* out, size_t n) {
  switch (at) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::Q8_0:
      check_blocks(at, n);
      HWY_DYNAMIC_DISPATCH(ConvertActivationsImpl)(at, x, out, n);
      return;
    // Cheap next to the matrix products that read them: the scalar quantizers (same bits).
    case TensorType::BF16:
    case TensorType::Q8_1:
    case TensorType::Q8_K: quantize_row(at, x, out, n); return;
    default: throw Error("cannot convert activations to " + std::string(type_name(at)));
  }
}

float dot(TensorType wtype, const void* w_row, const void* a_row, size_t k, size_t w_rows) {
  if (!is_supported_weight_type(wtype)) unsupported(wtype);
  check_blocks(wtype, k);
  if (is_kquant_kernel_type(wtype)) {
    float out = 0;
    if (k != 0) kquant_matmul(wtype, w_row, k, 0, 1, a_row, 1, &out, 1, false);
    return out;
  }
  return HWY_DYNAMIC_DISPATCH(DotImpl)(wtype, w_row, a_row, k, w_rows);
}

void matmul(TensorType wtype, const void* W, size_t k, size_t row_begin, size_t row_end,
            const void* A, size_t n_tok, float* out, size_t out_stride, size_t w_rows, DotOrder order) {
  if (!is_supported_weight_type(wtype)) unsupported(wtype);
  check_blocks(wtype, k);
  if (row_begin >= row_end || n_tok == 0) return;
  const bool batched = order == DotOrder::ByCount ? n_tok >= 2 : order == DotOrder::Batched;
  if (is_kquant_kernel_type(wtype))
    return kquant_matmul(wtype, W, k, row_begin, row_end, A, n_tok, out, out_stride, batched);
  HWY_DYNAMIC_DISPATCH(MatmulImpl)(wtype, W, k, row_begin, row_end, A, n_tok, out, out_stride,
                                   w_rows, batched);
}

float dot_f16_ggml(const uint16_t* a, const uint16_t* b, size_t n) {
  return HWY_DYNAMIC_DISPATCH(DotF16GgmlImpl)(a, b, n);
}

void f16_scale_row(uint16_t* y, float s, size_t n) { HWY_DYNAMIC_DISPATCH(F16ScaleRowImpl)(y, s, n); }

void f16_fma_row(uint16_t* y, const uint16_t* x, float s, size_t n) {
  HWY_DYNAMIC_DISPATCH(F16FmaRowImpl)(y, x, s, n);
}

void f32_to_f16_row(const float* x, uint16_t* out, size_t n) {
  HWY_DYNAMIC_DISPATCH(F32ToF16RowImpl)(x, out, n);
}

float sum_f32(const float* p, size_t n) { return HWY_DYNAMIC_DISPATCH(SumF32Impl)(p, n); }

const char* active_target_name() { return HWY_DYNAMIC_DISPATCH(TargetNameImpl)(); }

}  // namespace tandem::kernels
#endif  // HWY_ONCE
