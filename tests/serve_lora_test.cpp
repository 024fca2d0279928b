// tandem serve --lora: the adapted model serves every request. Greedy answers (whole, streamed
// and from concurrent slots) equal `tandem run --lora` with the same adapter and scale and differ
// from the base model's; /v1/models lists the adapters with their files' sha256; speculative
// decoding with the same adapter on both sides accepts every draft (the drafter adapts too);
// adapters that do not fit are refused with an error that names the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "format/error.h"
#include "lora_test_util.h"
#include "serve_test_util.h"

using namespace tandem;
using namespace tandem::test;

namespace {

const char* kBase = "stories260K-f32.gguf";
const char* kPrompt = "Once upon a time";

// A rank-4 adapter of every adaptable matrix of the shared model (written once per test).
std::string write_test_adapter(const std::string& stem, uint32_t seed) {
  const std::string path = temp_path("serve-lora-" + stem) + ".gguf";
  const GgufFile base = GgufFile::open(model_path(kBase));
  write_adapter(path, random_adapter(base, all_targets(base), 4, 8.0f, seed));
  return path;
}

json run_json(const std::string& args) {
  std::string out;
  EXPECT_EQ(run_command(tandem_binary() + " run -q --json -t 1 " + args, &out), 0) << out;
  return json::parse(out, nullptr, false);
}

json completion(int max_tokens) { return {{"prompt", kPrompt}, {"max_tokens", max_tokens}, {"temperature", 0}}; }

}  // namespace

TEST(ServeLora, GreedyAnswersEqualTandemRunWithTheSameAdapter) {
  TANDEM_REQUIRE_FILE(model_path(kBase));
  const std::string adapter = write_test_adapter("a", 7);
  const int n = 40;
  const json want = run_json("--temp 0 -n " + std::to_string(n) + " -m " + model_path(kBase) + " --lora " + adapter +
                             ":0.5 -p '" + kPrompt + "'");
  const json base = run_json("--temp 0 -n " + std::to_string(n) + " -m " + model_path(kBase) + " -p '" + kPrompt + "'");
  ASSERT_NE(want["text"], base["text"]) << "the adapter must change the model's greedy answer";

  ServeFixture s(kBase, [&](serve::ServerConfig& c) { c.lora = {adapter + ":0.5"}; });
  auto r = s.post("/v1/completions", completion(n));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["choices"][0]["text"], want["text"]);
  EXPECT_EQ(r.body["usage"]["completion_tokens"], want["tokens"].size());
  // Again (now from the prompt cache), streamed, and from four slots at once: the same text.
  EXPECT_EQ(s.post("/v1/completions", completion(n)).body["choices"][0]["text"], want["text"]);
  json sreq = completion(n);
  sreq["stream"] = true;
  const auto st = s.post("/v1/completions", sreq);
  std::string streamed;
  for (const auto& d : sse_data(st.text))
    if (d != "[DONE]") streamed += json::parse(d)["choices"][0].value("text", "");
  EXPECT_EQ(streamed, want["text"]);
  std::vector<std::future<HttpResult>> many;
  for (int i = 0; i < 4; ++i)
    many.push_back(std::async(std::launch::async, [&] { return s.post("/v1/completions", completion(n)); }));
  for (auto& f : many) EXPECT_EQ(f.get().body["choices"][0]["text"], want["text"]);

  // /v1/models says which adapters are applied.
  const json m = s.get("/v1/models").body["data"][0];
  ASSERT_EQ(m["lora"].size(), 1u);
  EXPECT_EQ(m["lora"][0]["file"], std::filesystem::path(adapter).filename().string());
  EXPECT_EQ(m["lora"][0]["scale"], 0.5);
  std::string sum;
  if (run_command("sha256sum " + adapter, &sum) == 0) {
    EXPECT_EQ(m["lora"][0]["sha256"], sum.substr(0, 64));
  }
  ServeFixture plain(kBase);
  EXPECT_EQ(plain.get("/v1/models").body["data"][0]["lora"], json::array());
  EXPECT_EQ(plain.post("/v1/completions", completion(n)).body["choices"][0]["text"], base["text"]);
  std::filesystem::remove(adapter);
}

// The drafter of `tandem run --verify-url` uses --lora too: with the same adapter as the server
// (and a model whose numbers do not depend on batching) every greedy draft is accepted; without
// it, drafts of the base model are rejected where the adapted model disagrees.
TEST(ServeLora, SpeculativeDraftsWithTheAdaptedModel) {
  const char* q8 = "stories260K-q8_0.gguf";
  TANDEM_REQUIRE_FILE(model_path(q8));
  const std::string adapter = write_test_adapter("spec", 9);
  ServeFixture s(q8, [&](serve::ServerConfig& c) { c.lora = {adapter}; });
  const std::string args = "--temp 0 -n 48 -m " + model_path(q8) + " -p '" + kPrompt +
                           "' --draft-max 6 --verify-url http://127.0.0.1:" + std::to_string(s.port);
  const std::string want = s.post("/v1/completions", completion(48)).body["choices"][0]["text"];
  const json adapted = run_json(args + " --lora " + adapter);
  EXPECT_EQ(adapted["text"], want);
  const json& st = adapted["speculative"];
  EXPECT_GT(st["drafted"].get<int>(), 0);
  EXPECT_EQ(st["accepted"], st["drafted"]);
  const json unadapted = run_json(args);
  EXPECT_EQ(unadapted["text"], want);  // the output is the server's either way
  EXPECT_LT(unadapted["speculative"]["acceptance_rate"].get<double>(), 0.9);
  std::filesystem::remove(adapter);
}

TEST(ServeLora, AdaptersThatDoNotFitAreRefusedByName) {
  TANDEM_REQUIRE_FILE(model_path(kBase));
  auto server_error = [](const std::string& lora) {
    serve::ServerConfig c;
    c.model_path = model_path(kBase);
    c.port = 0;
    c.sched.n_threads = 1;
    c.lora = {lora};
    try {
      serve::Server s(c);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  // A model file, not an adapter.
  std::string e = server_error(model_path(kBase));
  EXPECT_NE(e.find("not a LoRA adapter"), std::string::npos) << e;
  EXPECT_NE(e.find(model_path(kBase)), std::string::npos) << e;
  // An adapter for another shape (lora_a 32 wide where the model's matrices take 64).
  const std::string bad = temp_path("serve-lora-bad") + ".gguf";
  const GgufFile base = GgufFile::open(model_path(kBase));
  Adapter ad = random_adapter(base, {"blk.0.attn_q.weight"}, 4, 8.0f, 3);
  ad.tensors[0].n_in = 32;
  ad.tensors[0].a.resize(4 * 32);
  write_adapter(bad, ad);
  e = server_error(bad + ":0.7");
  EXPECT_NE(e.find(bad), std::string::npos) << e;
  EXPECT_NE(e.find("expected lora_a [64, rank]"), std::string::npos) << e;
  // A file that is not there, and a scale that is not a number, both named.
  e = server_error("/nonexistent/adapter.gguf");
  EXPECT_NE(e.find("/nonexistent/adapter.gguf"), std::string::npos) << e;
  e = server_error(bad + ":inf");
  EXPECT_NE(e.find(bad + ":inf"), std::string::npos) << e;

  // The command line says the same and exits 1 before listening.
  std::string out;
  EXPECT_EQ(run_command(tandem_binary() + " serve -q --port 0 -m " + model_path(kBase) + " --lora " + bad, &out), 1);
  EXPECT_NE(out.find("tandem serve: LoRA adapter " + bad), std::string::npos) << out;
  std::filesystem::remove(bad);
}
