// Folding look-alike characters before detection (privacy/normalize.h), and the detector's
// findings mapped back to whole original spans.
#include <gtest/gtest.h>

#include "privacy/detector.h"
#include "privacy/normalize.h"

using namespace tandem::privacy;

TEST(PrivacyNormalize, FoldsLookAlikesAndKeepsOffsets) {
  const std::string in = "a\u00A0b\u202Fc\u2009d\u2013e\u2212f\uFF14\uFF20g\u200Bh\u00ADi\uFEFFj";
  const NormalizedText n = normalize_for_detection(in);
  EXPECT_TRUE(n.changed);
  EXPECT_EQ(n.text, "a b c d-e-f4@ghij");
  ASSERT_EQ(n.origin_start.size(), n.text.size());
  // Each folded byte points at its original character.
  EXPECT_EQ(in.substr(n.origin_start[1], n.origin_end[1] - n.origin_start[1]), "\u00A0");
  EXPECT_EQ(in.substr(n.origin_start[11], n.origin_end[11] - n.origin_start[11]), "\uFF14");
  // A span over removed characters covers them: "ghij" is g, ZWSP, h, SHY, i, BOM, j.
  const auto [s, e] = n.original_span(13, 17);
  EXPECT_EQ(in.substr(s, e - s), "g\u200Bh\u00ADi\uFEFFj");
  // Plain text is left alone (and costs no map).
  const NormalizedText plain = normalize_for_detection("caf\u00E9 4111 1111");
  EXPECT_FALSE(plain.changed);
  EXPECT_EQ(plain.text, "caf\u00E9 4111 1111");
  EXPECT_EQ(plain.original_span(2, 5), std::make_pair(size_t(2), size_t(5)));
  // Other scripts' and mathematical digits are digits.
  EXPECT_EQ(normalize_for_detection("\u0664\u0662 \u0968 \U0001D7D9").text, "42 2 1");
}

// Before folding, each of these reached the wire whole or in part; now each is one finding of
// its type that covers the whole value as written.
TEST(PrivacyNormalize, DetectorFindsFoldedValuesOverTheirWholeSpan) {
  const Detector d;
  const struct {
    std::string value;
    PiiType type;
  } cases[] = {
      {"+33\u00A06\u00A012\u00A034\u00A056\u00A078", PiiType::Phone},
      {"4111\u202F1111\u202F1111\u202F1111", PiiType::CreditCard},
      {"+49\u201330\u201312345678", PiiType::Phone},
      {"\uFF14\uFF11\uFF11\uFF11\uFF11\uFF11\uFF11\uFF11\uFF11\uFF11\uFF11\uFF11\uFF11\uFF11\uFF11\uFF11", PiiType::CreditCard},
      {"4111.1111.1111.1111", PiiType::CreditCard},
      {"4111\u200B1111\u200B1111\u200B1111", PiiType::CreditCard},
      {"jane\u200B.doe@example.org", PiiType::Email},
      {"john.sm\u00ADith@example.com", PiiType::Email},
      {"jane.doe\uFF20example.org", PiiType::Email},
  };
  for (const auto& c : cases) {
    const std::string text = "Please note " + c.value + " for later.";
    const auto found = d.detect(text);
    ASSERT_EQ(found.size(), 1u) << c.value;
    EXPECT_EQ(found[0].type, c.type) << c.value;
    EXPECT_EQ(text.substr(found[0].start, found[0].length()), c.value);
  }
}

// Dots between card groups count only as groups: decimals, versions and IPs are not cards.
TEST(PrivacyNormalize, DottedCardsButNotDecimals) {
  const Detector d({.types = {PiiType::CreditCard}});
  EXPECT_EQ(d.detect("card 5555.5555.5555.4444 ok").size(), 1u);
  for (const char* text : {"pi is 4.111111111111111 roughly", "version 4111.11.11.1111", "4111111.1111111.11"})
    EXPECT_TRUE(d.detect(text).empty()) << text;
  // A spaced card followed by an amount keeps the card.
  const std::string t = "card 4111 1111 1111 1111.50 paid";
  const auto found = d.detect(t);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(t.substr(found[0].start, found[0].length()), "4111 1111 1111 1111");
}
