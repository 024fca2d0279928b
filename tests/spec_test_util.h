// Helpers for the speculative-decoding client tests (tests/spec_*_test.cpp): the shared model
// pair (q4_0 draft on the "device", f32 target behind an in-process tandem serve), the target's
// and the draft's own greedy output computed with the engine (what `tandem run --temp 0` prints),
// the reference prompts, and a fault-injecting HTTP proxy in front of the server.
#pragma once
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <map>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/context.h"
#include "engine/generate.h"
#include "engine/sampler.h"
#include "engine/vocab.h"
#include "model/llama_model.h"
#include "serve_test_util.h"
#include "verify/speculative.h"

namespace tandem::test {

#define REQUIRE_SPEC_MODELS()                                       \
  do {                                                              \
    TANDEM_REQUIRE_FILE(model_path("stories260K-f32.gguf"));        \
    TANDEM_REQUIRE_FILE(model_path("stories260K-q4_0.gguf"));       \
  } while (0)

// A model with its vocabulary, loaded once per test binary.
struct LoadedModel {
  std::unique_ptr<LlamaModel> model;
  std::unique_ptr<Vocab> vocab;
};
inline const LoadedModel& loaded(const std::string& file) {
  static std::mutex mu;
  static std::map<std::string, LoadedModel> cache;
  std::lock_guard<std::mutex> lk(mu);
  auto& m = cache[file];
  if (!m.model) {
    m.model = LlamaModel::load(model_path(file));
    m.vocab = std::make_unique<Vocab>(Vocab::from_gguf(m.model->gguf()));
  }
  return m;
}
inline const LoadedModel& draft_model() { return loaded("stories260K-q4_0.gguf"); }
inline const LoadedModel& target_model() { return loaded("stories260K-f32.gguf"); }

// What `tandem run --temp 0 -n N` produces with this model: the engine's generate, greedy.
inline std::vector<int32_t> greedy_tokens(const LoadedModel& m, const std::vector<int32_t>& prompt, int n) {
  ContextParams cp;
  cp.n_ctx = int32_t(std::max<size_t>(prompt.size() + size_t(n), 512));
  cp.n_threads = 1;
  cp.n_outputs = 1;
  Context ctx(*m.model, cp);
  Sampler s(SamplerParams{}, m.model->hparams().n_vocab);
  GenerateOptions opt;
  opt.n_predict = n;
  return generate(ctx, *m.vocab, s, prompt, opt).tokens;
}

// The prompts of the shared llama.cpp reference set (../shared/reference/llamacpp).
inline std::vector<std::vector<int32_t>> reference_prompts() {
  std::ifstream f(shared_dir() + "/reference/llamacpp/greedy-stories260K-f32.jsonl");
  std::vector<std::vector<int32_t>> out;
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) out.push_back(json::parse(line)["prompt_tokens"].get<std::vector<int32_t>>());
  return out;
}

// The server's tweak for these tests: 256 positions per slot (the model's own context is 128,
// too short for the longest reference prompt plus 100 tokens; `tandem run` goes past it too).
inline void spec_server(serve::ServerConfig& c) { c.sched.n_ctx = 256; }

inline verify::SpeculativeConfig spec_config(int port) {
  verify::SpeculativeConfig c;
  c.url = "http://127.0.0.1:" + std::to_string(port);
  c.n_threads = 1;
  c.n_ctx = 512;
  return c;
}

// An HTTP proxy in front of a server, for faults a real network would cause: each POST
// /v1/verify asks `action(call_index)` whether to forward it, hang (never answer until the
// proxy stops), or answer 503. Everything else is forwarded. The target port can change (a
// restarted server).
class FaultProxy {
 public:
  enum class Action { Forward, Hang, Fail503 };

  explicit FaultProxy(int target_port) : target_port_(target_port) {
    auto forward = [this](const httplib::Request& req, httplib::Response& res) {
      httplib::Client c("127.0.0.1", target_port_.load());
      c.set_read_timeout(60);
      httplib::Headers h;
      if (req.has_header("Authorization")) h.emplace("Authorization", req.get_header_value("Authorization"));
      httplib::Result r = req.method == "GET"    ? c.Get(req.path.c_str(), h)
                          : req.method == "POST" ? c.Post(req.path.c_str(), h, req.body, "application/json")
                                                 : c.Delete(req.path.c_str(), h);
      if (!r) {
        res.status = 502;
        return;
      }
      res.status = r->status;
      res.set_content(r->body, "application/json");
      if (r->status == 200 && req.path == "/v1/verify") {
        const json j = json::parse(r->body, nullptr, false);
        std::lock_guard<std::mutex> lk(mu_);
        if (j.is_object() && j.contains("session")) last_session_ = j["session"];
      }
    };
    http_.Get(".*", forward);
    http_.Delete(".*", forward);
    http_.Post(".*", [this, forward](const httplib::Request& req, httplib::Response& res) {
      const int i = calls_++;
      const Action a = req.path == "/v1/verify" && action ? action(i) : Action::Forward;
      if (a == Action::Forward) return forward(req, res);
      if (a == Action::Hang) {
        ++hung_;
        while (!stopping_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      res.status = 503;
      res.set_content(R"({"error":{"message":"injected failure","type":"server_error","param":null,"code":null}})",
                      "application/json");
    });
    port_ = http_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    while (!http_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FaultProxy() {
    stopping_ = true;
    http_.stop();
    thread_.join();
  }

  int port() const { return port_; }
  void retarget(int port) { target_port_ = port; }
  std::string last_session() {
    std::lock_guard<std::mutex> lk(mu_);
    return last_session_;
  }
  int calls() const { return calls_; }
  int hung() const { return hung_; }

  std::function<Action(int)> action;  // set before the first call

 private:
  httplib::Server http_;
  std::thread thread_;
  std::atomic<int> target_port_;
  std::atomic<int> calls_{0}, hung_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::string last_session_;
  int port_ = 0;
};

}  // namespace tandem::test
