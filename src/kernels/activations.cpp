// Instantiates the kernels of activations-inl.h for every target and dispatches to the best one.
#include "kernels/activations.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/activations-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/activations-inl.h"

#if HWY_ONCE
namespace tandem::kernels {

HWY_EXPORT(SwigluRangeImpl);

void swiglu_range(float* g, const float* up, size_t begin, size_t end, size_t n) {
  if (begin >= end) return;
  HWY_DYNAMIC_DISPATCH(SwigluRangeImpl)(g, up, begin, end, n);
}

}  // namespace tandem::kernels
#endif  // HWY_ONCE
