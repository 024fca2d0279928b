// The gateway configuration the in-process edge tests start from: the given device model, one
// thread, device state pushed, no probes, no budget, and (cloud_port > 0) one cloud endpoint
// "primary" on loopback at USD 100 / 400 per 1M input / output tokens.
#pragma once
#include <string>

#include "edge/config.h"
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

}  // namespace tandem::test
