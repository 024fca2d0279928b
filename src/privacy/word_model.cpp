#include "privacy/word_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "privacy/lexicon.h"

namespace tandem::privacy::detail {

// The generated pii_data.cpp: a header line, then the int8 weights as hex (see the trainer).
extern const std::string_view kList_word_model;

namespace {

constexpr int kClasses = 3;  // name, place, word: the trainer's order

struct Model {
  uint32_t mask = 0;
  double scale = 0;
  std::vector<int8_t> weights;  // bucket * kClasses + class
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Model parse(std::string_view text) {
  size_t eol = text.find('\n');
  std::string header(text.substr(0, eol));
  Model m;
  unsigned bits = 0;
  char classes[32] = {};
  if (std::sscanf(header.c_str(), "word-model 1 bits=%u classes=%31s scale=%lf", &bits, classes, &m.scale) != 3 ||
      std::string(classes) != "name,place,word" || bits < 8 || bits > 24 || !(m.scale > 0))
    throw std::runtime_error("word model: bad header in data/pii/word_model.txt");
  m.mask = (1u << bits) - 1;
  m.weights.reserve(size_t(kClasses) << bits);
  int high = -1;
  for (size_t i = eol + 1; i < text.size(); ++i) {
    int d = hex_digit(text[i]);
    if (d < 0) continue;  // line ends
    if (high < 0) { high = d; continue; }
    m.weights.push_back(static_cast<int8_t>(static_cast<uint8_t>(high * 16 + d)));
    high = -1;
  }
  if (m.weights.size() != (size_t(kClasses) << bits))
    throw std::runtime_error("word model: data/pii/word_model.txt has the wrong number of weights");
  return m;
}

const Model& model() {
  static const Model m = parse(kList_word_model);
  return m;
}

constexpr uint32_t kFnvBasis = 0x811c9dc5u, kFnvPrime = 0x01000193u;

uint32_t fnv(uint32_t h, std::string_view bytes) {
  for (char c : bytes) h = (h ^ static_cast<uint8_t>(c)) * kFnvPrime;
  return h;
}

}  // namespace

std::vector<uint32_t> word_features(std::string_view lower) {
  const uint32_t mask = model().mask;
  std::string s;
  s.reserve(lower.size() + 2);
  s.append(1, '^').append(lower).append(1, '$');
  std::vector<size_t> starts;  // byte offset of each code point, then the end
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<uint8_t>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  const size_t cps = starts.size();
  starts.push_back(s.size());
  std::vector<uint32_t> out;
  out.reserve(4 * cps + 4);
  out.push_back(fnv(kFnvBasis, "b:") & mask);
  for (size_t n = 1; n <= 4; ++n) {
    const char tag[3] = {char('0' + n), ':', 0};
    const uint32_t base = fnv(kFnvBasis, tag);
    for (size_t i = 0; i + n <= cps; ++i) {
      if (n == 1 && (i == 0 || i == cps - 1)) continue;  // the boundary marks alone say nothing
      out.push_back(fnv(base, std::string_view(s).substr(starts[i], starts[i + n] - starts[i])) & mask);
    }
  }
  out.push_back(fnv(kFnvBasis, "L:" + std::to_string(std::min<size_t>(cps - 2, 12))) & mask);
  bool non_ascii = false;
  for (char c : lower) non_ascii = non_ascii || static_cast<uint8_t>(c) >= 0x80;
  if (lower.find('-') != std::string_view::npos) out.push_back(fnv(kFnvBasis, "h:") & mask);
  if (lower.find('\'') != std::string_view::npos || lower.find("\xE2\x80\x99") != std::string_view::npos)
    out.push_back(fnv(kFnvBasis, "a:") & mask);
  if (non_ascii) out.push_back(fnv(kFnvBasis, "u:") & mask);
  return out;
}

WordClass classify_word(std::string_view word) {
  const Model& m = model();
  double z[kClasses] = {0, 0, 0};
  for (uint32_t f : word_features(lower_word(word)))
    for (int k = 0; k < kClasses; ++k) z[k] += m.weights[size_t(f) * kClasses + k] * m.scale;
  double top = std::max(z[0], std::max(z[1], z[2]));
  double e[kClasses], sum = 0;
  for (int k = 0; k < kClasses; ++k) sum += e[k] = std::exp(z[k] - top);
  return {e[0] / sum, e[1] / sum, e[2] / sum};
}

}  // namespace tandem::privacy::detail
