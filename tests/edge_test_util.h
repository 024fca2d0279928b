// What the in-process edge tests start from: the gateway configuration (the given device model,
// one thread, device state pushed, no probes, no budget, and with cloud_port > 0 one cloud
// endpoint "primary" on loopback at USD 100 / 400 per 1M input / output tokens), and a gateway
// running on a free loopback port with its records kept in memory.
#pragma once
#include <httplib.h>

#include <memory>
#include <string>

#include "edge/config.h"
#include "edge/gateway.h"
#include "test_util.h"

namespace tandem::test {

inline edge::EdgeConfig edge_test_config(const std::string& device_model_file, int cloud_port = 0) {
  edge::EdgeConfig c = edge::default_config();
  c.port = 0;
  c.device_model = model_path(device_model_file);
  c.device_threads = 1;
  c.state_source = "push";
  c.probe_interval_ms = 0;
  c.daily_usd = -1;
  if (cloud_port > 0) {
    edge::EndpointConfig e;
    e.name = "primary";
    e.url = "http://127.0.0.1:" + std::to_string(cloud_port);
    e.price_input_per_1m = 100;
    e.price_output_per_1m = 400;
    c.clouds = {e};
  }
  return c;
}

// A started gateway (stopped when destroyed); chat requests use ChatML (the shared models have no
// template of their own) unless the config names one.
struct GatewayFixture {
  explicit GatewayFixture(edge::EdgeConfig cfg, edge::GatewayHooks hooks = {})
      : sink(std::make_shared<edge::MemoryRecordSink>()) {
    if (cfg.device_chat_template.empty()) cfg.device_chat_template = "chatml";
    if (!hooks.sink) hooks.sink = sink;
    gw = std::make_unique<edge::Gateway>(std::move(cfg), hooks);
    port = gw->start();
  }
  ~GatewayFixture() { gw->stop(); }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(120);
    return c;
  }
  std::shared_ptr<edge::MemoryRecordSink> sink;
  std::unique_ptr<edge::Gateway> gw;
  int port = -1;
};

}  // namespace tandem::test
