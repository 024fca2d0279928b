// tandem edge with device.lora: the device model runs with its LoRA adapters wherever it runs —
// LOCAL answers are the adapted model's greedy text (checked against a tandem serve --lora over
// the same files), /v1/models and /health name the adapters, the SPECULATIVE route drafts with
// the adapted model (every greedy draft accepted by a cloud serving the same adapted model), and
// an adapter that does not fit stops the gateway with an error naming the key and the file.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>

#include "edge/gateway.h"
#include "edge/speculative_runner.h"
#include "format/error.h"
#include "edge_test_util.h"
#include "lora_test_util.h"
#include "serve_test_util.h"

using namespace tandem;
using namespace tandem::edge;
using test::json;

namespace {

const char* kPrompt = "Once upon a time";

std::string write_test_adapter(const std::string& stem, uint32_t seed) {
  const std::string path = test::temp_path("edge-lora-" + stem) + ".gguf";
  const GgufFile base = GgufFile::open(test::model_path("stories260K-f32.gguf"));
  test::write_adapter(path, test::random_adapter(base, test::all_targets(base), 4, 8.0f, seed));
  return path;
}

EdgeConfig lora_config(const std::string& device_model, std::vector<std::string> lora, int cloud_port = 0) {
  EdgeConfig c = test::edge_test_config(device_model, cloud_port);
  c.device_lora = std::move(lora);
  return c;
}

json completion(int max_tokens, const std::string& route) {
  return {{"prompt", kPrompt}, {"max_tokens", max_tokens}, {"temperature", 0}, {"tandem", {{"route", route}}}};
}

std::string greedy(const test::ServeFixture& s, int max_tokens) {
  const auto r = s.post("/v1/completions", json{{"prompt", kPrompt}, {"max_tokens", max_tokens}, {"temperature", 0}});
  EXPECT_EQ(r.status, 200) << r.text;
  return r.body["choices"][0]["text"];
}

}  // namespace

TEST(EdgeLora, LocalAnswersComeFromTheAdaptedDeviceModel) {
  const char* device = "stories260K-q4_0.gguf";
  TANDEM_REQUIRE_FILE(test::model_path(device));
  const std::string adapter = write_test_adapter("local", 5);
  const int n = 32;
  std::string want, base;
  {
    test::ServeFixture adapted(device, [&](serve::ServerConfig& c) { c.lora = {adapter + ":0.75"}; });
    test::ServeFixture plain(device);
    want = greedy(adapted, n);
    base = greedy(plain, n);
  }
  ASSERT_NE(want, base) << "the adapter must change the device model's greedy answer";

  Gateway gw(lora_config(device, {adapter + ":0.75"}), {});
  const int port = gw.start();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(120);
  auto r = c.Post("/v1/completions", completion(n, "local").dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json j = json::parse(r->body);
  EXPECT_EQ(j["choices"][0]["text"], want);
  EXPECT_EQ(j["tandem"]["served_by"], "device");
  json sbody = completion(n, "local");
  sbody["stream"] = true;
  auto s = c.Post("/v1/completions", sbody.dump(), "application/json");
  ASSERT_TRUE(s);
  std::string streamed;
  for (const auto& d : test::sse_data(s->body)) {
    if (d == "[DONE]") continue;
    const json e = json::parse(d);
    if (e.contains("choices") && !e["choices"].empty()) streamed += e["choices"][0].value("text", "");
  }
  EXPECT_EQ(streamed, want);

  const std::string file = std::filesystem::path(adapter).filename().string();
  const json m = json::parse(c.Get("/v1/models")->body)["data"][0];
  ASSERT_EQ(m["device_lora"].size(), 1u);
  EXPECT_EQ(m["device_lora"][0]["file"], file);
  EXPECT_EQ(m["device_lora"][0]["scale"], 0.75);
  EXPECT_EQ(m["device_lora"][0]["sha256"].get<std::string>().size(), 64u);
  const json h = json::parse(c.Get("/health")->body);
  EXPECT_EQ(h["device_lora"], m["device_lora"]);
  gw.stop();

  // An adapter that does not fit: the gateway does not start, and says which key and file.
  try {
    Gateway bad(lora_config(device, {test::model_path(device)}), {});
    ADD_FAILURE() << "a model file was accepted as a LoRA adapter";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("device.lora"), std::string::npos) << msg;
    EXPECT_NE(msg.find(test::model_path(device)), std::string::npos) << msg;
    EXPECT_NE(msg.find("not a LoRA adapter"), std::string::npos) << msg;
  }
  std::filesystem::remove(adapter);
}

// The SPECULATIVE route's drafter is the adapted device model: against a cloud serving the same
// model with the same adapter (Q8_0, whose numbers do not depend on batching) every greedy draft
// is accepted, and the answer is the cloud's.
TEST(EdgeLora, SpeculativeRouteDraftsWithTheAdaptedModel) {
  const char* model = "stories260K-q8_0.gguf";
  TANDEM_REQUIRE_FILE(test::model_path(model));
  const std::string adapter = write_test_adapter("spec", 6);
  test::ServeFixture cloud(model, [&](serve::ServerConfig& c) {
    c.lora = {adapter};
    c.sched.n_ctx = 256;
  });
  const int n = 40;
  const std::string want = greedy(cloud, n);
  GatewayHooks hooks;
  SpeculativeRunnerConfig sc;
  sc.n_threads = 1;
  sc.draft_max = 4;
  hooks.speculative = std::make_shared<VerifySpeculativeRunner>(sc);
  Gateway gw(lora_config(model, {adapter}, cloud.port), hooks);
  const int port = gw.start();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(120);
  auto r = c.Post("/v1/completions", completion(n, "speculative").dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json j = json::parse(r->body);
  EXPECT_EQ(j["choices"][0]["text"], want);
  const json t = j["tandem"];
  ASSERT_EQ(t["route"], "SPECULATIVE") << t.dump();
  ASSERT_TRUE(t.contains("speculative")) << t.dump();
  EXPECT_GT(t["speculative"]["drafted"].get<int>(), 0);
  EXPECT_EQ(t["speculative"]["accepted"], t["speculative"]["drafted"]);
  gw.stop();

  // The same runner bound to the base model (no adapter) is rejected where the models disagree:
  // the check above can tell the difference.
  const auto base = LlamaModel::load(test::model_path(model));
  const Vocab vocab = Vocab::from_gguf(base->gguf());
  VerifySpeculativeRunner runner(sc);
  runner.bind_device(*base, vocab);
  EndpointConfig ep;
  ep.name = "primary";
  ep.url = "http://127.0.0.1:" + std::to_string(cloud.port);
  SpeculativeRequest req;
  req.endpoint = &ep;
  req.prompt_tokens = vocab.tokenize(kPrompt, vocab.add_bos());
  req.gen.sampling.temperature = 0;
  req.gen.max_tokens = n;
  const SpeculativeResult sr = runner.run(req);
  EXPECT_EQ(sr.text, want);
  EXPECT_LT(sr.accepted, sr.drafted);
  std::filesystem::remove(adapter);
}
