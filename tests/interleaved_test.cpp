// Interleaved weight layouts (kernels/interleaved.h): the same results as the GGUF-row kernels,
// bit for bit, on every target, for any row range and any number of activation rows; and a model
// whose matrices are interleaved at load time.
#include <cstring>
#include <random>
#include <vector>

#include "kernel_targets.h"
#include "kernels/fp16.h"
#include "kernels/interleaved.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"
#include "model/llama_model.h"
#include "test_util.h"

using namespace tandem;
using kernels::WeightLayout;

namespace {

// Rows of random blocks covering every bit pattern (int8 -128 included) with random signed
// fp16 scales.
std::vector<uint8_t> random_matrix(TensorType t, size_t k, size_t rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> m(row_bytes(t, k) * rows);
  for (auto& b : m) b = uint8_t(rng());
  const size_t bb = traits(t).block_bytes;
  std::uniform_real_distribution<float> scale(1e-3f, 1e-1f);
  for (size_t off = 0; off < m.size(); off += bb) {
    const uint16_t d = f32_to_fp16(scale(rng) * (rng() & 1 ? 1.f : -1.f));
    std::memcpy(&m[off], &d, 2);
  }
  return m;
}

std::vector<uint8_t> random_activations(size_t k, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  std::vector<float> x(k);
  const size_t ab = row_bytes(TensorType::Q8_0, k);
  std::vector<uint8_t> a(ab * n);
  for (size_t t = 0; t < n; ++t) {
    for (auto& v : x) v = nd(rng);
    quantize_row(TensorType::Q8_0, x.data(), a.data() + t * ab, k);
  }
  return a;
}

}  // namespace

TEST(Interleaved, LayoutChoice) {
  EXPECT_EQ(kernels::preferred_layout(TensorType::Q4_0, 64, 64), WeightLayout::Q4_0x8);
  // Q4_0 with rows % 8 != 0 keeps ggml's non-repacked order, so it stays in rows.
  EXPECT_EQ(kernels::preferred_layout(TensorType::Q4_0, 64, 36), WeightLayout::Rows);
  EXPECT_EQ(kernels::preferred_layout(TensorType::Q8_0, 64, 37), WeightLayout::Q8_0x4);
  EXPECT_EQ(kernels::preferred_layout(TensorType::F16, 64, 64), WeightLayout::Rows);
  EXPECT_EQ(kernels::layout_bytes(WeightLayout::Q8_0x4, 64, 5), size_t(2 * 2 * 4 * 34));
}

TEST(Interleaved, BitIdenticalToRowKernelsOnEveryTarget) {
  struct Case {
    TensorType t;
    size_t k, rows;
  };
  // k: 1 block, odd block counts, more blocks than the 1024 precomputed activation scales.
  const Case cases[] = {{TensorType::Q4_0, 32, 8},      {TensorType::Q4_0, 96, 24},
                        {TensorType::Q4_0, 2048, 64},   {TensorType::Q4_0, 32832, 16},
                        {TensorType::Q8_0, 32, 4},      {TensorType::Q8_0, 160, 7},
                        {TensorType::Q8_0, 2048, 30},   {TensorType::Q8_0, 32832, 5}};
  uint32_t seed = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(type_name(c.t)) + " k=" + std::to_string(c.k) + " rows=" + std::to_string(c.rows));
    const WeightLayout l = kernels::preferred_layout(c.t, c.k, c.rows);
    ASSERT_NE(l, WeightLayout::Rows);
    const std::vector<uint8_t> W = random_matrix(c.t, c.k, c.rows, seed++);
    const size_t g = kernels::layout_group_rows(l);
    std::vector<uint8_t> Wi(kernels::layout_bytes(l, c.k, c.rows));
    kernels::interleave_groups(l, W.data(), c.k, c.rows, 0, (c.rows + g - 1) / g, Wi.data());
    for (size_t n_tok : {1, 2, 3, 4, 5, 9}) {
      const std::vector<uint8_t> A = random_activations(c.k, n_tok, seed++);
      // Whole matrix, and a range that starts and ends inside groups.
      const std::pair<size_t, size_t> ranges[] = {{0, c.rows}, {1, c.rows - 1 > 1 ? c.rows - 1 : c.rows}};
      for (auto [r0, r1] : ranges) {
        tandem::test::for_each_target([&] {
          std::vector<float> want(n_tok * c.rows, -1.f), got(n_tok * c.rows, -1.f);
          kernels::matmul(c.t, W.data(), c.k, r0, r1, A.data(), n_tok, want.data(), c.rows, c.rows);
          kernels::matmul_interleaved(l, Wi.data(), c.k, r0, r1, A.data(), n_tok, got.data(), c.rows);
          ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float)))
              << "n_tok " << n_tok << " rows [" << r0 << ", " << r1 << ")";
        });
      }
    }
  }
}

TEST(Interleaved, ModelInterleavesQuantizedMatricesAtLoad) {
  auto m = LlamaModel::load(tandem::test::shared_dir() + "/models/stories260K-q4_0.gguf");
  // 64 x 64 Q4_0 (rows % 8 == 0): interleaved; ffn_down stays F16 (172 columns).
  EXPECT_EQ(m->layers()[0].wq.layout, WeightLayout::Q4_0x8);
  EXPECT_EQ(m->layers()[0].w_down.layout, WeightLayout::Rows);
  // The output projection (Q8_0 in this file) is interleaved; the embedding rows stay in place.
  EXPECT_EQ(m->output().layout, WeightLayout::Q8_0x4);
  EXPECT_EQ(m->tok_embd().layout, WeightLayout::Rows);
}
