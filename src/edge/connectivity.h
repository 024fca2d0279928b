// What the gateway knows about each endpoint's reachability: round-trip time as an exponentially
// weighted moving average of health probes and real calls, a circuit breaker fed by failures
// (closed -> open after N consecutive failures -> half-open after a pause, where one trial call
// decides), a cool-down after 429 Retry-After, and the classification of every failure.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "edge/config.h"
#include "edge/device_state.h"

namespace tandem::edge {

// Why a call to an endpoint failed, each handled on purpose (docs/edge.md, "Failures").
enum class Failure { None, Connection, Timeout, Http4xx, Http5xx, Http429, Budget, Privacy };
const char* failure_name(Failure f);  // "", connection, timeout, http_4xx, http_5xx, http_429, budget, privacy
Failure classify_status(int http_status);  // None for 2xx

enum class BreakerState { Closed, Open, HalfOpen };
const char* breaker_name(BreakerState s);

// Not thread-safe by itself; EndpointHealth guards it.
class CircuitBreaker {
 public:
  CircuitBreaker(int failures_to_open, int64_t open_ms) : threshold_(failures_to_open), open_ms_(open_ms) {}
  // Whether a call may go now. In half-open state it lets one trial through (and then refuses
  // until that trial reported), so take it only when about to call.
  bool acquire(int64_t now_ms);
  // Whether acquire() would let a call through, without taking the trial.
  bool would_allow(int64_t now_ms) const;
  void success();
  void failure(int64_t now_ms);
  BreakerState state(int64_t now_ms) const;  // Open whose pause is over reads as HalfOpen
  int consecutive_failures() const { return failures_; }

 private:
  int threshold_;
  int64_t open_ms_;
  BreakerState state_ = BreakerState::Closed;
  int failures_ = 0;
  int64_t opened_at_ = 0;
  bool trial_in_flight_ = false;
};

// One endpoint's live state; thread-safe.
class EndpointHealth {
 public:
  EndpointHealth(EndpointConfig cfg, double ewma_alpha, int breaker_failures, int64_t breaker_open_ms, ClockFn clock);

  const EndpointConfig& config() const { return cfg_; }
  const std::string& name() const { return cfg_.name; }

  // An RTT sample from a probe or a real call (time to the response's headers).
  void on_success(double rtt_ms);
  // retry_after_ms: a 429's Retry-After; the endpoint is skipped for that long (no breaker count,
  // since it answered). Other failures count toward opening the breaker. `reason` (what went
  // wrong, in words) shows in /health and is logged when it changes.
  void on_failure(Failure f, std::optional<int64_t> retry_after_ms = std::nullopt, const std::string& reason = "");

  bool usable() const;  // breaker would allow, and not cooling down after a 429
  bool acquire();       // usable, and takes the half-open trial when there is one

  // GET /v1/models results: the vocabulary fingerprint and file hash; desynced when the
  // fingerprint differs from the device model's (or is missing: no speculation then either).
  void set_model_info(std::string model_id, std::string fingerprint, std::string sha256, bool desynced);

  // A peer found on the LAN (docs/mesh.md) rather than configured: what its last advert said.
  // It is usable only while adverts keep coming (until expires_at_ms) and it has an idle slot.
  struct Discovery {
    std::string kind;          // serve or edge
    bool signed_ok = false;    // its advert's MAC verified with the mesh key
    int32_t slots = 0, idle = 0, queue = 0;
    int64_t last_seen_ms = 0;  // on this gateway's clock
    int64_t expires_at_ms = 0;
  };
  void set_discovery(const Discovery& d);
  bool discovered() const;

  struct Snapshot {
    std::string name, url;
    bool peer = false;
    BreakerState breaker = BreakerState::Closed;
    bool usable = false;
    std::optional<double> rtt_ms;
    int consecutive_failures = 0;
    std::string last_failure;
    std::string last_error;  // the last failure's reason in words ("" when none was given)
    int64_t cooldown_ms = 0;  // left of a 429 cool-down
    bool model_checked = false, desynced = false;
    std::string model_id, vocab_fingerprint, sha256;
    int64_t calls_ok = 0, calls_failed = 0;
    std::optional<Discovery> discovery;  // set for peers found on the LAN
  };
  Snapshot snapshot() const;

 private:
  EndpointConfig cfg_;
  double alpha_;
  ClockFn clock_;
  mutable std::mutex mu_;
  CircuitBreaker breaker_;
  std::optional<double> rtt_;
  int64_t cooldown_until_ = 0;
  Failure last_failure_ = Failure::None;
  std::string last_error_;
  bool model_checked_ = false, desynced_ = false;
  std::string model_id_, fingerprint_, sha256_;
  int64_t ok_ = 0, failed_ = 0;
  std::optional<Discovery> discovery_;
};

// The endpoints and a background thread that probes GET /health on each of them. The configured
// ones stay; peers found on the LAN come and go (add_discovered, expire_discovered).
class Connectivity {
 public:
  Connectivity(const EdgeConfig& cfg, ClockFn clock);
  ~Connectivity();  // stops probing

  std::vector<std::shared_ptr<EndpointHealth>> endpoints() const;  // a snapshot of the list
  std::shared_ptr<EndpointHealth> find(const std::string& name) const;

  // A mesh advert for `cfg.name`: adds the peer (returns it, `added` true) or refreshes its
  // discovery. A name that a configured endpoint already has is not taken over (nullptr).
  std::shared_ptr<EndpointHealth> add_discovered(const EndpointConfig& cfg, const EndpointHealth::Discovery& d,
                                                 bool* added);
  // Drops discovered peers whose adverts stopped (expires_at_ms passed); returns their names.
  std::vector<std::string> expire_discovered();

  void probe_once();        // every endpoint, now (also what the thread does each interval)
  // Starts the probe thread (no-op when probe_interval_ms is 0); after_round runs after each
  // round on that thread (the gateway re-checks models of endpoints not yet checked).
  void start_probing(std::function<void()> after_round = {});
  void stop();

 private:
  void probe(EndpointHealth& e);
  EdgeConfig cfg_;
  ClockFn clock_;
  mutable std::mutex list_mu_;  // guards endpoints_ (the list; each endpoint guards itself)
  std::vector<std::shared_ptr<EndpointHealth>> endpoints_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
  std::function<void()> after_round_;
};

}  // namespace tandem::edge
