// The token tagger: an averaged perceptron that tags each token of a text O, B-PER, I-PER, B-LOC
// or I-LOC (a person's name; a street line or a town that locates a person), decoded greedily
// left to right. Its features (hashed into 2^bits buckets) are the token's lower-cased form, shape
// and affixes, its neighbours up to two tokens away and their pairs (cue words: "name is", "wohne
// in", "rue", "Straße"), whether it starts a sentence, the name and place lists and the word model
// (lexicon.h, word_model.h) as features rather than decisions, the rule-based recognizers'
// candidates that cover it (type and confidence), and the two tags before it. The rules find
// candidates, the tagger decides which are persons and places: it is trained (`tandem pii train`,
// tagger_train.cpp) on labelled messages whose phrasings the rules were not tuned on.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "privacy/pii_types.h"

namespace tandem::privacy {

enum class Tag : uint8_t { O, BeginPerson, InPerson, BeginPlace, InPlace };
inline constexpr int kTagCount = 5;

struct TaggerModel {
  unsigned bits = 0;
  double scale = 0;             // weight = stored int16 * scale
  std::vector<int16_t> weights;  // bucket * kTagCount + tag
  size_t buckets() const { return size_t(1) << bits; }
};

// Reads the model's text form (data/pii/tagger.txt): a header line
// `pii-tagger 1 bits=B tags=O,B-PER,I-PER,B-LOC,I-LOC scale=S rows=N`, then N lines
// `BUCKET W0 W1 W2 W3 W4` (decimal; buckets with all-zero weights are left out). Throws
// tandem::Error naming what is wrong (header, a line, a bucket out of range, the row count).
TaggerModel parse_tagger_model(std::string_view text);
std::string format_tagger_model(const TaggerModel& model);

// The compiled-in model (data/pii/tagger.txt), parsed on first use.
const TaggerModel& builtin_tagger_model();

struct Token {
  size_t start = 0, end = 0;  // bytes of the text
};

// Words (letters, digits, marks, joined by inner hyphens), each other non-space character, and
// each line break, in order. Apostrophes are tokens of their own ("Anna" "'" "s").
std::vector<Token> tokenize(std::string_view text);

// The hashed features of every token that do not depend on the tags before it. `rules` are the
// recognizers' candidates in the text (any type, any confidence).
std::vector<std::vector<uint32_t>> token_features(std::string_view text, const std::vector<Token>& tokens,
                                                  const std::vector<Finding>& rules, unsigned bits);

// The features of the two tags before a token, appended to `out`.
void previous_tag_features(Tag before, Tag before2, unsigned bits, std::vector<uint32_t>& out);

// Whether `tag` may follow `before` (an I- tag only continues its own kind).
bool tag_allowed(Tag before, Tag tag);

// Greedy decoding: the best allowed tag of each token in turn; `margins` (if given) gets each
// token's score of its tag less that of O (for O: less that of the best other allowed tag).
std::vector<Tag> tag_tokens(const TaggerModel& model, const std::vector<std::vector<uint32_t>>& features,
                            std::vector<double>* margins = nullptr);

// PERSON and ADDRESS findings of the tagged text: spans from a B- token to the last I- token,
// trimmed to words, with a confidence from the first token's margin over O.
std::vector<Finding> tag_entities(const TaggerModel& model, std::string_view text, const std::vector<Finding>& rules);

}  // namespace tandem::privacy
