// tandem serve: the OpenAI-compatible HTTP server (docs/serve.md) over one model — routes,
// API keys, Server-Sent Events, 429 when the queue is full, and draining on shutdown. The engine
// work happens in the Scheduler's thread; HTTP threads parse, queue and stream.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/replies.h"
#include "http/server.h"
#include "protocol/openai.h"
#include "serve/lora_adapters.h"
#include "serve/scheduler.h"

namespace tandem {
class LlamaModel;
class Vocab;
}  // namespace tandem

namespace tandem::protocol {
class ChatFormatter;
}

namespace tandem::serve {

class SessionStore;

struct ServerConfig {
  std::string model_path;
  std::string model_id;  // default: the file name without .gguf
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  std::vector<std::string> api_keys;  // empty: no authentication
  SchedulerConfig sched;
  std::vector<std::string> lora;  // LoRA adapters ADAPTER.gguf[:SCALE], loaded into sched.loras
  std::string chat_template;  // a template name or source; empty: the model's own
  std::chrono::seconds session_ttl{600};
  size_t session_budget_bytes = size_t(1) << 30;
  int http_threads = 0;  // 0: enough for every slot and queued request to stream at once
  int max_connections = 512;  // open connections; beyond: 503 at once
  std::chrono::milliseconds request_timeout{10000};  // for a request's head to arrive (then 408)
  bool log_requests = false;  // one line per request on stderr (never headers or bodies)
  bool quiet = true;          // no model loading progress
  // HTTPS: the server's PEM certificate (chain) and private key; both or neither. With ssl_ca,
  // clients must present a certificate signed by one of its CAs (mutual TLS).
  std::string ssl_cert, ssl_key, ssl_ca;
};

class Server {
 public:
  explicit Server(ServerConfig cfg);  // loads the model, hashes it, starts the engine thread
  ~Server();

  // Binds (port 0: an ephemeral port) and serves on threads of its own; returns the port.
  int start();
  // Stops accepting requests (503), lets the running ones finish for up to `timeout`, ends the
  // rest cleanly (an error event in their stream), then stops. Returns within `timeout` and a
  // second: connections still sending a request are closed, reads and writes under way fail.
  void drain(std::chrono::milliseconds timeout);
  void stop();

  int port() const { return port_; }
  // The routes with their access (for tests that walk them all).
  const std::vector<http::RouteInfo>& routes() const { return http_->routes(); }
  int open_connections() const { return http_->open_connections(); }
  int32_t n_ctx() const { return scheduler_->n_ctx(); }
  const std::string& model_id() const { return cfg_.model_id; }
  const std::string& vocab_fingerprint() const { return vocab_fingerprint_; }
  const std::string& file_sha256() const { return file_sha256_; }
  int32_t n_parallel() const { return scheduler_->n_parallel(); }
  const std::vector<ServedLora>& loras() const { return loras_; }
  Metrics& metrics() { return metrics_; }

 private:
  void add_routes();
  // Ends the engine, gives running streams until `until` to write their last event, then closes
  // every connection.
  void finish(std::chrono::steady_clock::time_point until);
  // Returns the owner id (hash of the key) or throws ApiError(401).
  std::string authenticate(const httplib::Request& req) const;
  // POST /v1/completions and /v1/chat/completions: the job (its prompt checked against the
  // context, max_tokens defaulted), answered whole or as a stream of events.
  struct CompletionStream;
  void handle_completion(const httplib::Request& req, httplib::Response& res, bool chat);
  std::shared_ptr<Job> completion_job(protocol::CompletionRequest& r, bool chat, std::string* prompt_text);
  void answer_completion(httplib::Response& res, Job& job, const protocol::ResponseMeta& meta,
                         const protocol::CompletionRequest& r, bool chat, const std::string& prompt_text);
  bool stream_completion(CompletionStream& st, http::SseWriter& sse);  // false: the client went away
  void handle_verify(const httplib::Request& req, httplib::Response& res);
  // The session grammar's state after the call's context tokens (those from its grammar_start on
  // must be allowed: else a 400 naming `tokens`), into the job.
  void advance_verify_grammar(const VerifySession& ses, VerifyInput& in);
  // Built on the first session with a grammar.
  std::shared_ptr<const GrammarVocab> grammar_vocab();
  void handle_models(const httplib::Request& req, httplib::Response& res);
  // Queues a job, or throws 429 (queue full) / 503 (draining).
  void submit(const std::shared_ptr<Job>& job);

  ServerConfig cfg_;
  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<Vocab> vocab_;
  std::unique_ptr<protocol::ChatFormatter> chat_;
  std::string vocab_fingerprint_, file_sha256_;
  std::vector<ServedLora> loras_;
  int64_t created_ = 0;
  std::vector<std::array<uint8_t, 32>> key_hashes_;
  Metrics metrics_;
  std::unique_ptr<SessionStore> sessions_;
  std::once_flag grammar_vocab_once_;
  std::shared_ptr<const GrammarVocab> grammar_vocab_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<http::GuardedHttpServer> http_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<int> inflight_{0};  // handlers running and streams still being written
  int port_ = -1;
};

}  // namespace tandem::serve
