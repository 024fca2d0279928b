// Every byte that leaves is checked: the body an endpoint receives is built from an allow-list of
// fields (edge/outbound.h), each text among those the privacy check sees, so personal data in
// `user`, `stop`, `session`, a message's `name`, content parts or `metadata` never crosses the
// wire — and a field the parser learns to accept fails the coverage test until it has a treatment.
// The output's structure (response_format, json_schema, grammar) leaves unchanged or not at all.
#include <gtest/gtest.h>

#include <set>

#include "edge/outbound.h"
#include "edge/speculative_runner.h"
#include "privacy/guard.h"
#include "protocol/openai.h"
#include "edge_privacy_util.h"

using namespace tandem;
using namespace tandem::edge;
using test::json;

namespace {

// A schema with no personal data in it (the structure fields are sent as they are).
json clean_schema() {
  return {{"type", "object"}, {"properties", {{"colour", {{"enum", {"red", "blue"}}}}}}, {"required", {"colour"}}};
}

// A chat request with every field the parser accepts set to a valid value, each text carrying
// its own email address (field-NAME@example.com).
json full_chat_request() {
  auto mail = [](const std::string& field) { return field + "-field@example.com"; };
  return {{"model", "m"},
          {"messages", json::array({{{"role", "system"}, {"content", "Be brief. Owner " + mail("system")}},
                                    {{"role", "user"}, {"name", mail("name")},
                                     {"content", json::array({{{"type", "text"}, {"text", "Part one " + mail("part")}},
                                                              {{"type", "text"}, {"text", " and two."}}})}},
                                    {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", json::array()}},
                                    {{"role", "tool"}, {"tool_call_id", mail("toolcall")}, {"content", "Result " + mail("tool")}},
                                    {{"role", "user"}, {"content", "Write a story."}}})},
          {"max_tokens", 4}, {"max_completion_tokens", 4}, {"temperature", 0.5}, {"top_p", 0.9}, {"top_k", 5},
          {"min_p", 0.0}, {"repeat_penalty", 1.1}, {"repeat_last_n", 32}, {"seed", 7},
          {"stop", json::array({mail("stop")})}, {"stream", true}, {"stream_options", {{"include_usage", true}}},
          {"n", 1}, {"presence_penalty", 0}, {"frequency_penalty", 0}, {"logit_bias", json::object()},
          {"user", mail("user")}, {"session", mail("session")}, {"ignore_eos", false}, {"logprobs", true},
          {"top_logprobs", 2}, {"response_format", {{"type", "text"}}}, {"json_schema", clean_schema()},
          {"grammar", ""}, {"tools", json::array()},
          {"tool_choice", "none"}, {"parallel_tool_calls", false}, {"store", true},
          {"metadata", {{"owner", mail("metadata")}}}, {"service_tier", "auto"}};
}

json full_completion_request() {
  return {{"model", "m"}, {"prompt", "Mail prompt-field@example.com"}, {"max_tokens", 4}, {"temperature", 0.5},
          {"top_p", 0.9}, {"top_k", 5}, {"min_p", 0.0}, {"repeat_penalty", 1.1}, {"repeat_last_n", 32},
          {"seed", 7}, {"stop", "stop-field@example.com"}, {"stream", true},
          {"stream_options", {{"include_usage", true}}}, {"n", 1}, {"presence_penalty", 0},
          {"frequency_penalty", 0}, {"logit_bias", json::object()}, {"user", "user-field@example.com"},
          {"session", "session-field@example.com"}, {"ignore_eos", false}, {"logprobs", 2}, {"echo", false},
          {"best_of", 1}, {"suffix", ""}, {"response_format", {{"type", "text"}}}, {"json_schema", clean_schema()},
          {"grammar", ""}};
}

void collect_strings(const json& j, std::vector<std::string>& out) {
  if (j.is_string()) out.push_back(j.get<std::string>());
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it) {
      out.push_back(it.key());
      collect_strings(it.value(), out);
    }
  if (j.is_array())
    for (const auto& x : j) collect_strings(x, out);
}

bool has_rule(const std::vector<FieldRule>& rules, const std::string& field) {
  for (const auto& r : rules)
    if (r.field == field) return true;
  return false;
}

}  // namespace

// The parser's accepted fields, each with a treatment; the full requests set every one of them
// (so a new accepted field fails here until it is both in the sample and in the table), and the
// outbound body built from them under standard carries no address at all, in values or keys.
TEST(EdgeOutbound, EveryAcceptedFieldHasATreatment) {
  for (bool chat : {true, false}) {
    SCOPED_TRACE(chat ? "chat" : "completions");
    const json full = chat ? full_chat_request() : full_completion_request();
    ASSERT_NO_THROW(protocol::parse_completion_request(full, chat, 1000));
    std::set<std::string> sample;
    for (auto it = full.begin(); it != full.end(); ++it) sample.insert(it.key());
    EXPECT_EQ(sample, protocol::accepted_request_fields(chat)) << "the full request must set every accepted field";
    for (const auto& f : protocol::accepted_request_fields(chat))
      EXPECT_TRUE(has_rule(request_field_rules(chat), f)) << "no treatment for the accepted field '" << f << "'";
    for (const auto& f : protocol::accepted_message_fields())
      EXPECT_TRUE(has_rule(message_field_rules(), f)) << "no treatment for the message field '" << f << "'";

    const std::vector<std::string> texts = outbound_texts(full, chat);
    privacy::Guard guard;
    privacy::PlaceholderMap map;
    const privacy::GuardResult r = guard.check(texts, privacy::PrivacyLevel::Standard, map);
    ASSERT_EQ(r.decision, privacy::Decision::Redact);
    const json out = outbound_body(full, chat, r.texts);
    std::vector<std::string> strings;
    collect_strings(out, strings);
    for (const auto& s : strings) EXPECT_EQ(s.find('@'), std::string::npos) << s << " in " << out.dump();
    // What must not go at all: the app's labels, storage, and fields the gateway sets itself.
    for (const char* dropped : {"metadata", "store", "model", "max_completion_tokens", "tools", "echo", "suffix"})
      EXPECT_FALSE(out.contains(dropped)) << dropped;
    EXPECT_EQ(out["temperature"], 0.5);
    // The output's structure leaves as the app sent it.
    EXPECT_EQ(out["json_schema"], clean_schema());
    EXPECT_EQ(out["response_format"], full["response_format"]);
    EXPECT_EQ(out["stop"].dump().find("[EMAIL_"), 1u + (chat ? 1 : 0)) << out.dump();  // "[EMAIL_n]" or ["[EMAIL_n]"]
  }
  // Unknown fields (inside messages too) are dropped; a string where a number belongs is too.
  const json odd = {{"messages", json::array({{{"role", "user"}, {"content", "hi"}, {"secret", "x@y.org"}}})},
                    {"future_field", "x@y.org"}, {"temperature", "x@y.org"}};
  const json out = outbound_body(odd, true, outbound_texts(odd, true));
  EXPECT_EQ(out, json({{"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}})) << out.dump();
}

// A prompt of token ids is checked as its text, and sent as the redacted text when that changed.
TEST(EdgeOutbound, TokenPromptsAreCheckedAsText) {
  const json body = {{"prompt", json::array({5, 6, 7})}, {"max_tokens", 3}};
  const std::vector<std::string> texts = outbound_texts(body, false, "mail a@b.org");
  ASSERT_EQ(texts, std::vector<std::string>{"mail a@b.org"});
  EXPECT_EQ(outbound_body(body, false, texts, "mail a@b.org")["prompt"], json::array({5, 6, 7}));
  EXPECT_EQ(outbound_body(body, false, {"mail [EMAIL_1]"}, "mail a@b.org")["prompt"], "mail [EMAIL_1]");
}

namespace {

// One request per field, clean but for that field's address, to a real tandem serve.
std::vector<std::pair<std::string, json>> field_cases() {
  const json clean = json::array({{{"role", "user"}, {"content", "Tell me a story about a cat."}}});
  std::vector<std::pair<std::string, json>> cases;
  auto with = [&](const std::string& name, const std::function<void(json&)>& set) {
    json body = {{"messages", clean}, {"max_tokens", 4}};
    set(body);
    cases.emplace_back(name, body);
  };
  with("user", [](json& b) { b["user"] = "john.smith@example.com"; });
  with("stop", [](json& b) { b["stop"] = json::array({"john.smith@example.com"}); });
  with("session", [](json& b) { b["session"] = "john.smith@example.com"; });
  with("metadata", [](json& b) { b["metadata"] = {{"owner", "john.smith@example.com"}}; });
  with("name", [](json& b) { b["messages"][0]["name"] = "john.smith@example.com"; });
  with("content parts", [](json& b) {
    // The address split across two parts is still one address.
    b["messages"][0]["content"] = json::array({{{"type", "text"}, {"text", "Tell me a story about john.smith@"}},
                                               {{"type", "text"}, {"text", "example.com."}}});
  });
  with("system", [](json& b) {
    b["messages"].insert(b["messages"].begin(), json{{"role", "system"}, {"content", "Owner: john.smith@example.com"}});
  });
  return cases;
}

}  // namespace

// On the wire, through netsim to a real tandem serve: at standard each field's address is
// replaced (and the request is answered); at strict without consent nothing of it leaves.
TEST(EdgePrivacyFields, EveryFieldIsCheckedOnTheWire) {
  TANDEM_REQUIRE_FILE(test::model_path("stories260K-q4_0.gguf"));
  test::WireFixture f({}, test::Upstream::Serve);
  for (const auto& [name, body] : field_cases()) {
    SCOPED_TRACE(name);
    json standard = body;
    standard["tandem"] = {{"privacy", "standard"}};
    auto [status, j] = f.post("/v1/chat/completions", standard);
    ASSERT_EQ(status, 200) << j.dump();
    EXPECT_EQ(j["tandem"]["route"], "CLOUD") << j["tandem"].dump();
    EXPECT_EQ(j["tandem"]["served_by"], "echo") << j["tandem"].dump();
    // (metadata is not sent at all, so there is nothing in it to redact)
    EXPECT_EQ(j["tandem"]["privacy"]["redacted"].value("EMAIL", 0), name == "metadata" ? 0 : 1) << j["tandem"].dump();
    json strict = body;
    strict["tandem"] = {{"privacy", "strict"}};
    strict["messages"].back()["content"] = "A strict request about an owl.";
    auto [s2, j2] = f.post("/v1/chat/completions", strict);
    ASSERT_EQ(s2, 200) << j2.dump();
    EXPECT_EQ(j2["tandem"]["route"], "LOCAL");
  }
  // Every field at once (the full request, less what serve refuses to answer with: tool turns).
  json full = full_chat_request();
  full["messages"].erase(3);
  full["tandem"] = {{"privacy", "standard"}};
  full["stream"] = false;
  full.erase("stream_options");
  auto [status, j] = f.post("/v1/chat/completions", full);
  ASSERT_EQ(status, 200) << j.dump();
  EXPECT_EQ(j["tandem"]["route"], "CLOUD") << j["tandem"].dump();
  const std::string wire = f.wire();
  ASSERT_NE(wire.find("Tell me a story about a cat."), std::string::npos);
  EXPECT_EQ(wire.find('@'), std::string::npos) << wire;
  EXPECT_EQ(wire.find("strict request"), std::string::npos) << "a strict request crossed the wire";
  EXPECT_NE(wire.find("[EMAIL_1]"), std::string::npos);
}

// CASCADE and PEER send the same checked body as CLOUD.
TEST(EdgePrivacyFields, CascadeAndPeerSendTheRedactedBody) {
  TANDEM_REQUIRE_FILE(test::model_path("stories260K-q4_0.gguf"));
  const std::string prompt = "Mail jane.doe@example.org about the cat.";
  for (const char* policy : {"cascade", "peer"}) {
    SCOPED_TRACE(policy);
    test::WireFixture f([&](EdgeConfig& c) {
      c.policy = *parse_policy(policy);
      c.cascade_min_logprob = 1;  // no device answer is confident enough: the cloud answers
      if (std::string(policy) == "peer") {
        c.peers = c.clouds;
        c.peers[0].peer = true;
        c.clouds.clear();
      }
    });
    auto [status, j] = f.post("/v1/completions", {{"prompt", prompt}, {"max_tokens", 8}, {"user", "bob@example.net"},
                                                  {"tandem", {{"privacy", "standard"}}}});
    ASSERT_EQ(status, 200) << j.dump();
    EXPECT_EQ(j["tandem"]["route"], std::string(policy) == "peer" ? "PEER" : "CASCADE") << j["tandem"].dump();
    EXPECT_EQ(j["choices"][0]["text"], "You said: " + prompt);
    const std::string wire = f.wire();
    EXPECT_NE(wire.find("Mail [EMAIL_1] about the cat."), std::string::npos) << wire;
    EXPECT_EQ(wire.find('@'), std::string::npos) << wire;
  }
}

// SPECULATIVE sends the device's rendering of the prompt as tokens, not the checked body: a
// request that must leave redacted is sent as a plain cloud call instead, while a clean one is
// still speculated.
TEST(EdgePrivacyFields, RedactedRequestsAreNotSpeculated) {
  TANDEM_REQUIRE_FILE(test::model_path("stories260K-q4_0.gguf"));
  SpeculativeRunnerConfig sc;
  sc.n_threads = 1;
  sc.draft_max = 4;
  test::WireFixture f([](EdgeConfig& c) { c.policy = Policy::Speculative; }, test::Upstream::Serve,
                      std::make_shared<VerifySpeculativeRunner>(sc));
  auto [s1, clean] = f.post("/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 8},
                                                {"tandem", {{"privacy", "standard"}}}});
  ASSERT_EQ(s1, 200) << clean.dump();
  EXPECT_EQ(clean["tandem"]["route"], "SPECULATIVE") << clean["tandem"].dump();
  auto [s2, pii] = f.post("/v1/completions", {{"prompt", "Once upon a time jane.doe@example.org"}, {"max_tokens", 8},
                                              {"tandem", {{"privacy", "standard"}}}});
  ASSERT_EQ(s2, 200) << pii.dump();
  EXPECT_EQ(pii["tandem"]["route"], "CLOUD") << pii["tandem"].dump();
  const auto reasons = pii["tandem"]["reasons"].dump();
  EXPECT_NE(reasons.find("speculation:redacted"), std::string::npos) << reasons;
  const std::string wire = f.wire();
  EXPECT_NE(wire.find("Once upon a time [EMAIL_1]"), std::string::npos);
  EXPECT_EQ(wire.find('@'), std::string::npos);
}

// The output's structure (response_format, json_schema, grammar) is checked like any text —
// every key and string value of a schema, a grammar's whole text — and marked as structure, so
// the orchestrator can tell a finding inside it from one in the conversation.
TEST(EdgeOutbound, StructureStringsAreCheckedAndMarked) {
  const json schema = {{"type", "object"}, {"description", "Owner x@y.org"}, {"properties", {{"a", {{"const", "b"}}}}}};
  const json body = {{"prompt", "hello"}, {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "n"}, {"schema", schema}}}}}};
  const std::vector<std::string> texts = outbound_texts(body, false);
  const std::vector<bool> structure = outbound_structure(body, false);
  ASSERT_EQ(texts.size(), structure.size());
  EXPECT_EQ(texts.front(), "hello");
  EXPECT_FALSE(structure.front());
  int marked = 0;
  bool saw_owner = false;
  for (size_t i = 0; i < texts.size(); ++i) {
    marked += structure[i];
    if (texts[i] == "Owner x@y.org") saw_owner = structure[i];
  }
  EXPECT_TRUE(saw_owner);
  EXPECT_EQ(marked, int(texts.size()) - 1);  // every string but the prompt
  EXPECT_EQ(outbound_body(body, false, texts), body);  // unchanged texts: the body as sent
  const json gbnf = {{"prompt", "hi"}, {"grammar", "root ::= \"x@y.org\""}};
  EXPECT_EQ(outbound_texts(gbnf, false), (std::vector<std::string>{"hi", "root ::= \"x@y.org\""}));
  EXPECT_EQ(outbound_structure(gbnf, false), (std::vector<bool>{false, true}));
  // A published dialect's address in $schema (the OpenAI SDK's zod helper adds one) is public,
  // not checked; any other $schema value is.
  const json dialect = {{"prompt", "hi"}, {"json_schema", {{"$schema", "http://json-schema.org/draft-07/schema#"}}}};
  EXPECT_EQ(outbound_texts(dialect, false), (std::vector<std::string>{"hi", "$schema"}));
  EXPECT_EQ(outbound_body(dialect, false, {"hi", "$schema"}), dialect);
  const json other = {{"prompt", "hi"}, {"json_schema", {{"$schema", "http://x.org/?u=a@b.org"}}}};
  EXPECT_EQ(outbound_texts(other, false).back(), "http://x.org/?u=a@b.org");
}

// What an endpoint gets of the structure is the app's text, keys in the written order (a parsed
// body sorts them); a written form that differs from the outbound value is not used.
TEST(EdgeOutbound, StructureGoesInTheWrittenOrder) {
  const std::string raw =
      R"({"prompt":"hi","tandem":{"route":"cloud"},"json_schema":{"properties":{"z":{"type":"string"},"a":{"type":"integer"}}}})";
  const json body = json::parse(raw);
  const json out = outbound_body(body, false, outbound_texts(body, false));
  const auto written = written_structure(out, false, raw);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written.at("json_schema"), R"({"properties":{"z":{"type":"string"},"a":{"type":"integer"}}})");
  EXPECT_EQ(json::parse(written.at("json_schema")), out["json_schema"]);
  // Only a value equal to what the check passed goes as written.
  json changed = out;
  changed["json_schema"]["properties"]["z"]["type"] = "number";
  EXPECT_TRUE(written_structure(changed, false, raw).empty());
  EXPECT_TRUE(written_structure(out, false, "").empty());
}

namespace {

json constrained_chat(const json& schema, const std::string& level, const std::string& content = "Tell me about a cat.") {
  return {{"messages", json::array({{{"role", "user"}, {"content", content}}})},
          {"max_tokens", 40},
          {"temperature", 0},
          {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "pet"}, {"schema", schema}}}}},
          {"tandem", {{"privacy", level}}}};
}

json pet_schema(const std::string& description) {
  return {{"type", "object"},
          {"description", description},
          {"properties", {{"pet", {{"enum", {"cat", "dog"}}}}}},
          {"required", {"pet"}},
          {"additionalProperties", false}};
}

bool has(const json& reasons, const std::string& r) {
  for (const auto& x : reasons)
    if (x == r) return true;
  return false;
}

}  // namespace

// On the wire, to a real tandem serve that honours the constraint: a schema goes as the app sent
// it (the conversation redacted around it under standard); personal data inside the schema keeps
// the request on the device under standard (and under strict even with consent), since a
// placeholder would change the schema; open sends it as it is. Each answer is the schema's JSON.
TEST(EdgePrivacyFields, StructureLeavesUnchangedOrNotAtAll) {
  TANDEM_REQUIRE_FILE(test::model_path("stories260K-q4_0.gguf"));
  test::WireFixture f({}, test::Upstream::Serve);
  const json clean = pet_schema("The pet a story is about.");
  const json personal = pet_schema("The pet of marta.kowalska@example.com");
  auto answer_is_pet = [](const json& j) {
    const json out = json::parse(j["choices"][0]["message"]["content"].get<std::string>(), nullptr, false);
    EXPECT_TRUE(out.is_object() && (out.value("pet", "") == "cat" || out.value("pet", "") == "dog")) << j.dump();
  };
  // Standard: the message's address is redacted, the schema leaves unchanged, the cloud answers.
  auto [s1, j1] = f.post("/v1/chat/completions", constrained_chat(clean, "standard", "A cat of bob@example.net."));
  ASSERT_EQ(s1, 200) << j1.dump();
  EXPECT_EQ(j1["tandem"]["route"], "CLOUD") << j1["tandem"].dump();
  EXPECT_EQ(j1["tandem"]["served_by"], "echo");
  answer_is_pet(j1);
  // Standard, personal data in the schema: not sent at all, answered on the device.
  auto [s2, j2] = f.post("/v1/chat/completions", constrained_chat(personal, "standard"));
  ASSERT_EQ(s2, 200) << j2.dump();
  EXPECT_EQ(j2["tandem"]["route"], "LOCAL") << j2["tandem"].dump();
  EXPECT_TRUE(has(j2["tandem"]["reasons"], "privacy:pii_in_structure")) << j2["tandem"].dump();
  EXPECT_EQ(j2["tandem"]["data_left_device"], false);
  answer_is_pet(j2);
  // A grammar's literal counts the same.
  json gbnf = constrained_chat(clean, "standard");
  gbnf.erase("response_format");
  gbnf["grammar"] = R"(root ::= "{\"owner\":\"marta.kowalska@example.com\"}")";
  auto [s3, j3] = f.post("/v1/chat/completions", gbnf);
  ASSERT_EQ(s3, 200) << j3.dump();
  EXPECT_TRUE(has(j3["tandem"]["reasons"], "privacy:pii_in_structure")) << j3["tandem"].dump();
  EXPECT_EQ(j3["choices"][0]["message"]["content"], "{\"owner\":\"marta.kowalska@example.com\"}");
  // Strict with consent leaves redacted as under standard: not with this schema. Without
  // consent the answer does not claim that consent would send it.
  json consented = constrained_chat(personal, "strict");
  consented["tandem"]["consent"] = true;
  auto [s4, j4] = f.post("/v1/chat/completions", consented);
  ASSERT_EQ(s4, 200) << j4.dump();
  EXPECT_TRUE(has(j4["tandem"]["reasons"], "privacy:pii_in_structure")) << j4["tandem"].dump();
  auto [s5, j5] = f.post("/v1/chat/completions", constrained_chat(personal, "strict"));
  ASSERT_EQ(s5, 200) << j5.dump();
  EXPECT_EQ(j5["tandem"]["route"], "LOCAL");
  EXPECT_FALSE(j5["tandem"]["privacy"].contains("with_consent")) << j5["tandem"].dump();
  // Open sends what the app wrote.
  auto [s6, j6] = f.post("/v1/chat/completions", constrained_chat(personal, "open"));
  ASSERT_EQ(s6, 200) << j6.dump();
  EXPECT_EQ(j6["tandem"]["route"], "CLOUD") << j6["tandem"].dump();
  answer_is_pet(j6);

  const std::string wire = f.wire();
  EXPECT_EQ(wire.find("bob@"), std::string::npos) << wire;
  EXPECT_NE(wire.find("The pet a story is about."), std::string::npos);  // the clean schema, as sent
  EXPECT_NE(wire.find("\"response_format\""), std::string::npos);
  // Only the open request carried the schema's address.
  size_t n = 0;
  for (size_t at = wire.find("marta.kowalska@"); at != std::string::npos; at = wire.find("marta.kowalska@", at + 1)) ++n;
  EXPECT_EQ(n, 1u) << wire;
}
