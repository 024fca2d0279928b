// tandem edge: the on-device orchestration gateway (src/edge, docs/edge.md).
#include <CLI/CLI.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <pthread.h>

#include "edge/config.h"
#include "edge/gateway.h"
#include "edge/ledger_sink.h"
#include "edge/privacy_gate.h"
#include "edge/speculative_runner.h"
#include "ledger/ledger.h"
#include "format/error.h"
#include "tools/commands.h"

namespace tandem::tools {

int cmd_edge(int argc, char** argv) {
  CLI::App app{"The on-device gateway: an OpenAI-compatible API on localhost that routes each request", argv[0]};
  std::string config_path;
  bool print_config = false;
  int port = -1;
  app.add_option("--config", config_path, "the TOML configuration (see --print-config)");
  app.add_flag("--print-config", print_config, "print every configuration key with its default, explained");
  app.add_option("--port", port, "override edge.port");
  CLI11_PARSE(app, argc, argv);
  if (print_config) {
    std::fputs(edge::default_config_toml().c_str(), stdout);
    return 0;
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "tandem edge: give --config FILE.toml (tandem edge --print-config shows every key)\n");
    return 2;
  }
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    edge::EdgeConfig cfg = edge::load_config(config_path);
    if (port >= 0) cfg.port = port;
    edge::GatewayHooks hooks;
    std::string ledger_path = cfg.ledger;
    std::shared_ptr<edge::LedgerRecordSink> ledger_sink;
    if (ledger_path != "none") {
      if (ledger_path.empty()) ledger_path = ledger::default_path();
      ledger_sink = std::make_shared<edge::LedgerRecordSink>(ledger_path, cfg.store_text);
      hooks.sink = ledger_sink;
    }
    edge::SpeculativeRunnerConfig spec;
    spec.draft_max = cfg.speculative_draft_max;
    spec.n_threads = cfg.device_threads;
    spec.calibration_timeout_s = cfg.probe_timeout_ms / 1000.0;  // as slow as a probe may be
    hooks.speculative = std::make_shared<edge::VerifySpeculativeRunner>(spec);
    hooks.privacy = std::make_shared<edge::DetectorPrivacyGate>();
    edge::Gateway gw(cfg, hooks);
    // Today's spending survives a restart: the budget starts from what the ledger recorded.
    double seeded = 0;
    if (ledger_sink) {
      const auto now = std::chrono::system_clock::now().time_since_epoch();
      seeded = edge::seed_budget_from_ledger(gw.budget(), ledger_sink->ledger(),
                                             std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
    }
    const int p = gw.start();
    std::fprintf(stderr, "tandem edge: %s on http://%s:%d (device model %s, %zu cloud endpoint(s), %zu peer(s))\n",
                 cfg.model_id.c_str(), cfg.host.c_str(), p, gw.local().model_id().c_str(), cfg.clouds.size(),
                 cfg.peers.size());
    std::fprintf(stderr, "tandem edge: ledger %s\n", ledger_path == "none" ? "off" : ledger_path.c_str());
    if (ledger_sink) std::fprintf(stderr, "tandem edge: budget: $%.6f spent today (from the ledger)\n", seeded);
    std::fprintf(stderr, "tandem edge: privacy: PII detector, default level %s (docs/privacy.md)\n", cfg.privacy.c_str());
    std::fflush(stderr);
    int sig = 0;
    sigwait(&sigs, &sig);
    gw.stop();
    std::fprintf(stderr, "tandem edge: stopped\n");
  } catch (const Error& e) {
    std::fprintf(stderr, "tandem edge: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace tandem::tools
