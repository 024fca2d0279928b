#include "privacy/tagger.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <unordered_set>

#include "format/error.h"
#include "privacy/lexicon.h"
#include "privacy/word_model.h"

namespace tandem::privacy {

namespace detail {
extern const std::string_view kList_tagger;  // the generated pii_data.cpp
}

namespace {

constexpr std::string_view kTagNames = "O,B-PER,I-PER,B-LOC,I-LOC";
// Margins between tags' scores of the averaged perceptron run to ~150 (in training updates);
// divided by this they give confidences that spread over 0.5..1 (0.6 at a margin of ~20).
constexpr double kMarginScale = 50;
constexpr uint32_t kFnvBasis = 0x811c9dc5u, kFnvPrime = 0x01000193u;

uint32_t fnv(uint32_t h, std::string_view bytes) {
  for (char c : bytes) h = (h ^ static_cast<uint8_t>(c)) * kFnvPrime;
  return h;
}

// A code point at `i` (invalid bytes read as U+FFFD), advancing `i`.
UChar32 next_cp(std::string_view s, size_t& i) {
  UChar32 c;
  int32_t pos = int32_t(i);
  U8_NEXT(reinterpret_cast<const uint8_t*>(s.data()), pos, int32_t(s.size()), c);
  i = size_t(pos);
  return c < 0 ? 0xFFFD : c;
}

bool word_cp(UChar32 c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
  return u_isalnum(c) || (U_GET_GC_MASK(c) & U_GC_M_MASK) != 0;
}

// Xx, x, d, X., Xx-Xx: the classes of the code points, repeats collapsed.
std::string shape_of(std::string_view w) {
  std::string out;
  for (size_t i = 0; i < w.size();) {
    UChar32 c = next_cp(w, i);
    char k = u_isupper(c) ? 'X' : u_islower(c) || u_isalpha(c) ? 'x' : u_isdigit(c) ? 'd' : c < 0x80 ? char(c) : '*';
    if (out.empty() || out.back() != k) out.push_back(k);
    if (out.size() >= 6) break;
  }
  return out;
}

// The writer's words (I, my, we, ich, mon, mi, ik, meu, mój, ben, ...): a place in a sentence
// with one of them is more often where the writer lives than one in a sentence without.
bool first_person(std::string_view lower) {
  static const std::unordered_set<std::string_view> words = {
      "i", "i'm", "me", "my", "we", "us", "our", "ich", "mich", "mir", "mein", "meine", "meiner", "wir", "uns", "unser",
      "unsere", "je", "j", "moi", "nous", "mon", "ma", "mes", "notre", "nos", "yo", "mi", "mis", "nosotros", "nuestra",
      "nuestro", "io", "noi", "mio", "mia", "miei", "nostro", "nostra", "ik", "wij", "mijn", "onze", "ons", "eu", "nós",
      "meu", "minha", "nosso", "nossa", "ja", "mój", "moja", "moje", "nasz", "nasza", "ben", "biz", "benim", "bizim"};
  return words.count(lower) > 0;
}

bool ends_sentence(std::string_view tok) { return tok == "." || tok == "!" || tok == "?" || tok == ":" || tok == "\n" || tok == ";"; }

// A word's first `n` code points (or last ones).
std::string_view affix(std::string_view w, size_t n, bool suffix) {
  auto lead = [&](size_t i) { return (static_cast<uint8_t>(w[i]) & 0xC0) != 0x80; };
  if (suffix) {
    size_t i = w.size();
    for (size_t k = 0; k < n && i > 0; ++k)
      do --i; while (i > 0 && !lead(i));
    return w.substr(i);
  }
  size_t i = 0;
  for (size_t k = 0; k < n && i < w.size(); ++k)
    do ++i; while (i < w.size() && !lead(i));
  return w.substr(0, i);
}

struct TokenText {
  std::string lower;  // "<s>" / "</s>" beyond the text; "\n" for a line break
  std::string shape;
  bool word = false;     // starts with a letter or digit
  bool letters = false;  // has a letter
  bool given = false, surname = false;
};

class FeatureSink {
 public:
  FeatureSink(unsigned bits, std::vector<uint32_t>& out) : mask_((1u << bits) - 1), out_(out) {}
  void add(std::string_view name, std::string_view a = {}, std::string_view b = {}) {
    uint32_t h = fnv(fnv(kFnvBasis, name), "=");
    h = fnv(h, a);
    if (!b.empty()) h = fnv(fnv(h, "|"), b);
    out_.push_back(h & mask_);
  }

 private:
  uint32_t mask_;
  std::vector<uint32_t>& out_;
};

// The lists and the word model: what is known of the word beyond its letters.
void knowledge_features(const TokenText& t, FeatureSink& f) {
  if (!t.letters) return;
  const bool place = detail::is_place(t.lower);
  if (t.given) f.add("gn");
  if (t.surname) f.add("sn");
  if (place) f.add("pl");
  if (detail::is_common_word(t.lower)) f.add("cw");
  if (t.given || t.surname) f.add("nm", t.shape);
  // The word model speaks for the words no list knows (and is the costliest feature).
  if (t.given || t.surname || t.lower.size() < 3) return;
  const detail::WordClass wc = detail::classify_word(t.lower);
  const char* bin = wc.word < 0.05 ? "0" : wc.word < 0.2 ? "1" : wc.word < 0.5 ? "2" : wc.word < 0.8 ? "3" : "4";
  f.add("wm", bin);
  f.add("wm", bin, t.shape);
  if (wc.word < 0.5) f.add("wmk", wc.name > wc.place ? "n" : "p");
}

// The candidates that cover each token (type, confidence, first or last token of it): found per
// candidate by binary search over the tokens, since a long text has thousands of both.
void rule_features(const std::vector<Token>& tokens, const std::vector<Finding>& rules, unsigned bits,
                   std::vector<std::vector<uint32_t>>& out) {
  for (const Finding& r : rules) {
    auto it = std::lower_bound(tokens.begin(), tokens.end(), r.start, [](const Token& t, size_t pos) { return t.end <= pos; });
    const std::string_view type = pii_type_name(r.type);
    const char bin[2] = {char('0' + std::clamp(int(r.confidence * 10), 0, 9)), 0};
    for (; it != tokens.end() && it->start < r.end; ++it) {
      FeatureSink f(bits, out[size_t(it - tokens.begin())]);
      f.add("r", type, bin);
      f.add("r", type);
      if (r.start >= it->start) f.add("rb", type);
      if (r.end <= it->end) f.add("re", type);
    }
  }
}

}  // namespace

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    UChar32 c = next_cp(text, i);
    if (word_cp(c)) {
      size_t end = i;
      while (i < text.size()) {
        size_t j = i;
        UChar32 d = next_cp(text, j);
        if (word_cp(d)) { end = i = j; continue; }
        size_t k = j;
        if (d == '-' && k < text.size() && word_cp(next_cp(text, k))) { i = j; continue; }  // inner hyphen
        break;
      }
      out.push_back({start, end});
    } else if (c == '\n' || !(c == ' ' || c == '\t' || c == '\r' || u_isspace(c))) {
      out.push_back({start, i});
    }
  }
  return out;
}

std::vector<std::vector<uint32_t>> token_features(std::string_view text, const std::vector<Token>& tokens,
                                                  const std::vector<Finding>& rules, unsigned bits) {
  const size_t n = tokens.size();
  std::vector<TokenText> tt(n + 4);  // two boundary tokens on each side
  tt[0].lower = tt[1].lower = "<s>";
  tt[n + 2].lower = tt[n + 3].lower = "</s>";
  for (size_t i = 0; i < n; ++i) {
    std::string_view w = text.substr(tokens[i].start, tokens[i].end - tokens[i].start);
    TokenText& t = tt[i + 2];
    t.shape = shape_of(w);
    t.word = word_cp([&] { size_t k = 0; return next_cp(w, k); }());
    t.lower = t.word ? detail::lower_word(w) : std::string(w);
    t.letters = t.word && t.shape.find_first_of("Xx") != std::string::npos;
    t.given = t.letters && detail::is_given_name(t.lower);
    t.surname = t.letters && detail::is_surname(t.lower);
    // Digits as 0: numbers say what they are by their shape and neighbours, not their value.
    for (char& c : t.lower)
      if (c >= '1' && c <= '9') c = '0';
  }
  std::vector<std::vector<uint32_t>> out(n);
  bool writer = false;  // a first-person word earlier in this sentence
  for (size_t i = 0; i < n; ++i) {
    const TokenText &t = tt[i + 2], &p1 = tt[i + 1], &p2 = tt[i], &n1 = tt[i + 3], &n2 = tt[i + 4];
    out[i].reserve(48);
    FeatureSink f(bits, out[i]);
    f.add("b");
    f.add("w", t.lower);
    f.add("s", t.shape);
    f.add("w-1", p1.lower);
    f.add("w-2", p2.lower);
    f.add("w+1", n1.lower);
    f.add("w+2", n2.lower);
    f.add("s-1", p1.shape);
    f.add("s+1", n1.shape);
    f.add("w-2w-1", p2.lower, p1.lower);
    f.add("w-1w", p1.lower, t.lower);
    f.add("ww+1", t.lower, n1.lower);
    f.add("w+1w+2", n1.lower, n2.lower);
    f.add("w-1s", p1.lower, t.shape);
    f.add("sw+1", t.shape, n1.lower);
    f.add("s-1ss+1", p1.shape + "|" + t.shape, n1.shape);
    if (t.word) {
      f.add("p3", affix(t.lower, 3, false));
      f.add("x3", affix(t.lower, 3, true));
      f.add("x2", affix(t.lower, 2, true));
    }
    const bool start = i == 0 || ends_sentence(p1.lower);
    if (start) f.add("ss", t.shape);
    if (start && p1.lower != ":") writer = false;
    if (writer) {
      f.add("fp", t.shape);
      f.add("fpw-1", p1.lower);
    }
    writer = writer || first_person(t.lower);
    knowledge_features(t, f);
    TokenText none;
    const TokenText& prev_word = i > 0 && p1.word ? p1 : none;
    const TokenText& next_word = i + 1 < n && n1.word ? n1 : none;
    if (prev_word.given || prev_word.surname) f.add("nm-1", t.shape);
    if (next_word.surname) f.add("sn+1", t.shape);
  }
  rule_features(tokens, rules, bits, out);
  return out;
}

void previous_tag_features(Tag before, Tag before2, unsigned bits, std::vector<uint32_t>& out) {
  FeatureSink f(bits, out);
  const char a[2] = {char('0' + int(before)), 0}, b[2] = {char('0' + int(before2)), 0};
  f.add("t-1", a);
  f.add("t-2t-1", b, a);
}

bool tag_allowed(Tag before, Tag tag) {
  if (tag == Tag::InPerson) return before == Tag::BeginPerson || before == Tag::InPerson;
  if (tag == Tag::InPlace) return before == Tag::BeginPlace || before == Tag::InPlace;
  return true;
}

std::vector<Tag> tag_tokens(const TaggerModel& model, const std::vector<std::vector<uint32_t>>& features,
                            std::vector<double>* margins) {
  std::vector<Tag> tags;
  tags.reserve(features.size());
  if (margins) margins->assign(features.size(), 0);
  std::vector<uint32_t> feats;
  for (size_t i = 0; i < features.size(); ++i) {
    const Tag before = i > 0 ? tags[i - 1] : Tag::O, before2 = i > 1 ? tags[i - 2] : Tag::O;
    feats = features[i];
    previous_tag_features(before, before2, model.bits, feats);
    int32_t score[kTagCount] = {};
    for (uint32_t b : feats)
      for (int k = 0; k < kTagCount; ++k) score[k] += model.weights[size_t(b) * kTagCount + k];
    int best = 0;
    for (int k = 1; k < kTagCount; ++k)
      if (tag_allowed(before, Tag(k)) && score[k] > score[best]) best = k;
    int second = -1;
    for (int k = 0; k < kTagCount; ++k)
      if (k != best && tag_allowed(before, Tag(k)) && (second < 0 || score[k] > score[second])) second = k;
    if (margins) (*margins)[i] = (score[best] - score[best == 0 ? second : 0]) * model.scale;
    tags.push_back(Tag(best));
  }
  return tags;
}

double confidence_of_margin(double margin) { return 1 / (1 + std::exp(-margin / kMarginScale)); }

std::vector<Finding> tag_entities(const TaggerModel& model, std::string_view text, const std::vector<Finding>& rules) {
  const std::vector<Token> tokens = tokenize(text);
  std::vector<double> margins;
  const std::vector<Tag> tags = tag_tokens(model, token_features(text, tokens, rules, model.bits), &margins);
  auto is_word = [&](size_t k) {
    size_t at = tokens[k].start;
    return word_cp(next_cp(text, at));
  };
  std::vector<Finding> out;
  for (size_t i = 0; i < tags.size(); ++i) {
    if (tags[i] != Tag::BeginPerson && tags[i] != Tag::BeginPlace) continue;
    const bool person = tags[i] == Tag::BeginPerson;
    size_t j = i;
    while (j + 1 < tags.size() && tags[j + 1] == (person ? Tag::InPerson : Tag::InPlace)) ++j;
    const size_t first = i;
    i = j;
    // A name or a place starts and ends with a word ("Calle Mayor 5, 3º B", not "&" or "Anna,").
    size_t a = first, b = j;
    while (a <= b && !is_word(a)) ++a;
    while (b > a && !is_word(b)) --b;
    if (a > b || !is_word(a)) continue;
    // The first token's margin over O: how sure the tagger is that a span starts here.
    out.push_back({person ? PiiType::Person : PiiType::Address, tokens[a].start, tokens[b].end, confidence_of_margin(margins[first])});
  }
  return out;
}

TaggerModel parse_tagger_model(std::string_view text) {
  size_t eol = text.find('\n');
  const std::string header(text.substr(0, eol == std::string_view::npos ? text.size() : eol));
  TaggerModel m;
  char tags[64] = {};
  size_t rows = 0;
  if (std::sscanf(header.c_str(), "pii-tagger 1 bits=%u tags=%63s scale=%lf rows=%zu", &m.bits, tags, &m.scale, &rows) != 4)
    throw Error("PII tagger model: the first line is not 'pii-tagger 1 bits=B tags=... scale=S rows=N'");
  if (std::string_view(tags) != kTagNames) throw Error("PII tagger model: tags must be " + std::string(kTagNames));
  if (m.bits < 8 || m.bits > 22 || !(m.scale > 0)) throw Error("PII tagger model: bits must be 8..22 and scale positive");
  m.weights.assign(m.buckets() * kTagCount, 0);
  size_t line_no = 1, seen = 0, pos = eol == std::string_view::npos ? text.size() : eol + 1;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    long long v[1 + kTagCount];
    const char* p = line.data();
    const char* e = line.data() + line.size();
    for (int k = 0; k <= kTagCount; ++k) {
      while (p < e && *p == ' ') ++p;
      auto r = std::from_chars(p, e, v[k]);
      if (r.ec != std::errc() || (k > 0 && (v[k] < -32768 || v[k] > 32767)))
        throw Error("PII tagger model: line " + std::to_string(line_no) + " is not 'BUCKET' and 5 int16 weights");
      p = r.ptr;
    }
    if (p != e) throw Error("PII tagger model: line " + std::to_string(line_no) + " has more than 6 numbers");
    if (v[0] < 0 || size_t(v[0]) >= m.buckets())
      throw Error("PII tagger model: line " + std::to_string(line_no) + ": bucket out of range");
    for (int k = 0; k < kTagCount; ++k) m.weights[size_t(v[0]) * kTagCount + k] = int16_t(v[k + 1]);
    ++seen;
  }
  if (seen != rows) throw Error("PII tagger model: the header says " + std::to_string(rows) + " rows, the file has " + std::to_string(seen));
  return m;
}

std::string format_tagger_model(const TaggerModel& m) {
  std::string body;
  size_t rows = 0;
  for (size_t b = 0; b < m.buckets(); ++b) {
    const int16_t* w = &m.weights[b * kTagCount];
    if (std::all_of(w, w + kTagCount, [](int16_t x) { return x == 0; })) continue;
    body += std::to_string(b);
    for (int k = 0; k < kTagCount; ++k) body.append(1, ' ').append(std::to_string(w[k]));
    body += "\n";
    ++rows;
  }
  char header[160];
  std::snprintf(header, sizeof header, "pii-tagger 1 bits=%u tags=%s scale=%.9g rows=%zu\n", m.bits,
                std::string(kTagNames).c_str(), m.scale, rows);
  return std::string(header).append(body);
}

const TaggerModel& builtin_tagger_model() {
  static const TaggerModel m = parse_tagger_model(detail::kList_tagger);
  return m;
}

}  // namespace tandem::privacy
