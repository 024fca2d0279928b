// Reversible redaction: placeholders stable across a conversation's turns, restoration of whole
// and streamed answers (a placeholder split at every byte), and the guard's levels and its
// fail-closed behaviour.
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "privacy/guard.h"
#include "privacy/restorer.h"

using namespace tandem::privacy;

TEST(PrivacyRedaction, TypedPlaceholdersStableAcrossTurns) {
  Detector d;
  PlaceholderMap map;
  std::string t1 = "I am Anna Müller, anna@example.de, call +49 30 12345678.";
  auto r1 = redact(t1, d.detect(t1), map);
  EXPECT_EQ(r1.text, "I am [PERSON_1], [EMAIL_1], call [PHONE_1].");
  EXPECT_EQ(r1.counts.at(PiiType::Email), 1);
  // Turn 2: the same email (other case) and phone (other spacing) keep their placeholders; a new
  // email gets the next number.
  std::string t2 = "Use ANNA@example.de or bob@example.com; phone +4930 12345678";
  auto r2 = redact(t2, d.detect(t2), map);
  EXPECT_EQ(r2.text, "Use [EMAIL_1] or [EMAIL_2]; phone [PHONE_1]");
  EXPECT_EQ(map.value_of("[EMAIL_2]").value(), "bob@example.com");
  EXPECT_EQ(map.value_of("[EMAIL_1]").value(), "anna@example.de");  // as first seen
  EXPECT_FALSE(map.value_of("[EMAIL_3]").has_value());
  EXPECT_EQ(map.size(), 4u);
}

TEST(PrivacyRedaction, RedactRejectsBadSpans) {
  PlaceholderMap map;
  EXPECT_THROW(redact("abc", {{PiiType::Email, 2, 5, 1}}, map), tandem::Error);
  EXPECT_THROW(redact("abcdef", {{PiiType::Email, 2, 4, 1}, {PiiType::Email, 3, 5, 1}}, map), tandem::Error);
}

TEST(PrivacyRedaction, PlaceholderShape) {
  EXPECT_TRUE(is_placeholder("[EMAIL_1]"));
  EXPECT_TRUE(is_placeholder("[CREDIT_CARD_12]"));
  EXPECT_FALSE(is_placeholder("[EMAIL_]"));
  EXPECT_FALSE(is_placeholder("[FOO_1]"));
  EXPECT_FALSE(is_placeholder("[email_1]"));
}

namespace {
PlaceholderMap sample_map() {
  PlaceholderMap m;
  m.placeholder_for(PiiType::Email, "anna@example.de");
  m.placeholder_for(PiiType::CreditCard, "4111 1111 1111 1111");
  m.placeholder_for(PiiType::Person, "Jürgen Weiß");
  return m;
}
}  // namespace

TEST(PrivacyRestorer, WholeAnswer) {
  PlaceholderMap m = sample_map();
  EXPECT_EQ(restore("Dear [PERSON_1], we wrote to [EMAIL_1] about [CREDIT_CARD_1].", m),
            "Dear Jürgen Weiß, we wrote to anna@example.de about 4111 1111 1111 1111.");
  // Unknown placeholders, near misses and brackets pass through unchanged.
  EXPECT_EQ(restore("[EMAIL_9] [EMAIL_1 [x] [[EMAIL_1]] a[b", m), "[EMAIL_9] [EMAIL_1 [x] [anna@example.de] a[b");
}

// In an answer constrained to JSON the placeholders sit inside strings: a value goes back as
// string content, so quotes, backslashes and control characters in it keep the JSON valid.
TEST(PrivacyRestorer, JsonAnswersGetEscapedValues) {
  PlaceholderMap m;
  m.placeholder_for(PiiType::Person, "Anna \"Nan\" O\\Brien");
  m.placeholder_for(PiiType::Address, "Hauptstr. 5\n10115 Berlin");
  StreamRestorer r(m, RestoreAs::JsonStringContent);
  const std::string out = r.feed(R"({"name":"[PERSON_1]","addr":"[ADDRESS_1]"})") + r.flush();
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["name"], "Anna \"Nan\" O\\Brien");
  EXPECT_EQ(j["addr"], "Hauptstr. 5\n10115 Berlin");
  EXPECT_EQ(restore("[PERSON_1]", m), "Anna \"Nan\" O\\Brien");  // plain text: as it was
}

TEST(PrivacyRestorer, SplitAtEveryBytePosition) {
  PlaceholderMap m = sample_map();
  const std::string answer = "Hi [PERSON_1]! Mail [EMAIL_1], card [CREDIT_CARD_1]. [EMAIL_7] [x";
  const std::string expected = restore(answer, m);
  ASSERT_EQ(expected, "Hi Jürgen Weiß! Mail anna@example.de, card 4111 1111 1111 1111. [EMAIL_7] [x");
  // Two cuts anywhere (every pair of byte positions), so each placeholder is split everywhere.
  for (size_t a = 0; a <= answer.size(); ++a) {
    for (size_t b = a; b <= answer.size(); ++b) {
      StreamRestorer r(m);
      std::string out = r.feed(answer.substr(0, a));
      EXPECT_LT(r.pending(), kMaxPlaceholderLength);
      out += r.feed(answer.substr(a, b - a));
      out += r.feed(answer.substr(b));
      out += r.flush();
      ASSERT_EQ(out, expected) << "cuts at " << a << ", " << b;
    }
  }
  // One byte at a time, and text is released as soon as it cannot start a placeholder.
  StreamRestorer r(m);
  std::string out;
  for (char c : answer) out += r.feed(std::string_view(&c, 1));
  EXPECT_EQ(out + r.flush(), expected);
  StreamRestorer eager(m);
  EXPECT_EQ(eager.feed("no brackets here"), "no brackets here");
  EXPECT_EQ(eager.feed("wait [EMA"), "wait ");
  EXPECT_EQ(eager.feed("IL_1] done"), "anna@example.de done");
}

TEST(PrivacyRestorer, HoldsBackBoundedText) {
  PlaceholderMap m = sample_map();
  StreamRestorer r(m);
  std::string out = r.feed("[" + std::string(100, 'A'));  // too long to be a placeholder
  EXPECT_LT(r.pending(), kMaxPlaceholderLength);
  out += r.flush();
  EXPECT_EQ(out, "[" + std::string(100, 'A'));
}

TEST(PrivacyGuard, Levels) {
  Guard g;
  PlaceholderMap conv;
  const std::vector<std::string> texts = {"You are a helpful assistant.", "Email anna@example.de the IBAN DE89 3704 0044 0532 0130 00"};

  auto strict = g.check(texts, PrivacyLevel::Strict, conv);
  EXPECT_EQ(strict.decision, Decision::KeepLocal);
  EXPECT_EQ(strict.counts_summary(), "EMAIL:1,IBAN:1");
  EXPECT_EQ(strict.texts, (std::vector<std::string>{"", ""}));
  EXPECT_EQ(conv.size(), 0u);

  auto standard = g.check(texts, PrivacyLevel::Standard, conv);
  EXPECT_EQ(standard.decision, Decision::Redact);
  EXPECT_EQ(standard.texts[0], texts[0]);
  EXPECT_EQ(standard.texts[1], "Email [EMAIL_1] the IBAN [IBAN_1]");
  EXPECT_FALSE(standard.error);
  // Nothing in what the guard reports for logs carries a value.
  EXPECT_EQ(standard.counts_summary().find("anna"), std::string::npos);

  auto open = g.check(texts, PrivacyLevel::Open, conv);
  EXPECT_EQ(open.decision, Decision::Allow);
  EXPECT_EQ(open.texts, texts);
  EXPECT_EQ(open.counts.at("EMAIL"), 1);

  auto clean = g.check({"What is the capital of France?"}, PrivacyLevel::Strict, conv);
  EXPECT_EQ(clean.decision, Decision::Allow);
  EXPECT_TRUE(clean.counts.empty());

  // The answer comes back with placeholders; the device restores them.
  EXPECT_EQ(restore("I mailed [EMAIL_1].", conv), "I mailed anna@example.de.");
}

TEST(PrivacyGuard, ConsistentAcrossTurns) {
  Guard g;
  PlaceholderMap conv;
  auto t1 = g.check({"I am Anna Müller, anna@example.de"}, PrivacyLevel::Standard, conv);
  auto t2 = g.check({"I am Anna Müller, anna@example.de", "Also cc bob@example.com and anna@example.de"},
                    PrivacyLevel::Standard, conv);
  EXPECT_EQ(t1.texts[0], t2.texts[0]);
  EXPECT_EQ(t2.texts[1], "Also cc [EMAIL_2] and [EMAIL_1]");
}

TEST(PrivacyGuard, IgnoredTypes) {
  GuardOptions o;
  o.ignored = {PiiType::Date};
  Guard g(o);
  PlaceholderMap conv;
  auto r = g.check({"The meeting is on 2024-05-14."}, PrivacyLevel::Strict, conv);
  EXPECT_EQ(r.decision, Decision::Allow);
}

TEST(PrivacyGuard, FailsClosed) {
  PlaceholderMap conv;
  for (InjectedFailure failure : {InjectedFailure::Error, InjectedFailure::Timeout}) {
    GuardOptions o;
    o.inject_failure = failure;
    Guard g(o);
    for (PrivacyLevel level : {PrivacyLevel::Strict, PrivacyLevel::Standard}) {
      // Even a text with nothing personal in it stays local when detection fails.
      auto r = g.check({"What is the capital of France?"}, level, conv);
      EXPECT_TRUE(r.error);
      EXPECT_EQ(r.decision, Decision::KeepLocal);
      EXPECT_EQ(r.texts, std::vector<std::string>{""});
      EXPECT_FALSE(r.error_message.empty());
    }
    auto open = g.check({"anything"}, PrivacyLevel::Open, conv);
    EXPECT_TRUE(open.error);
    EXPECT_EQ(open.decision, Decision::Allow);
  }
  // A real timeout: no time at all for detection.
  GuardOptions o;
  o.timeout = std::chrono::microseconds(0);
  Guard g(o);
  auto r = g.check({"Email anna@example.de"}, PrivacyLevel::Standard, conv);
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.decision, Decision::KeepLocal);
  EXPECT_EQ(r.error_message.find("anna"), std::string::npos);
  EXPECT_EQ(conv.size(), 0u) << "a failed check leaves the conversation's map untouched";
}

TEST(PrivacyGuard, LevelNames) {
  for (PrivacyLevel l : {PrivacyLevel::Strict, PrivacyLevel::Standard, PrivacyLevel::Open})
    EXPECT_EQ(parse_privacy_level(privacy_level_name(l)), l);
  EXPECT_FALSE(parse_privacy_level("lax").has_value());
  EXPECT_EQ(decision_name(Decision::KeepLocal), "keep_local");
}
