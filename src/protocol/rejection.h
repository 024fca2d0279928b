// The rejection rule of speculative decoding, on its own so that it can be tested in isolation
// (docs/verify-protocol.md). Given the target model's distribution p_i at each of the k draft
// positions and one more, and the draft's (sparse) distribution q_i it drew draft token x_i from:
//   greedy:   accept while x_i is the target's argmax; the server's token is the argmax at the
//             first rejected position (or after the last draft token);
//   sampling: accept x_i with probability min(1, p_i(x_i) / q_i(x_i)); at the first rejection
//             draw from norm(max(0, p_i - q_i)) (from p_i if that is all zero); if all k are
//             accepted, draw the server's token from p_k.
// The output then follows the target's distribution exactly, whatever q is.
#pragma once
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "engine/sampler.h"

namespace tandem::protocol {

// A probability distribution over token ids as (token, probability) pairs; unlisted tokens
// have probability 0. Probabilities need not sum to exactly 1 (they are used as weights).
using SparseDist = std::vector<std::pair<int32_t, float>>;

struct VerifyOutcome {
  int32_t accepted = 0;  // draft tokens accepted, 0..k
  int32_t token = -1;    // the target's own next token after them
};

// argmax_i: the target's greedy token at each of the k + 1 positions.
VerifyOutcome verify_greedy(std::span<const int32_t> draft, std::span<const int32_t> argmax);

// p: k + 1 target distributions; q: k draft distributions, q[i] must give draft[i] a positive
// probability (the caller validates). Uses rng for the accept tests and the draws.
VerifyOutcome verify_sampled(std::span<const int32_t> draft, std::span<const SparseDist> p,
                             std::span<const SparseDist> q, Rng& rng);

// Probability of a token in a sparse distribution (0 when absent).
float prob_of(const SparseDist& d, int32_t token);
// Draws a token with probability proportional to the weights (ties in id order); -1 when all
// weights are zero.
int32_t draw(const SparseDist& d, Rng& rng);

}  // namespace tandem::protocol
