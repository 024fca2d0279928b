// Structured outputs on tandem serve: /v1/completions and /v1/chat/completions under
// response_format (json_object, json_schema), llama.cpp's raw json_schema and grammar (GBNF),
// streamed and not, on a real server over loopback. Every JSON output is judged by an independent
// validator (Debian's python3-fastjsonschema, tests/grammar_validate.py) and every GBNF output by
// a std::regex written for it; bad constraints are 400s naming the field and the problem's
// location; /metrics counts constrained requests and forced tokens; and a volume run through the
// scheduler's batches on stories260K and on a random-weights model with Llama 3's BPE vocabulary.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "serve_test_util.h"

using namespace tandem;
using namespace tandem::test;

namespace {

// Request bodies keep their keys in written order, as clients send them: a schema's property order
// is the order of the output's properties.
using ojson = nlohmann::ordered_json;

const char* kModel = "stories260K-f32.gguf";
constexpr int kMaxTokens = 256;

// chatml (the shared models have no chat template), and room for a long prompt and kMaxTokens
// beyond stories260K's 128 positions: the grammar, not the text's quality, is under test.
void configure(serve::ServerConfig& c) {
  c.chat_template = "chatml";
  c.sched.n_ctx = 384;
}

// A person: bounded strings and numbers, so that a generation always ends well within max_tokens.
const ojson kPerson = ojson::parse(R"({"type": "object", "properties": {
    "name": {"type": "string", "maxLength": 12},
    "age": {"type": "integer", "minimum": 0, "maximum": 120},
    "pets": {"type": "array", "items": {"enum": ["dog", "cat", "bird"]}, "maxItems": 3}},
  "required": ["name", "age", "pets"], "additionalProperties": false})");

// GBNF grammars with a regular expression for the same language (written independently of the
// grammar engine, to judge its outputs).
struct GbnfCase {
  const char* gbnf;
  const char* regex;
};
const GbnfCase kGbnf[] = {
    {"root ::= \"(\" word (\",\" num){0,3} \")\"\nword ::= [a-z]{1,8}\nnum ::= [0-9]{1,3}\n",
     R"(\([a-z]{1,8}(,[0-9]{1,3}){0,3}\))"},
    {"root ::= (\"- \" [a-z ]{1,12} \"\\n\"){1,3}\n", R"((- [a-z ]{1,12}\n){1,3})"},
    {"root ::= (\"yes\" | \"no\" | \"maybe\") (\".\" | \"!\")\n", R"((yes|no|maybe)[.!])"},
    {"root ::= [0-9]{4} \"-\" [0-1] [0-9] \"-\" [0-3] [0-9]\n", R"([0-9]{4}-[01][0-9]-[0-3][0-9])"},
    {"root ::= \"The \" animal \" is \" [a-z]{1,10} \".\"\nanimal ::= \"dog\" | \"cat\" | \"bird\"\n",
     R"(The (dog|cat|bird) is [a-z]{1,10}\.)"},
};

ojson load_schemas() {
  std::ifstream in(source_dir() + "/tests/data/grammar/schemas.json");
  return ojson::parse(in);
}

// The four ways a request asks for a constraint, applied to a body.
enum class Form { JsonObject, ResponseFormatSchema, RawJsonSchema, JsonObjectWithSchema, Gbnf };

void constrain(ojson& body, Form form, const ojson& schema, const std::string& gbnf = "") {
  switch (form) {
    case Form::JsonObject: body["response_format"] = {{"type", "json_object"}}; break;
    case Form::ResponseFormatSchema:
      body["response_format"] = {{"type", "json_schema"},
                                 {"json_schema", {{"name", "answer"}, {"strict", true}, {"schema", schema}}}};
      break;
    case Form::RawJsonSchema: body["json_schema"] = schema; break;
    case Form::JsonObjectWithSchema: body["response_format"] = {{"type", "json_object"}, {"schema", schema}}; break;
    case Form::Gbnf: body["grammar"] = gbnf; break;
  }
}

struct Answer {
  int status = 0;
  std::string text, finish;
  int completion_tokens = -1;
  json error;
};

// One completion (chat or not, streamed or not) of `body`, which holds the constraint and the
// sampling fields; the prompt or messages are added here.
Answer ask(const ServeFixture& f, bool chat, ojson body, bool stream) {
  if (chat) body["messages"] = ojson::array({{{"role", "user"}, {"content", "Tell me about a girl and her pets."}}});
  else body["prompt"] = "Once upon a time, the answer in JSON was";
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
  }
  const HttpResult r = f.post_raw(chat ? "/v1/chat/completions" : "/v1/completions", body.dump());
  Answer a;
  a.status = r.status;
  if (r.status != 200) {
    a.error = r.body.is_object() ? r.body["error"] : json();
    return a;
  }
  if (!stream) {
    const json& c = r.body["choices"][0];
    a.text = chat ? c["message"]["content"].get<std::string>() : c["text"].get<std::string>();
    a.finish = c["finish_reason"];
    a.completion_tokens = r.body["usage"]["completion_tokens"];
    return a;
  }
  for (const std::string& d : sse_data(r.text)) {
    if (d == "[DONE]") break;
    const json j = json::parse(d);
    if (j.contains("error")) a.error = j["error"];
    if (j.contains("usage") && j["usage"].is_object()) a.completion_tokens = j["usage"]["completion_tokens"];
    for (const auto& c : j.value("choices", json::array())) {
      a.text += chat ? c["delta"].value("content", "") : c["text"].get<std::string>();
      if (!c["finish_reason"].is_null()) a.finish = c["finish_reason"];
    }
  }
  return a;
}

// Runs tests/grammar_validate.py over the JSON-lines outputs ({"schema": i, "text": ...}) against
// the schemas array; its last line ("N/N valid") is returned.
std::string validate(const ojson& schemas, const std::string& outputs) {
  const std::string schemas_file = temp_path("serve-grammar-schemas") + ".json";
  std::ofstream(schemas_file) << schemas.dump();
  std::string log;
  const int rc = run_command("/usr/bin/python3 " + source_dir() + "/tests/grammar_validate.py " + schemas_file + " " +
                                 outputs,
                             &log);
  std::remove(schemas_file.c_str());
  if (WEXITSTATUS(rc) == 2) {
    ADD_FAILURE() << "the independent validator is missing (apt-get install python3-fastjsonschema): " << log;
    return log;
  }
  EXPECT_EQ(rc, 0) << log;
  return log.substr(log.rfind('\n', log.size() - 2) + 1);
}

// Outputs to validate, from any thread.
class Outputs {
 public:
  explicit Outputs(const std::string& stem) : path_(temp_path(stem) + ".jsonl"), out_(path_) {}
  ~Outputs() { std::remove(path_.c_str()); }
  void add(size_t schema, const std::string& text) {
    std::lock_guard<std::mutex> lk(mu_);
    out_ << json{{"schema", schema}, {"text", text}}.dump() << "\n";
    ++n_;
  }
  const std::string& close() {
    out_.close();
    return path_;
  }
  int count() const { return n_; }

 private:
  std::string path_;
  std::ofstream out_;
  std::mutex mu_;
  int n_ = 0;
};

// The outcome rules every constrained answer follows: 200; "stop" (and then a sentence of the
// grammar) or "length" only with max_tokens used up.
void expect_well_ended(const Answer& a, int max_tokens, const std::string& what) {
  ASSERT_EQ(a.status, 200) << what << ": " << a.error;
  ASSERT_TRUE(a.error.is_null()) << what << ": " << a.error;
  if (a.finish == "length") EXPECT_EQ(a.completion_tokens, max_tokens) << what << ": " << a.text;
  else EXPECT_EQ(a.finish, "stop") << what << ": " << a.text;
}

}  // namespace

// Each field on both endpoints, streamed and not, greedy: the answer ends with "stop", validates,
// and the streamed text is the unstreamed one.
TEST(ServeGrammar, EveryFieldOnBothEndpointsStreamedAndNot) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  ServeFixture f(kModel, configure);
  // The schemas file for the validator: 0 any object, 1 the person.
  const ojson schemas = ojson::array({ojson{{"type", "object"}}, kPerson});
  Outputs outputs("serve-grammar-fields");
  int stopped = 0;
  const Form forms[] = {Form::JsonObject, Form::ResponseFormatSchema, Form::RawJsonSchema,
                        Form::JsonObjectWithSchema, Form::Gbnf};
  for (const Form form : forms)
    for (const bool chat : {false, true}) {
      const std::string what = "form " + std::to_string(int(form)) + (chat ? " chat" : " completion");
      ojson body = {{"max_tokens", kMaxTokens}, {"temperature", 0}};
      constrain(body, form, kPerson, kGbnf[0].gbnf);
      const Answer whole = ask(f, chat, body, false);
      const Answer streamed = ask(f, chat, body, true);
      expect_well_ended(whole, kMaxTokens, what);
      expect_well_ended(streamed, kMaxTokens, what + " streamed");
      // Any JSON object has unbounded strings, which greedy decoding of this model may not close.
      if (form != Form::JsonObject) EXPECT_EQ(whole.finish, "stop") << what << ": " << whole.text;
      EXPECT_EQ(streamed.text, whole.text) << what;
      EXPECT_EQ(streamed.finish, whole.finish) << what;
      EXPECT_EQ(streamed.completion_tokens, whole.completion_tokens) << what;
      if (whole.finish != "stop") continue;
      ++stopped;
      if (form == Form::Gbnf) {
        EXPECT_TRUE(std::regex_match(whole.text, std::regex(kGbnf[0].regex))) << whole.text;
      } else {
        // Properties in the order the schema lists them (the body's order, not a sorted one).
        if (form != Form::JsonObject) EXPECT_EQ(whole.text.rfind("{\"name\":", 0), 0u) << what << ": " << whole.text;
        outputs.add(form == Form::JsonObject ? 0 : 1, whole.text);
        outputs.add(form == Form::JsonObject ? 0 : 1, streamed.text);
      }
    }
  EXPECT_GE(stopped, 8);
  std::printf("validator: %s", validate(schemas, outputs.close()).c_str());
  // Every other GBNF grammar, both endpoints.
  for (const GbnfCase& g : kGbnf)
    for (const bool chat : {false, true}) {
      ojson body = {{"max_tokens", kMaxTokens}, {"temperature", 0}, {"grammar", g.gbnf}};
      const Answer a = ask(f, chat, body, false);
      expect_well_ended(a, kMaxTokens, g.gbnf);
      EXPECT_EQ(a.finish, "stop") << g.gbnf << a.text;
      EXPECT_TRUE(std::regex_match(a.text, std::regex(g.regex))) << g.gbnf << ": " << a.text;
    }
}

// max_tokens that run out inside the grammar: "length", with every token used, streamed or not.
TEST(ServeGrammar, LengthOnlyWhenMaxTokensRunOut) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  ServeFixture f(kModel, configure);
  for (const bool chat : {false, true})
    for (const bool stream : {false, true}) {
      ojson body = {{"max_tokens", 3}, {"temperature", 0}};
      constrain(body, Form::ResponseFormatSchema, kPerson);
      const Answer a = ask(f, chat, body, stream);
      ASSERT_EQ(a.status, 200) << a.error;
      EXPECT_EQ(a.finish, "length");
      EXPECT_EQ(a.completion_tokens, 3);
      // The grammar's start, as far as three tokens go.
      const std::string start = "{\"name\":\"";
      EXPECT_TRUE(a.text.rfind(start, 0) == 0 || start.rfind(a.text, 0) == 0) << a.text;
    }
}

// Bad constraints: a 400 naming the field, with the problem's location in the message; the server
// answers the next request normally and counts none of them as constrained.
TEST(ServeGrammar, BadConstraintsAre400WithParamAndLocation) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  ServeFixture f(kModel, configure);
  struct Case {
    const char* what;
    ojson fields;
    const char* param;
    std::vector<std::string> message_has;
  };
  const ojson unsupported = {{"type", "object"},
                            {"properties", {{"tags", {{"type", "array"}, {"uniqueItems", true}}}}}};
  const Case cases[] = {
      {"invalid schema", {{"json_schema", {{"type", "object"}, {"properties", {{"a", {{"type", "strin"}}}}}}}},
       "json_schema", {"#/properties/a", "strin"}},
      {"unsupported keyword",
       {{"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", unsupported}}}}}},
       "response_format.json_schema.schema", {"#/properties/tags", "uniqueItems"}},
      {"schema not an object", {{"json_schema", "{\"type\": \"object\"}"}}, "json_schema", {"JSON Schema"}},
      {"GBNF syntax error", {{"grammar", "root ::= \"a\" (\"b\"\n"}}, "grammar",
       {"line 1, column 14", "unmatched '('"}},
      {"left recursion", {{"grammar", "root ::= expr\nexpr ::= expr \"+\" \"1\" | \"1\"\n"}}, "grammar",
       {"line 2, column 1", "left recursion"}},
      {"never ends", {{"grammar", "root ::= \"a\" | b\nb ::= \"b\" b\n"}}, "grammar",
       {"line 2, column 1", "can never end", "rule 'b'"}},
      {"undefined rule", {{"grammar", "root ::= x\n\nx ::= \"a\" y\n"}}, "grammar", {"line 3, column 11", "'y'"}},
      {"two fields", {{"json_schema", kPerson}, {"grammar", "root ::= \"a\"\n"}}, "json_schema",
       {"'response_format'", "'json_schema'", "'grammar'"}},
      {"response_format and grammar", {{"response_format", {{"type", "json_object"}}}, {"grammar", "root ::= \"a\""}},
       "response_format", {"not several"}},
      {"unknown response_format type", {{"response_format", {{"type", "xml"}}}}, "response_format.type", {"'xml'"}},
      {"json_schema type without json_schema", {{"response_format", {{"type", "json_schema"}}}},
       "response_format.json_schema", {"required"}},
  };
  const double constrained_before = f.metric("tandem_constrained_requests_total");
  for (const Case& c : cases)
    for (const bool chat : {false, true})
      for (const bool stream : {false, true}) {
        SCOPED_TRACE(std::string(c.what) + (chat ? " chat" : "") + (stream ? " stream" : ""));
        ojson body = c.fields;
        body["max_tokens"] = 8;
        const Answer a = ask(f, chat, body, stream);
        ASSERT_EQ(a.status, 400) << a.text;
        EXPECT_EQ(a.error["param"], c.param) << a.error;
        EXPECT_EQ(a.error["type"], "invalid_request_error") << a.error;
        const std::string message = a.error["message"];
        for (const std::string& part : c.message_has) EXPECT_NE(message.find(part), std::string::npos) << message;
        // And the server goes on as before.
        ojson ok = {{"max_tokens", kMaxTokens}, {"temperature", 0}};
        constrain(ok, Form::RawJsonSchema, kPerson);
        const Answer good = ask(f, chat, ok, false);
        ASSERT_EQ(good.status, 200) << good.error;
        EXPECT_EQ(good.finish, "stop") << good.text;
      }
  EXPECT_EQ(f.metric("tandem_constrained_requests_total") - constrained_before, double(std::size(cases) * 4));
  EXPECT_EQ(f.get("/health").status, 200);
}

// /metrics: every constrained request counted once, free ones not; forced tokens counted, and on a
// grammar that leaves one choice per token every generated token is a forced one.
TEST(ServeGrammar, MetricsCountConstrainedRequestsAndForcedTokens) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  ServeFixture f(kModel, configure);
  EXPECT_EQ(f.metric("tandem_constrained_requests_total"), 0);
  EXPECT_EQ(f.metric("tandem_grammar_forced_tokens_total"), 0);
  const Answer free_text = ask(f, false, ojson{{"max_tokens", 8}, {"temperature", 0}}, false);
  ASSERT_EQ(free_text.status, 200);
  EXPECT_EQ(f.metric("tandem_constrained_requests_total"), 0);
  EXPECT_EQ(f.metric("tandem_grammar_forced_tokens_total"), 0);

  // Punctuation the vocabulary has no merges of: one token per character, each the only choice.
  const Answer forced =
      ask(f, false, ojson{{"max_tokens", 20}, {"temperature", 0}, {"grammar", "root ::= \"{[<>]}\""}}, false);
  ASSERT_EQ(forced.status, 200) << forced.error;
  EXPECT_EQ(forced.text, "{[<>]}");
  EXPECT_EQ(forced.finish, "stop");
  EXPECT_EQ(f.metric("tandem_constrained_requests_total"), 1);
  EXPECT_EQ(f.metric("tandem_grammar_forced_tokens_total"), forced.completion_tokens);

  // A schema: the keys are forced, the values sampled.
  ojson body = {{"max_tokens", kMaxTokens}, {"temperature", 0.8}, {"seed", 5}};
  constrain(body, Form::ResponseFormatSchema, kPerson);
  const Answer person = ask(f, false, body, true);
  ASSERT_EQ(person.status, 200) << person.error;
  EXPECT_EQ(f.metric("tandem_constrained_requests_total"), 2);
  const double forced_now = f.metric("tandem_grammar_forced_tokens_total");
  EXPECT_GT(forced_now, forced.completion_tokens);
  EXPECT_LT(forced_now, forced.completion_tokens + person.completion_tokens);
  EXPECT_EQ(f.metric("tandem_generated_tokens_total"),
            free_text.completion_tokens + forced.completion_tokens + person.completion_tokens);
}

namespace {

struct VolumeTally {
  std::atomic<int> stop{0}, length{0}, gbnf{0};
  // GBNF outputs (grammar index, text), matched after the client threads end: std::regex
  // compiles through the locale's ctype cache, which is not meant to be filled from many threads.
  std::mutex mu;
  std::vector<std::pair<size_t, std::string>> gbnf_texts;
};

// One request of the volume run: schema s (or, past the schemas, a GBNF grammar), sample k of it;
// the way of asking, the endpoint, the temperature and the sampler's filters vary with k.
void volume_request(const ServeFixture& f, const ojson& schemas, size_t s, int k, Outputs& outputs, VolumeTally& t) {
  ojson body = {{"max_tokens", kMaxTokens}, {"seed", 1000 * int(s) + k}};
  body["temperature"] = k == 0 ? 0.0 : 0.5 + 0.25 * (k % 5);
  if (k % 3 == 1) body["top_k"] = 40;
  if (k % 3 == 2) body["top_p"] = 0.9;
  if (k % 4 == 3) body["min_p"] = 0.05;
  const bool chat = k % 2 == 1;
  const size_t n_schemas = schemas.size();
  const bool gbnf = s >= n_schemas;
  const Form forms[] = {Form::ResponseFormatSchema, Form::RawJsonSchema, Form::JsonObjectWithSchema};
  const Form form = gbnf ? Form::Gbnf : forms[(k / 2) % 3];
  constrain(body, form, gbnf ? ojson() : schemas[s], gbnf ? kGbnf[s - n_schemas].gbnf : "");
  const Answer a = ask(f, chat, body, k % 5 == 4);
  const std::string what = "schema " + std::to_string(s) + " sample " + std::to_string(k);
  expect_well_ended(a, kMaxTokens, what);
  if (a.finish != "stop") {
    ++t.length;
    return;
  }
  ++t.stop;
  if (gbnf) {
    ++t.gbnf;
    std::lock_guard<std::mutex> lk(t.mu);
    t.gbnf_texts.emplace_back(s - n_schemas, a.text);
  } else {
    outputs.add(s, a.text);
  }
}

// per_schema constrained requests under every schema of tests/data/grammar/schemas.json and every
// GBNF grammar above, from four client threads (so the scheduler batches constrained slots
// together), every output validated. Returns the tally.
void volume_run(const ServeFixture& f, int per_schema, const std::string& label) {
  const ojson schemas = load_schemas();
  const size_t n_tasks = (schemas.size() + std::size(kGbnf)) * size_t(per_schema);
  Outputs outputs("serve-grammar-volume");
  VolumeTally t;
  std::atomic<size_t> next{0};
  // The HTTP client library keeps function-local statics (its response-line regex) that its first
  // use builds; built here, before the client threads start, ThreadSanitizer sees them ordered.
  for (bool stream : {false, true}) ask(f, false, ojson{{"prompt", "Once"}, {"max_tokens", 1}}, stream);
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c)
    clients.emplace_back([&] {
      for (size_t i = next++; i < n_tasks; i = next++)
        volume_request(f, schemas, i / size_t(per_schema), int(i % size_t(per_schema)), outputs, t);
    });
  for (auto& c : clients) c.join();
  for (const auto& [g, text] : t.gbnf_texts)
    EXPECT_TRUE(std::regex_match(text, std::regex(kGbnf[g].regex))) << kGbnf[g].gbnf << ": " << text;
  EXPECT_EQ(size_t(t.stop + t.length), n_tasks);
  EXPECT_GE(t.stop, t.length * 5) << "running out of tokens should be the exception";
  EXPECT_EQ(outputs.count() + t.gbnf, t.stop);
  std::printf("%s: %zu requests over %zu schemas and %zu grammars: %d stop, %d length; validator: %s", label.c_str(),
              n_tasks, schemas.size(), std::size(kGbnf), t.stop.load(), t.length.load(),
              validate(schemas, outputs.close()).c_str());
  EXPECT_EQ(f.metric("tandem_constrained_requests_total"), double(n_tasks));
}

}  // namespace

TEST(ServeGrammar, VolumeStories260K) {
  TANDEM_REQUIRE_FILE(model_path(kModel));
  ServeFixture f(kModel, configure);
  volume_run(f, kSanitized ? 2 : 14, "stories260K");
}

// A random-weights model (its free output is noise) with Llama 3's 128K byte-level BPE vocabulary.
TEST(ServeGrammar, VolumeRandomWeightsBpe) {
  const std::string vocab = shared_dir() + "/reference/vocab/ggml-vocab-llama-bpe.gguf";
  TANDEM_REQUIRE_FILE(vocab);
  const std::string model = temp_path("serve-grammar-synth") + ".gguf";
  std::string log;
  ASSERT_EQ(run_command(tandem_binary() + " synth --shape stories260K --type q8_0 --vocab " + vocab + " -o " + model,
                        &log),
            0)
      << log;
  {
    ServeFixture f(kModel, [&](serve::ServerConfig& c) {
      configure(c);
      c.model_path = model;
    });
    volume_run(f, kSanitized ? 1 : 2, "random weights, 128K BPE");
  }
  std::remove(model.c_str());
}
