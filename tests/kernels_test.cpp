// The Highway kernels (kernels/matmul.h) against the scalar references of kernels/quantize.h and
// the ggml order spec of kernels/ggml_numerics.h (bit for bit), on every SIMD target this machine
// supports and the build generated.

#include <hwy/targets.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "format/error.h"
#include "kernels/attention.h"
#include "kernels/blocks.h"
#include "kernels/fp16.h"
#include "kernels/ggml_numerics.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"
#include "kernel_targets.h"
#include "test_util.h"

using namespace tandem;

namespace {

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// A row of k elements of type t made by the scalar quantizer from random floats.
std::vector<uint8_t> random_row(TensorType t, size_t k, uint32_t seed) {
  const std::vector<float> x = random_floats(k, seed);
  std::vector<uint8_t> row(row_bytes(t, k));
  quantize_row(t, x.data(), row.data(), k);
  return row;
}

// Q8_0 / Q4_0 blocks with every bit pattern possible (int8 -128 included), random fp16 scales.
std::vector<uint8_t> random_raw_blocks(TensorType t, size_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> row(row_bytes(t, k));
  for (auto& b : row) b = uint8_t(rng());
  const size_t bb = traits(t).block_bytes;
  std::uniform_real_distribution<float> scale(1e-3f, 1e-1f);
  for (size_t off = 0; off < row.size(); off += bb) {
    const uint16_t d = f32_to_fp16(scale(rng) * (rng() & 1 ? 1 : -1));
    std::memcpy(&row[off], &d, 2);
  }
  return row;
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

const TensorType kWeightTypes[] = {TensorType::F32, TensorType::F16, TensorType::Q8_0,
                                   TensorType::Q4_0};

std::vector<size_t> sizes_for(TensorType w) {
  std::vector<size_t> ks;
  if (w == TensorType::F32 || w == TensorType::F16) {
    for (size_t k = 1; k <= 70; ++k) ks.push_back(k);
    for (size_t k : {127, 172, 256, 257, 1000, 4096 + 32}) ks.push_back(k);
  } else {
    // Block counts 1..8 (groups of two blocks, runs of two groups, odd tails), 129, 1026 (more
    // than the 1024-block k segments of matmul).
    for (size_t k = 32; k <= 256; k += 32) ks.push_back(k);
    for (size_t k : {1024, 4096 + 32, 32768 + 64}) ks.push_back(k);
  }
  return ks;
}

}  // namespace

TEST(Kernels, ExercisesSeveralTargets) {
  const std::vector<int64_t> targets = hwy::SupportedAndGeneratedTargets();
  std::string names;
  for (int64_t t : targets) names += std::string(names.empty() ? "" : " ") + hwy::TargetName(t);
  std::cout << "[ kernels  ] targets tested: " << names << " (dispatch default: "
            << kernels::active_target_name() << ")\n";
  ::testing::Test::RecordProperty("targets", names);
  ::testing::Test::RecordProperty("default_target", kernels::active_target_name());
#if HWY_ARCH_X86_64
  // x86-64 always has at least the scalar fallback and SSSE3/SSE4.
  EXPECT_GT(targets.size(), 1u);
#endif
  // After the mock is reset, dispatch goes back to the best target.
  tandem::test::for_each_target([] {});
  EXPECT_STREQ(kernels::active_target_name(), hwy::TargetName(targets.front()));
}

TEST(Kernels, ConvertActivationsF32AndF16BitExact) {
  tandem::test::for_each_target([] {
    std::vector<size_t> ns;
    for (size_t n = 1; n <= 70; ++n) ns.push_back(n);
    for (size_t n : {128, 172, 4096 + 32}) ns.push_back(n);
    for (size_t n : ns) {
      SCOPED_TRACE("n=" + std::to_string(n));
      std::vector<float> x = random_floats(n, 100 + uint32_t(n), -70000.f, 70000.f);
      // Small magnitudes too: fp16 subnormals and values that round to zero.
      for (size_t i = 0; i < n; i += 3) x[i] *= 1e-9f;
      for (TensorType at : {TensorType::F32, TensorType::F16}) {
        std::vector<uint8_t> want(row_bytes(at, n)), got(row_bytes(at, n) + 8, 0xAB);
        quantize_row(at, x.data(), want.data(), n);
        kernels::convert_activations(at, x.data(), got.data(), n);
        ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size())) << type_name(at);
        for (size_t i = want.size(); i < got.size(); ++i) ASSERT_EQ(got[i], 0xAB) << "wrote past n";
      }
    }
  });
}

TEST(Kernels, F32ToF16RowMatchesScalarOnEdgeValues) {
  // Every exponent, ties between two halves, overflow, infinities, signed zeros, subnormals.
  std::vector<float> x;
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    uint32_t u = rng();
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu) != 0) continue;  // NaN: see below
    x.push_back(bits_to_f32(u));
  }
  for (uint32_t h = 0; h < 0x7c00; h += 7) {  // exact midpoints between neighbouring halves
    const float a = fp16_to_f32(uint16_t(h)), b = fp16_to_f32(uint16_t(h + 1));
    x.push_back((a + b) / 2);
    x.push_back(-(a + b) / 2);
  }
  for (float v : {0.f, -0.f, 65504.f, 65519.f, 65520.f, 1e10f, -1e10f, INFINITY, -INFINITY,
                  5.96e-8f, 2.98e-8f, 2.99e-8f, 6.1e-5f, 6.09e-5f})
    x.push_back(v);
  tandem::test::for_each_target([&] {
    std::vector<uint16_t> got(x.size());
    kernels::f32_to_f16_row(x.data(), got.data(), x.size());
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(got[i], f32_to_fp16(x[i]))
          << "x=" << x[i] << " bits=" << std::hex << f32_to_bits(x[i]);
    // NaN stays NaN (its payload may differ between hardware and our scalar conversion).
    const float nans[3] = {NAN, -NAN, bits_to_f32(0x7f800001u)};
    uint16_t h[3];
    kernels::f32_to_f16_row(nans, h, 3);
    for (uint16_t v : h) EXPECT_TRUE(std::isnan(fp16_to_f32(v)));
  });
}

TEST(Kernels, ConvertActivationsQ8_0BitExact) {
  tandem::test::for_each_target([] {
    for (size_t n : {32, 64, 96, 172 / 32 * 32, 4096 + 32}) {
      SCOPED_TRACE("n=" + std::to_string(n));
      std::vector<float> x = random_floats(n, 200 + uint32_t(n), -3.f, 3.f);
      if (n >= 96) {
        // Block 1: all zeros (scale 0). Block 2: amax 127, so the scale is exactly 1 and the
        // values below are exact ties for round-half-to-even.
        for (int j = 0; j < 32; ++j) x[32 + j] = 0.f;
        const float ties[] = {127.f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49999997f,
                              -0.49999997f, 126.5f, -126.5f, 3.5f, 0.f, -0.f, 1e-20f, 64.5f};
        for (int j = 0; j < 32; ++j) x[64 + j] = ties[j % 16];
      }
      std::vector<uint8_t> want(row_bytes(TensorType::Q8_0, n));
      std::vector<uint8_t> got(want.size() + 8, 0xAB);
      quantize_row(TensorType::Q8_0, x.data(), want.data(), n);
      kernels::convert_activations(TensorType::Q8_0, x.data(), got.data(), n);
      ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size()));
      for (size_t i = want.size(); i < got.size(); ++i) ASSERT_EQ(got[i], 0xAB);
    }
  });
  EXPECT_THROW(kernels::convert_activations(TensorType::Q8_0, nullptr, nullptr, 33), Error);
}

// kernels::dot is ggml_exact::dot with one token, bit for bit, for both Q4_0 orders.
TEST(Kernels, DotBitExactWithGgml) {
  tandem::test::for_each_target([] {
    for (TensorType w : kWeightTypes) {
      const TensorType at = activation_type(w);
      for (size_t k : sizes_for(w)) {
        for (int raw = 0; raw < 2; ++raw) {
          if (raw && at != TensorType::Q8_0) continue;
          // Exactly sized rows: the sanitizer build catches any read past the end.
          const std::vector<uint8_t> wr = raw ? random_raw_blocks(w, k, 1 + uint32_t(k))
                                              : random_row(w, k, 1 + uint32_t(k));
          const std::vector<uint8_t> ar = raw ? random_raw_blocks(at, k, 2 + uint32_t(k))
                                              : random_row(at, k, 2 + uint32_t(k));
          for (size_t w_rows : {8, 37}) {
            SCOPED_TRACE(std::string(type_name(w)) + " k=" + std::to_string(k) + " w_rows=" +
                         std::to_string(w_rows) + (raw ? " raw blocks" : " quantized floats"));
            const float want = ggml_exact::dot(w, wr.data(), ar.data(), k, 1, w_rows);
            const float got = kernels::dot(w, wr.data(), ar.data(), k, w_rows);
            ASSERT_EQ(bits(got), bits(want)) << got << " vs " << want;
          }
        }
      }
    }
  });
}

// Every matmul output is ggml_exact::dot with the matmul's token count and matrix row count.
TEST(Kernels, MatmulBitExactWithGgml) {
  tandem::test::for_each_target([] {
    for (TensorType w : kWeightTypes) {
      const TensorType at = activation_type(w);
      // Q: block counts 2, 3, 7, 129 and 1026 (past the stack buffer of activation scales).
      std::vector<size_t> ks = {64, 96, 224, 4096 + 32, 32768 + 64};
      if (w == TensorType::F32 || w == TensorType::F16) ks = {1, 5, 8, 24, 40, 64, 172, 4096 + 32};
      for (size_t k : ks) {
        const size_t wb = row_bytes(w, k), ab = row_bytes(at, k);
        for (size_t rows : {37, 40}) {  // Q4_0: ggml's lane order, then its repacked order
          std::vector<uint8_t> W(rows * wb);
          for (size_t r = 0; r < rows; ++r) {
            const auto row = random_row(w, k, 1000 + uint32_t(r));
            std::memcpy(&W[r * wb], row.data(), wb);
          }
          for (size_t n_tok : {1, 2, 3, 4, 5, 17}) {
            if (k > 10000 && n_tok != 1 && n_tok != 5) continue;  // keep the test fast
            std::vector<float> x = random_floats(n_tok * k, 3000 + uint32_t(n_tok + k));
            std::vector<uint8_t> A(n_tok * ab);
            for (size_t t = 0; t < n_tok; ++t) quantize_row(at, &x[t * k], &A[t * ab], k);
            for (auto [r0, r1] :
                 {std::pair<size_t, size_t>{0, rows}, {5, rows - 2}, {11, 12}, {3, 30}}) {
              SCOPED_TRACE(std::string(type_name(w)) + " k=" + std::to_string(k) +
                           " w_rows=" + std::to_string(rows) + " n_tok=" + std::to_string(n_tok) +
                           " rows=[" + std::to_string(r0) + "," + std::to_string(r1) + ")");
              const size_t stride = rows + 3;
              // By count (prefill, verify), and every token in the single-token order (serving's
              // batched decode steps), which must equal n_tok separate one-token products.
              for (auto order : {kernels::DotOrder::ByCount, kernels::DotOrder::Single}) {
                const size_t ggml_n = order == kernels::DotOrder::Single ? 1 : n_tok;
                std::vector<float> out(n_tok * stride, -12345.f);
                kernels::matmul(w, W.data(), k, r0, r1, A.data(), n_tok, out.data(), stride, rows, order);
                for (size_t t = 0; t < n_tok; ++t) {
                  for (size_t r = 0; r < stride; ++r) {
                    const float o = out[t * stride + r];
                    if (r < r0 || r >= r1) {
                      ASSERT_EQ(o, -12345.f) << "wrote outside the rows, t=" << t << " r=" << r;
                      continue;
                    }
                    const float want = ggml_exact::dot(w, &W[r * wb], &A[t * ab], k, ggml_n, rows);
                    ASSERT_EQ(bits(o), bits(want)) << "order=" << int(order) << " t=" << t << " r=" << r
                                                   << ": " << o << " vs " << want;
                  }
                }
              }
            }
          }
        }
      }
    }
  });
}

TEST(Kernels, DotF16GgmlBitExact) {
  tandem::test::for_each_target([] {
    std::vector<size_t> ns;
    for (size_t n = 0; n <= 70; ++n) ns.push_back(n);
    for (size_t n : {96, 128, 172, 256, 1000}) ns.push_back(n);
    for (size_t n : ns) {
      SCOPED_TRACE("n=" + std::to_string(n));
      const std::vector<float> x = random_floats(n, 800 + uint32_t(n), -4.f, 4.f);
      const std::vector<float> y = random_floats(n, 850 + uint32_t(n), -4.f, 4.f);
      std::vector<uint16_t> a(n), b(n);
      for (size_t i = 0; i < n; ++i) {
        a[i] = f32_to_fp16(x[i]);
        b[i] = f32_to_fp16(y[i]);
      }
      const float want = ggml_exact::dot(TensorType::F16, a.data(), b.data(), n, 1, 0);
      ASSERT_EQ(bits(kernels::dot_f16_ggml(a.data(), b.data(), n)), bits(want));
    }
  });
}

TEST(Kernels, AttentionHelpersMatchScalar) {
  std::vector<size_t> ns;
  for (size_t n = 1; n <= 70; ++n) ns.push_back(n);
  for (size_t n : {128, 256}) ns.push_back(n);
  tandem::test::for_each_target([&] {
    for (size_t n : ns) {
      SCOPED_TRACE("n=" + std::to_string(n));
      const std::vector<float> a = random_floats(n, 500 + uint32_t(n), -4.f, 4.f);
      const std::vector<float> xf = random_floats(n, 600 + uint32_t(n), -4.f, 4.f);
      std::vector<uint16_t> b(n);
      for (size_t i = 0; i < n; ++i) b[i] = f32_to_fp16(xf[i]);

      // The flash-attention accumulator: bit-exact with the scalar definition (one fp16
      // rounding after a fused multiply-add, or after a multiply); nothing past n written.
      std::vector<uint16_t> acc(n + 4, 0xBEEF), want(n + 4, 0xBEEF);
      const std::vector<float> af = random_floats(n, 700 + uint32_t(n), -8.f, 8.f);
      for (size_t i = 0; i < n; ++i) acc[i] = want[i] = f32_to_fp16(af[i]);
      kernels::f16_scale_row(acc.data(), 0.8125f, n);
      for (size_t i = 0; i < n; ++i) want[i] = f32_to_fp16(fp16_to_f32(want[i]) * 0.8125f);
      kernels::f16_fma_row(acc.data(), b.data(), 0.37f, n);
      for (size_t i = 0; i < n; ++i) want[i] = f32_to_fp16(std::fma(fp16_to_f32(b[i]), 0.37f, fp16_to_f32(want[i])));
      for (size_t i = 0; i < n + 4; ++i) ASSERT_EQ(acc[i], want[i]) << "i=" << i;

      // f32_to_f16_row: bit-exact, nothing past n written.
      std::vector<uint16_t> h(n + 4, 0xBEEF);
      kernels::f32_to_f16_row(a.data(), h.data(), n);
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(h[i], f32_to_fp16(a[i])) << "i=" << i;
      for (size_t i = n; i < n + 4; ++i) ASSERT_EQ(h[i], 0xBEEF);
    }
  });
}

// A whole attention head (kernels/attention.h) equals its definition step by step: ggml's fp16
// dot products (ggml_exact::dot), the online softmax, and the fp16 accumulator rounded after
// every update; on every target, for the head sizes with a register path and others.
TEST(Kernels, AttentionHeadMatchesDefinition) {
  tandem::test::for_each_target([] {
    for (int hd : {32, 48, 64, 80, 128}) {
      for (int n_pos : {1, 2, 9, 70}) {
        SCOPED_TRACE("hd=" + std::to_string(hd) + " n_pos=" + std::to_string(n_pos));
        const size_t stride = size_t(hd) * 3;  // heads of other KV groups in between
        const std::vector<float> q = random_floats(size_t(hd), 11 + uint32_t(hd), -2.f, 2.f);
        const std::vector<float> kf = random_floats(stride * size_t(n_pos), 12 + uint32_t(n_pos), -2.f, 2.f);
        const std::vector<float> vf = random_floats(stride * size_t(n_pos), 13 + uint32_t(n_pos), -4.f, 4.f);
        std::vector<uint16_t> k(kf.size()), v(vf.size());
        for (size_t i = 0; i < kf.size(); ++i) k[i] = f32_to_fp16(kf[i]), v[i] = f32_to_fp16(vf[i]);
        const float scale = 1.0f / std::sqrt(float(hd));

        const size_t H = static_cast<size_t>(hd);
        std::vector<uint16_t> q16(H), acc(H, 0);
        for (int d = 0; d < hd; ++d) q16[size_t(d)] = f32_to_fp16(q[size_t(d)]);
        float m = -INFINITY, s = 0;
        for (int p = 0; p < n_pos; ++p) {
          const uint16_t* kp = &k[size_t(p) * stride];
          const float score = ggml_exact::dot(TensorType::F16, kp, q16.data(), size_t(hd), 1, 0) * scale;
          float ms = 1.f, vs = 1.f;
          if (score > m) {
            ms = std::exp(m - score);
            m = score;
            for (auto& a : acc) a = f32_to_fp16(fp16_to_f32(a) * ms);
          } else {
            vs = std::exp(score - m);
          }
          for (int d = 0; d < hd; ++d)
            acc[size_t(d)] = f32_to_fp16(std::fma(fp16_to_f32(v[size_t(p) * stride + size_t(d)]), vs, fp16_to_f32(acc[size_t(d)])));
          s = std::fma(s, ms, vs);
        }
        std::vector<float> want(H), got(H + 1, 123.f);
        for (int d = 0; d < hd; ++d) want[size_t(d)] = fp16_to_f32(acc[size_t(d)]) * (1.0f / s);
        std::vector<uint16_t> q16s(H), acc16s(H);
        kernels::attend_head_f16(q.data(), k.data(), v.data(), stride, n_pos, hd, scale, q16s.data(), acc16s.data(),
                                 got.data());
        for (int d = 0; d < hd; ++d) ASSERT_EQ(bits(got[size_t(d)]), bits(want[size_t(d)])) << "d=" << d;
        ASSERT_EQ(got[size_t(hd)], 123.f) << "wrote past the head";
      }
    }
  });
}

TEST(Kernels, SumF32) {
  tandem::test::for_each_target([] {
    for (size_t n : {0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 64, 65, 70, 1000, 1 << 20}) {
      SCOPED_TRACE("n=" + std::to_string(n));
      const std::vector<float> p = random_floats(n, 900 + uint32_t(n), 0.f, 1.f);
      double want = 0, mag = 0;
      for (float v : p) {
        want += v;
        mag += std::fabs(v);
      }
      // Chains of at most n float additions per lane, then a tree over the lanes.
      ASSERT_NEAR(kernels::sum_f32(p.data(), n), want, double(n + 64) * FLT_EPSILON * mag);
    }
  });
}

TEST(Kernels, EmptyRows) {
  tandem::test::for_each_target([] {
    for (TensorType w : kWeightTypes) {
      SCOPED_TRACE(type_name(w));
      uint8_t dummy[1] = {0};
      EXPECT_EQ(kernels::dot(w, dummy, dummy, 0, 8), 0.f);
      EXPECT_EQ(kernels::dot(w, dummy, dummy, 0, 3), 0.f);
      float out[6] = {1, 1, 1, 1, 1, 1};
      kernels::matmul(w, dummy, 0, 0, 3, dummy, 2, out, 3, 3);
      for (float o : out) EXPECT_EQ(o, 0.f);
    }
  });
}

TEST(Kernels, RejectsUnsupportedTypes) {
  uint8_t buf[64] = {};
  EXPECT_THROW(kernels::dot(TensorType::Q3_K, buf, buf, 256, 1), Error);
  EXPECT_THROW(kernels::dot(TensorType::Q8_0, buf, buf, 33, 1), Error);
  float out[1];
  EXPECT_THROW(kernels::matmul(TensorType::Q2_K, buf, 256, 0, 1, buf, 1, out, 1, 1), Error);
}
