// The draft model's side of a speculative round: its KV cache kept in step with whatever token
// line the caller asks about (rolled back on rejection by cutting the cache after the longest
// common prefix), and the choice of each draft token with the distribution q it was drawn from.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "engine/context.h"
#include "engine/generate.h"
#include "engine/grammar.h"
#include "engine/sampler.h"
#include "protocol/rejection.h"

namespace tandem::verify {

using protocol::SparseDist;

class Drafter {
 public:
  // One sequence of n_ctx positions; n_outputs 1 (only the last token's logits are needed).
  // With loras the draft is the adapted model (as the device serves it).
  Drafter(const LlamaModel& model, int32_t n_ctx, int n_threads, std::vector<LoraUse> loras = {});

  // The draft model's logits after the token line a ++ b. Evaluates only what the cache does not
  // already hold (usually one token); a line that diverges from the cache cuts it back first.
  // step_ms (if not null) receives the time of a single-token step, or -1 when it was not one.
  const float* logits_after(std::span<const int32_t> a, std::span<const int32_t> b, double* step_ms = nullptr);

  // Times a few single-token steps (then forgets them): a speed measurement before generating.
  double measure_step_ms(int32_t token, int steps = 3);

  int32_t n_ctx() const { return ctx_.n_ctx(); }
  int32_t n_vocab() const { return ctx_.n_vocab(); }

 private:
  Context ctx_;
  std::vector<int32_t> held_;  // tokens in the cache, in order
  bool logits_valid_ = false;  // the last eval's logits belong to held_.back()
  const float* logits_ = nullptr;
};

// The next draft token from the draft's logits. Greedy (temperature <= 0): the argmax, q = {x: 1},
// confidence = the top probability of softmax(logits). Sampling: the sampler's distribution
// (temperature, top-k, top-p, min-p) cut to its `max_entries` most probable tokens and
// renormalized, x drawn from exactly that q with the sampler's generator; confidence = max q.
// q is what the server's rejection rule needs; sending fewer entries keeps the request short.
struct DraftPick {
  int32_t token = -1;
  float confidence = 0;
};
// want_confidence false skips the greedy softmax (a pass over the vocabulary) when no threshold
// needs it (confidence is then 1).
DraftPick pick_draft_token(const float* logits, Sampler& sampler, size_t max_entries, SparseDist& q,
                           bool want_confidence = true);

// The token the grammar forces next (what next_constrained would take without sampling), or -1.
int32_t forced_next(GrammarMatcher& g, GrammarStep& step);

// pick_draft_token among the tokens the grammar allows: a forced token is drafted with q = {x: 1}
// (the server's distribution there is the same); token -1 when the grammar is complete and
// the vocabulary has no end-of-generation token.
DraftPick pick_constrained_draft_token(GrammarMatcher& g, GrammarStep& step, const float* logits, Sampler& sampler,
                                       size_t max_entries, SparseDist& q, bool want_confidence = true);

// The top probability of softmax(logits) (temperature 1).
float top_probability(const float* logits, int32_t n_vocab);

}  // namespace tandem::verify
