#include "privacy/pii_types.h"

#include <array>

namespace tandem::privacy {

namespace {
constexpr std::array<std::string_view, kPiiTypeCount> kNames = {
    "EMAIL",         "PHONE", "CREDIT_CARD",   "IBAN",    "US_SSN", "US_ITIN", "PASSPORT", "IP_ADDRESS",
    "MAC_ADDRESS",   "URL",   "DATE_OF_BIRTH", "DATE",    "CRYPTO", "ADDRESS", "PERSON"};
}  // namespace

std::string_view pii_type_name(PiiType t) { return kNames[static_cast<size_t>(t)]; }

std::optional<PiiType> pii_type_from_name(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<PiiType>(i);
  return std::nullopt;
}

const std::vector<PiiType>& all_pii_types() {
  static const std::vector<PiiType> all = [] {
    std::vector<PiiType> v;
    for (int i = 0; i < kPiiTypeCount; ++i) v.push_back(static_cast<PiiType>(i));
    return v;
  }();
  return all;
}

bool is_structured(PiiType t) {
  switch (t) {
    case PiiType::Email: case PiiType::Phone: case PiiType::CreditCard: case PiiType::Iban:
    case PiiType::UsSsn: case PiiType::IpAddress:
      return true;
    default:
      return false;
  }
}

}  // namespace tandem::privacy
