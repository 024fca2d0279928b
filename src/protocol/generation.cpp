#include "protocol/generation.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>
#include <random>

namespace tandem::protocol {

TokenLogprob token_logprob(const float* row, int32_t n_vocab, int32_t token, int top_n) {
  float mx = -INFINITY;
  for (int32_t i = 0; i < n_vocab; ++i) mx = std::max(mx, row[i]);
  double sum = 0;
  for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(double(row[i]) - mx);
  const double lse = double(mx) + std::log(sum);
  TokenLogprob lp;
  lp.token = token;
  lp.logprob = float(double(row[token]) - lse);
  if (top_n > 0) {
    std::vector<int32_t> ids(static_cast<size_t>(n_vocab));
    std::iota(ids.begin(), ids.end(), 0);
    const size_t n = std::min<size_t>(size_t(top_n), ids.size());
    std::partial_sort(ids.begin(), ids.begin() + ptrdiff_t(n), ids.end(),
                      [&](int32_t a, int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
    for (size_t i = 0; i < n; ++i) lp.top.push_back({ids[i], float(double(row[ids[i]]) - lse), {}});
  }
  return lp;
}

std::vector<TokenLogprob> with_text(std::span<const TokenLogprob> toks, const Vocab& vocab) {
  std::vector<TokenLogprob> out(toks.begin(), toks.end());
  for (auto& t : out) {
    t.text = vocab.token_to_piece(t.token);
    for (auto& a : t.top) a.text = vocab.token_to_piece(a.token);
  }
  return out;
}

uint64_t random_seed() {
  static std::mutex mu;
  static std::random_device rd;
  std::lock_guard<std::mutex> lk(mu);
  return uint64_t(rd()) << 32 | rd();
}

}  // namespace tandem::protocol
