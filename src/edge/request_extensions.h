// What the gateway reads from a completion request beyond the OpenAI fields: the "tandem" object
// (or x-tandem-* headers) and the configured system prompt. Pure functions of the request, so
// they can be tested and fuzzed without a server.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace tandem::edge {

struct Extensions {
  std::string route, task, privacy;  // route: "" or a policy's name (parse_policy), lowercased
  bool keep_local = false;
  bool consent = false;  // the user allows this request to leave the device (strict privacy)
};

// `from_headers` holds the x-tandem-* header values; a "tandem" object in the body overrides
// them and is removed from the body. Throws protocol::ApiError (400) naming the bad field.
Extensions take_extensions(nlohmann::json& body, Extensions from_headers);

// One system prompt for every tier: the config's goes first; an app's own system message is kept
// after it in the same message (templates allow one system turn).
void apply_system_prompt(nlohmann::json& body, const std::string& system_prompt);

}  // namespace tandem::edge
