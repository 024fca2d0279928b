#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>

#include "format/error.h"

namespace tandem {

namespace {

inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

}  // namespace

void Rng::seed_with(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = splitmix64(x);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

void validate(const SamplerParams& p) {
  if (std::isnan(p.temperature) || std::isinf(p.temperature))
    throw Error("sampler temperature must be a finite number (<= 0 for greedy), got " + std::to_string(p.temperature));
  if (!(p.top_p >= 0.f && p.top_p <= 1.f))
    throw Error("sampler top_p must be in [0, 1], got " + std::to_string(p.top_p));
  if (!(p.min_p >= 0.f && p.min_p <= 1.f))
    throw Error("sampler min_p must be in [0, 1], got " + std::to_string(p.min_p));
  if (!(p.repeat_penalty > 0.f) || std::isinf(p.repeat_penalty))
    throw Error("sampler repeat_penalty must be a finite number > 0 (1 = off), got " +
                std::to_string(p.repeat_penalty));
  if (p.repeat_last_n < 0)
    throw Error("sampler repeat_last_n must be >= 0 (0 = off), got " + std::to_string(p.repeat_last_n));
}

int32_t argmax(const float* logits, int32_t n) {
  if (!logits || n <= 0) throw Error("argmax: no logits");
  int32_t best = 0;
  float bv = kNegInf;
  for (int32_t i = 0; i < n; ++i)
    if (logits[i] > bv) {  // strict: ties keep the lower id; NaN never compares greater
      bv = logits[i];
      best = i;
    }
  return best;
}

Sampler::Sampler(const SamplerParams& p, int32_t n_vocab) : p_(p), n_vocab_(n_vocab), rng_(p.seed) {
  validate(p);
  if (n_vocab <= 0) throw Error("sampler: vocabulary size must be > 0, got " + std::to_string(n_vocab));
  work_.resize(size_t(n_vocab));
  cand_.resize(size_t(n_vocab));
  dist_.resize(size_t(n_vocab));
  history_.resize(size_t(p.repeat_last_n));
  stamp_.assign(size_t(n_vocab), 0);
}

void Sampler::reset() {
  hist_pos_ = hist_n_ = 0;
  dist_n_ = 0;
  rng_.seed_with(p_.seed);
}

void Sampler::accept(int32_t token) {
  if (token < 0 || token >= n_vocab_)
    throw Error("sampler: accepted token " + std::to_string(token) + " is out of range (vocabulary of " +
                std::to_string(n_vocab_) + ")");
  if (history_.empty()) return;
  history_[hist_pos_] = token;
  hist_pos_ = (hist_pos_ + 1) % history_.size();
  hist_n_ = std::min(hist_n_ + 1, history_.size());
}

// llama.cpp's rule, once per distinct token of the window: logit > 0 -> logit / penalty,
// else logit * penalty.
void Sampler::apply_penalties() {
  if (++stamp_cur_ == 0) {  // wrapped: forget old marks
    std::fill(stamp_.begin(), stamp_.end(), 0u);
    stamp_cur_ = 1;
  }
  const float pen = p_.repeat_penalty;
  for (size_t k = 0; k < hist_n_; ++k) {
    int32_t t = history_[k];
    if (stamp_[size_t(t)] == stamp_cur_) continue;
    stamp_[size_t(t)] = stamp_cur_;
    float& l = work_[size_t(t)];
    l = l > 0.f ? l / pen : l * pen;
  }
}

namespace {

// The candidates still in the running while the filters narrow them: ids c[0, m) of the logits w,
// the first n_sorted of them sorted by `better` and the best of all.
struct Candidates {
  const float* w;
  int32_t* c;
  size_t m;
  size_t n_sorted = 0;
  bool sorted_all = false;  // c[0, m) is sorted
  float lmax = kNegInf;

  bool better(int32_t a, int32_t b) const { return w[a] > w[b] || (w[a] == w[b] && a < b); }
  auto by_logit() const {
    return [this](int32_t a, int32_t b) { return better(a, b); };
  }

  // The k best, sorted.
  void top_k(size_t k, size_t V) {
    m = k;
    std::nth_element(c, c + m, c + V, by_logit());
    std::sort(c, c + m, by_logit());
    n_sorted = m;
    sorted_all = true;
  }

  void find_max() {
    if (n_sorted > 0) {
      lmax = w[c[0]];
      return;
    }
    for (size_t i = 0; i < m; ++i) lmax = std::max(lmax, w[c[i]]);
  }

  // The smallest prefix (by logit) whose probability at temperature 1 reaches top_p, sorting
  // only as far as needed (in growing chunks).
  void top_p(float p) {
    double z = 0;
    for (size_t i = 0; i < m; ++i) z += std::exp(double(w[c[i]]) - lmax);
    const double target = double(p) * z;
    double cum = 0;
    size_t kept = m, done = 0, chunk = 64;
    while (done < m) {
      size_t hi = done;
      if (n_sorted > done) {
        hi = n_sorted;
      } else {
        hi = std::min(m, done + chunk);
        if (hi < m) std::nth_element(c + done, c + hi, c + m, by_logit());
        std::sort(c + done, c + hi, by_logit());
        n_sorted = hi;
        chunk *= 4;
      }
      for (size_t i = done; i < hi; ++i) {
        cum += std::exp(double(w[c[i]]) - lmax);
        if (cum >= target) {
          m = i + 1;
          sorted_all = true;
          return;
        }
      }
      done = hi;
    }
    m = kept;
    sorted_all = true;
  }

  // Logits >= max + log(min_p), i.e. p_i >= min_p * p_max.
  void min_p(float p) {
    const float threshold = lmax + std::log(p);
    if (sorted_all) {
      size_t k = 1;
      while (k < m && w[c[k]] >= threshold) ++k;
      m = k;
    } else {
      size_t k = 0;
      for (size_t i = 0; i < m; ++i)
        if (w[c[i]] >= threshold) c[k++] = c[i];
      m = k;  // >= 1: the max passes
    }
  }
};

}  // namespace

int32_t Sampler::only(int32_t token) {
  dist_[0] = {token, 1.f};
  dist_n_ = 1;
  return token;
}

int32_t Sampler::sample(const float* logits) {
  if (!logits) throw Error("sampler: no logits");
  const bool penalize = p_.repeat_penalty != 1.f && hist_n_ > 0;
  const size_t V = size_t(n_vocab_);
  if (p_.temperature <= 0.f && !penalize) return only(argmax(logits, n_vocab_));

  // Working copy; NaN logits become -inf so that every comparison below is a total order.
  for (size_t i = 0; i < V; ++i) work_[i] = std::isnan(logits[i]) ? kNegInf : logits[i];
  if (penalize) apply_penalties();
  if (p_.temperature <= 0.f) return only(argmax(work_.data(), n_vocab_));

  std::iota(cand_.begin(), cand_.end(), 0);
  Candidates cs{work_.data(), cand_.data(), V};
  if (p_.top_k > 0 && size_t(p_.top_k) < V) cs.top_k(size_t(p_.top_k), V);
  cs.find_max();
  // Nothing has any probability: fall back to the lowest candidate id.
  if (cs.lmax == kNegInf) return only(*std::min_element(cs.c, cs.c + cs.m));
  if (p_.top_p < 1.f) cs.top_p(p_.top_p);
  if (p_.min_p > 0.f) cs.min_p(p_.min_p);
  return draw(cs.c, cs.m, cs.lmax);
}

// Temperature, softmax over the candidates (kept as the last distribution), and the draw.
int32_t Sampler::draw(const int32_t* c, size_t m, float lmax) {
  const float* w = work_.data();
  const double inv_t = 1.0 / double(p_.temperature);
  double sum = 0;
  for (size_t i = 0; i < m; ++i) {
    const float e = float(std::exp((double(w[c[i]]) - lmax) * inv_t));
    dist_[i] = {c[i], e};
    sum += e;
  }
  const double u = rng_.uniform() * sum;
  double cum = 0;
  int32_t chosen = -1;
  for (size_t i = 0; i < m; ++i) {
    double e = dist_[i].second;
    cum += e;
    if (chosen < 0 && u < cum && e > 0) chosen = dist_[i].first;
    dist_[i].second = float(e / sum);
  }
  if (chosen < 0) {  // rounding at the top end: the last token with any probability
    for (size_t i = m; i-- > 0;)
      if (dist_[i].second > 0.f) {
        chosen = dist_[i].first;
        break;
      }
    if (chosen < 0) chosen = dist_[0].first;
  }
  dist_n_ = m;
  return chosen;
}

}  // namespace tandem
