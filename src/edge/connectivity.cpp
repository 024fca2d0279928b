#include "edge/connectivity.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>

#include "format/error.h"
#include "http/client_tls.h"

namespace tandem::edge {

const char* failure_name(Failure f) {
  switch (f) {
    case Failure::None: return "";
    case Failure::Connection: return "connection";
    case Failure::Timeout: return "timeout";
    case Failure::Http4xx: return "http_4xx";
    case Failure::Http5xx: return "http_5xx";
    case Failure::Http429: return "http_429";
    case Failure::Budget: return "budget";
    case Failure::Privacy: return "privacy";
  }
  return "";
}

Failure classify_status(int s) {
  if (s >= 200 && s < 300) return Failure::None;
  if (s == 429) return Failure::Http429;
  if (s == 408) return Failure::Timeout;
  if (s >= 500) return Failure::Http5xx;
  return Failure::Http4xx;
}

const char* breaker_name(BreakerState s) {
  switch (s) {
    case BreakerState::Closed: return "closed";
    case BreakerState::Open: return "open";
    case BreakerState::HalfOpen: return "half_open";
  }
  return "closed";
}

bool CircuitBreaker::would_allow(int64_t now) const {
  switch (state(now)) {
    case BreakerState::Closed: return true;
    case BreakerState::Open: return false;
    case BreakerState::HalfOpen: return !trial_in_flight_;
  }
  return false;
}

bool CircuitBreaker::acquire(int64_t now) {
  if (!would_allow(now)) return false;
  if (state(now) == BreakerState::HalfOpen) {
    state_ = BreakerState::HalfOpen;
    trial_in_flight_ = true;
  }
  return true;
}

void CircuitBreaker::success() {
  state_ = BreakerState::Closed;
  failures_ = 0;
  trial_in_flight_ = false;
}

void CircuitBreaker::failure(int64_t now) {
  ++failures_;
  trial_in_flight_ = false;
  if (state_ == BreakerState::HalfOpen || (state_ == BreakerState::Closed && failures_ >= threshold_)) {
    state_ = BreakerState::Open;
    opened_at_ = now;
  } else if (state_ == BreakerState::Open && now - opened_at_ >= open_ms_) {
    opened_at_ = now;  // a failed probe after the pause counts as the failed trial
  }
}

BreakerState CircuitBreaker::state(int64_t now) const {
  if (state_ == BreakerState::Open && now - opened_at_ >= open_ms_) return BreakerState::HalfOpen;
  return state_;
}

EndpointHealth::EndpointHealth(EndpointConfig cfg, double alpha, int breaker_failures, int64_t breaker_open_ms,
                               ClockFn clock)
    : cfg_(std::move(cfg)), alpha_(alpha), clock_(clock ? std::move(clock) : steady_clock_ms()),
      breaker_(breaker_failures, breaker_open_ms) {}

void EndpointHealth::on_success(double rtt_ms) {
  std::lock_guard<std::mutex> lk(mu_);
  rtt_ = rtt_ ? alpha_ * rtt_ms + (1 - alpha_) * *rtt_ : rtt_ms;
  ++ok_;
  // A success while open but before the pause is over (a probe) does not close the circuit: the
  // half-open trial after the pause decides.
  if (breaker_.state(clock_()) != BreakerState::Open) breaker_.success();
}

void EndpointHealth::on_failure(Failure f, std::optional<int64_t> retry_after_ms, const std::string& reason) {
  std::lock_guard<std::mutex> lk(mu_);
  ++failed_;
  last_failure_ = f;
  if (reason != last_error_ && !reason.empty())
    std::fprintf(stderr, "tandem edge: %s '%s': %s: %s\n", cfg_.peer ? "peer" : "cloud", cfg_.name.c_str(),
                 failure_name(f), reason.c_str());
  last_error_ = reason;
  const int64_t now = clock_();
  if (f == Failure::Http429) {
    cooldown_until_ = now + retry_after_ms.value_or(1000);
    return;
  }
  breaker_.failure(now);
}

namespace {
// A discovered peer that went silent or has no idle slot is not called.
bool discovery_allows(const std::optional<EndpointHealth::Discovery>& d, int64_t now) {
  return !d || (now < d->expires_at_ms && d->idle > 0);
}
}  // namespace

bool EndpointHealth::usable() const {
  std::lock_guard<std::mutex> lk(mu_);
  const int64_t now = clock_();
  return now >= cooldown_until_ && discovery_allows(discovery_, now) && breaker_.would_allow(now);
}

bool EndpointHealth::acquire() {
  std::lock_guard<std::mutex> lk(mu_);
  const int64_t now = clock_();
  return now >= cooldown_until_ && discovery_allows(discovery_, now) && breaker_.acquire(now);
}

void EndpointHealth::set_discovery(const Discovery& d) {
  std::lock_guard<std::mutex> lk(mu_);
  discovery_ = d;
}

bool EndpointHealth::discovered() const {
  std::lock_guard<std::mutex> lk(mu_);
  return discovery_.has_value();
}

void EndpointHealth::set_model_info(std::string model_id, std::string fingerprint, std::string sha256, bool desynced) {
  std::lock_guard<std::mutex> lk(mu_);
  model_checked_ = true;
  model_id_ = std::move(model_id);
  fingerprint_ = std::move(fingerprint);
  sha256_ = std::move(sha256);
  desynced_ = desynced;
}

EndpointHealth::Snapshot EndpointHealth::snapshot() const {
  std::lock_guard<std::mutex> lk(mu_);
  const int64_t now = clock_();
  Snapshot s;
  s.name = cfg_.name;
  s.url = cfg_.url;
  s.peer = cfg_.peer;
  s.breaker = breaker_.state(now);
  s.usable = now >= cooldown_until_ && discovery_allows(discovery_, now) && breaker_.would_allow(now);
  s.discovery = discovery_;
  s.rtt_ms = rtt_;
  s.consecutive_failures = breaker_.consecutive_failures();
  s.last_failure = failure_name(last_failure_);
  s.last_error = last_error_;
  s.cooldown_ms = std::max<int64_t>(0, cooldown_until_ - now);
  s.model_checked = model_checked_;
  s.desynced = desynced_;
  s.model_id = model_id_;
  s.vocab_fingerprint = fingerprint_;
  s.sha256 = sha256_;
  s.calls_ok = ok_;
  s.calls_failed = failed_;
  return s;
}

Connectivity::Connectivity(const EdgeConfig& cfg, ClockFn clock) : cfg_(cfg), clock_(clock) {
  for (const auto* list : {&cfg.clouds, &cfg.peers})
    for (const auto& e : *list)
      endpoints_.push_back(std::make_shared<EndpointHealth>(e, cfg.ewma_alpha, cfg.breaker_failures,
                                                            cfg.breaker_open_ms, clock));
}

Connectivity::~Connectivity() { stop(); }

std::vector<std::shared_ptr<EndpointHealth>> Connectivity::endpoints() const {
  std::lock_guard<std::mutex> lk(list_mu_);
  return endpoints_;
}

std::shared_ptr<EndpointHealth> Connectivity::find(const std::string& name) const {
  std::lock_guard<std::mutex> lk(list_mu_);
  for (const auto& e : endpoints_)
    if (e->name() == name) return e;
  return nullptr;
}

std::shared_ptr<EndpointHealth> Connectivity::add_discovered(const EndpointConfig& cfg,
                                                             const EndpointHealth::Discovery& d, bool* added) {
  std::lock_guard<std::mutex> lk(list_mu_);
  *added = false;
  for (const auto& e : endpoints_) {
    if (e->name() != cfg.name) continue;
    if (!e->discovered()) return nullptr;  // a configured endpoint's name
    if (e->config().url != cfg.url) break;  // the name moved to another URL: a new endpoint
    e->set_discovery(d);
    return e;
  }
  std::erase_if(endpoints_, [&](const auto& e) { return e->name() == cfg.name; });
  auto e = std::make_shared<EndpointHealth>(cfg, cfg_.ewma_alpha, cfg_.breaker_failures, cfg_.breaker_open_ms, clock_);
  e->set_discovery(d);
  endpoints_.push_back(e);
  *added = true;
  return e;
}

std::vector<std::string> Connectivity::expire_discovered() {
  const int64_t now = clock_();
  std::vector<std::string> gone;
  std::lock_guard<std::mutex> lk(list_mu_);
  std::erase_if(endpoints_, [&](const auto& e) {
    const auto s = e->snapshot();
    if (!s.discovery || s.discovery->expires_at_ms > now) return false;
    gone.push_back(s.name);
    return true;
  });
  return gone;
}

void Connectivity::probe(EndpointHealth& e) {
  const std::string origin = http::url_origin(e.config().url);
  std::unique_ptr<httplib::Client> client;
  try {
    client = http::make_http_client(origin, e.config().tls);
  } catch (const Error& err) {
    e.on_failure(Failure::Connection, std::nullopt, err.what());
    return;
  }
  httplib::Client& c = *client;
  const auto to = std::chrono::milliseconds(cfg_.probe_timeout_ms);
  c.set_connection_timeout(to);
  c.set_read_timeout(to);
  c.set_write_timeout(to);
  const auto t0 = std::chrono::steady_clock::now();
  http::clear_tls_errors();
  auto r = c.Get("/health");
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!r) {
    const bool timeout = r.error() == httplib::Error::ConnectionTimeout ||
                         (r.error() == httplib::Error::Read && ms >= cfg_.probe_timeout_ms * 0.9);
    e.on_failure(timeout ? Failure::Timeout : Failure::Connection, std::nullopt,
                 http::describe_http_error(c, r.error(), origin, e.config().tls));
    return;
  }
  const Failure f = classify_status(r->status);
  if (f == Failure::None) e.on_success(ms);
  else e.on_failure(f, std::nullopt, "GET /health answered HTTP " + std::to_string(r->status));
}

void Connectivity::probe_once() {
  for (auto& e : endpoints()) probe(*e);
}

void Connectivity::start_probing(std::function<void()> after_round) {
  if (cfg_.probe_interval_ms <= 0 || thread_.joinable()) return;
  after_round_ = std::move(after_round);
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lk(mu_);
    while (!stop_) {
      lk.unlock();
      probe_once();
      if (after_round_) after_round_();
      lk.lock();
      cv_.wait_for(lk, std::chrono::milliseconds(cfg_.probe_interval_ms), [this] { return stop_; });
    }
  });
}

void Connectivity::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tandem::edge
