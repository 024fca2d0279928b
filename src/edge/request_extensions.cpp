#include "edge/request_extensions.h"

#include <cctype>

#include "edge/config.h"
#include "protocol/openai.h"

namespace tandem::edge {

using nlohmann::json;
using protocol::ApiError;

Extensions take_extensions(json& body, Extensions x) {
  if (body.is_object() && body.contains("tandem")) {
    const json t = body["tandem"];
    body.erase("tandem");
    if (!t.is_object()) throw ApiError(400, "'tandem' must be an object", "tandem", "invalid_type");
    for (const auto& [k, v] : t.items()) {
      if (k == "route" && v.is_string()) x.route = v.get<std::string>();
      else if (k == "task" && v.is_string()) x.task = v.get<std::string>();
      else if (k == "privacy" && v.is_string()) x.privacy = v.get<std::string>();
      else if (k == "keep_local" && v.is_boolean()) x.keep_local = v.get<bool>();
      else if (k == "consent" && v.is_boolean()) x.consent = v.get<bool>();
      else throw ApiError(400, "unknown or mistyped field 'tandem." + k + "' (route, task, privacy, keep_local, consent)",
                          "tandem." + k, "unknown_parameter");
    }
  }
  for (auto& c : x.route) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (!x.route.empty() && !parse_policy(x.route))
    throw ApiError(400, "tandem.route must be auto, local, cloud, cascade, speculative or peer", "tandem.route",
                   "invalid_value");
  if (!x.privacy.empty() && x.privacy != "strict" && x.privacy != "standard" && x.privacy != "open")
    throw ApiError(400, "tandem.privacy must be strict, standard or open", "tandem.privacy", "invalid_value");
  return x;
}

void apply_system_prompt(json& body, const std::string& system_prompt) {
  if (system_prompt.empty() || !body.contains("messages") || !body["messages"].is_array()) return;
  json& msgs = body["messages"];
  if (!msgs.empty() && msgs[0].is_object() && msgs[0].value("role", "") == "system" && msgs[0]["content"].is_string()) {
    msgs[0]["content"] = system_prompt + "\n\n" + msgs[0]["content"].get<std::string>();
    return;
  }
  msgs.insert(msgs.begin(), json{{"role", "system"}, {"content", system_prompt}});
}

}  // namespace tandem::edge
