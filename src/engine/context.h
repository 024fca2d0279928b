// An inference context: one model's KV cache for n_seq sequences, the forward pass's working
// memory and the thread pool — the explicit per-query state everything above the model uses.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernels/thread_pool.h"
#include "model/forward.h"
#include "model/kv_cache.h"
#include "model/llama_model.h"
#include "model/lora.h"

namespace tandem {

struct ContextParams {
  int32_t n_ctx = 0;      // positions per sequence; 0: the model's trained context (at most 4096)
  int32_t n_seq = 1;      // independent sequences held at once
  int32_t n_batch = 512;  // most tokens per forward pass; longer inputs are split
  int32_t n_outputs = 0;  // most tokens per forward pass with logits; 0: n_batch
  int n_threads = 2;
};

class Context {
 public:
  Context(const LlamaModel& model, const ContextParams& params);

  const LlamaModel& model() const { return model_; }
  const ContextParams& params() const { return params_; }
  int32_t n_ctx() const { return kv_.n_ctx(); }
  int32_t n_vocab() const { return model_.hparams().n_vocab; }
  KvCache& kv() { return kv_; }
  ThreadPool& pool() { return pool_; }
  size_t state_bytes() const { return kv_.bytes() + state_.bytes(); }

  // The LoRA adapters every later decode applies, each with its scale (empty: the base model).
  // Checks that each adapter fits this model and sizes the scratch (this allocates; decoding
  // then does not). A server swaps them between requests; the KV cache is not cleared, so
  // clear or truncate a sequence whose cached positions were computed under other adapters.
  void set_loras(std::vector<LoraUse> loras);
  const std::vector<LoraUse>& loras() const { return loras_; }

  // One forward pass over at most n_batch tokens (see forward.h for the rules).
  void decode(std::span<const BatchToken> batch);
  // Logits of the i-th token that asked for them in the last decode().
  const float* logits(int32_t i) const { return state_.logits(i); }

  // Appends tokens to a sequence in n_batch chunks. Returns the last token's logits, or with
  // all_logits the first of tokens.size() consecutive rows (tokens.size() <= n_outputs).
  const float* eval(int32_t seq, std::span<const int32_t> tokens, bool all_logits = false);

  int32_t seq_len(int32_t seq) const { return kv_.seq_len(seq); }
  void truncate(int32_t seq, int32_t len) { kv_.truncate(seq, len); }

 private:
  const LlamaModel& model_;
  ContextParams params_;
  ThreadPool pool_;
  KvCache kv_;
  ForwardState state_;
  std::vector<BatchToken> batch_;  // eval()'s batch, sized n_batch once
  std::vector<LoraUse> loras_;
};

}  // namespace tandem
