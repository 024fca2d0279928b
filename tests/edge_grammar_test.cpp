// Structured outputs through the gateway: a request with response_format, json_schema or grammar
// is answered under that constraint on every route — the device model constrains itself in
// process (serve's scheduler), a cloud or peer receives the field unchanged and constrains itself
// (here a real tandem serve, and a second gateway as the LAN peer) — and across a mid-stream
// failover the device resumes the grammar where the cloud's text left it. Every answer is judged
// by an independent validator, Debian's python3-fastjsonschema (tests/grammar_validate.py).
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>

#include "edge_test_util.h"
#include "serve_test_util.h"

using namespace tandem;
using namespace tandem::edge;
using test::json;

namespace {

const char* kDevice = "stories260K-q4_0.gguf";
const char* kCloud = "stories260K-f32.gguf";

// Small schemas whose sentences a tiny model finishes well inside max_tokens (bounded strings and
// numbers), one of each kind of constraint. The person schema is sent as written (its properties
// not in alphabetical order): every tier must write them in this order.
const std::string kPersonText =
    R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},)"
    R"("age":{"type":"integer","minimum":0,"maximum":120},"pet":{"enum":["cat","dog","bird"]}},)"
    R"("required":["name","age","pet"],"additionalProperties":false})";
const json kPerson = json::parse(kPersonText);
const json kPetSchema = {{"type", "object"},
                         {"properties", {{"pet", {{"enum", {"cat", "dog"}}}}}},
                         {"required", {"pet"}},
                         {"additionalProperties", false}};
// The GBNF form of kPetSchema's sentences (validated against it).
const char* kPetGrammar = R"(root ::= "{\"pet\":" ("\"cat\"" | "\"dog\"") "}")";

// response_format with the person schema, as JSON text in the written order.
std::string person_format() {
  return R"({"type":"json_schema","json_schema":{"name":"person","schema":)" + kPersonText + "}}";
}

// The body's text with `fields` written as the given JSON texts (json would sort their keys).
std::string body_text(json body, const std::map<std::string, std::string>& fields) {
  for (const auto& [k, v] : fields) body.erase(k);
  std::string text = body.dump();
  for (const auto& [k, v] : fields) text.insert(text.size() - 1, "," + json(k).dump() + ":" + v);
  return text;
}

// Collects answers with the schema each must satisfy, and runs the validator over all of them.
class Validator {
 public:
  void add(const json& schema, const std::string& text) {
    size_t i = 0;
    while (i < schemas_.size() && schemas_[i] != schema) ++i;
    if (i == schemas_.size()) schemas_.push_back(schema);
    lines_ += json{{"schema", i}, {"text", text}}.dump() + "\n";
    ++n_;
  }
  // Valid JSON, each under its schema, per the independent validator.
  void check() {
    ASSERT_GT(n_, 0);
    const std::string stem = test::temp_path("edge-grammar");
    std::ofstream(stem + ".schemas.json") << schemas_.dump();
    std::ofstream(stem + ".jsonl") << lines_;
    std::string log;
    const int rc = test::run_command("/usr/bin/python3 " + test::source_dir() + "/tests/grammar_validate.py " + stem +
                                         ".schemas.json " + stem + ".jsonl",
                                     &log);
    if (WEXITSTATUS(rc) == 2) GTEST_SKIP() << log;
    EXPECT_EQ(rc, 0) << log;
    EXPECT_NE(log.find(std::to_string(n_) + "/" + std::to_string(n_) + " valid"), std::string::npos) << log;
  }

 private:
  json schemas_ = json::array();
  std::string lines_;
  int n_ = 0;
};

// An answer through the gateway, streamed or not: its text, finish reason and tandem object.
struct Answer {
  int status = 0;
  std::string text, finish_reason, error;
  json tandem;
};

Answer ask(int port, bool chat, json body, bool stream, const std::map<std::string, std::string>& written = {}) {
  body["stream"] = stream;
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(120);
  auto r = c.Post(chat ? "/v1/chat/completions" : "/v1/completions", body_text(body, written), "application/json");
  Answer a;
  if (!r) return a;
  a.status = r->status;
  if (!stream) {
    const json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return a;
    if (j.contains("tandem")) a.tandem = j["tandem"];
    if (j.contains("error")) a.error = j["error"].value("message", "");
    if (!j.contains("choices")) return a;
    const json& c0 = j["choices"][0];
    a.text = chat ? c0["message"]["content"].get<std::string>() : c0["text"].get<std::string>();
    a.finish_reason = c0.value("finish_reason", "");
    return a;
  }
  for (const auto& d : test::sse_data(r->body)) {
    if (d == "[DONE]") continue;
    const json j = json::parse(d);
    if (j.contains("tandem")) a.tandem = j["tandem"];
    if (j.contains("error")) a.error = j["error"].value("message", "");
    if (!j.contains("choices") || j["choices"].empty()) continue;
    const json& c0 = j["choices"][0];
    if (chat && c0.contains("delta") && c0["delta"].contains("content")) a.text += c0["delta"]["content"].get<std::string>();
    if (!chat && c0.contains("text")) a.text += c0["text"].get<std::string>();
    if (c0.contains("finish_reason") && c0["finish_reason"].is_string()) a.finish_reason = c0["finish_reason"];
  }
  return a;
}

json request(bool chat, const std::string& route, int max_tokens = 120) {
  json b = {{"max_tokens", max_tokens}, {"temperature", 0}, {"tandem", {{"route", route}}}};
  if (chat) b["messages"] = json::array({{{"role", "user"}, {"content", "Describe a person as JSON."}}});
  else b["prompt"] = "Once upon a time, a person in JSON:";
  return b;
}

EdgeConfig gateway_config(int cloud_port) {
  EdgeConfig c = test::edge_test_config(kDevice, cloud_port);
  c.device_chat_template = "chatml";
  c.device_ctx = 512;
  if (!c.clouds.empty()) c.clouds[0].timeout_ms = 20000;
  return c;
}

// The cloud: ChatML for chat, and room for prompt and answer (the model's own context is 128).
void cloud_config(serve::ServerConfig& sc) {
  sc.chat_template = "chatml";
  sc.sched.n_ctx = 512;
}

}  // namespace

// LOCAL, CLOUD, CASCADE (confident: the device's constrained draft is sent; not confident: the
// cloud answers under the constraint it was passed) and PEER (a second gateway, which answers on
// its own device) answer completions and chat, streamed or not, with JSON valid under the schema;
// the ledger records the constraint's kind on every route, and the report counts them per route.
TEST(EdgeGrammar, EveryRouteAnswersWithValidJson) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud, cloud_config);
  EdgeConfig peer_cfg = gateway_config(0);
  peer_cfg.device_model = test::model_path(kCloud);
  test::GatewayFixture peer(peer_cfg);
  EdgeConfig cfg = gateway_config(cloud.port);
  EndpointConfig p;
  p.name = "peer";
  p.url = "http://127.0.0.1:" + std::to_string(peer.port);
  p.peer = true;
  p.timeout_ms = 20000;
  cfg.peers = {p};
  test::GatewayFixture edge(cfg);
  EdgeConfig sure = gateway_config(cloud.port);
  sure.cascade_min_logprob = -1e9;  // every device answer is confident
  test::GatewayFixture cascade_low(sure);
  EdgeConfig unsure = gateway_config(cloud.port);
  unsure.cascade_min_logprob = 1;
  test::GatewayFixture cascade_escalates(unsure);

  struct Case {
    const char* name;
    const test::GatewayFixture* gw;
    std::string route, route_name, served_by;
  };
  const std::vector<Case> cases = {{"local", &edge, "local", "LOCAL", "device"},
                                   {"cloud", &edge, "cloud", "CLOUD", "primary"},
                                   {"peer", &edge, "peer", "PEER", "peer"},
                                   {"cascade, confident", &cascade_low, "cascade", "CASCADE", "device"},
                                   {"cascade, escalated", &cascade_escalates, "cascade", "CASCADE", "primary"}};
  Validator v;
  for (const Case& c : cases)
    for (bool chat : {false, true})
      for (bool stream : {false, true}) {
        SCOPED_TRACE(std::string(c.name) + (chat ? ", chat" : ", completions") + (stream ? ", stream" : ""));
        const Answer a = ask(c.gw->port, chat, request(chat, c.route), stream, {{"response_format", person_format()}});
        ASSERT_EQ(a.status, 200) << a.error;
        EXPECT_EQ(a.tandem["route"], c.route_name) << a.tandem.dump();
        EXPECT_EQ(a.tandem["served_by"], c.served_by) << a.tandem.dump();
        EXPECT_EQ(a.finish_reason, "stop") << a.text;
        EXPECT_EQ(a.text.rfind("{\"name\":", 0), 0u) << "properties in the written order: " << a.text;
        v.add(kPerson, a.text);
      }
  // The other forms of constraint, through the cloud and the device.
  for (const char* route : {"cloud", "local"}) {
    SCOPED_TRACE(route);
    json raw = request(false, route);
    raw["json_schema"] = kPetSchema;
    const Answer a = ask(edge.port, false, raw, false);
    ASSERT_EQ(a.status, 200) << a.error;
    v.add(kPetSchema, a.text);
    json gbnf = request(true, route);
    gbnf["grammar"] = kPetGrammar;
    const Answer g = ask(edge.port, true, gbnf, true);
    ASSERT_EQ(g.status, 200) << g.error;
    v.add(kPetSchema, g.text);
    json object = request(false, route);
    object["response_format"] = {{"type", "json_object"}};
    const Answer o = ask(edge.port, false, object, false);
    ASSERT_EQ(o.status, 200) << o.error;
    if (o.finish_reason == "stop") v.add({{"type", "object"}}, o.text);
  }
  v.check();

  // The ledger: the constraint's kind on each row (and "" for a free request).
  ask(edge.port, false, request(false, "local", 4), false);
  const auto recs = edge.sink->records();
  ASSERT_EQ(recs.size(), 12u + 7u);
  std::map<std::string, int> kinds;
  for (const auto& r : recs) ++kinds[r.output_constraint];
  EXPECT_EQ(kinds["json_schema"], 12 + 2);  // response_format json_schema, and the raw json_schema
  EXPECT_EQ(kinds["grammar"], 2);
  EXPECT_EQ(kinds["json_object"], 2);
  EXPECT_EQ(kinds[""], 1);
  // The peer, a gateway itself, received the field and recorded the same kind.
  const auto peer_recs = peer.sink->records();
  ASSERT_EQ(peer_recs.size(), 4u);
  for (const auto& r : peer_recs) EXPECT_EQ(r.output_constraint, "json_schema");
  // The report counts constrained requests per route.
  httplib::Client c("127.0.0.1", edge.port);
  auto rep = c.Get("/v1/report?format=json");
  ASSERT_TRUE(rep);
  const json j = json::parse(rep->body);
  EXPECT_EQ(j["by_route"]["PEER"]["constrained"], 4);
  EXPECT_EQ(j["by_route"]["LOCAL"]["constrained"], 4 + 3);
  EXPECT_EQ(j["by_route"]["LOCAL"]["requests"], 4 + 3 + 1);
  EXPECT_EQ(j["total"]["constrained"], 12 + 6);
}

namespace {

// A cloud that streams the first `n` text chunks of a real tandem serve's answer to the same
// request (the constraint included) and then cuts the connection; with `replace`, it streams
// those chunks instead (text of its own).
class CuttingCloud {
 public:
  CuttingCloud(int upstream_port, int n, std::vector<std::string> replace = {})
      : upstream_(upstream_port), n_(n), replace_(std::move(replace)) {
    srv_.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
    srv_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      httplib::Client c("127.0.0.1", upstream_);
      c.set_read_timeout(120);
      auto r = c.Post("/v1/completions", req.body, "application/json");  // the whole SSE answer
      {
        std::lock_guard<std::mutex> lk(mu_);
        bodies_.push_back(req.body);
        sent_.clear();
      }
      auto events = std::make_shared<std::vector<std::string>>(test::sse_data(r ? r->body : ""));
      res.set_chunked_content_provider("text/event-stream", [this, events](size_t, httplib::DataSink& sink) {
        int sent = 0;
        for (const auto& e : *events) {
          if (e == "[DONE]") break;
          json j = json::parse(e);
          const bool text = j.contains("choices") && !j["choices"].empty() && !j["choices"][0].value("text", "").empty();
          if (text && sent == n_) return false;  // cut: the connection closes mid-answer
          if (text && !replace_.empty()) j["choices"][0]["text"] = replace_[size_t(sent) % replace_.size()];
          const std::string line = "data: " + j.dump() + "\n\n";
          sink.write(line.data(), line.size());
          if (text) {
            ++sent;
            std::lock_guard<std::mutex> lk(mu_);
            sent_ += j["choices"][0]["text"].get<std::string>();
          }
        }
        return false;
      });
    });
    port = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~CuttingCloud() {
    srv_.stop();
    thread_.join();
  }
  std::string sent() {  // the text it sent before cutting (last call)
    std::lock_guard<std::mutex> lk(mu_);
    return sent_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lk(mu_);
    return bodies_;
  }
  int port = 0;

 private:
  std::mutex mu_;
  std::string sent_;
  std::vector<std::string> bodies_;
  int upstream_, n_;
  std::vector<std::string> replace_;
  httplib::Server srv_;
  std::thread thread_;
};

}  // namespace

// The cloud fails mid-answer, inside the JSON: the device continues the same answer under the
// same grammar from the state the sent text reached, and the joined output is valid. (The cloud
// received the constraint as the app sent it.)
TEST(EdgeGrammar, MidStreamFailoverContinuesUnderTheGrammar) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud, cloud_config);
  Validator v;
  for (int n : {3, 7}) {
    CuttingCloud cutting(cloud.port, n);
    test::GatewayFixture edge(gateway_config(cutting.port));
    for (bool stream : {false, true}) {
      SCOPED_TRACE("cut after " + std::to_string(n) + (stream ? ", stream" : ""));
      const Answer a = ask(edge.port, false, request(false, "cloud"), stream, {{"response_format", person_format()}});
      ASSERT_EQ(a.status, 200) << a.error;
      const std::string P = cutting.sent();
      EXPECT_EQ(a.text.rfind("{\"name\":", 0), 0u) << a.text;
      ASSERT_FALSE(P.empty());
      EXPECT_EQ(a.text.substr(0, P.size()), P);
      EXPECT_GT(a.text.size(), P.size()) << "the device added nothing to " << P;
      EXPECT_EQ(a.tandem["served_by"], "device") << a.tandem.dump();
      EXPECT_EQ(a.tandem["status"], "fallback");
      EXPECT_EQ(a.tandem["failover_at_chunk"], n);
      EXPECT_EQ(a.finish_reason, "stop");
      v.add(kPerson, a.text);
    }
    // The cloud received the schema as the app wrote it.
    ASSERT_FALSE(cutting.bodies().empty());
    EXPECT_NE(cutting.bodies().back().find("\"response_format\":" + person_format()), std::string::npos)
        << cutting.bodies().back();
  }
  v.check();
}

// A cloud whose text breaks the grammar and then fails: the device cannot continue it, and the
// app is told so (a 502 naming the field, or an error event after the text already streamed)
// rather than handed output that is not valid; the ledger says error.
TEST(EdgeGrammar, TextOutsideTheGrammarCannotBeContinued) {
  TANDEM_REQUIRE_FILE(test::model_path(kCloud));
  test::ServeFixture cloud(kCloud, cloud_config);
  CuttingCloud cutting(cloud.port, 2, {"{\"nam", "x\":"});
  test::GatewayFixture edge(gateway_config(cutting.port));
  const json body = request(false, "cloud");
  const std::map<std::string, std::string> person = {{"response_format", person_format()}};
  const Answer a = ask(edge.port, false, body, false, person);
  EXPECT_EQ(a.status, 502);
  EXPECT_NE(a.error.find("does not follow the request's 'response_format.json_schema.schema'"), std::string::npos)
      << a.error;
  EXPECT_NE(a.error.find("'primary' (which then failed: connection)"), std::string::npos) << a.error;
  EXPECT_NE(a.error.find("at byte 5 of 8 ('x')"), std::string::npos) << a.error;
  EXPECT_EQ(a.tandem["status"], "error") << a.tandem.dump();
  const Answer s = ask(edge.port, false, body, true, person);
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.text, "{\"namx\":");
  EXPECT_NE(s.error.find("cannot continue it"), std::string::npos) << s.error;
  EXPECT_EQ(s.tandem["status"], "error") << s.tandem.dump();
  const auto recs = edge.sink->records();
  ASSERT_EQ(recs.size(), 2u);
  for (const auto& r : recs) {
    EXPECT_EQ(r.status, "error");
    EXPECT_EQ(r.failure, "connection");
    EXPECT_EQ(r.output_constraint, "json_schema");
  }
  // The same text without a constraint is continued as before.
  const Answer f = ask(edge.port, false, request(false, "cloud"), false);
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(f.text.substr(0, 8), "{\"namx\":");
  EXPECT_EQ(f.tandem["status"], "fallback");
}
