#include "serve/lora_adapters.h"

#include <filesystem>

#include "engine/sha256.h"
#include "format/error.h"

namespace tandem::serve {

std::vector<ServedLora> load_served_loras(const std::vector<std::string>& args, const LlamaModel& model) {
  std::vector<ServedLora> out;
  for (const auto& arg : args) {
    ServedLora l;
    try {
      l.use = parse_lora_arg(arg, model);
    } catch (const Error& e) {
      // The loader's messages name the file where it opened one; the rest get the argument.
      const std::string msg = e.what(), path = arg.substr(0, arg.rfind(':'));
      throw Error("LoRA adapter " + (msg.find(path) == std::string::npos ? "'" + arg + "': " : "") + msg);
    }
    l.file = std::filesystem::path(l.use.adapter->name()).filename().string();
    l.sha256 = sha256_file_hex(l.use.adapter->name());
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<LoraUse> lora_uses(const std::vector<ServedLora>& loras) {
  std::vector<LoraUse> v;
  for (const auto& l : loras) v.push_back(l.use);
  return v;
}

nlohmann::json loras_json(const std::vector<ServedLora>& loras) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& l : loras) a.push_back({{"file", l.file}, {"scale", l.use.scale}, {"sha256", l.sha256}});
  return a;
}

}  // namespace tandem::serve
