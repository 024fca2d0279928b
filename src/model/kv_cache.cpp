#include "model/kv_cache.h"

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

}  // namespace tandem
