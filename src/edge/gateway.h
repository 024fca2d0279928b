// tandem edge: the OpenAI-compatible gateway apps talk to on localhost (docs/edge.md). It serves
// /v1/models, /v1/completions and /v1/chat/completions (streamed and not), /health, /metrics and
// PUT/GET /v1/device, and hands each request to the Orchestrator, which decides where it runs.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "edge/budget.h"
#include "edge/config.h"
#include "edge/connectivity.h"
#include "edge/device_fidelity.h"
#include "edge/device_state.h"
#include "edge/gateway_metrics.h"
#include "edge/hooks.h"
#include "edge/local_tier.h"
#include "edge/orchestrator.h"
#include "http/replies.h"
#include "http/server.h"
#include "protocol/openai.h"

namespace tandem::mesh {
class Announcer;
class Listener;
}  // namespace tandem::mesh

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace tandem::edge {

// Parts plugged in from outside; every one may be left empty (see hooks.h for the defaults).
struct GatewayHooks {
  std::shared_ptr<PrivacyGate> privacy;          // default: NoDetectionPrivacyGate (detects nothing)
  std::shared_ptr<SpeculativeRunner> speculative;  // default: none (SPECULATIVE is never chosen)
  std::shared_ptr<RecordSink> sink;              // default: a MemoryRecordSink
  ClockFn clock;                                 // default: the steady clock (timeline, breakers)
  std::function<int64_t()> day;                  // default: the UTC day (budgets)
};

class Gateway {
 public:
  Gateway(EdgeConfig cfg, GatewayHooks hooks = {});  // loads the device model
  ~Gateway();

  // Checks the endpoints' models (de-sync), starts the probes, binds and serves on a thread of
  // its own; returns the port.
  int start();
  void stop();
  int port() const { return port_; }
  // The routes with their access (for tests that walk them all).
  const std::vector<http::RouteInfo>& routes() const { return http_->routes(); }
  int open_connections() const { return http_->open_connections(); }

  // GET /v1/models on every endpoint: records each model's vocabulary fingerprint and hash, and
  // marks an endpoint de-synced (no speculation with it) when the fingerprint differs from the
  // device model's or is missing.
  void check_endpoints();
  // The mesh listener's port (config mesh.listen with port 0 picks one), or -1 without a mesh.
  int mesh_port() const;

  const EdgeConfig& config() const { return cfg_; }
  Connectivity& connectivity() { return *conn_; }
  DeviceMonitor& device() { return *device_; }
  Budget& budget() { return *budget_; }
  LocalTier& local() { return *local_; }
  RecordSink& sink() { return *sink_; }

 private:
  void add_routes();
  std::string authenticate(const httplib::Request& req) const;  // the app's name, or throws 401
  void handle_report(const httplib::Request& req, httplib::Response& res);
  // POST /v1/completions and /v1/chat/completions: read and plan the request, then answer it
  // whole (send_answer) or as a stream of events (stream_answer; false: the app went away).
  void handle_completion(const httplib::Request& req, httplib::Response& res, bool chat);
  std::shared_ptr<EdgeRequest> read_request(const httplib::Request& http_req, bool chat) const;
  void send_answer(httplib::Response& res, const EdgeRequest& req, const Plan& plan, const protocol::ResponseMeta& meta);
  bool stream_answer(http::SseWriter& sse, const EdgeRequest& req, const Plan& plan, const protocol::ResponseMeta& meta);
  nlohmann::json health() const;
  // The endpoint's model as GET /v1/models (or a mesh advert) gave it: sync state, and a ledger
  // row when that state is first known or changes.
  void note_model(EndpointHealth& e, const std::string& model, const std::string& fingerprint, const std::string& sha256);
  void start_mesh();  // config [mesh]: listen for peers' adverts, advertise this gateway

  EdgeConfig cfg_;
  ClockFn clock_;
  std::vector<std::pair<std::string, std::string>> app_keys_;  // (key, app name)
  std::unique_ptr<LocalTier> local_;
  std::optional<DeviceFidelity> fidelity_;  // the device model against its reference, when configured
  std::unique_ptr<DeviceMonitor> device_;
  std::unique_ptr<Connectivity> conn_;
  std::unique_ptr<Budget> budget_;
  std::shared_ptr<RecordSink> sink_;
  std::mutex checks_mu_;
  std::map<std::string, std::string> last_sync_;  // endpoint -> the sync state last recorded
  std::unique_ptr<Orchestrator> orch_;
  GatewayMetrics metrics_;
  std::unique_ptr<http::GuardedHttpServer> http_;
  std::unique_ptr<mesh::Listener> mesh_listener_;
  std::unique_ptr<mesh::Announcer> mesh_announcer_;
  std::string mesh_name_;  // this gateway's name in its own adverts (heard back: ignored)
  std::atomic<bool> stopped_{false};
  std::atomic<int> inflight_{0};
  int port_ = -1;
};

}  // namespace tandem::edge
