// The detector's passes, one per family of types (internal to src/privacy). Each appends its
// candidates, with confidences, to `out`; none resolves overlaps (detector.cpp does).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "privacy/pii_types.h"

namespace tandem::privacy::detail {

using Findings = std::vector<Finding>;

void find_emails_urls(std::string_view text, Findings& out);
void find_network(std::string_view text, Findings& out);         // IPv4, IPv6, MAC
void find_financial(std::string_view text, Findings& out);       // cards, IBANs, crypto wallets
void find_us_ids(std::string_view text, Findings& out);          // SSN, ITIN, passport numbers
void find_phones(std::string_view text, const std::vector<std::string>& regions, Findings& out);
void find_dates(std::string_view text, Findings& out);           // DATE and DATE_OF_BIRTH
void find_addresses(std::string_view text, Findings& out);
void find_persons(std::string_view text, Findings& out);

}  // namespace tandem::privacy::detail
