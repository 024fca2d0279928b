#include "protocol/rejection.h"

#include <algorithm>

#include "format/error.h"

namespace tandem::protocol {

VerifyOutcome verify_greedy(std::span<const int32_t> draft, std::span<const int32_t> argmax) {
  if (argmax.size() != draft.size() + 1) throw Error("verify: need one target token per draft position plus one");
  VerifyOutcome r;
  while (size_t(r.accepted) < draft.size() && draft[size_t(r.accepted)] == argmax[size_t(r.accepted)]) ++r.accepted;
  r.token = argmax[size_t(r.accepted)];
  return r;
}

float prob_of(const SparseDist& d, int32_t token) {
  float p = 0;
  for (const auto& [t, v] : d)
    if (t == token) p += v;
  return p;
}

int32_t draw(const SparseDist& d, Rng& rng) {
  // In id order, so that the draw does not depend on how the list happens to be sorted.
  SparseDist s = d;
  std::sort(s.begin(), s.end());
  double total = 0;
  for (const auto& e : s) total += std::max(0.f, e.second);
  if (!(total > 0)) return -1;
  const double u = rng.uniform() * total;
  double cum = 0;
  int32_t last = -1;
  for (const auto& [t, v] : s) {
    if (v <= 0) continue;
    cum += v;
    last = t;
    if (u < cum) return t;
  }
  return last;  // rounding at the top end
}

VerifyOutcome verify_sampled(std::span<const int32_t> draft, std::span<const SparseDist> p,
                             std::span<const SparseDist> q, Rng& rng) {
  const size_t k = draft.size();
  if (p.size() != k + 1 || q.size() != k) throw Error("verify: need k + 1 target and k draft distributions");
  for (size_t i = 0; i < k; ++i) {
    const int32_t x = draft[i];
    const float px = prob_of(p[i], x), qx = prob_of(q[i], x);
    if (!(qx > 0)) throw Error("verify: the draft distribution gives its own token zero probability");
    // Accept with probability min(1, px / qx): u < px / qx  <=>  u * qx < px.
    if (rng.uniform() * double(qx) < double(px)) continue;
    // Rejected: the residual max(0, p - q) over the union of both supports.
    SparseDist residual;
    residual.reserve(p[i].size());
    for (const auto& [t, v] : p[i]) {
      const float r = v - prob_of(q[i], t);
      if (r > 0) residual.emplace_back(t, r);
    }
    int32_t t = draw(residual, rng);
    if (t < 0) t = draw(p[i], rng);  // p <= q everywhere only through rounding: fall back to p
    return VerifyOutcome{int32_t(i), t};
  }
  return VerifyOutcome{int32_t(k), draw(p[k], rng)};
}

}  // namespace tandem::protocol
