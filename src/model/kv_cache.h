// The attention KV cache: fp16 keys and values (as llama.cpp keeps them) for up to n_seq
// independent sequences of up to n_ctx positions each, allocated once. A sequence can be cut
// back to any length, which is how speculative decoding rolls back rejected draft tokens.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "model/llama_model.h"

namespace tandem {

class KvCache {
 public:
  KvCache(const LlamaHparams& hp, int32_t n_seq, int32_t n_ctx);

  int32_t n_seq() const { return n_seq_; }
  int32_t n_ctx() const { return n_ctx_; }
  int32_t kv_dim() const { return kv_dim_; }
  size_t bytes() const { return (k_.size() + v_.size()) * sizeof(uint16_t); }

  // Rows of kv_dim fp16 values: [layer][seq][pos].
  uint16_t* k(int32_t layer, int32_t seq, int32_t pos) { return k_.data() + offset(layer, seq, pos); }
  uint16_t* v(int32_t layer, int32_t seq, int32_t pos) { return v_.data() + offset(layer, seq, pos); }
  const uint16_t* k(int32_t layer, int32_t seq, int32_t pos) const { return k_.data() + offset(layer, seq, pos); }
  const uint16_t* v(int32_t layer, int32_t seq, int32_t pos) const { return v_.data() + offset(layer, seq, pos); }

  // fp16 values of one position over all layers: what copy_rows_out/in move per position.
  size_t row_elems() const { return size_t(n_layer_) * size_t(kv_dim_); }
  // Copies positions [begin, end) of a sequence's keys and values out to (in from) buffers of
  // (end - begin) * row_elems() values laid out [pos][layer][kv_dim]: all of a position's layers
  // together, so that a prefix of positions is a prefix of the buffer. Rows read must be valid
  // (end <= seq_len); writing leaves seq_len alone (set_len marks rows valid). Throws Error on a
  // bad range or a buffer too small.
  void copy_rows_out(int32_t seq, int32_t begin, int32_t end, std::span<uint16_t> k_out,
                     std::span<uint16_t> v_out) const;
  void copy_rows_in(int32_t seq, int32_t begin, int32_t end, std::span<const uint16_t> k_in,
                    std::span<const uint16_t> v_in);

  // Number of positions of a sequence that hold valid entries.
  int32_t seq_len(int32_t seq) const;
  // Keeps positions [0, len) of a sequence; len may not exceed the current length.
  void truncate(int32_t seq, int32_t len);
  void clear(int32_t seq) { truncate(seq, 0); }
  void clear_all();
  // Marks positions [0, len) valid after a forward pass wrote them (engine use).
  void set_len(int32_t seq, int32_t len);

 private:
  size_t offset(int32_t layer, int32_t seq, int32_t pos) const {
    return ((size_t(layer) * size_t(n_seq_) + size_t(seq)) * size_t(n_ctx_) + size_t(pos)) * size_t(kv_dim_);
  }
  void check_seq(int32_t seq) const;
  void check_rows(int32_t seq, int32_t begin, int32_t end, int32_t limit, size_t k_size, size_t v_size) const;

  int32_t n_layer_, n_seq_, n_ctx_, kv_dim_;
  std::vector<uint16_t> k_, v_;
  std::vector<int32_t> len_;
};

}  // namespace tandem
