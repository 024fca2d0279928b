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

Verdict judge(const std::string& candidate, const std::vector<std::string>& regions) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  std::string s = candidate;
  if (s.rfind("00", 0) == 0) s = "+" + s.substr(2);
  bool international = s.find('+') != std::string::npos;
  Verdict best = Verdict::None;
  auto try_region = [&](const std::string& region) {
    PhoneNumber n;
    if (util.Parse(s, region, &n) != PhoneNumberUtil::NO_PARSING_ERROR) return;
    if (util.IsValidNumber(n)) best = Verdict::Valid;
    else if (best == Verdict::None && util.IsPossibleNumber(n)) best = Verdict::Possible;
  };
  if (international) {
    try_region("ZZ");
    return best;
  }
  // National formats: a leading 0 is the trunk prefix of most of Europe (not of the US, Spain or
  // Italian mobiles), so those regions go first or last accordingly.
  std::string d = digits_only(s);
  std::vector<std::string> order = regions;
  bool trunk = !d.empty() && d[0] == '0';
  std::stable_partition(order.begin(), order.end(), [&](const std::string& r) {
    bool no_trunk = r == "US" || r == "CA" || r == "ES";
    return trunk ? !no_trunk : no_trunk;
  });
  for (const std::string& r : order) {
    try_region(r);
    if (best == Verdict::Valid) break;
  }
  return best;
}

bool looks_like_date_or_ip(std::string_view c) {
  static const Regex date_or_ip(R"(^(?:\d{1,4}([./\-])\d{1,2}\1\d{1,4}|\d{1,3}(?:\.\d{1,3}){3}|\d{1,2}:\d{2}(?::\d{2})?)$)");
  bool hit = false;
  date_or_ip.for_each(c, [&](const Regex::Match&) { hit = true; });
  return hit;
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
      if (looks_like_date_or_ip(c)) return;
      Verdict v = judge(std::string(c), regions);
      bool cue = has_cue(PiiType::Phone, text, s, e);
      // A number libphonenumber only calls "possible" (555-1234) counts when a cue says phone.
      if (v == Verdict::Valid || (v == Verdict::Possible && cue)) {
        out.push_back({PiiType::Phone, s, e, v == Verdict::Valid ? with_cue(0.75, cue, 0.2, 0.95) : 0.6});
        return;
      }
      size_t cut = c.find_last_of(" -./");
      if (cut == std::string_view::npos) break;
      e = s + cut;
      while (e > s && !std::isdigit(static_cast<unsigned char>(text[e - 1]))) --e;
    }
  });
}

}  // namespace tandem::privacy::detail
