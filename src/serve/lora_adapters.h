// The LoRA adapters a server applies to its model for every request (tandem serve --lora, tandem
// edge's device.lora), as llama-server's --lora: given as FILE[:SCALE], loaded once against the
// model, set once on the scheduler's Context (so every slot and the prompt cache see the same
// adapted model), and listed in /v1/models so a client can tell which model it is talking to.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "model/lora.h"

namespace tandem::serve {

struct ServedLora {
  LoraUse use;         // the adapter and its user scale
  std::string file;    // the file name (no directory)
  std::string sha256;  // of the adapter file
};

// Loads each FILE[:SCALE] (parse_lora_arg, tandem run's syntax) against the model. Throws Error
// naming the file when one cannot be read or does not fit the model.
std::vector<ServedLora> load_served_loras(const std::vector<std::string>& args, const LlamaModel& model);
std::vector<LoraUse> lora_uses(const std::vector<ServedLora>& loras);
// [{"file", "scale", "sha256"}, ...] in the order they are applied.
nlohmann::json loras_json(const std::vector<ServedLora>& loras);

}  // namespace tandem::serve
