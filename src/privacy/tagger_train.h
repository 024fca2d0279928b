// Training the token tagger (tagger.h): an averaged perceptron over the tagger's hashed features,
// greedy decoding with the tags it predicted itself before each token (as at inference), the
// examples in a fixed pseudo-random order each epoch, so the same data gives the same model.
#pragma once
#include <functional>
#include <string_view>
#include <vector>

#include "privacy/tagger.h"

namespace tandem::privacy {

struct TaggerExample {
  std::vector<std::vector<uint32_t>> features;  // per token, without the previous tags'
  std::vector<Tag> gold;
};

// A labelled text as an example: its tokens' features (with the recognizers' candidates `rules`)
// and their gold tags from the PERSON and ADDRESS spans of `gold` (a token is inside a span when
// more than half of its bytes are).
TaggerExample make_tagger_example(std::string_view text, const std::vector<Finding>& gold,
                                  const std::vector<Finding>& rules, unsigned bits);

struct TaggerTraining {
  unsigned bits = 18;
  int epochs = 10;
  uint32_t seed = 1;
  // Each feature of a token is left out of a training step with this probability, so that no
  // single feature (a word's identity, one list) carries a decision the context should share.
  double dropout = 0.0;
};

// `progress(epoch, token_accuracy)` after each epoch (on the training data, as it was tagged).
TaggerModel train_tagger(const std::vector<TaggerExample>& examples, const TaggerTraining& options,
                         const std::function<void(int, double)>& progress = {});

}  // namespace tandem::privacy
