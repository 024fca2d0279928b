// Token samplers in llama.cpp's default chain order:
//   repetition penalty -> top-k -> top-p -> min-p -> temperature -> softmax -> seeded draw.
// Greedy (argmax after the penalty, ties to the lower id) when temperature <= 0.
//
// All buffers are allocated in the constructor; sample() and accept() never allocate, so a decode
// loop that owns a Sampler allocates nothing per token. Results are deterministic and portable
// for a given seed: the RNG is xoshiro256** seeded with splitmix64, uniforms use 53 bits, and
// every ordering uses a total order (logit descending, then id ascending).
#pragma once
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace tandem {

struct SamplerParams {
  float temperature = 0.f;     // <= 0: greedy
  int top_k = 0;               // <= 0: off
  float top_p = 1.f;           // in [0, 1]; 1: off; keeps the smallest set with cumulative prob >= top_p
  float min_p = 0.f;           // in [0, 1]; 0: off; keeps p_i >= min_p * p_max
  float repeat_penalty = 1.f;  // > 0; 1: off
  int repeat_last_n = 64;      // >= 0; 0: off
  uint64_t seed = 0;
};

// Throws Error naming the bad field (NaN, out of range).
void validate(const SamplerParams& p);

// Index of the largest logit, ties to the lower id; NaN never wins (all NaN / -inf: 0).
int32_t argmax(const float* logits, int32_t n);

// xoshiro256** with splitmix64 seeding: the same numbers on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { seed_with(seed); }
  void seed_with(uint64_t seed);
  uint64_t next();
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1), 53 bits

 private:
  uint64_t s_[4];
};

class Sampler {
 public:
  Sampler(const SamplerParams& p, int32_t n_vocab);

  // Picks the next token from n_vocab logits (not modified). Does not allocate.
  int32_t sample(const float* logits);
  // Records a token for the repetition penalty (ring buffer of the last repeat_last_n).
  void accept(int32_t token);
  // Clears the history and re-seeds the RNG with params().seed.
  void reset();

  // The distribution the last sample() drew from, as (token, probability) pairs after truncation
  // and temperature, probabilities summing to 1. Sorted by probability (descending) when top-k or
  // top-p truncated it, otherwise in id order. Greedy: the chosen token with probability 1.
  // Valid until the next sample().
  std::span<const std::pair<int32_t, float>> last_distribution() const { return {dist_.data(), dist_n_}; }

  const SamplerParams& params() const { return p_; }
  int32_t n_vocab() const { return n_vocab_; }
  Rng& rng() { return rng_; }

 private:
  void apply_penalties();
  int32_t only(int32_t token);  // the one token, with probability 1 (greedy, or nothing left)
  int32_t draw(const int32_t* candidates, size_t m, float max_logit);

  SamplerParams p_;
  int32_t n_vocab_;
  Rng rng_;
  std::vector<float> work_;     // logits after the penalty
  std::vector<int32_t> cand_;   // candidate ids
  std::vector<std::pair<int32_t, float>> dist_;
  size_t dist_n_ = 0;
  std::vector<int32_t> history_;  // ring buffer
  size_t hist_pos_ = 0, hist_n_ = 0;
  std::vector<uint32_t> stamp_;  // marks tokens already penalized in this sample() call
  uint32_t stamp_cur_ = 0;
};

}  // namespace tandem
