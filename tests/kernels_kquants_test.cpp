// The weight types beyond F32/F16/Q8_0/Q4_0 (BF16, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K): their
// quantizers (round-trip error, block layout consistency) and their Highway kernels against the
// scalar specification ggml_exact::dot, bit for bit, on every SIMD target this machine runs.

#include <hwy/targets.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "format/error.h"
#include "kernels/blocks.h"
#include "kernels/fp16.h"
#include "kernels/ggml_numerics.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"
#include "kernel_targets.h"
#include "test_util.h"

using namespace tandem;

namespace {

std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = g(rng);
  return v;
}

std::vector<uint8_t> quantized(TensorType t, const std::vector<float>& x) {
  std::vector<uint8_t> row(row_bytes(t, x.size()));
  quantize_row(t, x.data(), row.data(), x.size());
  return row;
}

// Blocks with every bit pattern (random bytes) and sane random scales.
std::vector<uint8_t> raw_blocks(TensorType t, size_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> row(row_bytes(t, k));
  for (auto& b : row) b = uint8_t(rng());
  std::uniform_real_distribution<float> u(1e-3f, 1e-1f);
  auto half = [&](bool sign) { return f32_to_fp16(u(rng) * (sign && (rng() & 1) ? -1.f : 1.f)); };
  const size_t bb = traits(t).block_bytes;
  for (size_t off = 0; off < row.size(); off += bb) {
    uint8_t* p = &row[off];
    uint16_t h[2] = {half(true), half(true)};
    switch (t) {
      case TensorType::Q4_1:
      case TensorType::Q5_1:
      case TensorType::Q5_0:
      case TensorType::Q4_K:
      case TensorType::Q5_K: std::memcpy(p, h, t == TensorType::Q5_0 ? 2 : 4); break;
      case TensorType::Q6_K: std::memcpy(p + 208, h, 2); break;
      case TensorType::Q8_1: {
        auto* b = reinterpret_cast<BlockQ8_1*>(p);
        int sum = 0;
        for (int j = 0; j < kQK; ++j) sum += b->qs[j];
        b->d = h[0];
        b->s = f32_to_fp16(fp16_to_f32(h[0]) * float(sum));
        break;
      }
      case TensorType::Q8_K: {
        auto* b = reinterpret_cast<BlockQ8_K*>(p);
        b->d = u(rng);
        for (int j = 0; j < kQK_K; ++j) b->qs[j] = int8_t(std::max<int>(-127, b->qs[j]));  // Q8_K's range
        for (int j = 0; j < 16; ++j) {
          int s = 0;
          for (int i = 0; i < 16; ++i) s += b->qs[16 * j + i];
          b->bsums[j] = int16_t(s);
        }
        break;
      }
      case TensorType::Q8_0: std::memcpy(p, h, 2); break;
      default: break;
    }
  }
  return row;
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

const TensorType kNewTypes[] = {TensorType::BF16, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1,
                                TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};

bool is_k(TensorType t) { return traits(t).block_elems == 256; }

std::vector<size_t> sizes_for(TensorType w) {
  if (w == TensorType::BF16) return {1, 7, 8, 31, 32, 33, 64, 70, 256, 1000, 4096 + 8};
  if (is_k(w)) return {256, 512, 768, 2048, 5632, 11008};
  return {32, 64, 96, 224, 896, 4096 + 32};
}

}  // namespace

// Round trip through each quantizer: error relative to the signal's RMS, for Gaussian rows,
// within bounds a few tens of percent above ggml's typical figures for these types.
TEST(KQuants, RoundTripErrorBounds) {
  struct Case {
    TensorType t;
    double max_rel_rmse;
  };
  const Case cases[] = {{TensorType::BF16, 0.003}, {TensorType::Q4_1, 0.11}, {TensorType::Q5_0, 0.06},
                        {TensorType::Q5_1, 0.055}, {TensorType::Q4_K, 0.10}, {TensorType::Q5_K, 0.05},
                        {TensorType::Q6_K, 0.025}, {TensorType::Q8_1, 0.006}, {TensorType::Q8_K, 0.009}};
  for (const auto& c : cases) {
    const size_t n = 256 * 64;
    const std::vector<float> x = gaussian(n, 11);
    const std::vector<uint8_t> q = quantized(c.t, x);
    std::vector<float> y(n);
    dequantize_row(c.t, q.data(), y.data(), n);
    double se = 0, ss = 0;
    for (size_t i = 0; i < n; ++i) {
      se += double(y[i] - x[i]) * double(y[i] - x[i]);
      ss += double(x[i]) * double(x[i]);
    }
    const double rel = std::sqrt(se / ss);
    std::printf("[ kquants ] %-5s relative RMSE %.4f\n", std::string(type_name(c.t)).c_str(), rel);
    EXPECT_LT(rel, c.max_rel_rmse) << type_name(c.t);
    EXPECT_GT(rel, c.max_rel_rmse / 20) << type_name(c.t) << ": suspiciously exact";
  }
}

// Zero rows, constant rows and rows with one outlier quantize without NaNs and round-trip sanely.
TEST(KQuants, DegenerateBlocks) {
  for (TensorType t : {TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q4_K, TensorType::Q5_K,
                       TensorType::Q6_K, TensorType::Q8_K, TensorType::Q8_1}) {
    SCOPED_TRACE(type_name(t));
    for (int kind = 0; kind < 3; ++kind) {
      std::vector<float> x(512, kind == 1 ? 0.75f : 0.f);
      if (kind == 2) x[300] = -40.f;
      std::vector<float> y(512);
      dequantize_row(t, quantized(t, x).data(), y.data(), 512);
      for (size_t i = 0; i < 512; ++i) {
        ASSERT_TRUE(std::isfinite(y[i]));
        ASSERT_NEAR(y[i], x[i], 0.11f * (kind == 2 ? 40.f : 1.f)) << "kind " << kind << " i " << i;
      }
    }
  }
}

// The scalar specification computes the dot product of what the dequantizers see: three
// independently written readings of each block layout (quantizer, dequantizer, dot) agree.
TEST(KQuants, SpecDotAgreesWithDequantizedRows) {
  for (TensorType w : kNewTypes) {
    const TensorType at = activation_type(w);
    for (size_t k : sizes_for(w)) {
      if (k % 32 != 0 && w != TensorType::BF16) continue;
      SCOPED_TRACE(std::string(type_name(w)) + " k=" + std::to_string(k));
      const auto wr = quantized(w, gaussian(k, 5 + uint32_t(k)));
      const auto ar = quantized(at, gaussian(k, 6 + uint32_t(k)));
      std::vector<float> wf(k), af(k);
      dequantize_row(w, wr.data(), wf.data(), k);
      dequantize_row(at, ar.data(), af.data(), k);
      double want = 0, mag = 0;
      for (size_t i = 0; i < k; ++i) {
        want += double(wf[i]) * double(af[i]);
        mag += std::fabs(double(wf[i]) * double(af[i]));
      }
      for (size_t n_tok : {1, 2}) {
        const float got = ggml_exact::dot(w, wr.data(), ar.data(), k, n_tok, 1);
        // fp16 rounding of Q8_1's s and float accumulation: a small multiple of eps * sum |terms|.
        EXPECT_NEAR(got, want, 2e-4 * mag + 1e-5) << "n_tok " << n_tok;
      }
    }
  }
}

TEST(KQuants, ConvertActivationsMatchesQuantizeRow) {
  tandem::test::for_each_target([] {
    for (TensorType at : {TensorType::BF16, TensorType::Q8_1, TensorType::Q8_K}) {
      const size_t n = 2048;
      std::vector<float> x = gaussian(n, 21, 3.f);
      for (size_t i = 0; i < 256; ++i) x[i] = 0.f;  // an all-zero block
      std::vector<uint8_t> want = quantized(at, x), got(want.size() + 8, 0xAB);
      kernels::convert_activations(at, x.data(), got.data(), n);
      ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size())) << type_name(at);
      for (size_t i = want.size(); i < got.size(); ++i) ASSERT_EQ(got[i], 0xAB);
    }
  });
  const std::vector<float> x = gaussian(256, 3);
  std::vector<uint8_t> q8k = quantized(TensorType::Q8_K, x);
  const auto* b = reinterpret_cast<const BlockQ8_K*>(q8k.data());
  for (int j = 0; j < 16; ++j) {
    int s = 0;
    for (int i = 0; i < 16; ++i) s += b->qs[16 * j + i];
    EXPECT_EQ(b->bsums[j], s);
  }
  EXPECT_THROW(kernels::convert_activations(TensorType::Q8_K, x.data(), q8k.data(), 255), Error);
}

// kernels::dot is ggml_exact::dot (one token), bit for bit, for quantized floats and raw blocks.
TEST(KQuants, DotBitExactWithSpec) {
  tandem::test::for_each_target([] {
    for (TensorType w : kNewTypes) {
      const TensorType at = activation_type(w);
      for (size_t k : sizes_for(w)) {
        for (int raw = 0; raw < 2; ++raw) {
          if (raw && w == TensorType::BF16) continue;
          SCOPED_TRACE(std::string(type_name(w)) + " k=" + std::to_string(k) + (raw ? " raw" : ""));
          const auto wr = raw ? raw_blocks(w, k, 1 + uint32_t(k)) : quantized(w, gaussian(k, 1 + uint32_t(k)));
          const auto ar = raw ? raw_blocks(at, k, 2 + uint32_t(k)) : quantized(at, gaussian(k, 2 + uint32_t(k)));
          const float want = ggml_exact::dot(w, wr.data(), ar.data(), k, 1, 37);
          const float got = kernels::dot(w, wr.data(), ar.data(), k, 37);
          ASSERT_EQ(bits(got), bits(want)) << got << " vs " << want;
        }
      }
    }
  });
}

// Every matmul output is ggml_exact::dot with the matmul's token count; nothing outside the rows.
TEST(KQuants, MatmulBitExactWithSpec) {
  tandem::test::for_each_target([] {
    for (TensorType w : kNewTypes) {
      const TensorType at = activation_type(w);
      std::vector<size_t> ks = is_k(w) ? std::vector<size_t>{256, 768, 2816} : std::vector<size_t>{64, 96, 896};
      if (w == TensorType::BF16) ks = {5, 8, 64, 172, 1000};
      for (size_t k : ks) {
        const size_t wb = row_bytes(w, k), ab = row_bytes(at, k);
        const size_t rows = 37;
        std::vector<uint8_t> W(rows * wb);
        for (size_t r = 0; r < rows; ++r) {
          const auto row = quantized(w, gaussian(k, 1000 + uint32_t(r)));
          std::memcpy(&W[r * wb], row.data(), wb);
        }
        for (size_t n_tok : {1, 2, 3, 4, 5, 9}) {
          std::vector<uint8_t> A(n_tok * ab);
          for (size_t t = 0; t < n_tok; ++t) {
            const auto row = quantized(at, gaussian(k, 3000 + uint32_t(n_tok * 100 + t)));
            std::memcpy(&A[t * ab], row.data(), ab);
          }
          for (auto [r0, r1] : {std::pair<size_t, size_t>{0, rows}, {5, rows - 2}, {11, 12}}) {
            SCOPED_TRACE(std::string(type_name(w)) + " k=" + std::to_string(k) + " n_tok=" + std::to_string(n_tok) +
                         " rows=[" + std::to_string(r0) + "," + std::to_string(r1) + ")");
            const size_t stride = rows + 3;
            std::vector<float> out(n_tok * stride, -12345.f);
            kernels::matmul(w, W.data(), k, r0, r1, A.data(), n_tok, out.data(), stride, rows);
            for (size_t t = 0; t < n_tok; ++t)
              for (size_t r = 0; r < stride; ++r) {
                const float o = out[t * stride + r];
                if (r < r0 || r >= r1) {
                  ASSERT_EQ(o, -12345.f) << "wrote outside the rows, t=" << t << " r=" << r;
                  continue;
                }
                const float want = ggml_exact::dot(w, &W[r * wb], &A[t * ab], k, n_tok, rows);
                ASSERT_EQ(bits(o), bits(want)) << "t=" << t << " r=" << r << ": " << o << " vs " << want;
              }
          }
        }
      }
    }
  });
}

TEST(KQuants, RejectsBadSizesAndUnsupportedTypes) {
  uint8_t buf[512] = {};
  float out[1];
  EXPECT_THROW(kernels::dot(TensorType::Q4_K, buf, buf, 128, 1), Error);
  EXPECT_THROW(kernels::matmul(TensorType::Q5_0, buf, 48, 0, 1, buf, 1, out, 1, 1), Error);
  EXPECT_THROW(kernels::dot(TensorType::Q2_K, buf, buf, 256, 1), Error);
  EXPECT_THROW(kernels::dot(TensorType::Q8_K, buf, buf, 256, 1), Error);
  EXPECT_THROW(activation_type(TensorType::Q3_K), Error);
}
