#include "privacy/tagger_train.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace tandem::privacy {

TaggerExample make_tagger_example(std::string_view text, const std::vector<Finding>& gold,
                                  const std::vector<Finding>& rules, unsigned bits) {
  const std::vector<Token> tokens = tokenize(text);
  TaggerExample ex;
  ex.features = token_features(text, tokens, rules, bits);
  ex.gold.assign(tokens.size(), Tag::O);
  for (const Finding& g : gold) {
    if (g.type != PiiType::Person && g.type != PiiType::Address) continue;
    const bool person = g.type == PiiType::Person;
    bool first = true;
    for (size_t i = 0; i < tokens.size(); ++i) {
      const size_t lo = std::max(tokens[i].start, g.start), hi = std::min(tokens[i].end, g.end);
      if (hi <= lo || 2 * (hi - lo) <= tokens[i].end - tokens[i].start) continue;
      ex.gold[i] = first ? (person ? Tag::BeginPerson : Tag::BeginPlace) : (person ? Tag::InPerson : Tag::InPlace);
      first = false;
    }
  }
  return ex;
}

namespace {

// The perceptron's weights and, for averaging without a pass per step, each weight's sum of
// (step * update): the average is w - u / steps.
struct Perceptron {
  std::vector<double> w, u;
  double steps = 1;
  explicit Perceptron(size_t size) : w(size), u(size) {}
  void update(const std::vector<uint32_t>& feats, int tag, double delta) {
    for (uint32_t f : feats) {
      w[size_t(f) * kTagCount + tag] += delta;
      u[size_t(f) * kTagCount + tag] += steps * delta;
    }
  }
  // The best allowed tag, and the best allowed one other than `gold` (the rival to beat).
  std::pair<int, int> best_and_rival(const std::vector<uint32_t>& feats, Tag before, int gold) const {
    double score[kTagCount] = {};
    for (uint32_t f : feats)
      for (int k = 0; k < kTagCount; ++k) score[k] += w[size_t(f) * kTagCount + k];
    int top = 0, rival = -1;
    for (int k = 1; k < kTagCount; ++k)
      if (tag_allowed(before, Tag(k)) && score[k] > score[top]) top = k;
    for (int k = 0; k < kTagCount; ++k)
      if (k != gold && tag_allowed(before, Tag(k)) && (rival < 0 || score[k] > score[rival])) rival = k;
    margin_ = rival < 0 ? 1e9 : score[gold] - score[rival];
    return {top, rival};
  }
  mutable double margin_ = 0;
};

}  // namespace

TaggerModel train_tagger(const std::vector<TaggerExample>& examples, const TaggerTraining& options,
                         const std::function<void(int, double)>& progress) {
  Perceptron p((size_t(1) << options.bits) * kTagCount);
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 rng(options.seed);
  std::vector<uint32_t> feats;
  std::uniform_real_distribution<double> drop(0, 1);
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    size_t right = 0, total = 0;
    for (size_t e : order) {
      const TaggerExample& ex = examples[e];
      Tag before = Tag::O, before2 = Tag::O;
      for (size_t i = 0; i < ex.gold.size(); ++i) {
        feats.clear();
        for (uint32_t f : ex.features[i])
          if (options.dropout <= 0 || drop(rng) >= options.dropout) feats.push_back(f);
        previous_tag_features(before, before2, options.bits, feats);
        const int gold = int(ex.gold[i]);
        const auto [guess, rival] = p.best_and_rival(feats, before, gold);
        // Updated also when right by less than a margin: weights that separate the examples
        // only just would flip when averaged.
        if (p.margin_ < 1) {
          p.update(feats, gold, 1);
          p.update(feats, rival, -1);
        }
        right += guess == gold;
        ++total;
        p.steps += 1;
        before2 = before;
        before = Tag(guess);
      }
    }
    if (progress) progress(epoch, total ? double(right) / total : 1.0);
  }
  TaggerModel m;
  m.bits = options.bits;
  double top = 0;
  std::vector<double> avg(p.w.size());
  for (size_t i = 0; i < avg.size(); ++i) top = std::max(top, std::fabs(avg[i] = p.w[i] - p.u[i] / p.steps));
  m.scale = top > 0 ? top / 32767 : 1;
  m.weights.resize(avg.size());
  for (size_t i = 0; i < avg.size(); ++i) m.weights[i] = int16_t(std::lround(avg[i] / m.scale));
  return m;
}

}  // namespace tandem::privacy
