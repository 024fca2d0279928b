// Checksums and range checks that turn a pattern match into a finding. Each takes the candidate
// as written (separators allowed where the format has them) and says whether it is well-formed.
#pragma once
#include <string>
#include <string_view>

namespace tandem::privacy {

// The digits of s, dropping spaces, dashes and dots ("4111 1111-1111.1111" -> "4111111111111111").
std::string digits_only(std::string_view s);

// Payment card: 13-19 digits passing the Luhn check.
bool luhn_valid(std::string_view digits);
bool card_number_valid(std::string_view candidate);

// IBAN: known country, that country's length, and ISO 13616 mod-97 == 1. Spaces are ignored.
bool iban_valid(std::string_view candidate);
// The IBAN length of a country code ("DE" -> 22), 0 when unknown.
int iban_length(std::string_view country);

// US Social Security Number: area not 000/666/9xx, group not 00, serial not 0000.
bool ssn_valid(std::string_view candidate);
// US ITIN: 9xx-GG-SSSS with the group in 50-65, 70-88, 90-92 or 94-99.
bool itin_valid(std::string_view candidate);

bool ipv4_valid(std::string_view candidate);
bool ipv6_valid(std::string_view candidate);

// Bitcoin: base58check with version 0x00 (P2PKH, "1...") or 0x05 (P2SH, "3..."), double SHA-256.
bool bitcoin_base58_valid(std::string_view candidate);
// Bitcoin segwit: bech32 (BIP-173) or bech32m (BIP-350) with human-readable part "bc" or "tb".
bool bitcoin_bech32_valid(std::string_view candidate);
// Ethereum: 0x + 40 hex digits (the EIP-55 mixed-case checksum is not checked: it needs Keccak).
bool ethereum_address_valid(std::string_view candidate);

// A calendar date: month 1-12, day within the month (leap years counted), year 1900-2100 or
// two digits.
bool date_valid(int year, int month, int day);

}  // namespace tandem::privacy
