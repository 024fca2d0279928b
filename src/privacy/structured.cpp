// Recognizers for the types with a fixed shape: email, URL, IP, MAC, payment card, IBAN, crypto
// wallet, US SSN/ITIN and passport numbers. Each pattern finds candidates; a validator decides.
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "privacy/cues.h"
#include "privacy/recognizers.h"
#include "privacy/regex.h"
#include "privacy/validators.h"

namespace tandem::privacy::detail {

namespace {

void add(Findings& out, PiiType t, size_t s, size_t e, double conf) { out.push_back({t, s, e, conf}); }

// Shrinks [s, e) while it ends in one of `chars` (sentence punctuation after a URL).
size_t trim_end(std::string_view text, size_t s, size_t e, std::string_view chars) {
  while (e > s && chars.find(text[e - 1]) != std::string_view::npos) {
    // A closing bracket stays when the URL itself opened one: /wiki/Foo_(bar).
    if (text[e - 1] == ')' && text.substr(s, e - s).find('(') != std::string_view::npos) break;
    --e;
  }
  return e;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// 255.255.255.0 and friends: a subnet mask, not anyone's address.
bool is_netmask(std::string_view ip) {
  if (ip.rfind("255.", 0) != 0) return false;
  uint32_t v = 0;
  int octet = 0;
  for (char c : ip) {
    if (c == '.') { v = (v << 8) | uint32_t(octet); octet = 0; } else { octet = octet * 10 + (c - '0'); }
  }
  v = (v << 8) | uint32_t(octet);
  return ((~v + 1) & ~v) == 0;  // ones then zeros: ~v + 1 is a power of two (or zero)
}

}  // namespace

void find_emails_urls(std::string_view text, Findings& out) {
  static const Regex email(
      R"((?<![\p{L}\p{N}._%+\-])[\p{L}\p{N}_%+\-]+(?:\.[\p{L}\p{N}_%+\-]+)*@[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?)*\.\p{L}{2,24}(?![\p{L}\p{N}\-]))");
  email.for_each(text, [&](const Regex::Match& m) {
    add(out, PiiType::Email, m.start(), m.end(), with_cue(0.9, has_cue(PiiType::Email, text, m.start(), m.end()), 0.1, 0.95));
  });
  static const Regex url(R"((?<![\w@.])(?:(?:https?|ftp)://|www\.)[^\s<>"'`{}|\\^]+)", true);
  url.for_each(text, [&](const Regex::Match& m) {
    size_t e = trim_end(text, m.start(), m.end(), ".,;:!?)]}'\"");
    if (e - m.start() < 8) return;
    add(out, PiiType::Url, m.start(), e, with_cue(0.8, has_cue(PiiType::Url, text, m.start(), e), 0.1, 0.9));
  });
}

// Card numbers are written unbroken or in groups of four separated by spaces, dashes or dots (the
// last may be shorter), or 4-6-5 / 4-6-4 (Amex, Diners); an order number like
// 123-4567890-1234567 is not a card even when it passes Luhn.
static bool grouped_like_a_card(std::string_view digits) {
  std::vector<size_t> groups(1, 0);
  for (char c : digits) {
    if (c == ' ' || c == '-' || c == '.') groups.push_back(0);
    else ++groups.back();
  }
  if (groups.size() == 1) return true;
  if (groups.size() == 3 && groups[0] == 4 && groups[1] == 6 && (groups[2] == 5 || groups[2] == 4)) return true;
  for (size_t i = 0; i + 1 < groups.size(); ++i)
    if (groups[i] != 4) return false;
  return groups.back() >= 1 && groups.back() <= 4;
}

void find_network(std::string_view text, Findings& out) {
  static const Regex v4(R"((?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d))");
  v4.for_each(text, [&](const Regex::Match& m) {
    std::string_view c = text.substr(m.start(), m.end() - m.start());
    if (!ipv4_valid(c) || is_netmask(c)) return;
    // "version 1.2.3.4", "v1.2.3.4", "build 10.0.19045.1", "firmware 3.10.2.15": a dotted version.
    if (follows_version_word(text, m.start())) return;
    add(out, PiiType::IpAddress, m.start(), m.end(), with_cue(0.75, has_cue(PiiType::IpAddress, text, m.start(), m.end())));
  });
  static const Regex v6(R"((?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?(?![\w:]))");
  v6.for_each(text, [&](const Regex::Match& m) {
    size_t e = m.end();
    std::string_view c = text.substr(m.start(), e - m.start());
    if (!ipv6_valid(c)) return;
    add(out, PiiType::IpAddress, m.start(), e, with_cue(0.85, has_cue(PiiType::IpAddress, text, m.start(), e), 0.1, 0.95));
  });
  static const Regex mac(
      R"((?<![\w:\-])[0-9A-Fa-f]{2}([:\-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}(?![\w:\-]|\-\w)|(?<![\w.])[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![\w]|\.\w))");
  mac.for_each(text, [&](const Regex::Match& m) {
    add(out, PiiType::MacAddress, m.start(), m.end(), with_cue(0.85, has_cue(PiiType::MacAddress, text, m.start(), m.end()), 0.1, 0.95));
  });
}

// A candidate with dots uses only dots, between groups of at least three digits.
static bool dotted_groups_ok(std::string_view c) {
  if (c.find('.') == std::string_view::npos) return true;
  if (c.find_first_of(" -") != std::string_view::npos) return false;
  size_t group = 0;
  for (char ch : c) {
    if (ch != '.') { ++group; continue; }
    if (group < 3) return false;
    group = 0;
  }
  return group >= 3;
}

void find_financial(std::string_view text, Findings& out) {
  // Cards: 13-19 digits in groups; when the whole run fails (a date or amount glued on), the
  // longest prefix ending at a group boundary that passes is taken.
  // Groups may also be separated by dots (4111.1111.1111.1111), but only in groups of three or
  // more digits and with dots alone, so decimals and version strings stay out.
  static const Regex card(R"((?<![\w\-.])\d(?:[ \-.]?\d){12,22}(?![\w]|\.\d))");
  card.for_each(text, [&](const Regex::Match& m) {
    // Digits after "DE83 " are the rest of an IBAN (one with a wrong check digit, if the IBAN
    // pass did not take it), not a card.
    if (m.start() >= 5 && std::isupper(static_cast<unsigned char>(text[m.start() - 5])) &&
        std::isupper(static_cast<unsigned char>(text[m.start() - 4])) && std::isdigit(static_cast<unsigned char>(text[m.start() - 3])) &&
        std::isdigit(static_cast<unsigned char>(text[m.start() - 2])) && text[m.start() - 1] == ' ')
      return;
    std::string_view c = text.substr(m.start(), m.end() - m.start());
    // Mixed or short dotted groups: only the part before the first dot can be a card ("4111 1111
    // 1111 1111.50").
    if (!dotted_groups_ok(c)) c = c.substr(0, c.find('.'));
    for (size_t len = c.size(); len >= 13; --len) {
      if (len < c.size() && is_digit(c[len])) continue;  // end only at a group boundary
      if (!is_digit(c[len - 1])) continue;
      std::string_view p = c.substr(0, len);
      if (grouped_like_a_card(p) && card_number_valid(p)) {
        size_t e = m.start() + len;
        add(out, PiiType::CreditCard, m.start(), e, with_cue(0.9, has_cue(PiiType::CreditCard, text, m.start(), e), 0.1, 1.0));
        return;
      }
    }
  });
  // IBAN: country, check digits, then the country's length of letters and digits, in groups.
  static const Regex iban(R"((?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![a-z]))");
  iban.for_each(text, [&](const Regex::Match& m) {
    std::string_view c = text.substr(m.start(), m.end() - m.start());
    int want = iban_length(c.substr(0, 2));
    if (want == 0) return;
    int seen = 0;
    size_t e = 0;
    for (; e < c.size() && seen < want; ++e)
      if (c[e] != ' ') ++seen;
    if (seen != want || !iban_valid(c.substr(0, e))) return;
    // The IBAN must end where a word ends (not in the middle of "DE89...000ABC").
    size_t end = m.start() + e;
    if (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) != 0)) return;
    add(out, PiiType::Iban, m.start(), end, with_cue(0.95, has_cue(PiiType::Iban, text, m.start(), end), 0.05, 1.0));
  });
  static const Regex btc58(R"((?<![\w])[13][1-9A-HJ-NP-Za-km-z]{25,34}(?![\w]))");
  btc58.for_each(text, [&](const Regex::Match& m) {
    if (bitcoin_base58_valid(text.substr(m.start(), m.end() - m.start())))
      add(out, PiiType::CryptoWallet, m.start(), m.end(), 0.95);
  });
  static const Regex bech32(R"((?<![\w])(?:bc|tb)1[02-9ac-hj-np-z]{11,71}(?![\w]))", true);
  bech32.for_each(text, [&](const Regex::Match& m) {
    if (bitcoin_bech32_valid(text.substr(m.start(), m.end() - m.start())))
      add(out, PiiType::CryptoWallet, m.start(), m.end(), 0.95);
  });
  static const Regex eth(R"((?<![\w])0[xX][0-9a-fA-F]{40}(?![\w]))");
  eth.for_each(text, [&](const Regex::Match& m) {
    add(out, PiiType::CryptoWallet, m.start(), m.end(),
        with_cue(0.8, has_cue(PiiType::CryptoWallet, text, m.start(), m.end()), 0.15, 0.95));
  });
}

void find_us_ids(std::string_view text, Findings& out) {
  // 123-45-6789, 123 45 6789 or 123456789; the separated forms are likely, the bare nine digits
  // only with a cue ("SSN", "social security", "ITIN", "taxpayer").
  static const Regex nine(R"((?<![\w\-])\d{3}([\- ]?)\d{2}\1\d{4}(?![\w]|\-\d))");
  nine.for_each(text, [&](const Regex::Match& m) {
    std::string_view c = text.substr(m.start(), m.end() - m.start());
    bool separated = c.size() == 11;
    if (ssn_valid(c)) {
      bool cue = has_cue(PiiType::UsSsn, text, m.start(), m.end());
      add(out, PiiType::UsSsn, m.start(), m.end(), separated ? with_cue(0.6, cue, 0.35, 0.95) : with_cue(0.3, cue, 0.55, 0.85));
    } else if (itin_valid(c)) {
      bool cue = has_cue(PiiType::UsItin, text, m.start(), m.end()) || has_cue(PiiType::UsSsn, text, m.start(), m.end());
      add(out, PiiType::UsItin, m.start(), m.end(), separated ? with_cue(0.6, cue, 0.35, 0.95) : with_cue(0.3, cue, 0.55, 0.85));
    }
  });
  // Passport numbers have no common shape (C01X00T47, 12AB34567, 533380006): only a token of
  // 6-9 capitals and digits right after a passport cue counts.
  static const Regex passport(
      R"((?i:passport|reisepass|passnummer|pass-nr\.?|passeport|pasaporte)(?i:\s+(?:no\.?|nr\.?|number|nummer|num[ée]ro|n[º°o]\.?|#|is|ist|est|es|de|du|d'identit[ée]|id))*\s*[:#]?\s*(?:\w+\s+){0,2}?((?=[A-Z]{0,8}\d)[A-Z0-9]{6,9})(?![\w]))");
  passport.for_each(text, [&](const Regex::Match& m) {
    if (!m.has(1)) return;
    add(out, PiiType::Passport, m.start(1), m.end(1), 0.8);
  });
}

}  // namespace tandem::privacy::detail
