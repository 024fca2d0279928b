// The no-allocation check of decoding, shared by the engine and LoRA tests: after `prompt`, one
// warm-up step, then `steps` single-token decode steps of `token`, counting heap allocations.
#pragma once
#include <span>
#include <vector>

#include "alloc_counter.h"
#include "engine/context.h"

namespace tandem::test {

inline size_t decode_allocations(Context& ctx, const std::vector<int32_t>& prompt, int32_t token, int steps) {
  ctx.eval(0, prompt);
  const BatchToken warm{token, 0, int32_t(prompt.size()), true};
  ctx.decode(std::span<const BatchToken>(&warm, 1));
  AllocCounter allocs;
  for (int i = 1; i <= steps; ++i) {
    const BatchToken t{token, 0, int32_t(prompt.size()) + i, true};
    ctx.decode(std::span<const BatchToken>(&t, 1));
  }
  return allocs.count();
}

}  // namespace tandem::test
