// Runs a test body once per SIMD target that this machine supports and the build generated,
// with Highway's dispatch forced to that target.
#pragma once
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <string>
#include <vector>

#include "kernels/matmul.h"

namespace tandem::test {

// Resets the target mock even when an assertion returns early.
struct TargetMockReset {
  ~TargetMockReset() { hwy::SetSupportedTargetsForTest(0); }
};

template <class F>
void for_each_target(F&& f) {
  const std::vector<int64_t> targets = hwy::SupportedAndGeneratedTargets();
  ASSERT_FALSE(targets.empty());
  TargetMockReset reset;
  for (int64_t t : targets) {
    hwy::SetSupportedTargetsForTest(t);
    SCOPED_TRACE(std::string("target ") + hwy::TargetName(t));
    ASSERT_STREQ(kernels::active_target_name(), hwy::TargetName(t));
    f();
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace tandem::test
