// The kinds of personal data the privacy layer finds, and what a finding is.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::privacy {

enum class PiiType {
  Email,
  Phone,
  CreditCard,
  Iban,
  UsSsn,
  UsItin,
  Passport,
  IpAddress,    // IPv4 and IPv6
  MacAddress,
  Url,
  DateOfBirth,  // a date with a birth cue near it ("born", "DOB", "geboren", "né le", ...)
  Date,         // any other calendar date
  CryptoWallet, // Bitcoin (base58check, bech32/bech32m) and Ethereum addresses
  Address,      // a street line: number + street name + street word, in EN/DE/FR/ES forms
  Person,       // a person's name
};
inline constexpr int kPiiTypeCount = 15;

// The upper-case name used in placeholders, JSON and the labelled set: "EMAIL", "CREDIT_CARD".
std::string_view pii_type_name(PiiType t);
std::optional<PiiType> pii_type_from_name(std::string_view name);
const std::vector<PiiType>& all_pii_types();

// The structured types: found by pattern plus a checksum or a parser, and held to recall ≥ 0.95.
bool is_structured(PiiType t);

// One piece of personal data in a text: [start, end) in bytes of the UTF-8 text.
struct Finding {
  PiiType type;
  size_t start = 0;
  size_t end = 0;
  double confidence = 0;  // 0..1; cue words near the candidate raise it
  size_t length() const { return end - start; }
};

}  // namespace tandem::privacy
