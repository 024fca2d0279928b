// A Llama-family model (architectures `llama` and `qwen2`): hyperparameters from GGUF metadata
// and views of its weights, used in place from the memory-mapped file. Loading validates every
// tensor's presence, shape and type, so the forward pass never has to.
//
// The two architectures differ only in details the forward pass reads from here: qwen2 has
// biases on Q, K and V and rotates NeoX-style (pairs (i, i + n_rot/2)), llama rotates adjacent
// pairs and may carry Llama 3's per-frequency rope factors (rope_freqs.weight).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "kernels/interleaved.h"

namespace tandem {

// How RoPE pairs the dimensions of a head (ggml's rope modes NORM and NEOX).
enum class RopeStyle : uint8_t {
  Adjacent,  // (x[2j], x[2j+1]): llama
  Neox,      // (x[j], x[j + n_rot/2]): qwen2
};

struct LlamaHparams {
  std::string arch;      // "llama" or "qwen2"
  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;
  int32_t n_embd = 0;
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t n_ff = 0;
  int32_t head_dim = 0;  // n_embd / n_head
  int32_t n_rot = 0;     // rotary dimensions per head (<= head_dim)
  float rms_eps = 1e-5f;
  float rope_base = 10000.f;
  float rope_freq_scale = 1.f;  // linear rope scaling: angles times 1 / rope.scaling.factor
  RopeStyle rope_style = RopeStyle::Adjacent;

  int32_t kv_dim() const { return n_head_kv * head_dim; }
};

// A 2-D weight matrix of `rows` rows of `cols` elements: in GGUF's row-major layout, in place in
// the mapped file, or (layout != Rows) an interleaved copy the model owns (kernels/interleaved.h).
struct WeightMatrix {
  TensorType type = TensorType::F32;
  int64_t cols = 0;  // input features (ne[0])
  int64_t rows = 0;  // output features (ne[1])
  size_t row_bytes = 0;  // bytes of one row in GGUF layout
  const uint8_t* data = nullptr;
  kernels::WeightLayout layout = kernels::WeightLayout::Rows;

  const uint8_t* row(int64_t r) const { return data + size_t(r) * row_bytes; }  // Rows layout only
  size_t bytes() const { return row_bytes * size_t(rows); }
};

struct LlamaLayer {
  std::vector<float> attn_norm, ffn_norm;  // [n_embd], converted to f32 at load
  WeightMatrix wq, wk, wv, wo;
  std::vector<float> bq, bk, bv, bo;       // biases added after the matmul; empty when absent
  WeightMatrix w_gate, w_up, w_down;
};

class LlamaModel {
 public:
  // progress(fraction) is called while loading; may be empty.
  static std::unique_ptr<LlamaModel> load(const std::string& path,
                                          const std::function<void(float)>& progress = {});
  // Builds a model over an already parsed file (tests, fuzzing); the bytes must outlive it.
  static std::unique_ptr<LlamaModel> from_gguf(GgufFile file, const std::function<void(float)>& progress = {});

  const GgufFile& gguf() const { return file_; }
  const LlamaHparams& hparams() const { return hp_; }
  const WeightMatrix& tok_embd() const { return tok_embd_; }
  const WeightMatrix& output() const { return output_; }  // the embedding when tied
  bool output_tied() const { return output_tied_; }
  const std::vector<float>& output_norm() const { return output_norm_; }
  const std::vector<LlamaLayer>& layers() const { return layers_; }
  // Llama 3 rope frequency factors (n_rot / 2; each pair's angle is divided by its factor), or
  // empty when the model has no rope_freqs.weight.
  const std::vector<float>& rope_freq_factors() const { return rope_freqs_; }

  // Bytes of weights one decode step reads: every matrix once plus one embedding row.
  size_t weight_bytes_per_token() const;
  size_t total_weight_bytes() const;
  int64_t n_params() const;
  std::string type_summary() const;  // e.g. "q4_0 (+q8_0, f16)"

 private:
  GgufFile file_;
  LlamaHparams hp_;
  WeightMatrix tok_embd_, output_;
  bool output_tied_ = false;
  std::vector<float> output_norm_;
  std::vector<float> rope_freqs_;
  std::vector<LlamaLayer> layers_;
  std::vector<std::unique_ptr<uint8_t[]>> interleaved_;  // owned copies of interleaved matrices

  // Converts the matrices that decode faster interleaved (model/interleave_weights.cpp), reading
  // every weight once (which also faults the mapped file in) and reporting progress.
  void interleave_weights(const std::function<void(float)>& progress);
};

}  // namespace tandem
