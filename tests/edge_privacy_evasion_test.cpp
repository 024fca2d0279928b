// Look-alike characters do not carry personal data past the check: numbers written with other
// spaces (no-break, narrow no-break, thin), Unicode dashes, full-width digits or dots, and values
// split by invisible characters are found on the folded text (privacy/normalize.h) and redacted
// over their whole original span — on the wire, at standard and at strict with consent — while
// the answer restores them as written.
#include <gtest/gtest.h>

#include "edge_privacy_util.h"
#include "privacy/normalize.h"

using namespace tandem;
using namespace tandem::edge;
using test::json;

namespace {

struct Evasion {
  const char* name;
  std::string value;
  const char* type;  // its placeholder's type
};

const std::vector<Evasion>& evasions() {
  static const std::vector<Evasion> v = {
      {"no-break space phone", "+33\u00A06\u00A012\u00A034\u00A056\u00A078", "PHONE"},
      {"thin space phone", "+49\u200930\u200912345678", "PHONE"},
      {"narrow no-break space card", "4111\u202F1111\u202F1111\u202F1111", "CREDIT_CARD"},
      {"en dash phone", "+49\u201330\u201312345678", "PHONE"},
      {"minus sign phone", "030\u221212345678", "PHONE"},
      {"full-width card", "\uFF14\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11", "CREDIT_CARD"},
      {"full-width phone", "\uFF0B\uFF14\uFF19 \uFF13\uFF10 \uFF11\uFF12\uFF13\uFF14\uFF15\uFF16\uFF17\uFF18", "PHONE"},
      {"dotted card", "4111.1111.1111.1111", "CREDIT_CARD"},
      {"zero-width split card", "4111\u200B1111\u200C1111\u200D1111", "CREDIT_CARD"},
      {"zero-width split email", "jane\u200B.doe@exam\u2060ple.org", "EMAIL"},
      {"soft hyphen email", "john.sm\u00ADith@example.com", "EMAIL"},
      {"full-width at email", "jane.doe\uFF20example\uFF0Eorg", "EMAIL"},
      {"byte order mark card", "4111 1111\uFEFF 1111 1111", "CREDIT_CARD"},
  };
  return v;
}

// The value as the recognizers see it, without separators: what must not reach the wire.
std::string folded_core(const std::string& value) {
  std::string core;
  for (char c : privacy::normalize_for_detection(value).text)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '@') core += c;
  return core;
}

}  // namespace

TEST(EdgePrivacyEvasion, LookAlikeCharactersAreRedactedOnTheWire) {
  TANDEM_REQUIRE_FILE(test::model_path("stories260K-q4_0.gguf"));
  test::WireFixture f;
  const std::vector<json> levels = {{{"privacy", "standard"}}, {{"privacy", "strict"}, {"consent", true}}};
  for (const auto& e : evasions()) {
    SCOPED_TRACE(e.name);
    const std::string prompt = "Please note " + e.value + " for later.";
    for (const json& level : levels) {
      SCOPED_TRACE(level.dump());
      for (bool stream : {false, true}) {
        const auto [text, tandem] = f.ask({{"prompt", prompt}, {"max_tokens", 8}, {"tandem", level}}, stream);
        EXPECT_EQ(text, "You said: " + prompt);
        EXPECT_EQ(tandem["privacy"]["redacted"][e.type], 1) << tandem.dump();
      }
    }
  }
  const std::string wire = f.wire();
  std::string wire_core;  // the wire's letters, digits and @, to catch a value split by anything
  for (char c : wire)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '@') wire_core += c;
  for (const auto& e : evasions()) {
    SCOPED_TRACE(e.name);
    // The whole value went, invisible characters and all: the sentence around it is intact.
    EXPECT_NE(wire.find("Please note [" + std::string(e.type) + "_1] for later."), std::string::npos);
    EXPECT_EQ(wire.find(e.value), std::string::npos);
    EXPECT_EQ(wire_core.find(folded_core(e.value)), std::string::npos) << folded_core(e.value);
  }
  EXPECT_EQ(wire.find('@'), std::string::npos);
}
