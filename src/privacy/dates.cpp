// Dates: ISO (1985-03-15), numeric day-month-year with / . or - (either day or month first), and
// written months in English, German, French, Spanish, Italian, Dutch, Portuguese, Polish and
// Turkish (15 March 1985, 15th of March 1985, March 15, 1985, 15. März 1985, 15 mars 1985,
// 15 de marzo de 1985, 15 marca 1985), and 1985年3月15日. A birth cue near it makes a DATE_OF_BIRTH.
#include <string>

#include "privacy/cues.h"
#include "privacy/lexicon.h"
#include "privacy/recognizers.h"
#include "privacy/regex.h"
#include "privacy/validators.h"

namespace tandem::privacy::detail {

namespace {

// Month names and abbreviations, longest alternatives first within a language.
constexpr std::string_view kMonths =
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec|"
    "januar|jänner|februar|märz|maerz|mai|juni|juli|oktober|dezember|okt|dez|"
    "janvier|février|fevrier|mars|avril|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre|"
    "janv|févr|fevr|avr|juil|déc|"
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|"
    "ene|ago|dic|"
    "gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|"
    "januari|februari|maart|mei|augustus|"
    "janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|dezembro|"
    "stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia|września|października|listopada|grudnia|"
    "ocak|şubat|mart|nisan|mayıs|haziran|temmuz|ağustos|eylül|ekim|kasım|aralık";

int month_number(std::string_view name) {
  std::string n = lower_word(name);
  struct M { std::string_view prefix; int month; };
  // Matched by prefix, so "sept", "septembre" and "septiembre" all land on 9; order matters
  // where prefixes collide (mar/mars/marzo/märz = 3, mai/mayo/may = 5).
  static constexpr M kTable[] = {
      {"jän", 1}, {"jan", 1}, {"ene", 1}, {"feb", 2}, {"fév", 2}, {"fev", 2}, {"mär", 3}, {"mae", 3}, {"mar", 3},
      {"apr", 4}, {"avr", 4}, {"abr", 4}, {"may", 5}, {"mai", 5}, {"jun", 6}, {"juin", 6}, {"juil", 7},
      {"jul", 7}, {"aug", 8}, {"aoû", 8}, {"aou", 8}, {"ago", 8}, {"sep", 9}, {"set", 9}, {"oct", 10},
      {"okt", 10}, {"nov", 11}, {"dec", 12}, {"dez", 12}, {"déc", 12}, {"dic", 12},
      // Italian, Dutch, Portuguese, Polish (genitive) and Turkish forms not covered above.
      {"gen", 1}, {"maa", 3}, {"mag", 5}, {"mei", 5}, {"giu", 6}, {"lug", 7}, {"ott", 10}, {"out", 10}, {"sty", 1},
      {"lut", 2}, {"kwi", 4}, {"maj", 5}, {"cze", 6}, {"lip", 7}, {"sie", 8}, {"wrz", 9}, {"paź", 10},
      {"lis", 11}, {"gru", 12}, {"oca", 1}, {"şub", 2}, {"nis", 4}, {"haz", 6}, {"tem", 7}, {"ağu", 8},
      {"eyl", 9}, {"eki", 10}, {"kas", 11}, {"ara", 12}};
  for (const M& m : kTable)
    if (n.rfind(m.prefix, 0) == 0) return m.month;
  return 0;
}

int to_int(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

void add_date(std::string_view text, size_t s, size_t e, Findings& out) {
  if (has_birth_cue(text, s, e))
    out.push_back({PiiType::DateOfBirth, s, e, 0.9});
  else
    out.push_back({PiiType::Date, s, e, 0.6});
}

}  // namespace

void find_dates(std::string_view text, Findings& out) {
  if (text.find_first_of("0123456789") == std::string_view::npos) return;  // every form has digits
  auto sub = [&](const Regex::Match& m, int g) { return text.substr(m.start(g), m.end(g) - m.start(g)); };
  static const Regex iso(R"((?<![\w.\-/])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w\-/]|\.\d))");
  iso.for_each(text, [&](const Regex::Match& m) {
    if (date_valid(to_int(sub(m, 1)), to_int(sub(m, 2)), to_int(sub(m, 3)))) add_date(text, m.start(), m.end(), out);
  });
  static const Regex numeric(R"((?<![\w.\-/:@])(\d{1,2})([./\-])(\d{1,2})\2(\d{4}|\d{2})(?![\w\-/]|[.:]\d))");
  numeric.for_each(text, [&](const Regex::Match& m) {
    // Dots are the day-first countries' separator: a dotted month-first triple is a version
    // (4.17.20), as is anything after a version's word ("v1.2.20", "release 3.4.21") or a
    // package's @ (lodash@4.1.20, kept out by the pattern).
    if (follows_version_word(text, m.start())) return;
    int a = to_int(sub(m, 1)), b = to_int(sub(m, 3)), y = to_int(sub(m, 4));
    bool dots = text[m.start(2)] == '.';
    if (date_valid(y, b, a) || (!dots && date_valid(y, a, b))) add_date(text, m.start(), m.end(), out);
  });
  static const Regex day_first(std::string(R"((?<![\w.])(\d{1,2})(?:\.|er|st|nd|rd|th|º)?\s+(?:de\s+|of\s+)?()") +
                               std::string(kMonths) + R"()\.?,?\s+(?:de\s+|del\s+)?(\d{4})(?!\d))", true);
  day_first.for_each(text, [&](const Regex::Match& m) {
    int month = month_number(sub(m, 2));
    if (month && date_valid(to_int(sub(m, 3)), month, to_int(sub(m, 1)))) add_date(text, m.start(), m.end(), out);
  });
  static const Regex month_first(std::string(R"((?<![\w])()") + std::string(kMonths) +
                                 R"()\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d))", true);
  month_first.for_each(text, [&](const Regex::Match& m) {
    int month = month_number(sub(m, 1));
    if (month && date_valid(to_int(sub(m, 3)), month, to_int(sub(m, 2)))) add_date(text, m.start(), m.end(), out);
  });
  // Chinese and Japanese 1990年3月3日, Korean 1990년 3월 3일.
  static const Regex cjk(R"((?<!\d)(\d{4})\s?[年년]\s?(\d{1,2})\s?[月월]\s?(\d{1,2})\s?[日일])");
  if (text.find("年") == std::string_view::npos && text.find("년") == std::string_view::npos) return;
  cjk.for_each(text, [&](const Regex::Match& m) {
    if (date_valid(to_int(sub(m, 1)), to_int(sub(m, 2)), to_int(sub(m, 3)))) add_date(text, m.start(), m.end(), out);
  });
}

}  // namespace tandem::privacy::detail
