#include "privacy/validators.h"

#include <arpa/inet.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tandem::privacy {

namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
}  // namespace

std::string digits_only(std::string_view s) {
  std::string out;
  for (char c : s)
    if (is_digit(c)) out += c;
  return out;
}

bool luhn_valid(std::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    if (!is_digit(digits[i])) return false;
    int d = digits[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool card_number_valid(std::string_view candidate) {
  for (char c : candidate)
    if (!is_digit(c) && c != ' ' && c != '-' && c != '.') return false;
  std::string d = digits_only(candidate);
  if (d.size() < 13 || d.size() > 19) return false;
  // Issuer ranges in use start with 2 (Mastercard 2-series), 3 (Amex, Diners, JCB), 4 (Visa),
  // 5 (Mastercard) or 6 (Discover, UnionPay, Maestro); this drops Luhn-valid order numbers.
  if (d[0] < '2' || d[0] > '6') return false;
  return luhn_valid(d);
}

int iban_length(std::string_view country) {
  struct Entry { const char* cc; int len; };
  static constexpr Entry kLengths[] = {
      {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
      {"BH", 22}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22},
      {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FO", 18}, {"FR", 27},
      {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28},
      {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20},
      {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MD", 24},
      {"ME", 22}, {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18}, {"NO", 15}, {"PK", 24},
      {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24}, {"SC", 31},
      {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24},
      {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}};
  for (const auto& e : kLengths)
    if (country == e.cc) return e.len;
  return 0;
}

bool iban_valid(std::string_view candidate) {
  std::string s;
  for (char c : candidate) {
    if (c == ' ') continue;
    if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
    if (!is_digit(c) && !is_upper(c)) return false;
    s += c;
  }
  if (s.size() < 15 || !is_upper(s[0]) || !is_upper(s[1]) || !is_digit(s[2]) || !is_digit(s[3])) return false;
  if (int(s.size()) != iban_length(s.substr(0, 2))) return false;
  // ISO 13616: move the first four characters to the end, letters become 10..35, mod 97 == 1.
  std::string r = s.substr(4) + s.substr(0, 4);
  int rem = 0;
  for (char c : r) {
    if (is_digit(c)) {
      rem = (rem * 10 + (c - '0')) % 97;
    } else {
      int v = c - 'A' + 10;
      rem = (rem * 100 + v) % 97;
    }
  }
  return rem == 1;
}

namespace {
// Splits "AAA-GG-SSSS", "AAA GG SSSS" or "AAAGGSSSS" into numbers; false when it is none of these.
bool split_ssn(std::string_view s, int& area, int& group, int& serial) {
  std::string d = digits_only(s);
  if (d.size() != 9) return false;
  if (s.size() == 11) {
    if (s[3] != s[6] || (s[3] != '-' && s[3] != ' ')) return false;
  } else if (s.size() != 9) {
    return false;
  }
  area = std::stoi(d.substr(0, 3));
  group = std::stoi(d.substr(3, 2));
  serial = std::stoi(d.substr(5, 4));
  return true;
}
}  // namespace

bool ssn_valid(std::string_view candidate) {
  int area, group, serial;
  if (!split_ssn(candidate, area, group, serial)) return false;
  if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) return false;
  // Numbers that appear on every sample card and in every textbook are not anyone's.
  std::string d = digits_only(candidate);
  return d != "123456789" && d != "078051120" && d != "219099999";
}

bool itin_valid(std::string_view candidate) {
  int area, group, serial;
  if (!split_ssn(candidate, area, group, serial)) return false;
  if (area < 900) return false;
  return (group >= 50 && group <= 65) || (group >= 70 && group <= 88) || (group >= 90 && group <= 92) ||
         (group >= 94 && group <= 99);
}

bool ipv4_valid(std::string_view candidate) {
  int parts = 0;
  size_t i = 0;
  while (i <= candidate.size()) {
    size_t j = i;
    int v = 0;
    while (j < candidate.size() && is_digit(candidate[j])) v = v * 10 + (candidate[j++] - '0');
    size_t len = j - i;
    if (len == 0 || len > 3 || v > 255 || (len > 1 && candidate[i] == '0')) return false;
    ++parts;
    if (j == candidate.size()) break;
    if (candidate[j] != '.') return false;
    i = j + 1;
  }
  return parts == 4;
}

bool ipv6_valid(std::string_view candidate) {
  if (candidate.size() < 3 || candidate.size() > 45) return false;
  std::string s(candidate);
  unsigned char buf[16];
  if (inet_pton(AF_INET6, s.c_str(), buf) != 1) return false;
  // "::" and "::1" parse but carry nothing personal; require some address bits beyond the last.
  int nonzero = 0;
  for (int k = 0; k < 15; ++k) nonzero += buf[k] != 0;
  return nonzero > 0;
}

namespace {
constexpr std::string_view kBase58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

bool base58_decode(std::string_view s, std::vector<uint8_t>& out) {
  out.clear();
  std::vector<uint8_t> big;  // little-endian base-256 number
  for (char c : s) {
    size_t v = kBase58.find(c);
    if (v == std::string_view::npos) return false;
    int carry = int(v);
    for (auto& b : big) {
      carry += b * 58;
      b = uint8_t(carry & 0xff);
      carry >>= 8;
    }
    while (carry) {
      big.push_back(uint8_t(carry & 0xff));
      carry >>= 8;
    }
  }
  for (char c : s) {  // each leading '1' is a leading zero byte
    if (c != '1') break;
    out.push_back(0);
  }
  out.insert(out.end(), big.rbegin(), big.rend());
  return true;
}
}  // namespace

bool bitcoin_base58_valid(std::string_view candidate) {
  if (candidate.size() < 26 || candidate.size() > 35) return false;
  if (candidate[0] != '1' && candidate[0] != '3') return false;
  std::vector<uint8_t> raw;
  if (!base58_decode(candidate, raw) || raw.size() != 25) return false;
  if (raw[0] != 0x00 && raw[0] != 0x05) return false;
  unsigned char h1[SHA256_DIGEST_LENGTH], h2[SHA256_DIGEST_LENGTH];
  SHA256(raw.data(), 21, h1);
  SHA256(h1, sizeof h1, h2);
  return std::equal(h2, h2 + 4, raw.begin() + 21);
}

namespace {
uint32_t bech32_polymod(const std::vector<uint8_t>& values) {
  static constexpr uint32_t kGen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  uint32_t chk = 1;
  for (uint8_t v : values) {
    uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; ++i)
      if ((top >> i) & 1) chk ^= kGen[i];
  }
  return chk;
}
}  // namespace

bool bitcoin_bech32_valid(std::string_view candidate) {
  if (candidate.size() < 14 || candidate.size() > 90) return false;
  bool lower = false, upper = false;
  std::string s;
  for (char c : candidate) {
    if (c >= 'a' && c <= 'z') lower = true;
    if (c >= 'A' && c <= 'Z') {
      upper = true;
      c = char(c - 'A' + 'a');
    }
    s += c;
  }
  if (lower && upper) return false;  // BIP-173: mixed case is invalid
  size_t sep = s.rfind('1');
  if (sep == std::string::npos || sep == 0 || sep + 7 > s.size()) return false;
  std::string hrp = s.substr(0, sep);
  if (hrp != "bc" && hrp != "tb") return false;
  constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  std::vector<uint8_t> values;
  for (char c : hrp) values.push_back(uint8_t(c >> 5));
  values.push_back(0);
  for (char c : hrp) values.push_back(uint8_t(c & 31));
  for (size_t i = sep + 1; i < s.size(); ++i) {
    size_t v = kCharset.find(s[i]);
    if (v == std::string_view::npos) return false;
    values.push_back(uint8_t(v));
  }
  uint32_t pm = bech32_polymod(values);
  return pm == 1 || pm == 0x2bc830a3;  // bech32 (witness v0) or bech32m (v1+)
}

bool ethereum_address_valid(std::string_view candidate) {
  if (candidate.size() != 42 || candidate[0] != '0' || (candidate[1] != 'x' && candidate[1] != 'X')) return false;
  for (size_t i = 2; i < candidate.size(); ++i) {
    char c = candidate[i];
    if (!is_digit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F')) return false;
  }
  return true;
}

bool date_valid(int year, int month, int day) {
  if (year >= 100 && (year < 1900 || year > 2100)) return false;
  if (year < 0 || month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (day > kDays[month - 1]) return false;
  if (month == 2 && day == 29 && year >= 100) return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return true;
}

}  // namespace tandem::privacy
