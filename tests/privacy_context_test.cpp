// Names found by the context around them (a form's label, a verb that takes a person, a
// possessive or case ending, a greeting, a sign-off), and products, teams and tech words in the
// same positions that are not persons: the word model takes them for words, or CamelCase makes
// them brands. Also the set of tricky clean messages (tests/data/pii-independent/clean-extra.jsonl).
#include <gtest/gtest.h>

#include "privacy/evaluation.h"
#include "privacy_test_util.h"
#include "test_util.h"

using namespace tandem::privacy;
using tandem::test::found;
using V = std::vector<std::string>;

TEST(PrivacyContext, FormLabelsInNineLanguages) {
  EXPECT_EQ(found("Patient: Gwendolyn Price"), V{"PERSON:Gwendolyn Price"});
  EXPECT_EQ(found("Imię i nazwisko: Jan Kowalski"), V{"PERSON:Jan Kowalski"});
  EXPECT_EQ(found("Ad Soyad: Mehmet Yılmaz"), V{"PERSON:Mehmet Yılmaz"});
  EXPECT_EQ(found("Nom : Camille Durand"), V{"PERSON:Camille Durand"});
  EXPECT_EQ(found("Naam: Pieter Jansen"), V{"PERSON:Pieter Jansen"});
}

TEST(PrivacyContext, PersonVerbsPossessivesGreetingsAndSignoffs) {
  EXPECT_EQ(found("Please congratulate Thandiwe on the launch."), V{"PERSON:Thandiwe"});
  EXPECT_EQ(found("Can you ask Priya's manager?"), V{"PERSON:Priya"});
  EXPECT_EQ(found("Ayşe'ye sor."), V{"PERSON:Ayşe"});
  EXPECT_EQ(found("Pozdrawiam,\nGrzegorz"), V{"PERSON:Grzegorz"});
  EXPECT_EQ(found("our new intern is kwabena asante"), V{"PERSON:kwabena asante"});
  // A particle joins name words, not a sentence's verb to a name.
  EXPECT_EQ(found("Hast du Jonas Brandt schon geantwortet?"), V{"PERSON:Jonas Brandt"});
  EXPECT_EQ(found("Kannst du Sabine sagen, dass ich später komme?"), V{"PERSON:Sabine"});
  // A sentence's first word with a word's letters is not part of the name after it.
  EXPECT_EQ(found("Notify Sven Åkesson that the server is down."), V{"PERSON:Sven Åkesson"});
  EXPECT_EQ(found("Happy birthday, Xiomara!"), V{"PERSON:Xiomara"});
  EXPECT_EQ(found("Selin Hanım'a rapor gönder."), V{"PERSON:Selin"});
}

TEST(PrivacyContext, NamesJoinedByAndToAName) {
  EXPECT_EQ(found("I'm meeting Radhika and Tomasz for dinner tonight."), (V{"PERSON:Radhika", "PERSON:Tomasz"}));
  // Not a company before "and", nor products beside a name.
  EXPECT_EQ(found("The contract is between ACME Corp and Nikolai Petrov."), V{"PERSON:Nikolai Petrov"});
  EXPECT_EQ(found("We use Postgres and Redis with Anna."), V{"PERSON:Anna"});
}

TEST(PrivacyContext, ProductsAndTeamsInPersonPositionsAreNotPersons) {
  for (const char* text : {"Can you ask Slack support why the Jira integration stopped posting?",
                           "Call Zendesk about ticket 88213 and email Stripe about the refund.",
                           "Thanks, Copilot suggested a fix.", "Send the deck to GitHub's team.",
                           "Please forward the invoice to Accounts Payable by Friday.",
                           "Il server gira su Debian Bookworm.", "Invite Datadog and Sentry to the review.",
                           "Customer: Acme Logistics GmbH", "Client: Northwind Traders",
                           "Text Editor crashed again after the update."})
    EXPECT_EQ(found(text), V{}) << text;
}

TEST(PrivacyContext, TrickyCleanMessagesAreMostlyLeftAlone) {
  // 30 clean messages written before measuring; 2 are still flagged ("... then to Cassandra for the
  // cache", "Tell Grafana to alert": a listed given name, a name-like product after a verb).
  EvalReport rep = evaluate(Detector(), load_labelled_set(tandem::test::source_dir() +
                                                          "/tests/data/pii-independent/clean-extra.jsonl"));
  EXPECT_EQ(rep.clean, 30);
  EXPECT_LE(rep.clean_flagged, 2);
}
