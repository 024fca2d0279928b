// How far the device model is from the model it was made from, measured once at start on a
// calibration text ([device] reference_model, calibration_text, max_kld): a device model
// quantized until it hallucinates is refused before it answers anyone, and /health says how far
// an accepted one is.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "edge/config.h"
#include "engine/text_scoring.h"

namespace tandem {
class LlamaModel;
}

namespace tandem::edge {

struct DeviceFidelity {
  std::string reference_model, calibration_text;
  double max_kld = -1;  // < 0: measured only
  TextScores scores;
  bool within_limit() const { return max_kld < 0 || scores.kld_mean <= max_kld; }
};

// Measures `device` against cfg.reference_model on cfg.calibration_text; nullopt when the config
// names no reference. Throws Error when the device model is past cfg.max_kld (the message names
// both numbers), or when the reference cannot be loaded or has another vocabulary.
std::optional<DeviceFidelity> check_device_fidelity(const EdgeConfig& cfg, const LlamaModel& device);

// The /health object: the measures, the limit and whether it holds.
nlohmann::json fidelity_json(const DeviceFidelity& f);

}  // namespace tandem::edge
