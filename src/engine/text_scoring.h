// How well a model predicts a text, and how far its next-token distributions are from a
// reference model's — computed the way llama.cpp's perplexity tool does: the text is tokenized
// once (with BOS), cut into chunks of n_ctx tokens whose first token is replaced by BOS, and only
// the second half of each chunk is scored. `tandem perplexity` prints it; `tandem quantize
// --max-kld` and the gateway's device-model check judge a quantized file by it.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "engine/context.h"
#include "engine/vocab.h"

namespace tandem {

struct TextScoringParams {
  int n_ctx = 256;     // tokens per chunk (8..65536)
  int max_chunks = 0;  // score at most this many chunks (0: all)
  int n_threads = 2;
  std::vector<LoraUse> loras;  // applied to the scored model, not to the reference
  // Called after each chunk with the chunks done, their number, and the perplexity so far.
  std::function<void(int done, int total, double perplexity)> on_chunk;
};

struct TextScores {
  int chunks = 0;
  int64_t tokens_scored = 0;
  double perplexity = 0;
  // Against a reference model (when one was given):
  bool has_reference = false;
  double reference_perplexity = 0;
  double perplexity_ratio = 0;  // perplexity / reference_perplexity
  double kld_mean = 0;          // mean KL(reference || model) per scored token, in nats
  double kld_stderr = 0;
  double same_top_token = 0;  // share of positions where both models' most likely token agree
};

// Scores `model` on `text` (and against `reference`, when not null: it must have the same
// vocabulary). Throws Error when the text is shorter than one chunk or the vocabularies differ.
TextScores score_text(const LlamaModel& model, const LlamaModel* reference, const std::string& text,
                      const TextScoringParams& params);

}  // namespace tandem
