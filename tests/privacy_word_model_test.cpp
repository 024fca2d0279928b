// The word model (data/pii/word_model.txt): its features match the trainer's, it tells names it
// was not trained on from ordinary words, the detector uses it as a second opinion beside the name
// lists, and it takes any bytes. Also the general rules that keep versions and order numbers out.
#include <gtest/gtest.h>

#include <random>

#include "privacy/lexicon.h"
#include "privacy/word_model.h"
#include "privacy_test_util.h"

using namespace tandem::privacy;
using namespace tandem::privacy::detail;
using tandem::test::found;
using V = std::vector<std::string>;

TEST(PrivacyWordModel, FeaturesMatchTheTrainer) {
  // From scripts/train-pii-model.mjs's wordFeatures(): bias, n-grams of ^word$ (n = 1..4, the
  // boundary marks alone left out), the length.
  EXPECT_EQ(word_features("ab"),
            (std::vector<uint32_t>{13837, 31177, 29968, 29608, 73602, 59915, 2017, 32093, 117860, 52195}));
  // Code points, not bytes, and the non-ASCII flag last.
  std::vector<uint32_t> f = word_features("kovačević");
  ASSERT_EQ(f.size(), 39u);
  EXPECT_EQ(f[1], 33595u);
  EXPECT_EQ(f[9], 122943u);
  EXPECT_EQ(f.back(), 46622u);
}

TEST(PrivacyWordModel, NamesOutsideTheListsLookLikeNamesAndWordsDoNot) {
  // Neither is in the compiled-in lists (Szczepaniak is in the held-out tenth, which the model
  // was not trained on either); their letters say they are names.
  for (std::string_view name : {"Kovačević", "Szczepaniak"}) {
    std::string lower = lower_word(name);
    EXPECT_FALSE(is_given_name(lower) || is_surname(lower) || is_place(lower)) << name;
    WordClass c = classify_word(name);
    EXPECT_LT(c.word, 0.05) << name;
    EXPECT_GT(c.name, 0.9) << name;
  }
  for (std::string_view word : {"Meeting", "Quarterly", "Planning", "Kubernetes", "invoice"}) {
    WordClass c = classify_word(word);
    EXPECT_GT(c.word, 0.5) << word;
    EXPECT_NEAR(c.name + c.place + c.word, 1.0, 1e-9) << word;
  }
}

TEST(PrivacyWordModel, UnknownNamesAreFoundInContext) {
  // Two capitalised words none of the lists knows: the model's opinion makes them a name.
  ASSERT_FALSE(is_given_name("xiulan") || is_surname("xiulan") || is_given_name("qiao") || is_surname("qiao"));
  EXPECT_EQ(found("Yesterday Xiulan Qiao joined the team."), V{"PERSON:Xiulan Qiao"});
  EXPECT_EQ(found("I met Szczepaniak at the conference."), V{"PERSON:Szczepaniak"});
  // A name addressed at the end of a clause.
  EXPECT_EQ(found("Thanks a lot, Jurgen."), V{"PERSON:Jurgen"});
  // Capitalised ordinary words stay what they are.
  EXPECT_EQ(found("Yesterday Quarterly Planning started late."), V{});
  EXPECT_EQ(found("We deployed it with Kubernetes."), V{});
  EXPECT_EQ(found("Thanks a lot, Team."), V{});
}

TEST(PrivacyWordModel, TownsInSentencesAboutTheWriter) {
  EXPECT_EQ(found("My family relocated to Porto last year."), V{"ADDRESS:Porto"});
  EXPECT_EQ(found("I'm originally from Cork."), V{"ADDRESS:Cork"});
  // No one is located, or the capitalised word is no town.
  EXPECT_EQ(found("Porto is famous for its wine."), V{});
  EXPECT_EQ(found("We sent the invoice to Google."), V{});
  EXPECT_EQ(found("I talked to Florence yesterday."), V{"PERSON:Florence"});
}

TEST(PrivacyWordModel, AnyBytesAreScored) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = char(rng());
    WordClass c = classify_word(s);
    EXPECT_NEAR(c.name + c.place + c.word, 1.0, 1e-9);
    tandem::test::shared_detector().detect(s);  // must not crash (ASan/UBSan in CI)
  }
  EXPECT_NEAR(classify_word("").word + classify_word("").name + classify_word("").place, 1.0, 1e-9);
  EXPECT_NEAR(classify_word(std::string(5000, 'a')).word + classify_word(std::string(5000, 'a')).name +
                  classify_word(std::string(5000, 'a')).place,
              1.0, 1e-9);
}

TEST(PrivacyDetector, VersionStringsAndOrderNumbersByGeneralRules) {
  // Dots are the day-first countries' separator: a dotted month-first triple is a version.
  EXPECT_EQ(found("Please pin lodash to 4.17.20 for now."), V{});
  EXPECT_EQ(found("It broke in lodash@1.2.20."), V{});
  EXPECT_EQ(found("Fixed in release 3.4.21."), V{});
  EXPECT_EQ(found("Geboren am 03.03.90 in Graz."), V{"DATE_OF_BIRTH:03.03.90"});
  EXPECT_EQ(found("Born 4/17/2020."), V{"DATE_OF_BIRTH:4/17/2020"});
  // A bare digit run after an identifier's noun is that identifier, unless a word says phone.
  EXPECT_EQ(found("My order number is 4155550123."), V{});
  EXPECT_EQ(found("Rechnungsnr. 0301234567 ist bezahlt."), V{});
  EXPECT_EQ(found("Order #4155550123 shipped."), V{});
  EXPECT_EQ(found("Call me on 4155550123."), V{"PHONE:4155550123"});
  EXPECT_EQ(found("My number is 4155550123."), V{"PHONE:4155550123"});
}
