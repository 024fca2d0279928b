#include "edge/gateway.h"

#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>

#include "edge/request_extensions.h"
#include "edge/webui.h"
#include "engine/vocab.h"
#include "format/error.h"
#include "http/replies.h"
#include "ledger/report.h"
#include "ledger/report_format.h"
#include "mesh/announcer.h"
#include "mesh/listener.h"
#include "protocol/openai.h"

namespace tandem::edge {

using nlohmann::json;
using protocol::ApiError;
using http::RouteAccess;
using http::send_error;
using http::send_json;

namespace {

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string random_hex(size_t n) {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lk(mu);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) s += hex[rng() & 15];
  return s;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// The x-tandem-* headers, which a body's "tandem" object overrides.
Extensions header_extensions(const httplib::Request& req) {
  Extensions x;
  x.route = req.get_header_value("x-tandem-route");
  x.task = req.get_header_value("x-tandem-task");
  x.privacy = req.get_header_value("x-tandem-privacy");
  x.keep_local = req.get_header_value("x-tandem-keep-local") == "true";
  if (req.has_header("x-tandem-consent")) {
    const std::string c = req.get_header_value("x-tandem-consent");
    if (c != "true" && c != "false")
      throw ApiError(400, "x-tandem-consent must be true or false", "x-tandem-consent", "invalid_value");
    x.consent = c == "true";
  }
  return x;
}

// The query of GET /v1/report: since, until, bucket and (without app keys) app; an app key
// sees only its own app's requests.
struct ReportQuery {
  ledger::Filter filter;
  ledger::ReportOptions options;
};

ReportQuery report_query(const httplib::Request& req, const std::string& app, bool any_app) {
  ReportQuery q;
  ledger::ReportOptions& opt = q.options;
  const int64_t now = unix_ms();
  const auto param = [&](const char* name, auto parse) -> std::optional<int64_t> {
    if (!req.has_param(name)) return std::nullopt;
    try {
      return parse(req.get_param_value(name));
    } catch (const Error& e) {
      throw ApiError(400, std::string(name) + ": " + e.what(), name, "invalid_value");
    }
  };
  opt.since_ms = param("since", [&](const std::string& v) { return ledger::parse_time(v, now); });
  opt.until_ms = param("until", [&](const std::string& v) { return ledger::parse_time(v, now); });
  opt.bucket_ms = param("bucket", [](const std::string& v) { return ledger::parse_duration_ms(v); }).value_or(0);
  if (opt.since_ms && opt.until_ms && *opt.until_ms <= *opt.since_ms)
    throw ApiError(400, "until is not after since", "until", "invalid_value");
  q.filter.since_ms = opt.since_ms;
  q.filter.until_ms = opt.until_ms;
  opt.app = any_app && req.has_param("app") ? req.get_param_value("app") : app;
  if (!opt.app.empty()) q.filter.app = opt.app;
  return q;
}

void send_web_asset(const httplib::Request& req, httplib::Response& res) {
  const auto asset = find_web_asset(req.path);
  if (!asset) {
    send_error(res, ApiError(404, "no web UI file " + req.path, "", "not_found"));
    return;
  }
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
                 "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Cache-Control", "no-cache");
  res.set_content(std::string(asset->body), std::string(asset->content_type));
}

}  // namespace

Gateway::Gateway(EdgeConfig cfg, GatewayHooks hooks) : cfg_(std::move(cfg)) {
  clock_ = hooks.clock ? hooks.clock : steady_clock_ms();
  for (const auto& a : cfg_.apps) {
    const char* k = std::getenv(a.key_env.c_str());
    if (!k || std::string(k).find_first_not_of(" \t\r\n") == std::string::npos)
      throw Error("app '" + a.name + "': the environment variable " + a.key_env + " (its key) is not set or blank");
    app_keys_.emplace_back(k, a.name);
  }
  local_ = std::make_unique<LocalTier>(cfg_);
  fidelity_ = check_device_fidelity(cfg_, local_->model());
  DeviceMonitor::Source src = DeviceMonitor::Source::Sysfs;
  std::optional<Timeline> timeline;
  if (cfg_.state_source == "timeline") {
    src = DeviceMonitor::Source::Timeline;
    timeline = Timeline::load(cfg_.timeline);
  } else if (cfg_.state_source == "push") {
    src = DeviceMonitor::Source::Push;
  }
  device_ = std::make_unique<DeviceMonitor>(
      src, cfg_.sysfs_root, ThermalThresholds{cfg_.thermal_fair_c, cfg_.thermal_serious_c, cfg_.thermal_critical_c},
      std::move(timeline), clock_);
  conn_ = std::make_unique<Connectivity>(cfg_, clock_);
  budget_ = std::make_unique<Budget>(cfg_, hooks.day);
  sink_ = hooks.sink ? hooks.sink : std::make_shared<MemoryRecordSink>();
  if (hooks.speculative) hooks.speculative->bind_device(local_->model(), local_->vocab(), local_->lora_uses());
  orch_ = std::make_unique<Orchestrator>(cfg_, *local_, *conn_, *device_, *budget_, hooks.privacy, hooks.speculative,
                                         sink_, clock_);
  http::HttpLimits limits;
  limits.workers = cfg_.device_parallel + 16;
  http_ = std::make_unique<http::GuardedHttpServer>(limits);
  add_routes();
}

Gateway::~Gateway() { stop(); }

int Gateway::start() {
  check_endpoints();
  conn_->start_probing([this] {
    for (const auto& e : conn_->endpoints())
      if (!e->snapshot().model_checked && e->usable()) {
        check_endpoints();
        break;
      }
  });
  port_ = http_->bind(cfg_.host, cfg_.port);
  start_mesh();  // before serving: /health reads the mesh's parts
  http_->serve();
  return port_;
}

void Gateway::stop() {
  if (stopped_.exchange(true)) return;
  if (mesh_announcer_) mesh_announcer_->stop();
  if (mesh_listener_) mesh_listener_->stop();
  conn_->stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (inflight_ > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  http_->stop();
}

void Gateway::check_endpoints() {
  for (auto& e : conn_->endpoints()) {
    std::string err;
    const json m = fetch_model_info(e->config(), endpoint_api_key(e->config()), cfg_.probe_timeout_ms * 2 + 1000, &err);
    if (m.is_null()) continue;  // unreachable: checked again once it answers
    note_model(*e, m.value("id", ""), m.value("vocab_fingerprint", ""), m.value("sha256", ""));
  }
}

void Gateway::note_model(EndpointHealth& e, const std::string& model, const std::string& fp, const std::string& sha256) {
  const bool desynced = fp != local_->vocab_fingerprint();
  e.set_model_info(model, fp, sha256, desynced);
  // Into the ledger when the state is first known or changes (the report names de-synced ones).
  const std::string sync = desynced ? "de-synced" : "ok";
  std::lock_guard<std::mutex> lk(checks_mu_);
  std::string& last = last_sync_[e.config().name];
  if (last == sync) return;
  last = sync;
  sink_->record_check({.time_ms = unix_ms(), .endpoint = e.config().name, .url = e.config().url, .model = model,
                       .sync = sync, .fingerprint = fp});
}

std::string Gateway::authenticate(const httplib::Request& req) const {
  if (app_keys_.empty()) return "";
  const std::string key = http::request_api_key(req);
  // Every key is compared in full, so the time does not tell how much of a key matched.
  std::string app;
  for (const auto& [k, name] : app_keys_) {
    unsigned diff = unsigned(k.size() ^ key.size());
    for (size_t i = 0; i < k.size(); ++i) diff |= unsigned(k[i] ^ (i < key.size() ? key[i] : 0));
    if (diff == 0) app = name;
  }
  if (app.empty())
    throw ApiError(401, key.empty() ? "missing app key (send 'Authorization: Bearer KEY')" : "invalid app key", "",
                   "invalid_api_key", "invalid_request_error");
  return app;
}

json Gateway::health() const {
  json eps = json::array();
  for (const auto& e : conn_->endpoints()) {
    const auto s = e->snapshot();
    eps.push_back({{"name", s.name},
                   {"kind", s.peer ? "peer" : "cloud"},
                   {"url", s.url},
                   {"breaker", breaker_name(s.breaker)},
                   {"usable", s.usable},
                   {"rtt_ms", s.rtt_ms ? json(*s.rtt_ms) : json(nullptr)},
                   {"consecutive_failures", s.consecutive_failures},
                   {"last_failure", s.last_failure},
                   {"last_error", s.last_error},
                   {"cooldown_ms", s.cooldown_ms},
                   {"model", s.model_id},
                   {"vocab_fingerprint", s.vocab_fingerprint},
                   {"sha256", s.sha256},
                   {"sync", !s.model_checked              ? "unchecked"
                            : !s.desynced                 ? "ok"
                            : s.vocab_fingerprint.empty() ? "unknown"
                                                          : "de-synced"},
                   {"speculation", s.model_checked && !s.desynced},
                   {"discovered", s.discovery ? json{{"kind", s.discovery->kind},
                                                     {"signed", s.discovery->signed_ok},
                                                     {"slots", s.discovery->slots},
                                                     {"idle", s.discovery->idle},
                                                     {"queue", s.discovery->queue},
                                                     {"last_seen_ms_ago", clock_() - s.discovery->last_seen_ms}}
                                              : json(nullptr)}});
  }
  json mesh = nullptr;
  if (mesh_listener_ || mesh_announcer_) {
    mesh = json::object();
    if (mesh_listener_) {
      const auto st = mesh_listener_->stats();
      mesh["listen"] = cfg_.mesh_listen;
      mesh["port"] = mesh_listener_->port();
      mesh["received"] = st.received;
      mesh["accepted"] = st.accepted;
      mesh["dropped"] = st.dropped;
      mesh["last_drop"] = st.last_drop;
    }
    if (mesh_announcer_) mesh["advertising"] = {{"name", mesh_name_}, {"targets", cfg_.mesh_advertise}, {"sent", mesh_announcer_->sent()}};
  }
  const auto remaining = budget_->remaining("");
  return {{"status", "ok"},
          {"device_model", local_->model_id()},
          {"device_lora", serve::loras_json(local_->loras())},
          {"device_fidelity", fidelity_ ? fidelity_json(*fidelity_) : json(nullptr)},
          {"vocab_fingerprint", local_->vocab_fingerprint()},
          {"device", to_json(device_->current())},
          {"device_source", device_->source_name()},
          {"privacy_detector", orch_->privacy_detector()},
          {"speculative_runner", orch_->has_speculative_runner()},
          {"budget", {{"spent_today_usd", budget_->spent_today()}, {"remaining_usd", remaining ? json(*remaining) : json(nullptr)}}},
          {"endpoints", eps},
          {"mesh", mesh}};
}


void Gateway::add_routes() {
  http::GuardedHttpServer& s = *http_;
  s.set_authenticator([this](const httplib::Request& req) { authenticate(req); });
  const auto counted = [this](http::Handler fn) { return http::counted(inflight_, std::move(fn)); };
  using A = RouteAccess;
  s.route("GET", "/health", A::Open, counted([this](const httplib::Request&, httplib::Response& res) {
            send_json(res, 200, health());
          }));
  s.route("GET", "/metrics", A::Open, counted([this](const httplib::Request&, httplib::Response& res) {
            res.set_content(metrics_.render(*conn_, *budget_), "text/plain; version=0.0.4");
          }));
  // The web UI (edge/webui.h). Its own scripts and styles only; nothing from elsewhere.
  s.route("GET", R"(/|/ui|/ui/[A-Za-z0-9._-]+)", A::Open, send_web_asset);
  s.route("GET", "/v1/report", A::Key, counted([this](const httplib::Request& req, httplib::Response& res) {
            handle_report(req, res);
          }));
  s.route("GET", "/v1/device", A::Key, counted([this](const httplib::Request&, httplib::Response& res) {
            json j = to_json(device_->current());
            j["source"] = device_->source_name();
            send_json(res, 200, j);
          }));
  s.route("PUT", "/v1/device", A::Key, counted([this](const httplib::Request& req, httplib::Response& res) {
            const json body = protocol::parse_request_json(req.body);
            DeviceState st;
            try {
              st = device_state_from_json(body);
            } catch (const Error& e) {
              throw ApiError(400, e.what(), "", "invalid_value");
            }
            device_->push(st);
            json j = to_json(device_->current());
            j["source"] = device_->source_name();
            send_json(res, 200, j);
          }));
  s.route("GET", "/v1/models", A::Key, counted([this](const httplib::Request& req, httplib::Response& res) {
            authenticate(req);
            json m = {{"id", cfg_.model_id},
                      {"object", "model"},
                      {"created", int64_t(0)},
                      {"owned_by", "tandem-edge"},
                      {"device_model", local_->model_id()},
                      {"device_lora", serve::loras_json(local_->loras())},
                      {"vocab_fingerprint", local_->vocab_fingerprint()},
                      {"context_length", local_->n_ctx()}};
            send_json(res, 200, {{"object", "list"}, {"data", json::array({m})}});
          }));
  s.route("POST", "/v1/completions", A::Key, counted([this](const httplib::Request& req, httplib::Response& res) {
            handle_completion(req, res, false);
          }));
  s.route("POST", "/v1/chat/completions", A::Key, counted([this](const httplib::Request& req, httplib::Response& res) {
            handle_completion(req, res, true);
          }));
  s.set_error_handler(http::answer_http_error);
}

// The ledger's report over HTTP (what `tandem report` prints), for the UI and for scripts.
void Gateway::handle_report(const httplib::Request& req, httplib::Response& res) {
  const std::string app = authenticate(req);
  const std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
  if (format != "json" && format != "html" && format != "table")
    throw ApiError(400, "format must be json, html or table", "format", "invalid_value");
  const ReportQuery q = report_query(req, app, app_keys_.empty());
  const auto contents = sink_->read(q.filter);
  if (!contents) throw ApiError(404, "this gateway keeps no readable ledger (ledger = \"none\")", "", "not_found");
  const ledger::Report rep = ledger::build_report(contents->records, q.options, contents->checks);
  res.status = 200;
  if (format == "json") {
    res.set_content(ledger::report_json(rep), "application/json");
  } else if (format == "table") {
    res.set_content(ledger::report_table(rep), "text/markdown; charset=utf-8");
  } else {
    res.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    res.set_content(ledger::report_html(rep), "text/html; charset=utf-8");
  }
}

std::shared_ptr<EdgeRequest> Gateway::read_request(const httplib::Request& http_req, bool chat) const {
  auto req = std::make_shared<EdgeRequest>();
  req->arrival_unix_ms = unix_ms();
  req->arrival_steady_ms = clock_();
  req->app = authenticate(http_req);
  req->chat = chat;
  json body = protocol::parse_request_json(http_req.body);
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object", "", "invalid_type");
  const Extensions x = take_extensions(body, header_extensions(http_req));
  if (chat) apply_system_prompt(body, cfg_.system_prompt);
  req->parsed = protocol::parse_completion_request(body, chat, local_->vocab().n_tokens(), http_req.body);
  req->model = req->parsed.model.empty() ? cfg_.model_id : req->parsed.model;
  body.erase("model");
  req->body = body;
  if (req->parsed.gen.constraint.active()) req->body_text = http_req.body;
  req->policy = x.route.empty() ? cfg_.policy : *parse_policy(x.route);
  req->task_hint = x.task;
  req->privacy_level = x.privacy.empty() ? cfg_.privacy : x.privacy;
  req->keep_local = x.keep_local;
  req->consent = x.consent;
  for (const auto& a : cfg_.apps)
    if (a.consent && a.name == req->app) req->consent = true;
  req->from_peer = !http_req.get_header_value("x-tandem-hop").empty();
  return req;
}

void Gateway::handle_completion(const httplib::Request& http_req, httplib::Response& res, bool chat) {
  const std::shared_ptr<EdgeRequest> req = read_request(http_req, chat);
  auto plan = std::make_shared<Plan>(orch_->plan(*req));
  const protocol::ResponseMeta meta{(chat ? "chatcmpl-" : "cmpl-") + random_hex(24), req->model,
                                    req->arrival_unix_ms / 1000};
  const RouteDecision& d = plan->decision;
  res.set_header("x-tandem-route", route_name(d.route));
  res.set_header("x-tandem-reasons", join(d.reasons, ","));
  if (!d.notice.empty()) res.set_header("x-tandem-notice", d.notice);
  if (!req->parsed.stream) {
    send_answer(res, *req, *plan, meta);
    return;
  }
  // Streams: the headers above say what was decided; what happened comes in a last chunk with
  // a `tandem` object (and no choices) before [DONE].
  ++inflight_;
  http::stream_events(
      res, [this, req, plan, meta](http::SseWriter& sse) { return stream_answer(sse, *req, *plan, meta); },
      [this](bool) { --inflight_; });
}

void Gateway::send_answer(httplib::Response& res, const EdgeRequest& req, const Plan& plan,
                          const protocol::ResponseMeta& meta) {
  std::vector<protocol::TokenLogprob> lps;
  Outcome out = orch_->execute(req, plan, [](const std::string&) { return true; },
                               [&](std::vector<protocol::TokenLogprob> t) { lps.insert(lps.end(), t.begin(), t.end()); });
  orch_->record(req, plan, out);
  metrics_.count(route_name(plan.decision.route), out);
  res.set_header("x-tandem-served-by", out.served_by);
  res.set_header("x-tandem-status", out.status);
  res.set_header("x-tandem-cost-usd", fmt_double(out.cost_usd));
  res.set_header("x-tandem-tokens-device", std::to_string(out.prompt_tokens_device + out.completion_tokens_device));
  res.set_header("x-tandem-tokens-cloud", std::to_string(out.prompt_tokens_cloud + out.completion_tokens_cloud));
  res.set_header("x-tandem-latency-ms", fmt_double(out.latency_ms));
  res.set_header("x-tandem-data-left-device", out.data_left_device ? "true" : "false");
  if (out.failure != Failure::None) res.set_header("x-tandem-failure", failure_name(out.failure));
  // A constrained answer cut by an error is not valid output: the app gets the error, not it.
  if (out.error_status && (out.text.empty() || req.parsed.gen.constraint.active())) {
    json e = protocol::error_json(ApiError(out.error_status, out.error_message));
    e["tandem"] = tandem_object(plan, out);
    send_json(res, out.error_status, e);
    return;
  }
  const protocol::Usage u{int32_t(out.prompt_tokens), int32_t(out.completion_tokens), 0};
  const bool want_lps = req.parsed.gen.top_logprobs >= 0;
  const std::string echo_text = !req.chat && req.parsed.echo ? plan.device_prompt_text : "";
  json j = req.chat ? protocol::chat_response(meta, out.text, out.finish_reason, want_lps ? protocol::chat_logprobs_json(lps) : json(nullptr), u)
                    : protocol::completion_response(meta, echo_text + out.text, out.finish_reason,
                                                    want_lps ? protocol::completion_logprobs_json(lps, echo_text.size()) : json(nullptr), u);
  j["tandem"] = tandem_object(plan, out);
  send_json(res, 200, j);
}

bool Gateway::stream_answer(http::SseWriter& sse, const EdgeRequest& req, const Plan& plan,
                            const protocol::ResponseMeta& meta) {
  const bool chat = req.chat;
  const std::string echo_text = !chat && req.parsed.echo ? plan.device_prompt_text : "";
  bool ok = true;
  if (chat) ok = sse.send(protocol::chat_chunk(meta, {{"role", "assistant"}, {"content", ""}}, nullptr, nullptr));
  else if (!echo_text.empty()) ok = sse.send(protocol::completion_chunk(meta, echo_text, nullptr, nullptr));
  Outcome out;
  // Log-probabilities ride with the next chunk of text (or the finishing chunk).
  const bool want_lps = req.parsed.gen.top_logprobs >= 0;
  std::vector<protocol::TokenLogprob> pending;
  size_t text_offset = echo_text.size();
  auto take_lps = [&]() -> json {
    if (!want_lps) return nullptr;
    json j = chat ? protocol::chat_logprobs_json(pending) : protocol::completion_logprobs_json(pending, text_offset);
    for (const auto& t : pending) text_offset += t.text.size();
    pending.clear();
    return j;
  };
  if (ok) {
    out = orch_->execute(req, plan, [&](const std::string& text) {
      return chat ? sse.send(protocol::chat_chunk(meta, {{"content", text}}, nullptr, take_lps()))
                  : sse.send(protocol::completion_chunk(meta, text, nullptr, take_lps()));
    }, [&](std::vector<protocol::TokenLogprob> t) { pending.insert(pending.end(), t.begin(), t.end()); });
  } else {
    out.cancelled = true;
    out.status = "error";
  }
  orch_->record(req, plan, out);
  metrics_.count(route_name(plan.decision.route), out);
  if (out.cancelled) return false;
  if (out.error_status) {
    sse.send(protocol::error_json(ApiError(out.error_status, out.error_message)));
  } else {
    const json fr = out.finish_reason.empty() ? json("stop") : json(out.finish_reason);
    const json last_lps = pending.empty() ? json(nullptr) : take_lps();
    if (chat) sse.send(protocol::chat_chunk(meta, json::object(), fr, last_lps));
    else sse.send(protocol::completion_chunk(meta, "", fr, last_lps));
    if (req.parsed.include_usage)
      sse.send(protocol::usage_chunk(meta, chat, {int32_t(out.prompt_tokens), int32_t(out.completion_tokens), 0}));
  }
  sse.send({{"id", meta.id},
            {"object", chat ? "chat.completion.chunk" : "text_completion"},
            {"created", meta.created},
            {"model", meta.model},
            {"choices", json::array()},
            {"tandem", tandem_object(plan, out)}});
  sse.done();
  return true;
}

}  // namespace tandem::edge
