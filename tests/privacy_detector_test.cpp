// The PII detector on hand-picked cases (each type, cues, overlaps, bad input, the deadline), the
// labelled set's own consistency, and the evaluation staying at the levels reached (README).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "privacy/evaluation.h"
#include "privacy_test_util.h"
#include "test_util.h"

using namespace tandem::privacy;

namespace {

const Detector& detector() { return tandem::test::shared_detector(); }
using tandem::test::found;

using V = std::vector<std::string>;

}  // namespace

TEST(PrivacyDetector, FindsEachType) {
  EXPECT_EQ(found("mail me: jürgen.weiß@beispiel.de."), V{"EMAIL:jürgen.weiß@beispiel.de"});
  EXPECT_EQ(found("Ruf an: +49 30 12345678 oder 0171 2345678"), (V{"PHONE:+49 30 12345678", "PHONE:0171 2345678"}));
  EXPECT_EQ(found("Appelle-moi au 06 12 34 56 78"), V{"PHONE:06 12 34 56 78"});
  EXPECT_EQ(found("Visa 4111-1111-1111-1111 exp 04/27"), V{"CREDIT_CARD:4111-1111-1111-1111"});
  EXPECT_EQ(found("IBAN GB82 WEST 1234 5698 7654 32, thanks"), V{"IBAN:GB82 WEST 1234 5698 7654 32"});
  EXPECT_EQ(found("My SSN is 536-22-1234."), V{"US_SSN:536-22-1234"});
  EXPECT_EQ(found("ITIN: 912-70-1234"), V{"US_ITIN:912-70-1234"});
  EXPECT_EQ(found("Passport no. C01X00T47"), V{"PASSPORT:C01X00T47"});
  EXPECT_EQ(found("from 203.0.113.7 and 2001:db8::8a2e:370:7334"),
            (V{"IP_ADDRESS:203.0.113.7", "IP_ADDRESS:2001:db8::8a2e:370:7334"}));
  EXPECT_EQ(found("MAC 00:1A:2B:3C:4D:5E"), V{"MAC_ADDRESS:00:1A:2B:3C:4D:5E"});
  EXPECT_EQ(found("see https://example.com/a_(b)."), V{"URL:https://example.com/a_(b)"});
  EXPECT_EQ(found("BTC bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"), V{"CRYPTO:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"});
  EXPECT_EQ(found("geboren am 12.05.1983"), V{"DATE_OF_BIRTH:12.05.1983"});
  EXPECT_EQ(found("la cita es el 5 de mayo de 2024"), V{"DATE:5 de mayo de 2024"});
  EXPECT_EQ(found("J'habite au 12 rue de la Paix."), V{"ADDRESS:12 rue de la Paix"});
  EXPECT_EQ(found("Ich heiße Lena Schmidt."), V{"PERSON:Lena Schmidt"});
}

TEST(PrivacyDetector, CuesRaiseConfidence) {
  auto conf = [](std::string_view text) {
    auto all = detector().candidates(text);
    double best = 0;
    for (const Finding& f : all) best = std::max(best, f.confidence);
    return best;
  };
  EXPECT_GT(conf("SSN: 536-22-1234"), conf("ref 536-22-1234"));
  EXPECT_GT(conf("call me at (415) 555-2671"), conf("it was (415) 555-2671"));
  // Bare nine digits are an SSN only with a cue; a bare digit run is a phone number only with one.
  EXPECT_EQ(found("ref 536221234"), V{});
  EXPECT_EQ(found("social security number 536221234"), V{"US_SSN:536221234"});
  EXPECT_EQ(found("id 4153334444"), V{});
  EXPECT_EQ(found("call me 4153334444"), V{"PHONE:4153334444"});
}

TEST(PrivacyDetector, HardNegatives) {
  for (const char* clean : {"Order #48213 ships tomorrow.", "Version 1.2.3.4 fixes it.", "pi is 3.14159265",
                            "Subnet mask 255.255.255.0", "We open at 09:30 and close at 18:00.", "Ticket 4111 1111 1111 1112",
                            "ISBN 978-3-16-148410-0", "The year 1984.", "Compute 123456789 * 987654321.",
                            "Will this work on Linux?", "Victoria Station is busy."})
    EXPECT_EQ(found(clean), V{}) << clean;
}

TEST(PrivacyDetector, OverlapsKeepTheOuterOrStrongerFinding) {
  EXPECT_EQ(found("open http://192.168.0.10:8080/admin now"), V{"URL:http://192.168.0.10:8080/admin"});
  EXPECT_EQ(found("IBAN DE89 3704 0044 0532 0130 00"), V{"IBAN:DE89 3704 0044 0532 0130 00"});
  auto r = resolve_overlaps({{PiiType::Date, 5, 15, 0.6}, {PiiType::Phone, 0, 20, 0.95}, {PiiType::Person, 30, 35, 0.7},
                             {PiiType::Address, 33, 40, 0.9}});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].type, PiiType::Phone);
  EXPECT_EQ(r[1].type, PiiType::Address);
}

TEST(PrivacyDetector, AnyBytesAreSafe) {
  std::string text = "x\xFF\xFE mail a@b.io \xC3 end";
  auto f = detector().detect(text);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(text.substr(f[0].start, f[0].end - f[0].start), "a@b.io");
  std::string zeros(1000, '\0');
  EXPECT_TRUE(detector().detect(zeros).empty());
  std::string digits(20000, '7');  // one enormous digit run
  (void)detector().detect(digits);
}

TEST(PrivacyDetector, DeadlineInThePastThrows) {
  EXPECT_THROW(detector().detect("call me at (415) 555-2671", Clock::now() - std::chrono::seconds(1)), DeadlineExceeded);
}

TEST(PrivacyDetector, TypeFilter) {
  DetectorOptions o;
  o.types = {PiiType::Email};
  Detector only_email(o);
  auto f = only_email.detect("a@b.io, (415) 555-2671");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].type, PiiType::Email);
}

TEST(PrivacyDetector, ConcurrentDetectionAgrees) {
  const std::string text = "Anna Müller, anna@example.de, +49 30 12345678, DE89 3704 0044 0532 0130 00";
  auto expected = detector().detect(text);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) mismatches += detector().detect(text).size() != expected.size();
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// ---------------------------------------------------------------- the labelled set

namespace {
std::string set_dir() { return tandem::test::source_dir() + "/tests/data/pii"; }
}  // namespace

TEST(PrivacyLabelledSet, SpansAreConsistent) {
  auto dev = load_labelled_set(set_dir());
  auto holdout = load_labelled_set(set_dir() + "/holdout");
  EXPECT_GE(dev.size(), 300u);
  std::set<PiiType> types;
  int clean = 0;
  for (const auto* set : {&dev, &holdout}) {
    for (const LabelledText& lt : *set) {
      EXPECT_EQ(sanitize_utf8(lt.text), lt.text) << lt.source << ": not valid UTF-8";
      clean += lt.entities.empty();
      size_t prev_end = 0;
      for (const Finding& e : lt.entities) {
        types.insert(e.type);
        EXPECT_GE(e.start, prev_end) << lt.source << ": spans overlap or are out of order";
        prev_end = e.end;
        // Spans start and end on character boundaries and hold no surrounding white space.
        auto cont = [&](size_t i) { return i < lt.text.size() && (static_cast<unsigned char>(lt.text[i]) & 0xC0) == 0x80; };
        EXPECT_FALSE(cont(e.start)) << lt.source;
        EXPECT_FALSE(cont(e.end)) << lt.source;
        EXPECT_FALSE(std::isspace(static_cast<unsigned char>(lt.text[e.start]))) << lt.source;
        EXPECT_FALSE(std::isspace(static_cast<unsigned char>(lt.text[e.end - 1]))) << lt.source;
      }
    }
  }
  EXPECT_EQ(types.size(), size_t(kPiiTypeCount)) << "every type is labelled somewhere";
  EXPECT_GE(clean, 80) << "enough messages without personal data to measure false alarms";
}

TEST(PrivacyLabelledSet, EvaluationStaysAtTheReachedLevels) {
  for (const std::string& path : {set_dir(), set_dir() + "/holdout"}) {
    EvalReport rep = evaluate(detector(), load_labelled_set(path));
    for (const auto& [type, score] : rep.per_type) {
      if (is_structured(type)) {
        EXPECT_GE(score.recall(), 0.95) << path << " " << pii_type_name(type);
        EXPECT_GE(score.precision(), 0.85) << path << " " << pii_type_name(type);
      }
    }
    EXPECT_GE(rep.per_type[PiiType::Person].recall(), 0.85) << path;
    EXPECT_GE(rep.per_type[PiiType::Address].recall(), 0.9) << path;
    EXPECT_GE(rep.all.f2(), 0.95) << path;
    EXPECT_GE(double(rep.with_pii_flagged) / rep.with_pii, 0.95) << path;
    EXPECT_LE(double(rep.clean_flagged) / rep.clean, 0.05) << path;
  }
}
