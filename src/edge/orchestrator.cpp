#include "edge/orchestrator.h"

#include <algorithm>

#include "edge/complexity.h"
#include "edge/outbound.h"
#include "engine/generate.h"
#include "engine/vocab.h"
#include "protocol/generation.h"
#include "protocol/text_stream.h"
#include "serve/generation_service.h"

namespace tandem::edge {

using nlohmann::json;

namespace {

bool has_reason(const std::vector<std::string>& v, const std::string& r) {
  return std::find(v.begin(), v.end(), r) != v.end();
}

}  // namespace

json tandem_object(const Plan& plan, const Outcome& out) {
  json reasons = plan.decision.reasons;
  for (const auto& r : out.more_reasons) reasons.push_back(r);
  json t = {{"route", route_name(plan.decision.route)},
            {"served_by", out.served_by},
            {"status", out.status},
            {"reasons", reasons},
            {"tokens",
             {{"device", {{"prompt", out.prompt_tokens_device}, {"completion", out.completion_tokens_device}}},
              {"cloud", {{"prompt", out.prompt_tokens_cloud}, {"completion", out.completion_tokens_cloud}}}}},
            {"cost_usd", out.cost_usd},
            {"all_cloud_cost_usd", out.all_cloud_cost_usd},
            {"latency_ms", out.latency_ms},
            {"ttft_ms", out.ttft_ms ? json(*out.ttft_ms) : json(nullptr)},
            {"data_left_device", out.data_left_device}};
  if (!plan.decision.notice.empty()) t["notice"] = plan.decision.notice;
  if (out.failure != Failure::None) t["failure"] = failure_name(out.failure);
  if (!out.attempts.empty()) t["attempts"] = out.attempts;
  if (out.failover_at_chunk >= 0) t["failover_at_chunk"] = out.failover_at_chunk;
  if (plan.decision.entropy) t["entropy"] = *plan.decision.entropy;
  if (out.mean_logprob) t["mean_logprob"] = *out.mean_logprob;
  if (plan.decision.max_tokens_cap) t["max_tokens_cap"] = *plan.decision.max_tokens_cap;
  if (out.spec_rounds > 0)
    t["speculative"] = {{"rounds", out.spec_rounds}, {"drafted", out.spec_drafted}, {"accepted", out.spec_accepted}};
  json privacy = {{"detector", plan.privacy.detector},
                 {"level", plan.privacy.level},
                 {"consent", plan.privacy.consent},
                 {"found", plan.privacy.found},
                 {"redacted", plan.privacy.redacted_counts}};
  if (plan.privacy.needs_consent) {
    privacy["consent_needed"] = true;
    // What consent would change: where it would run, and what would leave in place of values
    // (types and counts only).
    if (plan.with_consent)
      privacy["with_consent"] = {{"route", route_name(plan.with_consent->route)},
                                 {"reasons", plan.with_consent->reasons},
                                 {"would_redact", plan.privacy.found}};
  }
  t["privacy"] = privacy;
  return t;
}

Orchestrator::Orchestrator(const EdgeConfig& cfg, LocalTier& local, Connectivity& conn, DeviceMonitor& device,
                           Budget& budget, std::shared_ptr<PrivacyGate> privacy,
                           std::shared_ptr<SpeculativeRunner> speculative, std::shared_ptr<RecordSink> sink,
                           ClockFn clock)
    : cfg_(cfg), local_(local), conn_(conn), device_(device), budget_(budget),
      privacy_(privacy ? std::move(privacy) : std::make_shared<NoDetectionPrivacyGate>()),
      speculative_(std::move(speculative)),
      sink_(sink ? std::move(sink) : std::make_shared<MemoryRecordSink>()),
      clock_(clock ? std::move(clock) : steady_clock_ms()) {
  detector_ = privacy_->name();
}

const EndpointConfig* Orchestrator::primary_cloud() const {
  const EndpointConfig* best = nullptr;
  for (const auto& e : cfg_.clouds)
    if (!best || e.priority < best->priority) best = &e;
  return best;
}

PrivacyVerdict Orchestrator::inspect_privacy(const EdgeRequest& req, const std::vector<std::string>& texts) {
  PrivacyInput pi;
  pi.texts = texts;
  pi.level = req.privacy_level;
  pi.consent = req.consent;
  pi.app = req.app;
  const std::string& kind = req.parsed.gen.constraint.kind;
  pi.answer_is_json = kind == "json_object" || kind == "json_schema";
  PrivacyVerdict v;
  try {
    v = privacy_->inspect(pi);
  } catch (const std::exception&) {
    v = PrivacyVerdict{};
    v.failed = true;
  }
  if (v.detector.empty()) v.detector = detector_;
  v.level = req.privacy_level;
  v.consent = req.consent;
  // Strict never depends on what a detector finds: without consent nothing leaves, whichever
  // gate is installed (one that detects nothing included).
  if (req.privacy_level == "strict" && !req.consent) {
    v.needs_consent = true;
    v.keep_local = true;
    v.redacted = false;
  }
  return v;
}

void Orchestrator::explain_consent(const RouteInputs& in, Plan& p) const {
  if (!p.privacy.needs_consent || !has_reason(p.decision.reasons, "privacy:strict_no_consent")) return;
  // Where consent would send it (redacted; no speculation, which may measure the network).
  RouteInputs consented = in;
  consented.privacy_no_consent = false;
  consented.privacy_redacted = true;
  consented.speculation = nullptr;
  RouteDecision would = decide_route(consented, cfg_);
  if (would.route == Route::Local) return;
  p.decision.notice = "strict privacy: answered on the device without your consent; the router would have sent it to " +
                      std::string(route_name(would.route)) + " (" + (would.reasons.empty() ? "" : would.reasons.front()) +
                      "). With consent (tandem.consent or x-tandem-consent: true) it leaves redacted.";
  p.with_consent = std::move(would);
}

namespace {

// Whether the privacy check would send a string of the output's schema or grammar changed (under
// strict without consent: whether consent would). Such a request cannot leave: a placeholder in
// a schema changes what the answer must be, and the original is what the check refused.
bool structure_would_change(const PrivacyVerdict& v, const std::vector<std::string>& texts,
                            const std::vector<bool>& structure) {
  if (v.texts.size() != texts.size() || structure.size() != texts.size()) return false;
  for (size_t i = 0; i < texts.size(); ++i)
    if (structure[i] && v.texts[i] != texts[i]) return true;
  return false;
}

// Why a failover cannot continue an answer whose text so far breaks the request's constraint:
// which endpoint sent it (the last attempt, "name:failure"), the field, and where it broke.
std::string refused_continuation(const Outcome& out, const std::string& field, const std::string& detail) {
  const std::string attempt = out.attempts.empty() ? std::string() : out.attempts.back();
  const size_t colon = attempt.rfind(':');
  const std::string from = colon == std::string::npos ? "the endpoint"
                                                      : "'" + attempt.substr(0, colon) + "' (which then failed: " +
                                                            attempt.substr(colon + 1) + ")";
  return "the answer so far from " + from + " does not follow the request's '" + field +
         "', so the device cannot continue it: " + detail;
}

// The prompt as the device model sees it (text and tokens, into the plan), and the user's own
// text, which the complexity keywords are matched against.
std::string device_prompt(const EdgeRequest& req, const LocalTier& local, Plan& p) {
  const auto& r = req.parsed;
  if (req.chat) {
    p.device_prompt_text = local.render_chat(r.messages);
    p.device_prompt = local.tokenize(p.device_prompt_text, true);
    std::string user_text;
    for (const auto& m : r.messages)
      if (m.role == "user") user_text += m.content + "\n";
    return user_text;
  }
  if (r.prompt_is_tokens) {
    p.device_prompt = r.prompt_tokens;
    p.device_prompt_text = p.token_prompt_text;
  } else {
    p.device_prompt_text = r.prompt_text;
    p.device_prompt = local.tokenize(r.prompt_text, false);
  }
  return p.device_prompt_text;
}

// Every tier must be able to finish the request (the device continues failed streams), so a
// request that does not fit the device's context is refused, and the default max_tokens is cut
// to what is left of it.
int64_t fitted_max_tokens(const EdgeRequest& req, const Plan& p, int64_t n_ctx, int default_max_tokens) {
  const int64_t asked = req.parsed.gen.max_tokens;
  const PromptFit fit = check_prompt_fits(int64_t(p.device_prompt.size()), asked, n_ctx, "the device model");
  protocol::require_prompt_fits(fit, req.chat);
  return asked >= 0 ? asked : std::min<int64_t>(default_max_tokens, fit.room);
}

// The endpoints as the router sees them: health, RTT, prices, and whether they share the
// device's vocabulary.
std::vector<EndpointView> endpoint_views(Connectivity& conn) {
  std::vector<EndpointView> out;
  for (const auto& e : conn.endpoints()) {
    const auto s = e->snapshot();
    EndpointView v;
    v.name = s.name;
    v.peer = s.peer;
    v.usable = s.usable;
    v.rtt_ms = s.rtt_ms;
    v.priority = e->config().priority;
    v.price_input_per_1m = e->config().price_input_per_1m;
    v.price_output_per_1m = e->config().price_output_per_1m;
    v.desynced = !s.model_checked || s.desynced;
    out.push_back(v);
  }
  return out;
}

}  // namespace

RouteInputs Orchestrator::route_inputs(const EdgeRequest& req, const Plan& p, const std::string& user_text) {
  RouteInputs in;
  in.policy = req.policy;
  in.keep_local = (p.privacy.keep_local && !p.privacy.needs_consent) || req.keep_local;
  in.privacy_no_consent = p.privacy.needs_consent;
  in.privacy_redacted = p.privacy.redacted;
  in.privacy_in_structure = p.privacy_in_structure;
  in.from_peer = req.from_peer;
  in.privacy_failed = p.privacy.failed;
  in.device = device_.current();
  in.endpoints = endpoint_views(conn_);
  in.task_hint = req.task_hint;
  in.categories = match_categories(user_text, cfg_.category_keywords);
  in.prompt_tokens = int64_t(p.device_prompt.size());
  in.entropy = [this, tokens = p.device_prompt] { return local_.prompt_entropy(tokens); };
  in.budget_remaining_usd = budget_.remaining(req.app);
  in.max_tokens = p.max_tokens;
  in.latency_target_ms = cfg_.latency_target_ms;
  in.device_ms_per_token = local_.ms_per_token();
  {
    std::lock_guard<std::mutex> lk(mu_);
    in.cloud_ms_per_token = cloud_ms_per_token_;
  }
  if (speculative_ && !p.privacy.redacted) in.speculation = speculation_estimate(in.endpoints, p);
  return in;
}

std::function<std::optional<SpeculationEstimate>()> Orchestrator::speculation_estimate(
    const std::vector<EndpointView>& endpoints, const Plan& p) {
  // The estimate for the first usable cloud endpoint whose vocabulary matches, made only if the
  // router asks (it may calibrate over the network).
  for (const auto& v : endpoints) {
    if (v.peer || !v.usable || v.desynced) continue;
    return [this, name = v.name, rtt = v.rtt_ms.value_or(0), L = int64_t(p.device_prompt.size()),
            max_tokens = p.max_tokens] {
      std::optional<SpeculationEstimate> e;
      if (auto ep = conn_.find(name)) e = speculative_->estimate(ep->config(), rtt, L, max_tokens);
      if (e) e->endpoint = name;
      return e;
    };
  }
  return {};
}

Plan Orchestrator::plan(const EdgeRequest& req) {
  Plan p;
  if (!req.chat && req.parsed.prompt_is_tokens) p.token_prompt_text = local_.vocab().detokenize(req.parsed.prompt_tokens);
  p.outbound_texts = outbound_texts(req.body, req.chat, p.token_prompt_text);
  p.privacy = inspect_privacy(req, p.outbound_texts);
  p.privacy_in_structure = structure_would_change(p.privacy, p.outbound_texts,
                                                  outbound_structure(req.body, req.chat, p.token_prompt_text));
  const std::string user_text = device_prompt(req, local_, p);
  p.max_tokens = fitted_max_tokens(req, p, local_.n_ctx(), cfg_.default_max_tokens);
  const RouteInputs in = route_inputs(req, p, user_text);
  p.decision = decide_route(in, cfg_);
  explain_consent(in, p);
  if (p.decision.max_tokens_cap) p.max_tokens = std::min(p.max_tokens, *p.decision.max_tokens_cap);
  return p;
}

protocol::GenerationParams Orchestrator::gen_params(const EdgeRequest& req, const Plan& plan) const {
  protocol::GenerationParams g = req.parsed.gen;
  g.max_tokens = int32_t(plan.max_tokens);
  if (!req.parsed.seed_given) g.sampling.seed = protocol::random_seed();
  return g;
}

json Orchestrator::endpoint_body(const EdgeRequest& req, const Plan& plan) const {
  // Only allow-listed fields leave (edge/outbound.h), with the texts the privacy check passed.
  json b = outbound_body(req.body, req.chat, plan.privacy.redacted ? plan.privacy.texts : plan.outbound_texts,
                         plan.token_prompt_text);
  b["max_tokens"] = plan.max_tokens;
  return b;
}

double Orchestrator::charge(const EdgeRequest& req, const EndpointConfig& ep, int64_t prompt_tokens,
                            int64_t completion_tokens) {
  const double usd = token_cost_usd(ep.price_input_per_1m, ep.price_output_per_1m, prompt_tokens, completion_tokens);
  budget_.charge(req.app, usd);
  return usd;
}

struct Orchestrator::Run {
  const EdgeRequest& req;
  const Plan& plan;
  protocol::GenerationParams gen;
  Outcome& out;
  std::function<bool(const std::string&)> emit;  // to the app, counting ttft and text
  std::function<void(std::vector<protocol::TokenLogprob>)> logprobs;  // to the app; empty when not asked for
};

void Orchestrator::run_local(Run& run, const std::string& prefix, int64_t prefix_tokens, bool want_logprobs,
                             const std::function<bool(const std::string&)>& sink, const std::string& held,
                             const std::function<void(std::vector<protocol::TokenLogprob>)>* lp_sink) {
  Outcome& out = run.out;
  std::vector<int32_t> tokens = run.plan.device_prompt;
  if (!prefix.empty()) tokens = local_.tokenize(run.plan.device_prompt_text + prefix, run.req.chat);
  protocol::GenerationParams g = run.gen;
  g.max_tokens = int32_t(std::max<int64_t>(0, run.plan.max_tokens - prefix_tokens));
  const auto& to = lp_sink ? *lp_sink : run.logprobs;
  std::function<void(const std::vector<protocol::TokenLogprob>&)> on_tokens;
  if (to)
    on_tokens = [&](const std::vector<protocol::TokenLogprob>& toks) {
      to(protocol::with_text(toks, local_.vocab()));
    };
  // Under a constraint the device resumes the grammar where the answer so far left it.
  const std::string grammar_prefix = g.constraint.active() ? prefix : "";
  LocalResult r = local_.generate(tokens, g, want_logprobs, sink, held, on_tokens, grammar_prefix);
  if (r.error_status == serve::kOutsideGrammarStatus) {
    // The tier that failed had sent text outside the constraint: the answer cannot be completed
    // as valid output, and the app is told so rather than sent a broken one.
    r.error_status = 502;
    r.error = refused_continuation(out, g.constraint.field, r.error);
  }
  out.prompt_tokens_device += r.prompt_tokens;
  out.completion_tokens_device += r.completion_tokens;
  out.finish_reason = r.finish_reason;
  out.mean_logprob = r.mean_logprob;
  if (r.cancelled) out.cancelled = true;
  if (r.error_status) {
    out.error_status = r.error_status;
    out.error_message = r.error;
  }
  if (out.prompt_tokens == 0) out.prompt_tokens = r.prompt_tokens;
  out.completion_tokens += r.completion_tokens;
}

void Orchestrator::run_endpoints(Run& run, const std::vector<std::string>& names,
                                 const std::function<void()>& device_fallback) {
  Outcome& out = run.out;
  const json body = endpoint_body(run.req, run.plan);
  const auto written = written_structure(body, run.req.chat, run.req.body_text);
  for (const auto& name : names) {
    auto eh = conn_.find(name);
    if (!eh) continue;
    if (!eh->acquire()) {
      out.attempts.push_back(name + ":breaker_open");
      continue;
    }
    const EndpointConfig& ep = eh->config();
    std::shared_ptr<AnswerRestorer> restorer = run.plan.privacy.redacted ? run.plan.privacy.restorer : nullptr;
    CloudCall call;
    call.endpoint = &ep;
    call.api_key = endpoint_api_key(ep);
    call.chat = run.req.chat;
    call.body = body;
    call.written_fields = written;
    call.connect_timeout_ms = cfg_.connect_timeout_ms;
    // The request's stop strings apply to what the app sees, as serve applies them: text that
    // may begin one is held back, so no chunk ever carries text a stop string then cuts — even
    // from an endpoint that sends such text (or ignores `stop`), and across a failover, where
    // the device's continuation may complete a stop string the endpoint began.
    protocol::TextStream stops(run.gen.stop);
    call.on_text = [&](const std::string& piece) {
      const bool open = run.emit(stops.push(restorer ? restorer->push(piece) : piece));
      return open && !stops.stopped();
    };
    if (run.logprobs) call.on_logprobs = [&](const json& lp) { run.logprobs(protocol::token_logprobs_from_json(lp)); };
    CloudResult res = call_cloud(call);
    if (restorer) run.emit(stops.push(restorer->flush()));
    const bool stop_hit = stops.stopped() && !out.cancelled;  // this side ended the call
    if (res.completed() || stop_hit) run.emit(stops.flush());
    if (res.request_sent) out.data_left_device = true;

    // Tokens this endpoint computed, charged to it (usage when it sent one, else estimated).
    const int64_t prompt_tokens = res.prompt_tokens.value_or(res.request_sent ? int64_t(run.plan.device_prompt.size()) : 0);
    const int64_t completion_tokens = res.completion_tokens.value_or(res.content_chunks);
    if (res.http_status == 200 || res.content_chunks > 0) {
      out.prompt_tokens_cloud += prompt_tokens;
      out.completion_tokens_cloud += completion_tokens;
      out.cost_usd += charge(run.req, ep, prompt_tokens, completion_tokens);
    }
    if (res.completed() || stop_hit) {
      // (A failure after the stop string still counts against the endpoint.)
      if (res.failure != Failure::None) eh->on_failure(res.failure, res.retry_after_ms);
      else if (res.headers_ms) eh->on_success(*res.headers_ms);
      out.served_by = name;
      out.finish_reason = stop_hit || res.finish_reason.empty() ? "stop" : res.finish_reason;
      out.prompt_tokens = prompt_tokens;
      out.completion_tokens += completion_tokens;
      return;
    }
    if (res.cancelled) {
      out.served_by = name;
      out.cancelled = true;
      return;
    }
    // A failure. 4xx other than 401/403/404/429 is the request's, not the endpoint's health.
    const bool endpoint_fault = res.failure != Failure::Http4xx || res.http_status == 401 ||
                                res.http_status == 403 || res.http_status == 404;
    if (endpoint_fault) eh->on_failure(res.failure, res.retry_after_ms, res.error_message);
    if (out.failure == Failure::None) out.failure = res.failure;
    out.attempts.push_back(name + ":" + failure_name(res.failure));
    out.status = "fallback";
    if (res.content_chunks > 0) {
      // Mid-stream: the device continues the same answer from what the app already has.
      out.failover_at_chunk = res.content_chunks;
      out.prompt_tokens = prompt_tokens;
      out.completion_tokens += completion_tokens;
      out.served_by = "device";
      run_local(run, out.text + stops.held(), res.content_chunks, false, run.emit, stops.held());
      return;
    }
  }
  device_fallback();
}

void Orchestrator::run_device(Run& run) {
  run.out.served_by = "device";
  run_local(run, "", 0, false, run.emit);
}

void Orchestrator::run_cascade(Run& run) {
  Outcome& out = run.out;
  // The device answers first, unseen; only a confident answer is sent.
  std::string held;
  std::vector<protocol::TokenLogprob> held_lps;
  const std::function<void(std::vector<protocol::TokenLogprob>)> hold_lps = [&](std::vector<protocol::TokenLogprob> t) {
    held_lps.insert(held_lps.end(), t.begin(), t.end());
  };
  run_local(run, "", 0, true, [&](const std::string& s) {
    held += s;
    return true;
  }, "", run.logprobs ? &hold_lps : nullptr);
  auto send_device_answer = [&] {
    if (run.logprobs && !held_lps.empty()) run.logprobs(std::move(held_lps));
    run.emit(held);
  };
  const bool confident = out.error_status == 0 && out.mean_logprob && *out.mean_logprob >= cfg_.cascade_min_logprob;
  if (confident) {
    out.more_reasons.push_back("cascade:confident");
    out.served_by = "device";
    send_device_answer();
    return;
  }
  out.more_reasons.push_back("cascade:low_confidence");
  // The device's answer is set aside (its figures too) while the endpoints try.
  const std::string device_finish = out.finish_reason;
  const int64_t device_completion = out.completion_tokens, device_prompt = out.prompt_tokens;
  const int device_error = out.error_status;
  out.completion_tokens = 0;
  out.prompt_tokens = 0;
  out.error_status = 0;
  run_endpoints(run, run.plan.decision.endpoints, [&] {
    // Every endpoint failed: the device's answer after all.
    out.served_by = "device";
    out.finish_reason = device_finish;
    out.completion_tokens = device_completion;
    out.prompt_tokens = device_prompt;
    out.error_status = device_error;
    send_device_answer();
  });
}

SpeculativeResult Orchestrator::speculate(Run& run, const EndpointConfig& ep) {
  Outcome& out = run.out;
  SpeculativeRequest sreq;
  sreq.endpoint = &ep;
  sreq.api_key = endpoint_api_key(ep);
  sreq.prompt_text = run.plan.device_prompt_text;
  sreq.prompt_tokens = run.plan.device_prompt;
  sreq.gen = run.gen;
  sreq.on_text = run.emit;
  sreq.on_logprobs = run.logprobs;
  SpeculativeResult sr = speculative_->run(sreq);
  out.data_left_device = true;
  out.prompt_tokens_device += sr.prompt_tokens_device;
  out.completion_tokens_device += sr.completion_tokens_device;
  out.prompt_tokens_cloud += sr.prompt_tokens_cloud;
  out.completion_tokens_cloud += sr.completion_tokens_cloud;
  out.cost_usd += charge(run.req, ep, sr.prompt_tokens_cloud, sr.completion_tokens_cloud);
  out.spec_rounds = sr.rounds;
  out.spec_drafted = sr.drafted;
  out.spec_accepted = sr.accepted;
  return sr;
}

void Orchestrator::run_speculative(Run& run) {
  Outcome& out = run.out;
  const std::vector<std::string>& endpoints = run.plan.decision.endpoints;
  auto eh = conn_.find(endpoints.empty() ? "" : endpoints.front());
  SpeculativeResult sr;
  if (speculative_ && eh) sr = speculate(run, eh->config());
  else sr.failure = Failure::Connection;
  if (sr.failure == Failure::None) {
    out.served_by = endpoints.front();
    out.finish_reason = sr.finish_reason;
    out.prompt_tokens = int64_t(run.plan.device_prompt.size());
    out.completion_tokens = sr.completion_tokens_device + sr.completion_tokens_cloud;
    return;
  }
  out.failure = sr.failure;
  out.status = "fallback";
  out.attempts.push_back((endpoints.empty() ? std::string("speculative") : endpoints.front()) + ":" +
                         failure_name(sr.failure));
  if (!sr.text.empty() || !sr.held_text.empty()) {
    // Mid-answer: the device continues the same answer from what the app already has.
    out.served_by = "device";
    out.completion_tokens = sr.completion_tokens_device + sr.completion_tokens_cloud;
    run_local(run, out.text + sr.held_text, out.completion_tokens, false, run.emit, sr.held_text);
    return;
  }
  const std::vector<std::string> rest(endpoints.begin() + (endpoints.empty() ? 0 : 1), endpoints.end());
  run_endpoints(run, rest, [&] { run_device(run); });
}

void Orchestrator::finish(Run& run) {
  Outcome& out = run.out;
  const RouteDecision& d = run.plan.decision;
  if (out.error_status) out.status = "error";
  if (out.cancelled && out.status == "ok") out.status = "error";
  out.latency_ms = double(clock_() - run.req.arrival_steady_ms);
  if (const EndpointConfig* p = primary_cloud())
    out.all_cloud_cost_usd = token_cost_usd(p->price_input_per_1m, p->price_output_per_1m, out.prompt_tokens,
                                            out.completion_tokens);
  if (out.failure == Failure::None && has_reason(d.reasons, "budget:exhausted")) out.failure = Failure::Budget;
  if (out.failure == Failure::None && has_reason(d.reasons, "privacy:check_failed")) out.failure = Failure::Privacy;
  // The cloud's decode speed, for the latency rule.
  if (out.served_by != "device" && out.ttft_ms && out.completion_tokens_cloud > 1) {
    const double per = (out.latency_ms - *out.ttft_ms) / double(out.completion_tokens_cloud - 1);
    std::lock_guard<std::mutex> lk(mu_);
    cloud_ms_per_token_ = cloud_ms_per_token_ ? 0.3 * per + 0.7 * *cloud_ms_per_token_ : per;
  }
}

Outcome Orchestrator::execute(const EdgeRequest& req, const Plan& plan,
                              const std::function<bool(const std::string&)>& emit,
                              const std::function<void(std::vector<protocol::TokenLogprob>)>& on_logprobs) {
  Outcome out;
  Run run{req, plan, gen_params(req, plan), out, {}, {}};
  if (req.parsed.gen.top_logprobs >= 0 && on_logprobs) run.logprobs = on_logprobs;
  run.emit = [&](const std::string& s) {
    if (s.empty() || out.cancelled) return !out.cancelled;
    if (!out.ttft_ms) out.ttft_ms = double(clock_() - req.arrival_steady_ms);
    out.text += s;
    if (!emit(s)) out.cancelled = true;
    return !out.cancelled;
  };
  switch (plan.decision.route) {
    case Route::Local: run_device(run); break;
    case Route::Cloud:
    case Route::Peer: run_endpoints(run, plan.decision.endpoints, [&] { run_device(run); }); break;
    case Route::Cascade: run_cascade(run); break;
    case Route::Speculative: run_speculative(run); break;
  }
  finish(run);
  return out;
}

void Orchestrator::record(const EdgeRequest& req, const Plan& plan, const Outcome& out) {
  ledger::Record r = out;  // the figures execute() filled
  r.time_ms = req.arrival_unix_ms;
  r.app = req.app;
  r.endpoint = req.model;
  r.route = route_name(plan.decision.route);
  r.reasons = plan.decision.reasons;
  r.reasons.insert(r.reasons.end(), out.more_reasons.begin(), out.more_reasons.end());
  r.failure = failure_name(out.failure);
  r.stream = req.parsed.stream;
  r.output_constraint = req.parsed.gen.constraint.kind;
  r.privacy_level = req.privacy_level;
  r.pii_found = plan.privacy.found;
  r.pii_redacted = plan.privacy.redacted_counts;
  if (cfg_.store_text) {
    r.prompt_text = plan.device_prompt_text;
    r.answer_text = out.text;
  }
  sink_->record(r);
}

}  // namespace tandem::edge
