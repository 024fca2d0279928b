#include "edge/device_fidelity.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "format/error.h"
#include "model/llama_model.h"

namespace tandem::edge {

namespace {

std::string read_calibration_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("device.calibration_text: cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::optional<DeviceFidelity> check_device_fidelity(const EdgeConfig& cfg, const LlamaModel& device) {
  if (cfg.reference_model.empty()) return std::nullopt;
  DeviceFidelity f{cfg.reference_model, cfg.calibration_text, cfg.max_kld, {}};
  const std::string text = read_calibration_text(cfg.calibration_text);
  const auto reference = LlamaModel::load(cfg.reference_model);
  TextScoringParams p;
  p.max_chunks = cfg.calibration_chunks;
  p.n_threads = cfg.device_threads;
  try {
    f.scores = score_text(device, reference.get(), text, p);
  } catch (const Error& e) {
    throw Error(std::string("device.reference_model: ") + e.what());
  }
  if (!f.within_limit()) {
    char msg[256];
    std::snprintf(msg, sizeof msg,
                  "the device model is too far from device.reference_model: mean KLD %.6f on %s is over "
                  "device.max_kld %.6f (same top token %.1f %%); use a less aggressive quantization",
                  f.scores.kld_mean, cfg.calibration_text.c_str(), cfg.max_kld, 100 * f.scores.same_top_token);
    throw Error(msg);
  }
  return f;
}

nlohmann::json fidelity_json(const DeviceFidelity& f) {
  return {{"reference_model", f.reference_model},
          {"calibration_text", f.calibration_text},
          {"tokens_scored", f.scores.tokens_scored},
          {"kld_mean", f.scores.kld_mean},
          {"kld_stderr", f.scores.kld_stderr},
          {"same_top_token", f.scores.same_top_token},
          {"perplexity_ratio", f.scores.perplexity_ratio},
          {"max_kld", f.max_kld < 0 ? nlohmann::json(nullptr) : nlohmann::json(f.max_kld)},
          {"within_limit", f.within_limit()}};
}

}  // namespace tandem::edge
