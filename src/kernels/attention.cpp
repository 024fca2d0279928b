// Instantiates the kernel of attention-inl.h for every target and dispatches to the best one.
#include "kernels/attention.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/attention-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/attention-inl.h"

#if HWY_ONCE
namespace tandem::kernels {

HWY_EXPORT(AttendHeadF16Impl);

void attend_head_f16(const float* q, const uint16_t* k, const uint16_t* v, size_t stride, int n_pos, int hd,
                     float scale, uint16_t* q16, uint16_t* acc16, float* out) {
  HWY_DYNAMIC_DISPATCH(AttendHeadF16Impl)(q, k, v, stride, n_pos, hd, scale, q16, acc16, out);
}

}  // namespace tandem::kernels
#endif  // HWY_ONCE
