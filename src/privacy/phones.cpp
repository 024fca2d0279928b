// Phone numbers: a loose pattern proposes digit runs with the usual separators, and Debian's
// libphonenumber decides (Parse + IsValidNumber), with the country code when one is written and
// otherwise with the configured regions, tried in an order that fits the number's first digit.
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "privacy/cues.h"
#include "privacy/recognizers.h"
#include "privacy/regex.h"
#include "privacy/validators.h"

namespace tandem::privacy::detail {

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

enum class Verdict { None, Possible, Valid };

bool no_trunk_prefix(const std::string& region) { return region == "US" || region == "CA" || region == "ES" || region == "IT"; }

// Parse() costs ~20 us and IsValidNumber() ~5 us, so a national number is parsed once (with the
// first region of its kind) and then checked against each region of that kind by swapping the
// country code: numbers with a leading trunk 0 (most of Europe) and numbers without (US, Spain,
// Italian mobiles). Italian landlines keep their 0 and get a parse of their own.
Verdict judge(const std::string& candidate, const std::vector<std::string>& regions, bool want_possible) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  std::string s = candidate;
  if (s.rfind("00", 0) == 0) s = "+" + s.substr(2);
  Verdict best = Verdict::None;
  auto consider = [&](const PhoneNumber& n) {
    if (util.IsValidNumber(n)) best = Verdict::Valid;
    else if (want_possible && best == Verdict::None && util.IsPossibleNumber(n)) best = Verdict::Possible;
  };
  if (s.find('+') != std::string::npos) {
    PhoneNumber n;
    if (util.Parse(s, "ZZ", &n) == PhoneNumberUtil::NO_PARSING_ERROR) consider(n);
    return best;
  }
  std::string d = digits_only(s);
  bool trunk = !d.empty() && d[0] == '0';
  std::vector<std::string> group;
  for (const std::string& r : regions)
    if (no_trunk_prefix(r) != trunk) group.push_back(r);
  if (group.empty()) return best;
  PhoneNumber parsed;
  if (util.Parse(s, group[0], &parsed) != PhoneNumberUtil::NO_PARSING_ERROR) return best;
  for (const std::string& r : group) {
    PhoneNumber n = parsed;
    n.set_country_code(util.GetCountryCodeForRegion(r));
    consider(n);
    if (best == Verdict::Valid) return best;
  }
  if (trunk && std::find(regions.begin(), regions.end(), "IT") != regions.end()) {
    PhoneNumber n;
    if (util.Parse(s, "IT", &n) == PhoneNumberUtil::NO_PARSING_ERROR) consider(n);
  }
  return best;
}

// Digit runs that are something else: dates, times, IPs, SSNs, decimals, and runs that
// mix separators no numbering plan mixes ("234.56 2023-11-02").
bool implausible(std::string_view c, std::string_view after) {
  static const Regex other(
      R"(^(?:\d{1,4}([./\-])\d{1,2}\1\d{1,4}|\d{1,3}(?:\.\d{1,3}){3}|\(?\d{3}-\d{2}-\d{4})$|\d{4}-\d{1,2}-\d{1,2})");
  bool hit = false;
  other.for_each(c, [&](const Regex::Match&) { hit = true; });
  if (hit) return true;
  if (!after.empty() && after[0] == ':') return true;  // a time follows: "... 14:22"
  bool dot = c.find('.') != std::string_view::npos, space = c.find(' ') != std::string_view::npos;
  bool dash = c.find('-') != std::string_view::npos, slash = c.find('/') != std::string_view::npos;
  if (dot && (space || dash || slash)) return true;
  if (slash && dash) return true;
  // One dot between two digit runs is a decimal (3.14159265); one slash a fraction or a file
  // number (2024/117) unless it follows an area code with its trunk 0 (030/1234567).
  size_t seps = 0;
  for (char ch : c) seps += ch == '.' || ch == '/';
  if (seps != 1 || c.find_first_of(" -()+") != std::string_view::npos) return false;
  return dot || c[0] != '0';
}

}  // namespace

void find_phones(std::string_view text, const std::vector<std::string>& regions, Findings& out) {
  static const Regex candidate(R"((?<![\w+\-/.])(?:\+|\(\+?)?\d(?:[ \-./]{1,2}\(?|\)[ \-]?|\(|)\d(?:(?:[ \-./]{1,2}\(?|\)[ \-]?|\()?\d){4,16}(?![\w]|[.\-/]\d))");
  candidate.for_each(text, [&](const Regex::Match& m) {
    size_t s = m.start(), e = m.end();
    // Try the whole run, then without its last group or two ("+49 30 1234567 8 times").
    for (int attempt = 0; attempt < 3 && e > s; ++attempt) {
      std::string_view c = text.substr(s, e - s);
      size_t digits = digits_only(c).size();
      if (digits < 7 || digits > 15) break;
      if (implausible(c, text.substr(e))) return;
      bool cue = has_cue(PiiType::Phone, text, s, e);
      // A bare digit run (123456789) or a 7-digit one is an ID or an amount as often as a phone
      // number: it counts only with a cue.
      bool bare = c.find_first_not_of("0123456789") == std::string_view::npos;
      if ((bare || digits == 7) && !cue) return;
      // After an identifier's noun ("order number 4155550123", "Rechnungsnr. 0301234567") such a
      // run is that identifier unless a word says phone.
      if ((bare || digits == 7) && follows_identifier_word(text, s) && !has_phone_word(text, s, e)) return;
      Verdict v = judge(std::string(c), regions, cue);
      // A number libphonenumber only calls "possible" (555-1234) counts when a cue says phone.
      if (v == Verdict::Valid || (v == Verdict::Possible && cue)) {
        out.push_back({PiiType::Phone, s, e, v == Verdict::Valid ? with_cue(0.75, cue, 0.2, 0.95) : 0.6});
        return;
      }
      size_t cut = c.find_last_of(" -./");
      if (cut == std::string_view::npos || std::count_if(c.begin(), c.end(), [](char ch) { return ch == ' ' || ch == '-'; }) < 2) break;
      e = s + cut;
      while (e > s && !std::isdigit(static_cast<unsigned char>(text[e - 1]))) --e;
    }
  });
}

}  // namespace tandem::privacy::detail
