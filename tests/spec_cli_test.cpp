// `tandem run -m DRAFT --verify-url URL`: the CLI's speculative mode against an in-process tandem
// serve prints the target's greedy text (`tandem run` on the target model) and, with --json,
// the statistics and the estimate.
#include "spec_test_util.h"

using namespace tandem;
using namespace tandem::test;

TEST(SpecCli, RunWithVerifyUrlPrintsTheTargetsTextAndStatistics) {
  REQUIRE_SPEC_MODELS();
  ServeFixture s("stories260K-f32.gguf", spec_server);
  const json want = tandem_run_greedy("stories260K-f32.gguf", "Lily wanted to", 60);
  std::string out;
  const std::string cmd = tandem_binary() + " run -q --json -t 1 --temp 0 -n 60 -m " + model_path("stories260K-q4_0.gguf") +
                          " -p 'Lily wanted to' --draft-max 6 --verify-url http://127.0.0.1:" + std::to_string(s.port);
  ASSERT_EQ(run_command(cmd, &out), 0) << out;
  const json j = json::parse(out);
  EXPECT_EQ(j["tokens"], want["tokens"]);
  EXPECT_EQ(j["text"], want["text"]);
  const json& st = j["speculative"];
  EXPECT_TRUE(st["degraded_from"].is_null());
  EXPECT_GT(st["rounds"].get<int>(), 0);
  EXPECT_LE(st["accepted"].get<int>(), st["drafted"].get<int>());
  EXPECT_LE(st["drafted"].get<int>(), 6 * st["rounds"].get<int>());
  EXPECT_GT(st["tokens_per_cloud_pass"].get<double>(), 1.0);
  EXPECT_GT(st["bytes_sent"].get<int>(), 0);
  for (const char* k : {"spec_tps", "cloud_tps", "device_tps", "rtt_ms", "acceptance"})
    EXPECT_GT(st["estimate"][k].get<double>(), 0) << k;
  for (const char* k : {"draft_ms", "wait_ms", "network_ms", "verify_ms", "ahead_drafted", "ahead_kept"})
    EXPECT_TRUE(st.contains(k)) << k;

  // Nobody there: the device model alone, and the output says so.
  const std::string dead = tandem_binary() + " run -t 1 --temp 0 -n 8 -m " + model_path("stories260K-q4_0.gguf") +
                           " -p 'Lily wanted to' --verify-retries 0 --verify-url http://127.0.0.1:1";
  ASSERT_EQ(run_command(dead, &out), 0) << out;
  EXPECT_NE(out.find("degraded to the device model from token 0"), std::string::npos) << out;
}

// --json-schema and --grammar with --verify-url: the target's own constrained output (`tandem
// run` with the same file on the target model), and the tokens the grammar forced are counted.
TEST(SpecCli, RunWithVerifyUrlKeepsToAJsonSchemaOrGrammar) {
  REQUIRE_SPEC_MODELS();
  ServeFixture s("stories260K-f32.gguf", spec_server);
  const std::string schema = temp_path("spec-cli-schema") + ".json", gbnf = temp_path("spec-cli-grammar") + ".gbnf";
  std::ofstream(schema) << R"({"type": "object", "properties": {"name": {"type": "string", "maxLength": 10},
      "age": {"type": "integer", "minimum": 1, "maximum": 99}}, "required": ["name", "age"], "additionalProperties": false})";
  std::ofstream(gbnf) << R"(root ::= "The " ("cat" | "dog") " said " [a-z]{1,6} ".")";
  for (const std::string flag : {"--json-schema " + schema, "--grammar " + gbnf}) {
    SCOPED_TRACE(flag);
    const std::string common = " run -q --json -t 1 --temp 0 -n 80 -p 'Once upon a time' " + flag + " -m ";
    std::string want_out, out;
    ASSERT_EQ(run_command(tandem_binary() + common + model_path("stories260K-f32.gguf"), &want_out), 0) << want_out;
    ASSERT_EQ(run_command(tandem_binary() + common + model_path("stories260K-q4_0.gguf") +
                              " --verify-url http://127.0.0.1:" + std::to_string(s.port),
                          &out),
              0)
        << out;
    const json want = json::parse(want_out), j = json::parse(out);
    EXPECT_EQ(j["tokens"], want["tokens"]);
    EXPECT_EQ(j["text"], want["text"]);
    EXPECT_EQ(j["finish_reason"], "stop");
    EXPECT_GT(j["speculative"]["forced_tokens"].get<int>(), 0);
    EXPECT_LE(j["speculative"]["cloud_forward_passes"].get<int>(),
              int(j["tokens"].size()) - j["speculative"]["forced_tokens"].get<int>());
  }
  std::remove(schema.c_str());
  std::remove(gbnf.c_str());
}
