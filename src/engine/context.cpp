#include "engine/context.h"

#include <algorithm>
#include <cmath>

#include "format/error.h"

namespace tandem {

namespace {
ContextParams resolve(const LlamaModel& m, ContextParams p) {
  if (p.n_ctx == 0) p.n_ctx = std::min(m.hparams().n_ctx_train, 4096);
  if (p.n_ctx < 1) throw Error("context size must be positive");
  if (p.n_batch < 1) throw Error("batch size must be positive");
  if (p.n_outputs == 0) p.n_outputs = p.n_batch;
  if (p.n_threads < 1 || p.n_threads > 512) throw Error("thread count must be in [1, 512]");
  return p;
}
}  // namespace

Context::Context(const LlamaModel& model, const ContextParams& params)
    : model_(model),
      params_(resolve(model, params)),
      pool_(params_.n_threads),
      kv_(model.hparams(), params_.n_seq, params_.n_ctx),
      state_(model, params_.n_batch, std::min(params_.n_outputs, params_.n_batch), params_.n_seq, params_.n_threads) {
  batch_.resize(size_t(params_.n_batch));
}

void Context::set_loras(std::vector<LoraUse> loras) {
  if (loras.size() > kMaxActiveLoras)
    throw Error("at most " + std::to_string(kMaxActiveLoras) + " LoRA adapters can be active at once");
  int32_t max_rank = 0;
  for (const auto& u : loras) {
    if (!u.adapter) throw Error("LoRA adapter is null");
    if (!u.adapter->fits(model_))
      throw Error("LoRA adapter " + u.adapter->name() + " was not loaded for a model of this shape");
    if (!std::isfinite(u.scale)) throw Error("LoRA scale must be a finite number");
    max_rank = std::max(max_rank, u.adapter->max_rank());
  }
  state_.reserve_lora(max_rank);
  loras_ = std::move(loras);
}

void Context::decode(std::span<const BatchToken> batch) { forward(model_, kv_, state_, pool_, batch, loras_); }

const float* Context::eval(int32_t seq, std::span<const int32_t> tokens, bool all_logits) {
  if (tokens.empty()) throw Error("nothing to evaluate");
  if (all_logits && tokens.size() > size_t(state_.max_outputs()))
    throw Error("cannot return logits for " + std::to_string(tokens.size()) + " tokens at once (at most " +
                std::to_string(state_.max_outputs()) + ")");
  const int32_t start = kv_.seq_len(seq);
  if (size_t(start) + tokens.size() > size_t(kv_.n_ctx()))
    throw Error("sequence of " + std::to_string(size_t(start) + tokens.size()) + " tokens exceeds the context size " +
                std::to_string(kv_.n_ctx()));
  const size_t nb = size_t(params_.n_batch);
  // With all_logits the rows must come out of one forward pass: tokens.size() <= n_outputs <= n_batch.
  for (size_t off = 0; off < tokens.size(); off += nb) {
    const size_t len = std::min(nb, tokens.size() - off);
    for (size_t i = 0; i < len; ++i) {
      const size_t j = off + i;
      batch_[i] = BatchToken{tokens[j], seq, int32_t(start + j), all_logits || j + 1 == tokens.size()};
    }
    decode(std::span<const BatchToken>(batch_.data(), len));
  }
  return state_.logits(0);
}

}  // namespace tandem
