#include "model/kv_cache.h"

#include <cstring>

#include "format/error.h"

namespace tandem {

KvCache::KvCache(const LlamaHparams& hp, int32_t n_seq, int32_t n_ctx)
    : n_layer_(hp.n_layer), n_seq_(n_seq), n_ctx_(n_ctx), kv_dim_(hp.kv_dim()) {
  if (n_seq < 1 || n_seq > 4096) throw Error("number of sequences must be in [1, 4096], got " + std::to_string(n_seq));
  if (n_ctx < 1 || n_ctx > (1 << 24)) throw Error("context size must be in [1, 16M], got " + std::to_string(n_ctx));
  const size_t n = size_t(n_layer_) * size_t(n_seq_) * size_t(n_ctx_) * size_t(kv_dim_);
  if (n > (size_t(1) << 36)) throw Error("KV cache of " + std::to_string(n * 4 >> 20) + " MiB is too large");
  k_.assign(n, 0);
  v_.assign(n, 0);
  len_.assign(size_t(n_seq_), 0);
}

void KvCache::check_seq(int32_t seq) const {
  if (seq < 0 || seq >= n_seq_)
    throw Error("sequence id " + std::to_string(seq) + " is out of range [0, " + std::to_string(n_seq_) + ")");
}

int32_t KvCache::seq_len(int32_t seq) const {
  check_seq(seq);
  return len_[size_t(seq)];
}

void KvCache::truncate(int32_t seq, int32_t len) {
  check_seq(seq);
  if (len < 0 || len > len_[size_t(seq)])
    throw Error("cannot truncate sequence " + std::to_string(seq) + " of length " +
                std::to_string(len_[size_t(seq)]) + " to " + std::to_string(len));
  len_[size_t(seq)] = len;  // stale entries past len are overwritten before they are read again
}

void KvCache::clear_all() {
  for (auto& l : len_) l = 0;
}

void KvCache::set_len(int32_t seq, int32_t len) {
  check_seq(seq);
  if (len < 0 || len > n_ctx_) throw Error("sequence length out of range");
  len_[size_t(seq)] = len;
}

void KvCache::check_rows(int32_t seq, int32_t begin, int32_t end, int32_t limit, size_t k_size, size_t v_size) const {
  check_seq(seq);
  if (begin < 0 || begin > end || end > limit)
    throw Error("positions [" + std::to_string(begin) + ", " + std::to_string(end) + ") of sequence " +
                std::to_string(seq) + " are out of range [0, " + std::to_string(limit) + ")");
  const size_t need = size_t(end - begin) * row_elems();
  if (k_size < need || v_size < need)
    throw Error("a KV row buffer holds fewer than the " + std::to_string(need) + " values of " +
                std::to_string(end - begin) + " positions");
}

void KvCache::copy_rows_out(int32_t seq, int32_t begin, int32_t end, std::span<uint16_t> k_out,
                            std::span<uint16_t> v_out) const {
  check_rows(seq, begin, end, seq_len(seq), k_out.size(), v_out.size());
  const size_t row = row_elems(), bytes = size_t(kv_dim_) * sizeof(uint16_t);
  for (int32_t pos = begin; pos < end; ++pos)
    for (int32_t l = 0; l < n_layer_; ++l) {
      const size_t at = size_t(pos - begin) * row + size_t(l) * size_t(kv_dim_);
      std::memcpy(&k_out[at], k(l, seq, pos), bytes);
      std::memcpy(&v_out[at], v(l, seq, pos), bytes);
    }
}

void KvCache::copy_rows_in(int32_t seq, int32_t begin, int32_t end, std::span<const uint16_t> k_in,
                           std::span<const uint16_t> v_in) {
  check_rows(seq, begin, end, n_ctx_, k_in.size(), v_in.size());
  const size_t row = row_elems(), bytes = size_t(kv_dim_) * sizeof(uint16_t);
  for (int32_t pos = begin; pos < end; ++pos)
    for (int32_t l = 0; l < n_layer_; ++l) {
      const size_t at = size_t(pos - begin) * row + size_t(l) * size_t(kv_dim_);
      std::memcpy(k(l, seq, pos), &k_in[at], bytes);
      std::memcpy(v(l, seq, pos), &v_in[at], bytes);
    }
}

}  // namespace tandem
