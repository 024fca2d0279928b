#include "serve/server.h"

#include <httplib.h>

#include <cstdio>
#include <filesystem>

#include "engine/sha256.h"
#include "engine/vocab.h"
#include "engine/vocab_fingerprint.h"
#include "format/error.h"
#include "model/llama_model.h"
#include "protocol/chat_format.h"
#include "protocol/generation.h"
#include "protocol/openai.h"
#include "protocol/token_hash.h"
#include "protocol/verify_wire.h"
#include "serve/sessions.h"

namespace tandem::serve {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using http::GuardedHttpServer;
using http::HttpLimits;
using http::request_api_key;
using http::RouteAccess;
using http::send_json;
using protocol::ApiError;
using protocol::ChatFormatter;
using protocol::CompletionRequest;
using protocol::ResponseMeta;
using protocol::TokenLogprob;
using protocol::Usage;
using protocol::VerifyRequest;
using protocol::chat_chunk;
using protocol::chat_logprobs_json;
using protocol::chat_response;
using protocol::completion_chunk;
using protocol::completion_logprobs_json;
using protocol::completion_response;
using protocol::error_json;
using protocol::parse_completion_request;
using protocol::parse_request_json;
using protocol::parse_verify_request;
using protocol::random_seed;
using protocol::usage_chunk;

namespace {

std::array<uint8_t, 32> sha256_bytes(std::string_view s) {
  Sha256 h;
  h.update(s);
  return h.finish();
}

// Constant time in the key's content: every stored hash is compared in full.
bool key_matches(const std::vector<std::array<uint8_t, 32>>& stored, const std::array<uint8_t, 32>& h) {
  unsigned found = 0;
  for (const auto& s : stored) {
    unsigned diff = 0;
    for (size_t i = 0; i < 32; ++i) diff |= unsigned(s[i] ^ h[i]);
    found |= unsigned(diff == 0);
  }
  return found != 0;
}

json parse_body(const httplib::Request& req) { return parse_request_json(req.body); }

std::string endpoint_label(const std::string& path) {
  for (const char* p : {"/v1/completions", "/v1/chat/completions", "/v1/models", "/v1/verify", "/health", "/metrics"})
    if (path == p || (path.rfind(p, 0) == 0 && path[std::strlen(p)] == '/')) return p;
  return "other";
}

// A chunk's or an answer's logprobs object: null unless the request asked for them.
json logprobs_json(const std::vector<TokenLogprob>& toks, const Vocab& vocab, int top, bool chat, size_t text_offset) {
  if (top < 0) return nullptr;
  const std::vector<TokenLogprob> spelled = protocol::with_text(toks, vocab);
  return chat ? chat_logprobs_json(spelled) : completion_logprobs_json(spelled, text_offset);
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Server::Server(ServerConfig cfg) : cfg_(std::move(cfg)) {
  HttpLimits limits;
  limits.workers = cfg_.http_threads > 0 ? cfg_.http_threads : cfg_.sched.n_parallel + cfg_.sched.queue_size + 8;
  limits.max_connections = cfg_.max_connections;
  limits.request_timeout = cfg_.request_timeout;
  if (limits.max_connections < 1 || limits.request_timeout.count() < 1)
    throw Error("the connection limit and the request timeout must be positive");
  http_ = std::make_unique<GuardedHttpServer>(limits);  // TLS files are checked before the model loads
  if (!cfg_.ssl_cert.empty() || !cfg_.ssl_key.empty() || !cfg_.ssl_ca.empty())
    http_->set_tls({cfg_.ssl_cert, cfg_.ssl_key, cfg_.ssl_ca});
  model_ = LlamaModel::load(cfg_.model_path);
  vocab_ = std::make_unique<Vocab>(Vocab::from_gguf(model_->gguf()));
  if (cfg_.model_id.empty()) cfg_.model_id = std::filesystem::path(cfg_.model_path).stem().string();
  vocab_fingerprint_ = tandem::vocab_fingerprint(*vocab_);
  file_sha256_ = sha256_file_hex(cfg_.model_path);
  created_ = unix_now();
  for (const auto& k : cfg_.api_keys) {
    if (k.find_first_not_of(" \t\r\n") == std::string::npos) throw Error("an API key must not be empty or blank");
    key_hashes_.push_back(sha256_bytes(k));
  }
  chat_ = std::make_unique<ChatFormatter>(model_->gguf(), cfg_.chat_template, vocab_->add_bos());
  sessions_ = std::make_unique<SessionStore>(cfg_.session_ttl, cfg_.session_budget_bytes, metrics_);
  loras_ = load_served_loras(cfg_.lora, *model_);
  for (const auto& l : loras_) cfg_.sched.loras.push_back(l.use);
  scheduler_ = std::make_unique<Scheduler>(*model_, *vocab_, cfg_.sched, metrics_);
  add_routes();
}

Server::~Server() { stop(); }

int Server::start() {
  port_ = http_->start(cfg_.host, cfg_.port);
  return port_;
}

void Server::drain(std::chrono::milliseconds timeout) {
  draining_ = true;
  const auto deadline = Clock::now() + timeout;
  while (scheduler_->pending() > 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // The streams cut short still get a moment to send their error event and [DONE].
  finish(std::max(deadline, Clock::now() + std::chrono::milliseconds(500)));
}

void Server::stop() { finish(Clock::now() + std::chrono::seconds(5)); }

void Server::finish(Clock::time_point until) {
  if (stopped_.exchange(true)) return;
  draining_ = true;
  scheduler_->stop();  // what still runs ends with an error event
  // Let the HTTP threads write those last events: once stopped, writes fail.
  while (inflight_ > 0 && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  http_->stop();
}

std::string Server::authenticate(const httplib::Request& req) const {
  if (key_hashes_.empty()) return "";
  const std::string key = request_api_key(req);
  const auto h = sha256_bytes(key);
  if (key.empty() || !key_matches(key_hashes_, h))
    throw ApiError(401, key.empty() ? "missing API key (send 'Authorization: Bearer KEY')" : "invalid API key", "",
                   "invalid_api_key", "invalid_request_error");
  static const char* hex = "0123456789abcdef";
  std::string owner;
  for (uint8_t b : h) {
    owner += hex[b >> 4];
    owner += hex[b & 15];
  }
  return owner;
}

void Server::add_routes() {
  GuardedHttpServer& s = *http_;
  s.set_authenticator([this](const httplib::Request& req) { authenticate(req); });
  // Every handler: 503 for the API while draining; counted until it returns.
  auto wrap = [this](auto fn, bool api) {
    return http::counted(inflight_, [this, fn, api](const httplib::Request& req, httplib::Response& res) {
      if (api && draining_) throw ApiError(503, "the server is shutting down", "", "shutting_down");
      fn(req, res);
    });
  };
  using A = RouteAccess;
  s.route("GET", "/health", A::Open, wrap([this](const httplib::Request&, httplib::Response& res) {
          sessions_->expire();
          if (draining_) send_json(res, 503, {{"status", "draining"}});
          else send_json(res, 200, {{"status", "ok"}});
        }, false));
  s.route("GET", "/metrics", A::Open, wrap([this](const httplib::Request&, httplib::Response& res) {
          sessions_->expire();
          res.set_content(metrics_.render(), "text/plain; version=0.0.4");
        }, false));
  s.route("GET", "/v1/models", A::Key, wrap([this](const httplib::Request& req, httplib::Response& res) { handle_models(req, res); }, true));
  s.route("GET", R"(/v1/models/(.+))", A::Key, wrap([this](const httplib::Request& req, httplib::Response& res) {
          authenticate(req);
          if (req.matches[1] != cfg_.model_id)
            throw ApiError(404, "the model '" + std::string(req.matches[1]) + "' does not exist", "model", "model_not_found");
          handle_models(req, res);
          json all = json::parse(res.body);
          send_json(res, 200, all["data"][0]);
        }, true));
  s.route("POST", "/v1/completions", A::Key, wrap([this](const httplib::Request& req, httplib::Response& res) {
           handle_completion(req, res, false);
         }, true));
  s.route("POST", "/v1/chat/completions", A::Key, wrap([this](const httplib::Request& req, httplib::Response& res) {
           handle_completion(req, res, true);
         }, true));
  s.route("POST", "/v1/verify", A::Key, wrap([this](const httplib::Request& req, httplib::Response& res) { handle_verify(req, res); }, true));
  s.route("DELETE", R"(/v1/verify/(.+))", A::Key, wrap([this](const httplib::Request& req, httplib::Response& res) {
             const std::string owner = authenticate(req);
             if (!sessions_->remove(req.matches[1], owner))
               throw ApiError(404, "no such session", "session", "session_unknown");
             send_json(res, 200, {{"session", std::string(req.matches[1])}, {"deleted", true}});
           }, true));

  s.set_error_handler(http::answer_http_error);
  // Counted when the status is final but before the response is written (the logger runs after
  // it is sent, so a client could read /metrics before its own request was counted).
  s.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    metrics_.count_request(endpoint_label(req.path), res.status);
  });
  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (cfg_.log_requests) std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
  });
}

void Server::submit(const std::shared_ptr<Job>& job) {
  if (scheduler_->submit(job)) return;
  if (draining_) throw ApiError(503, "the server is shutting down", "", "shutting_down");
  throw ApiError(429, "the server is busy (request queue full); retry later", "", "queue_full");
}

void Server::handle_models(const httplib::Request& req, httplib::Response& res) {
  authenticate(req);
  const auto& hp = model_->hparams();
  json m = {{"id", cfg_.model_id},
            {"object", "model"},
            {"created", created_},
            {"owned_by", "tandem"},
            {"architecture", hp.arch},
            {"context_length", scheduler_->n_ctx()},
            {"n_ctx_train", hp.n_ctx_train},
            {"weight_type", model_->type_summary()},
            {"n_params", model_->n_params()},
            {"n_vocab", hp.n_vocab},
            {"vocab_fingerprint", vocab_fingerprint_},
            {"sha256", file_sha256_},
            {"max_draft", scheduler_->max_draft()},
            {"chat_template", chat_->name()},
            {"lora", loras_json(loras_)}};
  send_json(res, 200, {{"object", "list"}, {"data", json::array({m})}});
}

// One streamed completion's state between calls of its content provider.
struct Server::CompletionStream {
  std::shared_ptr<Job> job;
  ResponseMeta meta;
  bool chat = false, echo = false, include_usage = false;
  int top = -1;  // top_logprobs
  std::string prompt_text;
  bool started = false;
  size_t text_offset = 0;  // completions' logprobs: where the next token starts in the answer's text
};

void Server::handle_completion(const httplib::Request& req, httplib::Response& res, bool chat) {
  authenticate(req);
  CompletionRequest r = parse_completion_request(parse_body(req), chat, model_->hparams().n_vocab, req.body);
  if (!r.model.empty() && r.model != cfg_.model_id)
    throw ApiError(404, "the model '" + r.model + "' does not exist (this server has '" + cfg_.model_id + "')", "model",
                   "model_not_found");
  std::string prompt_text;
  const std::shared_ptr<Job> job = completion_job(r, chat, &prompt_text);
  submit(job);
  ResponseMeta meta{(chat ? "chatcmpl-" : "cmpl-") + random_id("").substr(0, 24), cfg_.model_id, unix_now()};
  if (!r.stream) {
    answer_completion(res, *job, meta, r, chat, prompt_text);
    return;
  }
  // Server-Sent Events, as OpenAI sends them: data: {chunk}\n\n ... data: [DONE]\n\n
  auto st = std::make_shared<CompletionStream>();
  *st = {job, meta, chat, r.echo, r.include_usage, r.gen.top_logprobs, prompt_text};
  ++inflight_;  // until the stream is written (on_end below)
  http::stream_events(res, [this, st](http::SseWriter& sse) { return stream_completion(*st, sse); },
                      [this, job](bool) {
                        job->cancelled = true;  // a no-op once the job has finished
                        --inflight_;
                      });
}

std::shared_ptr<Job> Server::completion_job(CompletionRequest& r, bool chat, std::string* prompt_text) {
  auto job = std::make_shared<Job>(Job::Kind::Completion);
  if (chat) {
    *prompt_text = chat_->format(r.messages);
    job->prompt = vocab_->tokenize(*prompt_text, vocab_->add_bos(), true);
  } else if (r.prompt_is_tokens) {
    job->prompt = r.prompt_tokens;
    if (r.echo) *prompt_text = vocab_->detokenize(job->prompt);
  } else {
    *prompt_text = r.prompt_text;
    job->prompt = vocab_->tokenize(*prompt_text, vocab_->add_bos());
  }
  const int64_t n_ctx = scheduler_->n_ctx(), L = int64_t(job->prompt.size());
  const PromptFit fit = check_prompt_fits(L, r.gen.max_tokens, n_ctx, "this model");
  protocol::require_prompt_fits(fit, chat);
  if (r.gen.max_tokens < 0) r.gen.max_tokens = int32_t(chat ? fit.room : std::min<int64_t>(16, fit.room));
  if (!r.seed_given) r.gen.sampling.seed = random_seed();
  job->gen = r.gen;
  job->user = r.user;
  return job;
}

void Server::answer_completion(httplib::Response& res, Job& job, const ResponseMeta& meta, const CompletionRequest& r,
                               bool chat, const std::string& prompt_text) {
  const int top = r.gen.top_logprobs;
  std::string text = r.echo ? prompt_text : "";
  std::vector<TokenLogprob> toks;
  StreamEvent e;
  for (;;) {
    if (!job.pop(&e, std::chrono::milliseconds(1000))) continue;
    text += e.text;
    if (top >= 0) toks.insert(toks.end(), e.tokens.begin(), e.tokens.end());
    if (e.final) break;
  }
  if (e.error_status) throw ApiError(e.error_status, e.error);
  const Usage u{job.prompt_tokens, job.completion_tokens, job.cached_tokens};
  send_json(res, 200,
            chat ? chat_response(meta, text, e.finish_reason, logprobs_json(toks, *vocab_, top, true, 0), u)
                 : completion_response(meta, text, e.finish_reason,
                                       logprobs_json(toks, *vocab_, top, false, r.echo ? prompt_text.size() : 0), u));
}

bool Server::stream_completion(CompletionStream& st, http::SseWriter& sse) {
  Job& job = *st.job;
  auto fail = [&] {
    job.cancelled = true;
    return false;
  };
  if (!st.started) {
    st.started = true;
    if (st.chat && !sse.send(chat_chunk(st.meta, {{"role", "assistant"}, {"content", ""}}, nullptr, nullptr)))
      return fail();
    if (!st.chat && st.echo && !st.prompt_text.empty()) {
      if (!sse.send(completion_chunk(st.meta, st.prompt_text, nullptr, nullptr))) return fail();
      st.text_offset = st.prompt_text.size();
    }
    return true;
  }
  StreamEvent e;
  while (!job.pop(&e, std::chrono::milliseconds(200)))
    if (!sse.writable()) return fail();
  if (e.final && e.error_status) {
    // A stream already under way cannot change its status: the error goes in the stream.
    sse.send(error_json(ApiError(e.error_status, e.error)));
    sse.done();
    return true;
  }
  if (!e.text.empty() || (st.top >= 0 && !e.tokens.empty()) || e.final) {
    const json fr = e.final ? json(e.finish_reason) : json(nullptr);
    if (st.chat) {
      const json lp = logprobs_json(e.tokens, *vocab_, st.top, true, 0);
      // The finish_reason goes in a last chunk of its own with an empty delta.
      if (!e.text.empty() || (st.top >= 0 && !e.tokens.empty()))
        if (!sse.send(chat_chunk(st.meta, {{"content", e.text}}, nullptr, lp))) return fail();
      if (e.final && !sse.send(chat_chunk(st.meta, json::object(), fr, nullptr))) return fail();
    } else {
      const json lp = logprobs_json(e.tokens, *vocab_, st.top, false, st.text_offset);
      for (const auto& t : e.tokens) st.text_offset += vocab_->piece(t.token).size();
      if (!sse.send(completion_chunk(st.meta, e.text, fr, lp))) return fail();
    }
  }
  if (e.final) {
    if (st.include_usage && !sse.send(usage_chunk(st.meta, st.chat, {job.prompt_tokens, job.completion_tokens, job.cached_tokens})))
      return fail();
    if (!sse.done()) return fail();
  }
  return true;
}

void Server::handle_verify(const httplib::Request& req, httplib::Response& res) {
  const std::string owner = authenticate(req);
  VerifyRequest r = parse_verify_request(parse_body(req), model_->hparams().n_vocab, scheduler_->max_draft());
  if (!r.model.empty() && r.model != cfg_.model_id)
    throw ApiError(404, "the model '" + r.model + "' does not exist (this server has '" + cfg_.model_id + "')", "model",
                   "model_not_found");
  std::shared_ptr<VerifySession> ses;
  auto conflict = [&](const std::string& message, const std::string& code, const VerifySession* held) {
    send_json(res, 409,
              protocol::verify_conflict_json(ApiError(409, message, "session", code), r.session.value_or(""),
                                             held ? held->tokens.size() : 0,
                                             held ? held->prefix_hash.back() : protocol::kTokenHashSeed));
  };
  if (r.session) {
    std::string why;
    ses = sessions_->claim(*r.session, owner, &why);
    if (!ses) {
      if (why == "busy") conflict("another verify call on this session is running", "session_busy", nullptr);
      else conflict("unknown or expired session; start a new one (omit 'session') and send the whole context",
                    "session_unknown", nullptr);
      return;
    }
  } else {
    ses = sessions_->create(owner);
  }
  // From here the session is ours until released; a new session whose first call fails is dropped.
  struct Release {
    SessionStore& store;
    std::shared_ptr<VerifySession> s;
    bool drop;
    ~Release() {
      store.release(s);
      if (drop) store.remove(s->id, s->owner);
    }
  } release{*sessions_, ses, !r.session};

  const size_t held = ses->tokens.size();
  if (size_t(r.n_past) > held || (r.past_hash && *r.past_hash != ses->prefix_hash[size_t(r.n_past)])) {
    conflict("the session holds " + std::to_string(held) + " tokens that differ from the client's view (n_past " +
                 std::to_string(r.n_past) + "); resend from what the server holds",
             "session_stale", ses.get());
    return;
  }
  if (size_t(r.n_past) < held) ses->truncate(size_t(r.n_past), scheduler_->kv_row_elems());  // client rolled back
  const int64_t total = r.n_past + int64_t(r.tokens.size() + r.draft.size());
  if (total > scheduler_->n_ctx())
    throw ApiError(400, "the session would hold " + std::to_string(total) + " tokens; the context holds " +
                            std::to_string(scheduler_->n_ctx()),
                   "tokens", "context_length_exceeded");
  auto job = std::make_shared<Job>(Job::Kind::Verify);
  job->verify.session = ses;
  job->verify.tokens = std::move(r.tokens);
  job->verify.draft = std::move(r.draft);
  job->verify.draft_probs = std::move(r.draft_probs);
  job->verify.sampling = r.sampling;
  job->verify.seeded = r.seed_given;
  job->verify.top_logprobs = r.top_logprobs;
  submit(job);
  StreamEvent e;
  while (!job->pop(&e, std::chrono::milliseconds(1000)) || !e.final) {
  }
  if (e.error_status) throw ApiError(e.error_status, e.error);
  release.drop = false;
  const VerifyResult& v = job->verify_result;
  send_json(res, 200,
            protocol::verify_answer_json({ses->id, cfg_.model_id, v.accepted, v.token, v.n_past, v.hash,
                                          r.top_logprobs >= 0 ? &v.logprobs : nullptr}));
}

}  // namespace tandem::serve
