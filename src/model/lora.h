// LoRA adapters in llama.cpp's GGUF adapter format, applied at run time without touching the
// base weights: for every adapted matrix W, y = W x + scale * B (A x).
//
// File format (what llama.cpp's convert_lora_to_gguf.py writes and llama_adapter_lora_init reads):
//   general.type = "adapter", adapter.type = "lora", general.architecture = the base model's,
//   adapter.lora.alpha (float, optional; 0 or absent: no alpha scaling);
//   for each adapted base tensor NAME: NAME.lora_a with ne = [n_in, rank] and NAME.lora_b with
//   ne = [rank, n_out] (so row r of A and row o of B are contiguous).
// The scale of a matrix is user_scale * alpha / rank (user_scale alone when alpha is 0), rank
// being that matrix's own lora_b ne[0]. Adapters for norm vectors (*_norm.weight) are skipped
// as llama.cpp skips them; token_embd adapters are refused (not supported).
//
// An adapter is loaded once against a base model (every tensor checked against it) and is then
// read-only, so any number of contexts can use it at once, each with its own set of active
// adapters and scales (LoraUse), changeable between requests.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "model/llama_model.h"

namespace tandem {

// The matrices of a layer an adapter can target, plus the output projection.
enum class LoraTarget : uint8_t { Q, K, V, O, Gate, Up, Down, Output };
constexpr int kLoraLayerTargets = 7;  // Q..Down

// One adapted matrix, converted to f32 at load.
struct LoraMatrix {
  int32_t rank = 0;
  int64_t n_in = 0, n_out = 0;
  std::vector<float> a;   // [rank][n_in], as lora_a is stored
  std::vector<float> bt;  // [rank][n_out]: lora_b transposed, so the forward pass adds columns
};

class LoraAdapter {
 public:
  static std::shared_ptr<const LoraAdapter> load(const std::string& path, const LlamaModel& base);
  // From an already parsed file; the adapter copies what it needs (the bytes may go away after).
  static std::shared_ptr<const LoraAdapter> from_gguf(const GgufFile& f, const LlamaModel& base,
                                                      std::string name = "adapter");

  const std::string& name() const { return name_; }
  float alpha() const { return alpha_; }
  int32_t max_rank() const { return max_rank_; }
  size_t n_matrices() const { return mats_.size(); }
  size_t bytes() const;

  // The adapted matrix of a layer (layer < n_layer, target Q..Down) or of the output projection
  // (target Output, layer ignored); nullptr where the adapter leaves the base matrix alone.
  const LoraMatrix* get(int32_t layer, LoraTarget target) const {
    const size_t i = target == LoraTarget::Output ? slots_.size() - 1
                                                  : size_t(layer) * kLoraLayerTargets + size_t(target);
    return slots_[i] < 0 ? nullptr : &mats_[size_t(slots_[i])];
  }
  // The factor applied to B (A x) for a matrix at a given user scale.
  float scale(const LoraMatrix& m, float user_scale) const {
    return alpha_ != 0 ? user_scale * alpha_ / float(m.rank) : user_scale;
  }
  // True when every adapted matrix has the shape of the model's (checked before each use, so an
  // adapter loaded against one model cannot be run on an incompatible one).
  bool fits(const LlamaModel& model) const;

 private:
  std::string name_, arch_;
  float alpha_ = 0;
  int32_t max_rank_ = 0;
  int32_t n_layer_ = 0;
  std::vector<LoraMatrix> mats_;
  std::vector<int32_t> slots_;  // [n_layer * 7 + 1] -> index into mats_, or -1
};

// An adapter made active for a context, with the user's scale (llama.cpp's --lora-scaled).
struct LoraUse {
  std::shared_ptr<const LoraAdapter> adapter;
  float scale = 1.0f;
};

// Parses FILE[:SCALE] as given to --lora (SCALE a number; without it 1).
LoraUse parse_lora_arg(const std::string& arg, const LlamaModel& base);

}  // namespace tandem
