// The word model (data/pii/word_model.txt, trained by scripts/train-pii-model.mjs): a logistic
// regression over a word's character n-grams that says how much it looks like a person's name, a
// place or an ordinary word, from its letters alone. The name lists know ~30,000 names; the model
// also scores the ones they lack by their shape (-ski, -ović, -sen, -ez, Mc-, Xiu-) and is a second
// opinion beside them, never the only evidence. Internal to src/privacy.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace tandem::privacy::detail {

struct WordClass {
  double name = 0, place = 0, word = 1;  // probabilities, summing to 1
};

// Any case, any bytes (invalid UTF-8 is scored, not rejected); lower-cased inside.
WordClass classify_word(std::string_view word);

// The hashed feature buckets of a lower-case word, as the trainer computes them (for tests).
std::vector<uint32_t> word_features(std::string_view lower);

}  // namespace tandem::privacy::detail
