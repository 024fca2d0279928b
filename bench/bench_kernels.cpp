// Matrix-product kernels per weight type and shape (and for Q4_0 / Q8_0 also in the interleaved
// layouts the engine loads them into: "q4_0x8", "q8_0x4"), one thread: decode (1 activation row) and
// batches of 8, 16 and 64 rows, on the matrix shapes of a 110M (768x768, 768x2048, 2048x768) and
// a 1.1B model (2048x2048, 2048x5632). Reports the weight bytes streamed per second
// ("bytes_per_second") and the multiply-adds per second ("MAC/s").
//
//   ./build/bench/bench_kernels --benchmark_filter='q4_k/768x2048/tok:1$' --benchmark_min_time=0.2
//
// The weights are distinct random rows repeated to fill the matrix (contents do not change the
// speed; setup stays fast); the activations are converted as the forward pass converts them.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/interleaved.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"

using namespace tandem;

namespace {

struct MatrixShape {
  size_t k, rows;
};

// interleaved: the layout the engine loads Q4_0 / Q8_0 matrices into (kernels/interleaved.h),
// benchmarked as "q4_0x8" / "q8_0x4"; otherwise GGUF's rows.
// order: Single runs every token in the one-token order (serving's batched decode steps).
void bm_matmul(benchmark::State& state, TensorType w, MatrixShape s, size_t n_tok, bool interleaved,
               kernels::DotOrder order) {
  const TensorType at = activation_type(w);
  const size_t wb = row_bytes(w, s.k), ab = row_bytes(at, s.k);
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.f, 1.f);
  constexpr size_t kDistinct = 64;
  std::vector<uint8_t> distinct(kDistinct * wb);
  std::vector<float> x(s.k);
  for (size_t r = 0; r < kDistinct; ++r) {
    for (auto& v : x) v = g(rng);
    quantize_row(w, x.data(), &distinct[r * wb], s.k);
  }
  std::vector<uint8_t> W(s.rows * wb);
  for (size_t r = 0; r < s.rows; ++r) std::memcpy(&W[r * wb], &distinct[(r % kDistinct) * wb], wb);
  std::vector<uint8_t> A(n_tok * ab);
  for (size_t t = 0; t < n_tok; ++t) {
    for (auto& v : x) v = g(rng);
    kernels::convert_activations(at, x.data(), &A[t * ab], s.k);
  }
  std::vector<float> out(n_tok * s.rows);
  const kernels::WeightLayout layout = interleaved ? kernels::preferred_layout(w, s.k, s.rows) : kernels::WeightLayout::Rows;
  std::vector<uint8_t> Wi;
  if (layout != kernels::WeightLayout::Rows) {
    const size_t g = kernels::layout_group_rows(layout);
    Wi.resize(kernels::layout_bytes(layout, s.k, s.rows));
    kernels::interleave_groups(layout, W.data(), s.k, s.rows, 0, (s.rows + g - 1) / g, Wi.data());
  }
  for (auto _ : state) {
    if (layout != kernels::WeightLayout::Rows)
      kernels::matmul_interleaved(layout, Wi.data(), s.k, 0, s.rows, A.data(), n_tok, out.data(), s.rows);
    else
      kernels::matmul(w, W.data(), s.k, 0, s.rows, A.data(), n_tok, out.data(), s.rows, s.rows, order);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(W.size()));
  state.counters["MAC/s"] = benchmark::Counter(double(state.iterations()) * double(s.k * s.rows * n_tok),
                                               benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  const TensorType types[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q8_0,
                              TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1,
                              TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};
  const MatrixShape shapes[] = {{768, 768}, {768, 2048}, {2048, 768}, {2048, 2048}, {2048, 5632}};
  for (TensorType w : types)
    for (bool interleaved : {false, true}) {
      if (interleaved && w != TensorType::Q4_0 && w != TensorType::Q8_0) continue;
      const std::string tname = std::string(type_name(w)) + (interleaved ? (w == TensorType::Q4_0 ? "x8" : "x4") : "");
      for (const MatrixShape& s : shapes)
        for (size_t n_tok : {1, 8, 16, 64}) {
          const std::string name = tname + "/" + std::to_string(s.k) + "x" + std::to_string(s.rows) + "/tok:" +
                                   std::to_string(n_tok);
          benchmark::RegisterBenchmark(name.c_str(), bm_matmul, w, s, n_tok, interleaved, kernels::DotOrder::ByCount)
              ->Unit(benchmark::kMicrosecond);
          // Float weights have a second order for several tokens: each in the one-token order.
          if ((w == TensorType::F32 || w == TensorType::F16) && n_tok > 1)
            benchmark::RegisterBenchmark((name + "/single").c_str(), bm_matmul, w, s, n_tok, interleaved,
                                         kernels::DotOrder::Single)
                ->Unit(benchmark::kMicrosecond);
        }
    }
  std::printf("SIMD target: %s\n", kernels::active_target_name());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
