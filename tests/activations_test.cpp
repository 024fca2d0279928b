// SIMD activations (kernels/activations.h) against the scalar order spec of ggml_numerics.h, bit
// for bit, on every target, whole rows and slices of rows.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernel_targets.h"
#include "kernels/activations.h"
#include "kernels/ggml_numerics.h"

using namespace tandem;

TEST(Activations, SwigluBitIdenticalToGgmlOrderOnEveryTarget) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.f, 4.f);
  for (size_t n : {1u, 7u, 8u, 13u, 64u, 172u, 5632u}) {
    std::vector<float> g(n), up(n);
    for (size_t i = 0; i < n; ++i) {
      g[i] = nd(rng);
      up[i] = nd(rng);
    }
    // Values past the exp approximation's range, and exact zeros.
    if (n > 20) {
      g[3] = 95.f;
      g[5] = -120.f;
      g[9] = 0.f;
      g[17] = -0.f;
    }
    std::vector<float> want = g;
    ggml_exact::swiglu_row(want.data(), up.data(), int(n));
    tandem::test::for_each_target([&] {
      std::vector<float> whole = g, sliced = g;
      kernels::swiglu_range(whole.data(), up.data(), 0, n, n);
      ASSERT_EQ(0, std::memcmp(whole.data(), want.data(), n * sizeof(float))) << "n " << n;
      // Uneven slices, as threads take them.
      for (size_t b = 0; b < n; b += 37) kernels::swiglu_range(sliced.data(), up.data(), b, std::min(n, b + 37), n);
      ASSERT_EQ(0, std::memcmp(sliced.data(), want.data(), n * sizeof(float))) << "sliced n " << n;
    });
  }
}
