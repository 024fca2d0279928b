// The forward pass of a Llama-family model over a batch of tokens from one or more sequences.
// All working memory lives in ForwardState, allocated once for a maximum batch size, so a
// forward pass allocates nothing.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/thread_pool.h"
#include "model/kv_cache.h"
#include "model/llama_model.h"
#include "model/lora.h"

namespace tandem {

// How a token's float-weight (F32/F16/BF16) products are summed (see kernels::DotOrder; quantized
// weights have one order, so this changes nothing for them).
//   Auto:   as llama.cpp does for this batch: batched order when it has 2+ tokens, and for the
//           logits when 2+ tokens want them.
//   Prompt: as one token of a multi-token prompt whose last token alone wants logits (batched
//           order in the layers, single-token order for the logits), whatever the batch holds.
//   Step:   as a single-token decode step (single-token order throughout), whatever the batch.
// A server that batches unrelated sequences uses Prompt and Step, so that each sequence's
// results are bit-identical to running it alone.
enum class TokenOrder : uint8_t { Auto, Prompt, Step };

// One token of a batch: which sequence it extends, at which position, and whether the caller
// wants its logits. The tokens of a sequence must continue it: positions seq_len, seq_len+1, ...
struct BatchToken {
  int32_t token = 0;
  int32_t seq = 0;
  int32_t pos = 0;
  bool logits = false;
  TokenOrder order = TokenOrder::Auto;
};

class ForwardState {
 public:
  // max_batch: most tokens per forward; max_outputs: most tokens per forward that want logits;
  // n_seq: sequences of the KV cache it runs with.
  ForwardState(const LlamaModel& model, int32_t max_batch, int32_t max_outputs, int32_t n_seq, int n_threads);

  int32_t max_batch() const { return max_batch_; }
  int32_t max_outputs() const { return max_outputs_; }
  size_t bytes() const;

  // Sizes the LoRA scratch for active adapters of rank up to max_rank (allocates; call it when
  // the set of adapters changes, never while decoding).
  void reserve_lora(int32_t max_rank);
  int32_t lora_rank_capacity() const { return lora_rank_cap_; }

  // Logits of the i-th token that asked for them in the last forward (n_vocab floats).
  const float* logits(int32_t i) const { return logits_.data() + size_t(i) * size_t(n_vocab_); }

 private:
  friend struct ForwardPass;  // forward()'s steps (forward.cpp)
  int32_t max_batch_, max_outputs_, n_vocab_;
  int n_threads_;
  std::vector<float> x_, xb_, q_, k_, v_, att_, hb_, hb2_;  // [batch][dim] activations
  std::vector<uint8_t> act_f16_, act_q8_;                 // activations converted for F16 / quantized weights
  std::vector<float> rope_cos_, rope_sin_;                // [batch][n_rot / 2]
  std::vector<uint16_t> head_scratch_;                    // [thread][2][head_dim] fp16 query and accumulator
  std::vector<int32_t> out_rows_;                         // batch indices that want logits
  std::vector<uint8_t> row_batched_, out_batched_;        // per token / output: batched dot order
  std::vector<int32_t> seq_pending_;                      // per-sequence count while validating
  std::vector<float> logits_;                             // [max_outputs][n_vocab]
  std::vector<float> lora_t_;                             // [thread][batch][rank]: A x of one adapter
  int32_t lora_rank_cap_ = 0;
};

// Most adapters active at once.
constexpr size_t kMaxActiveLoras = 16;

// Runs the model over the batch: writes each token's keys/values into the cache, advances each
// sequence's length, and fills the state's logits for the tokens that asked. Each adapter of
// `loras` adds scale * B (A x) to the matrices it adapts (the state must have been sized for
// them with reserve_lora). Throws Error (and changes nothing) if a token id, sequence,
// position, the batch size or an adapter is invalid.
void forward(const LlamaModel& model, KvCache& kv, ForwardState& st, ThreadPool& pool,
             std::span<const BatchToken> batch, std::span<const LoraUse> loras = {});

}  // namespace tandem
