// The privacy layer's checksums and range checks, against published examples (ISO 13616's and
// banks' sample IBANs, card networks' test numbers, BIP-173 addresses, the Bitcoin genesis
// address) and against near misses that must fail.
#include <gtest/gtest.h>

#include "privacy/detector.h"
#include "privacy/validators.h"

using namespace tandem::privacy;

TEST(PrivacyValidators, LuhnCards) {
  for (const char* ok : {"4111 1111 1111 1111", "4012888888881881", "5555-5555-5555-4444", "378282246310005",
                         "6011111111111117", "3530111333300000", "2223003122003222"})
    EXPECT_TRUE(card_number_valid(ok)) << ok;
  for (const char* bad : {"4111 1111 1111 1112", "1234567812345678", "0000000000000000", "411111111111", "4111/1111/1111/1111"})
    EXPECT_FALSE(card_number_valid(bad)) << bad;
  EXPECT_TRUE(luhn_valid("79927398713"));   // the textbook Luhn example
  EXPECT_FALSE(luhn_valid("79927398710"));
}

TEST(PrivacyValidators, IbanMod97) {
  for (const char* ok : {"GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00", "FR14 2004 1010 0505 0001 3M02 606",
                         "NL91 ABNA 0417 1643 00", "BE68 5390 0754 7034", "CH9300762011623852957",
                         "AT61 1904 3002 3457 3201", "ES91 2100 0418 4502 0005 1332"})
    EXPECT_TRUE(iban_valid(ok)) << ok;
  for (const char* bad : {"GB83 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 01", "DE89 3704 0044 0532 0130 0",
                          "XX89 3704 0044 0532 0130 00", "NL91 ABNA 0417 1643 0000"})
    EXPECT_FALSE(iban_valid(bad)) << bad;
  EXPECT_EQ(iban_length("DE"), 22);
  EXPECT_EQ(iban_length("NO"), 15);
  EXPECT_EQ(iban_length("US"), 0);
}

TEST(PrivacyValidators, SsnAndItin) {
  EXPECT_TRUE(ssn_valid("536-22-1234"));
  EXPECT_TRUE(ssn_valid("536 22 1234"));
  EXPECT_TRUE(ssn_valid("536221234"));
  for (const char* bad : {"000-12-3456", "666-12-3456", "912-12-3456", "536-00-1234", "536-22-0000", "536-22 1234",
                          "123-45-6789", "078-05-1120"})
    EXPECT_FALSE(ssn_valid(bad)) << bad;
  EXPECT_TRUE(itin_valid("912-70-1234"));
  EXPECT_TRUE(itin_valid("999-88-1234"));
  EXPECT_FALSE(itin_valid("912-93-1234"));  // 93 is outside the ITIN groups
  EXPECT_FALSE(itin_valid("812-70-1234"));
}

TEST(PrivacyValidators, IpAddresses) {
  EXPECT_TRUE(ipv4_valid("192.168.1.20"));
  EXPECT_TRUE(ipv4_valid("8.8.8.8"));
  for (const char* bad : {"256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1..2.3"}) EXPECT_FALSE(ipv4_valid(bad)) << bad;
  EXPECT_TRUE(ipv6_valid("2001:db8::8a2e:370:7334"));
  EXPECT_TRUE(ipv6_valid("fe80::1ff:fe23:4567:890a"));
  for (const char* bad : {"::", "::1", "10:30:00", "2001:db8::g", "00:1A:2B:3C:4D:5E"}) EXPECT_FALSE(ipv6_valid(bad)) << bad;
}

TEST(PrivacyValidators, BitcoinAndEthereum) {
  EXPECT_TRUE(bitcoin_base58_valid("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));   // the genesis block's address
  EXPECT_TRUE(bitcoin_base58_valid("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"));   // a P2SH example from the Bitcoin wiki
  EXPECT_FALSE(bitcoin_base58_valid("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"));  // last character changed
  EXPECT_FALSE(bitcoin_base58_valid("1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf0a"));  // '0' is not base58
  // BIP-173's examples: mainnet P2WPKH and testnet P2WSH.
  EXPECT_TRUE(bitcoin_bech32_valid("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"));
  EXPECT_TRUE(bitcoin_bech32_valid("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"));
  EXPECT_TRUE(bitcoin_bech32_valid("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7"));
  EXPECT_FALSE(bitcoin_bech32_valid("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"));  // checksum
  EXPECT_FALSE(bitcoin_bech32_valid("Bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"));  // mixed case
  EXPECT_FALSE(bitcoin_bech32_valid("tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty"));  // unknown prefix
  EXPECT_TRUE(ethereum_address_valid("0x52908400098527886E0F7030069857D2E4169EE7"));
  EXPECT_FALSE(ethereum_address_valid("0x52908400098527886E0F7030069857D2E4169EE"));
  EXPECT_FALSE(ethereum_address_valid("0x52908400098527886E0F7030069857D2E4169EEG"));
}

TEST(PrivacyValidators, Dates) {
  EXPECT_TRUE(date_valid(2024, 2, 29));
  EXPECT_FALSE(date_valid(2023, 2, 29));
  EXPECT_FALSE(date_valid(1900, 2, 29));
  EXPECT_TRUE(date_valid(2000, 2, 29));
  EXPECT_FALSE(date_valid(2024, 4, 31));
  EXPECT_FALSE(date_valid(2024, 13, 1));
  EXPECT_FALSE(date_valid(1850, 1, 1));
  EXPECT_TRUE(date_valid(85, 12, 31));  // two-digit year
}

TEST(PrivacyValidators, SanitizeUtf8KeepsOffsets) {
  std::string bad = "a\xC3(b\xE2\x82z\xF0\x9F\x98\x80\xFF";
  std::string s = sanitize_utf8(bad);
  EXPECT_EQ(s.size(), bad.size());
  EXPECT_EQ(s, "a?(b??z\xF0\x9F\x98\x80?");
  EXPECT_EQ(sanitize_utf8("Grüße"), "Grüße");
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), "???");  // a UTF-16 surrogate is not UTF-8
}
