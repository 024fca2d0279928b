// The token tagger (privacy/tagger.h): tokens, the compiled-in model, deterministic tagging of
// fixed sentences, clear errors for a bad model file, training, and the synthetic set's dev part
// (templates the tagger never trained on) held at the levels reached.
#include <gtest/gtest.h>

#include "format/error.h"
#include "privacy/evaluation.h"
#include "privacy/tagger.h"
#include "privacy/tagger_train.h"
#include "privacy_test_util.h"
#include "test_util.h"

using namespace tandem::privacy;
using tandem::test::found;
using V = std::vector<std::string>;

namespace {

std::vector<std::string> token_texts(std::string_view text) {
  std::vector<std::string> out;
  for (const Token& t : tokenize(text)) out.emplace_back(text.substr(t.start, t.end - t.start));
  return out;
}

std::vector<std::string> tagged(std::string_view text) {
  std::vector<std::string> out;
  for (const Finding& f : tag_entities(builtin_tagger_model(), text, {}))
    out.push_back(std::string(pii_type_name(f.type)) + ":" + std::string(text.substr(f.start, f.end - f.start)));
  return out;
}

std::string expect_error(std::string_view model_text) {
  try {
    (void)parse_tagger_model(model_text);
  } catch (const tandem::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << model_text;
  return {};
}

}  // namespace

TEST(PrivacyTagger, TokensAreWordsPunctuationAndLineBreaks) {
  EXPECT_EQ(token_texts("Hi Jean-Pierre,\nI'm at 12b Rue d’Alésia."),
            (V{"Hi", "Jean-Pierre", ",", "\n", "I", "'", "m", "at", "12b", "Rue", "d", "’", "Alésia", "."}));
  EXPECT_EQ(token_texts("  "), V{});
  // Invalid UTF-8 is a token like any other character, never read past the end.
  EXPECT_EQ(token_texts("a\xC3"), (V{"a", "\xC3"}));
}

TEST(PrivacyTagger, CompiledInModelTagsFixedSentences) {
  const TaggerModel& m = builtin_tagger_model();
  EXPECT_EQ(m.bits, 18u);
  EXPECT_EQ(m.weights.size(), m.buckets() * kTagCount);
  // Without the recognizers' candidates, from the words and their context alone.
  EXPECT_EQ(tagged("hey it's anna, i live in berlin now"), (V{"PERSON:anna", "ADDRESS:berlin"}));
  EXPECT_EQ(tagged("I live in Lyon with my wife."), V{"ADDRESS:Lyon"});
  EXPECT_EQ(tagged("Version 4.2.1 fixes the login bug in build 8812."), V{});
  // Deterministic: the same findings with the same confidences each time.
  auto a = tag_entities(m, "Meine Schwester Lavinia wohnt jetzt in Schwechat.", {});
  auto b = tag_entities(m, "Meine Schwester Lavinia wohnt jetzt in Schwechat.", {});
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].start, b[i].start);
    EXPECT_EQ(a[i].confidence, b[i].confidence);
  }
}

TEST(PrivacyTagger, DetectorAddsWhatTheTaggerIsSureOf) {
  // A lower-case town after a locating cue: the recognizers take only capitalised places.
  DetectorOptions rules_only;
  rules_only.use_tagger = false;
  EXPECT_TRUE(Detector(rules_only).detect("my sister talon lives in terrace now").empty());
  EXPECT_EQ(found("my sister talon lives in terrace now"), V{"ADDRESS:terrace"});
  // Structured types are the recognizers' alone.
  EXPECT_EQ(found("Mail anna@example.com or call +49 30 12345678."), (V{"EMAIL:anna@example.com", "PHONE:+49 30 12345678"}));
}

TEST(PrivacyTagger, BadModelFileIsAClearError) {
  const std::string header = "pii-tagger 1 bits=8 tags=O,B-PER,I-PER,B-LOC,I-LOC scale=0.5 rows=1\n";
  EXPECT_NE(expect_error("").find("first line"), std::string::npos);
  EXPECT_NE(expect_error("word-model 1 bits=17\n").find("first line"), std::string::npos);
  EXPECT_NE(expect_error("pii-tagger 1 bits=8 tags=O,B-PER scale=0.5 rows=0\n").find("tags must be"), std::string::npos);
  EXPECT_NE(expect_error("pii-tagger 1 bits=40 tags=O,B-PER,I-PER,B-LOC,I-LOC scale=0.5 rows=0\n").find("bits"), std::string::npos);
  EXPECT_NE(expect_error(header + "3 1 2 3 4\n").find("line 2"), std::string::npos);
  EXPECT_NE(expect_error(header + "3 1 2 3 4 x\n").find("line 2"), std::string::npos);
  EXPECT_NE(expect_error(header + "3 1 2 3 4 5 6\n").find("more than 6"), std::string::npos);
  EXPECT_NE(expect_error(header + "3 1 2 3 4 40000\n").find("line 2"), std::string::npos);
  EXPECT_NE(expect_error(header + "256 1 2 3 4 5\n").find("out of range"), std::string::npos);
  EXPECT_NE(expect_error(header + "3 1 2 3 4 5\n4 1 1 1 1 1\n").find("says 1 rows, the file has 2"), std::string::npos);
  // A good one reads back to the same text.
  TaggerModel m = parse_tagger_model(header + "3 1 -2 3 -4 32767\n");
  EXPECT_EQ(m.weights[3 * kTagCount + 4], 32767);
  EXPECT_EQ(format_tagger_model(m), header + "3 1 -2 3 -4 32767\n");
}

TEST(PrivacyTagger, TrainingIsDeterministicAndLearnsItsData) {
  const std::vector<std::pair<std::string, Finding>> data = {
      {"my friend zorblat called", {PiiType::Person, 10, 17, 1}},
      {"we moved to quimbly last year", {PiiType::Address, 12, 19, 1}},
      {"my friend vantrix called", {PiiType::Person, 10, 17, 1}},
      {"we moved to oskelan last year", {PiiType::Address, 12, 19, 1}},
  };
  std::vector<TaggerExample> examples;
  for (const auto& [text, gold] : data) examples.push_back(make_tagger_example(text, {gold}, {}, 12));
  EXPECT_EQ(examples[0].gold, (std::vector<Tag>{Tag::O, Tag::O, Tag::BeginPerson, Tag::O}));
  TaggerTraining options;
  options.bits = 12;
  options.epochs = 5;
  TaggerModel a = train_tagger(examples, options), b = train_tagger(examples, options);
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_EQ(a.scale, b.scale);
  for (const TaggerExample& ex : examples) EXPECT_EQ(tag_tokens(a, ex.features), ex.gold);
  // The text form reads back to the same model.
  EXPECT_EQ(parse_tagger_model(format_tagger_model(a)).weights, a.weights);
}

TEST(PrivacySynthSet, DevPartStaysAtTheReachedLevels) {
  // Templates and cues the tagger never trained on. Reached: 80.2% of the messages with personal
  // data flagged (the recognizers alone: 69.0%), 9.5% of the clean ones (alone: 7.1%), PERSON
  // recall 0.752, ADDRESS 0.614; held less about one message's margin.
  auto set = load_labelled_set(tandem::test::source_dir() + "/tests/data/pii-synth/dev");
  ASSERT_GE(set.size(), 600u);
  EvalReport rep = evaluate(tandem::test::shared_detector(), set);
  EXPECT_GE(double(rep.with_pii_flagged) / rep.with_pii, 0.795);
  EXPECT_LE(double(rep.clean_flagged) / rep.clean, 0.10);
  EXPECT_GE(rep.per_type[PiiType::Person].recall(), 0.745);
  EXPECT_GE(rep.per_type[PiiType::Address].recall(), 0.60);
  for (PiiType t : all_pii_types()) {
    const Score& s = rep.per_type[t];
    if (is_structured(t) && s.tp + s.fn > 0) {
      EXPECT_GE(s.recall(), 0.95) << pii_type_name(t);
    }
  }
}
