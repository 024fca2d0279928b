// tandem serve over real HTTP on a loopback port, with the shared stories260K models: the
// OpenAI endpoints against `tandem run`, streaming, batching that changes nothing, the prompt
// cache, every kind of bad input, API keys, a full queue and clients that go away.
#include <atomic>
#include <thread>

#include "engine/chat_template.h"
#include "engine/sha256.h"
#include "engine/vocab.h"
#include "engine/vocab_fingerprint.h"
#include "serve_test_util.h"

using namespace tandem;
using namespace tandem::test;

namespace {

const char* kPrompts[] = {"Once upon a time", "The little dog", "Lily wanted to", "Tom and his mom went"};

#define REQUIRE_MODELS() TANDEM_REQUIRE_FILE(model_path("stories260K-f32.gguf"))

}  // namespace

TEST(ServeHttp, ModelsDescribesTheModel) {
  REQUIRE_MODELS();
  ServeFixture s("stories260K-q8_0.gguf");
  auto r = s.get("/v1/models");
  ASSERT_EQ(r.status, 200) << r.text;
  ASSERT_EQ(r.body["object"], "list");
  const json m = r.body["data"][0];
  EXPECT_EQ(m["id"], "stories260K-q8_0");
  EXPECT_EQ(m["object"], "model");
  EXPECT_EQ(m["architecture"], "llama");
  EXPECT_EQ(m["context_length"], 128);
  EXPECT_EQ(m["weight_type"].get<std::string>().substr(0, 4), "q8_0");
  const std::string path = model_path("stories260K-q8_0.gguf");
  EXPECT_EQ(m["vocab_fingerprint"], vocab_fingerprint(Vocab::from_gguf(GgufFile::open(path))));
  std::string out;
  if (run_command("sha256sum " + path, &out) == 0) {
    EXPECT_EQ(m["sha256"], out.substr(0, 64));
  }
  EXPECT_EQ(s.get("/v1/models/stories260K-q8_0").body["id"], "stories260K-q8_0");
  EXPECT_EQ(s.get("/v1/models/gpt-4").status, 404);
  EXPECT_EQ(s.get("/health").body["status"], "ok");
}

// Greedy completions are token for token `tandem run --temp 0`, on every weight type.
TEST(ServeHttp, GreedyCompletionEqualsTandemRun) {
  REQUIRE_MODELS();
  for (const char* type : {"f32", "f16", "q8_0", "q4_0"}) {
    const std::string file = std::string("stories260K-") + type + ".gguf";
    ServeFixture s(file);
    for (const char* prompt : kPrompts) {
      SCOPED_TRACE(file + " / " + prompt);
      const json want = tandem_run_greedy(file, prompt, 100);
      auto r = s.post("/v1/completions", {{"prompt", prompt}, {"max_tokens", 100}, {"temperature", 0}});
      ASSERT_EQ(r.status, 200) << r.text;
      const json& c = r.body["choices"][0];
      EXPECT_EQ(c["text"], want["text"]);
      EXPECT_EQ(c["finish_reason"], want["finish_reason"]);
      EXPECT_EQ(r.body["usage"]["completion_tokens"], want["tokens"].size());
      EXPECT_EQ(r.body["usage"]["prompt_tokens"], want["prompt_tokens"].size());
      EXPECT_EQ(r.body["object"], "text_completion");
      // The same prompt as token ids gives the same text.
      auto t = s.post("/v1/completions", {{"prompt", want["prompt_tokens"]}, {"max_tokens", 100}, {"temperature", 0}});
      EXPECT_EQ(t.body["choices"][0]["text"], want["text"]);
    }
  }
}

TEST(ServeHttp, StreamingSendsTheSameTextAsOpenAIDoes) {
  REQUIRE_MODELS();
  ServeFixture s("stories260K-f32.gguf");
  const json req = {{"prompt", "Once upon a time"}, {"max_tokens", 40}, {"temperature", 0}};
  const auto whole = s.post("/v1/completions", req);
  json sreq = req;
  sreq["stream"] = true;
  sreq["stream_options"] = {{"include_usage", true}};
  const auto r = s.post("/v1/completions", sreq);
  ASSERT_EQ(r.status, 200);
  const auto events = sse_data(r.text);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text, finish;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    const json c = json::parse(events[i]);
    EXPECT_EQ(c["object"], "text_completion");
    EXPECT_EQ(c["id"], json::parse(events[0])["id"]);
    text += c["choices"][0]["text"].get<std::string>();
    if (!c["choices"][0]["finish_reason"].is_null()) {
      EXPECT_EQ(i + 3, events.size()) << "finish_reason before the last chunk";
      finish = c["choices"][0]["finish_reason"];
    }
  }
  EXPECT_EQ(text, whole.body["choices"][0]["text"]);
  EXPECT_EQ(finish, whole.body["choices"][0]["finish_reason"]);
  const json usage = json::parse(events[events.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 40);
  EXPECT_EQ(usage["usage"]["total_tokens"], usage["usage"]["prompt_tokens"].get<int>() + 40);
  EXPECT_EQ(r.text.substr(0, 6), "data: ");

  // echo: the prompt comes first, in the stream and in the whole answer.
  auto e = s.post("/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 5}, {"temperature", 0}, {"echo", true}});
  EXPECT_EQ(e.body["choices"][0]["text"].get<std::string>().rfind("Once upon a time", 0), 0u);
}

TEST(ServeHttp, StopSequencesAndLogprobs) {
  REQUIRE_MODELS();
  ServeFixture s("stories260K-q4_0.gguf");
  const json want = tandem_run_greedy("stories260K-q4_0.gguf", "Once upon a time", 60);
  const std::string full = want["text"];
  const size_t at = full.find(" she");
  ASSERT_NE(at, std::string::npos) << full;
  for (bool stream : {false, true}) {
    auto r = s.post("/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 60}, {"temperature", 0},
                                        {"stop", json::array({"zzz", " she"})}, {"stream", stream}});
    std::string text, finish;
    if (stream) {
      for (const auto& ev : sse_data(r.text)) {
        if (ev == "[DONE]") continue;
        const json c = json::parse(ev);
        text += c["choices"][0]["text"].get<std::string>();
        if (!c["choices"][0]["finish_reason"].is_null()) finish = c["choices"][0]["finish_reason"];
      }
    } else {
      text = r.body["choices"][0]["text"];
      finish = r.body["choices"][0]["finish_reason"];
    }
    EXPECT_EQ(text, full.substr(0, at)) << "stream " << stream;
    EXPECT_EQ(finish, "stop");
  }
  auto r = s.post("/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 10}, {"temperature", 0}, {"logprobs", 3}});
  ASSERT_EQ(r.status, 200) << r.text;
  const json lp = r.body["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), 10u);
  std::string joined;
  for (size_t i = 0; i < 10; ++i) {
    joined += lp["tokens"][i].get<std::string>();
    EXPECT_LE(lp["token_logprobs"][i].get<double>(), 0.0);
    ASSERT_EQ(lp["top_logprobs"][i].size(), 3u);
    // Greedy: the chosen token is the most likely one.
    double best = -1e9;
    for (auto& [piece, v] : lp["top_logprobs"][i].items()) best = std::max(best, v.get<double>());
    EXPECT_DOUBLE_EQ(best, lp["token_logprobs"][i].get<double>());
  }
  EXPECT_EQ(joined, r.body["choices"][0]["text"]);
  EXPECT_EQ(lp["text_offset"][0], 0);
}

// Continuous batching changes nothing: requests run together (with more requests than slots,
// so some queue and join mid-way) give what they give one at a time — greedy and seeded sampling,
// on the f32 model whose float sums depend on batch composition unless the order is fixed.
TEST(ServeHttp, ConcurrentResultsEqualSequentialOnes) {
  REQUIRE_MODELS();
  ServeFixture s("stories260K-f32.gguf", [](serve::ServerConfig& c) { c.sched.n_parallel = 4; });
  std::vector<json> reqs;
  for (int i = 0; i < 12; ++i) {
    json r = {{"prompt", kPrompts[i % 4]}, {"max_tokens", 30 + 7 * i}, {"ignore_eos", true}};
    if (i % 3 == 0) r["temperature"] = 0;
    else r.update({{"temperature", 0.9}, {"top_k", 40}, {"seed", 1000 + i}});
    reqs.push_back(r);
  }
  std::vector<std::string> sequential;
  for (const auto& r : reqs) {
    auto res = s.post("/v1/completions", r);
    ASSERT_EQ(res.status, 200) << res.text;
    sequential.push_back(res.body["choices"][0]["text"]);
  }
  const double batches_before = s.metric("tandem_forward_passes_total");
  std::vector<std::string> concurrent(reqs.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < reqs.size(); ++i)
    threads.emplace_back([&, i] {
      json r = reqs[i];
      r["stream"] = i % 2 == 1;
      auto res = s.post("/v1/completions", r);
      if (res.status != 200) return;
      if (!r["stream"]) {
        concurrent[i] = res.body["choices"][0]["text"];
        return;
      }
      for (const auto& ev : sse_data(res.text))
        if (ev != "[DONE]") concurrent[i] += json::parse(ev)["choices"][0]["text"].get<std::string>();
    });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < reqs.size(); ++i) EXPECT_EQ(concurrent[i], sequential[i]) << "request " << i;
  // They did share forward passes: fewer passes than tokens generated.
  size_t tokens = 0;
  for (const auto& r : reqs) tokens += r["max_tokens"].get<size_t>();
  EXPECT_LT(s.metric("tandem_forward_passes_total") - batches_before, double(tokens) * 0.6);
}

// A prompt that extends an earlier one reuses the slot's KV cache: only the new suffix is
// evaluated. On a quantized model the whole earlier context is reused; on the f32 model only
// the part computed as prompt (generated tokens were summed as single steps, which a fresh
// evaluation of them as prompt would not do), so that results never depend on cache hits.
TEST(ServeHttp, PromptCacheReusesTheLongestCommonPrefix) {
  REQUIRE_MODELS();
  for (const char* type : {"q8_0", "f32"}) {
    const std::string file = std::string("stories260K-") + type + ".gguf";
    ServeFixture s(file, [](serve::ServerConfig& c) { c.sched.n_parallel = 2; });
    const json run = tandem_run_greedy(file, "Once upon a time", 20);
    std::vector<int32_t> p = run["prompt_tokens"], g = run["tokens"];
    auto r1 = s.post("/v1/completions", {{"prompt", p}, {"max_tokens", 20}, {"temperature", 0}, {"user", "u1"}});
    ASSERT_EQ(r1.status, 200);
    EXPECT_EQ(r1.body["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    std::vector<int32_t> p2 = p;
    p2.insert(p2.end(), g.begin(), g.end());
    p2.push_back(261);
    auto r2 = s.post("/v1/completions", {{"prompt", p2}, {"max_tokens", 10}, {"temperature", 0}, {"user", "u1"}});
    ASSERT_EQ(r2.status, 200);
    // The slot holds the prompt and all generated tokens but the last (never evaluated).
    const int expect = std::string(type) == "f32" ? int(p.size()) : int(p.size() + g.size() - 1);
    EXPECT_EQ(r2.body["usage"]["prompt_tokens_details"]["cached_tokens"], expect) << type;
    // And the answer is what a fresh server gives.
    ServeFixture fresh(file);
    auto r3 = fresh.post("/v1/completions", {{"prompt", p2}, {"max_tokens", 10}, {"temperature", 0}});
    EXPECT_EQ(r3.body["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    EXPECT_EQ(r2.body["choices"][0]["text"], r3.body["choices"][0]["text"]) << type;
  }
}

TEST(ServeHttp, BadInputGets4xxWithAnOpenAIErrorAndServingGoesOn) {
  REQUIRE_MODELS();
  ServeFixture s("stories260K-q4_0.gguf");
  struct Case {
    std::string path, body;
    int status;
    std::string param;
  };
  const std::string long_prompt = [] {
    std::string p;
    for (int i = 0; i < 200; ++i) p += "the dog and ";
    return p;
  }();
  const std::vector<Case> cases = {
      {"/v1/completions", "{not json", 400, ""},
      {"/v1/completions", "[1,2]", 400, ""},
      {"/v1/completions", R"({"prompt": 12})", 400, "prompt"},
      {"/v1/completions", R"({"prompt": "a", "max_tokens": "ten"})", 400, "max_tokens"},
      {"/v1/completions", R"({"prompt": "a", "temperature": -1})", 400, "temperature"},
      {"/v1/completions", R"({"prompt": "a", "unknown_knob": 1})", 400, "unknown_knob"},
      {"/v1/completions", R"({"prompt": [1, 5000]})", 400, "prompt"},
      {"/v1/completions", R"({"prompt": "a", "max_tokens": 100000})", 400, "max_tokens"},
      {"/v1/completions", json{{"prompt", long_prompt}}.dump(), 400, "prompt"},
      {"/v1/completions", R"({"prompt": "a", "model": "gpt-4"})", 404, "model"},
      {"/v1/completions", R"({"prompt": "a", "n": 3})", 400, "n"},
      {"/v1/chat/completions", R"({"messages": "hello"})", 400, "messages"},
      {"/v1/verify", R"({"tokens": [1], "draft": [9999]})", 400, "draft"},
      {"/v1/verify", R"({"tokens": [1], "session": "vs-nope", "n_past": 3})", 409, "session"},
      {"/v1/nothing", "{}", 404, ""},
  };
  for (const auto& c : cases) {
    auto r = s.post_raw(c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.path << " " << c.body << " -> " << r.text;
    ASSERT_TRUE(r.body.is_object()) << r.text;
    ASSERT_TRUE(r.body.contains("error")) << r.text;
    const json& e = r.body["error"];
    EXPECT_TRUE(e["message"].is_string() && !e["message"].get<std::string>().empty()) << r.text;
    EXPECT_TRUE(e["type"].is_string()) << r.text;
    EXPECT_TRUE(e.contains("param") && e.contains("code")) << r.text;
    if (!c.param.empty()) {
      EXPECT_EQ(e["param"], c.param) << r.text;
    }
  }
  // Still serving.
  auto ok = s.post("/v1/completions", {{"prompt", "Once"}, {"max_tokens", 3}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_GE(s.metric("tandem_requests_total{endpoint=\"/v1/completions\",status=\"400\"}"), 9);
}

TEST(ServeHttp, ApiKeysAreRequiredWhereSet) {
  REQUIRE_MODELS();
  ServeFixture s("stories260K-q4_0.gguf", [](serve::ServerConfig& c) { c.api_keys = {"k-alpha", "k-beta"}; });
  const json req = {{"prompt", "Once"}, {"max_tokens", 2}};
  auto none = s.post("/v1/completions", req);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body["error"]["code"], "invalid_api_key");
  EXPECT_EQ(s.post("/v1/completions", req, "k-alph").status, 401);
  EXPECT_EQ(s.post("/v1/completions", req, "k-alpha2").status, 401);
  EXPECT_EQ(s.get("/v1/models").status, 401);
  EXPECT_EQ(s.post("/v1/verify", {{"tokens", {1}}}).status, 401);
  EXPECT_EQ(s.post("/v1/completions", req, "k-alpha").status, 200);
  EXPECT_EQ(s.post("/v1/completions", req, "k-beta").status, 200);
  EXPECT_EQ(s.get("/v1/models", "k-beta").status, 200);
  EXPECT_EQ(s.get("/health").status, 200);  // open for load balancers
  EXPECT_EQ(s.get("/metrics").status, 200);
  // x-api-key works too.
  auto c = s.client();
  auto r = c.Post("/v1/completions", httplib::Headers{{"x-api-key", "k-beta"}}, req.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// With every slot busy and no queue, a request is refused at once with 429 and Retry-After.
// A streaming client that goes away frees its slot at once (its long generation stops early).
TEST(ServeHttp, FullQueueIs429AndADisconnectFreesTheSlot) {
  REQUIRE_MODELS();
  ServeFixture s("stories260K-q4_0.gguf", [](serve::ServerConfig& c) {
    c.sched.n_parallel = 1;
    c.sched.queue_size = 0;
    c.sched.n_ctx = 4096;
  });
  std::atomic<int> chunks{0};
  std::atomic<bool> second_done{false};
  HttpResult busy;
  std::thread streamer([&] {
    auto c = s.client();
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/completions";
    req.body = json{{"prompt", "Once upon a time"}, {"max_tokens", 4000}, {"ignore_eos", true}, {"stream", true}}.dump();
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) {
      if (++chunks == 1) {
        // Our generation is running: the only slot is taken and nothing may queue.
        busy = s.post("/v1/completions", {{"prompt", "Once"}, {"max_tokens", 2}});
        second_done = true;
      }
      return !second_done;  // then hang up
    };
    c.send(req);
  });
  streamer.join();
  EXPECT_EQ(busy.status, 429) << busy.text;
  EXPECT_EQ(busy.retry_after, "1");
  EXPECT_EQ(busy.body["error"]["code"], "queue_full");
  // The slot comes free long before 4000 tokens could have been generated.
  const auto t0 = std::chrono::steady_clock::now();
  while (s.metric("tandem_active_sequences") != 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(s.metric("tandem_active_sequences"), 0) << s.get("/metrics").text;
  EXPECT_LT(s.metric("tandem_generated_tokens_total"), 3000);
  EXPECT_EQ(s.post("/v1/completions", {{"prompt", "Once"}, {"max_tokens", 2}}).status, 200);
}

TEST(ServeHttp, MetricsCountWhatHappened) {
  REQUIRE_MODELS();
  ServeFixture s("stories260K-q4_0.gguf");
  s.post("/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"temperature", 0}, {"ignore_eos", true}});
  const std::string t = s.get("/metrics").text;
  for (const char* name :
       {"tandem_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 1", "tandem_generated_tokens_total 12",
        "tandem_prompt_tokens_total 5", "tandem_queue_depth 0", "tandem_active_sequences 0",
        "tandem_time_to_first_token_seconds_count 1", "tandem_inter_token_latency_seconds_count 11",
        "tandem_kv_cache_capacity_tokens 512", "tandem_verify_rounds_total 0"})
    EXPECT_NE(t.find(name), std::string::npos) << name << "\n" << t;
  EXPECT_NE(t.find("tandem_batch_tokens_count"), std::string::npos);
}

// Chat: the messages rendered with the chat template (chatml here: the shared models have none)
// and completed like a text prompt; streamed as chat.completion.chunk deltas.
TEST(ServeHttp, ChatCompletionsRenderTheTemplate) {
  REQUIRE_MODELS();
  ServeFixture s("stories260K-f32.gguf", [](serve::ServerConfig& c) { c.chat_template = "chatml"; });
  const json messages = json::array({{{"role", "system"}, {"content", "You tell stories."}},
                                     {{"role", "user"}, {"content", "A story about a cat, please."}}});
  auto r = s.post("/v1/chat/completions", {{"messages", messages}, {"max_tokens", 30}, {"temperature", 0}});
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["object"], "chat.completion");
  const json& ch = r.body["choices"][0];
  EXPECT_EQ(ch["message"]["role"], "assistant");
  // The same as completing the rendered prompt.
  std::vector<ChatMessage> msgs = {{"system", "You tell stories."}, {"user", "A story about a cat, please."}};
  const std::string rendered = ChatTemplate::from_name_or_source("chatml").apply(msgs, true);
  EXPECT_NE(rendered.find("<|im_start|>assistant\n"), std::string::npos);
  auto c = s.post("/v1/completions", {{"prompt", rendered}, {"max_tokens", 30}, {"temperature", 0}});
  EXPECT_EQ(ch["message"]["content"], c.body["choices"][0]["text"]);
  EXPECT_EQ(r.body["usage"]["prompt_tokens"], c.body["usage"]["prompt_tokens"]);
  EXPECT_EQ(s.get("/v1/models").body["data"][0]["chat_template"], "chatml");

  // Streamed.
  auto st = s.post("/v1/chat/completions", {{"messages", messages}, {"max_tokens", 30}, {"temperature", 0}, {"stream", true}});
  const auto events = sse_data(st.text);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  const json first = json::parse(events[0]);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  std::string text;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json e = json::parse(events[i]);
    text += e["choices"][0]["delta"].value("content", "");
    if (i + 2 < events.size()) {
      EXPECT_TRUE(e["choices"][0]["finish_reason"].is_null());
    }
  }
  EXPECT_EQ(text, ch["message"]["content"]);
  EXPECT_EQ(json::parse(events[events.size() - 2])["choices"][0]["finish_reason"], ch["finish_reason"]);
  EXPECT_TRUE(json::parse(events[events.size() - 2])["choices"][0]["delta"].empty());

  // Logprobs, chat style.
  auto lp = s.post("/v1/chat/completions",
                   {{"messages", messages}, {"max_tokens", 5}, {"temperature", 0}, {"logprobs", true}, {"top_logprobs", 2}});
  ASSERT_EQ(lp.status, 200) << lp.text;
  const json content = lp.body["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 5u);
  EXPECT_EQ(content[0]["top_logprobs"].size(), 2u);
  EXPECT_EQ(content[0]["top_logprobs"][0]["logprob"], content[0]["logprob"]);

  // A model without a template and no --chat-template: 400 that says what to do.
  ServeFixture plain("stories260K-q4_0.gguf");
  auto none = plain.post("/v1/chat/completions", {{"messages", messages}});
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(none.body["error"]["code"], "chat_template_unavailable");
  EXPECT_NE(none.body["error"]["message"].get<std::string>().find("--chat-template"), std::string::npos);
}
