// One row of the device's ledger: what the edge gateway did with one request. It is the contract
// between the gateway (src/edge, which fills it) and the ledger and report (src/ledger, which
// store and sum it). No prompt or answer text unless the configuration asks for it, and never a
// personal value: privacy findings are kept as types and counts only.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tandem::ledger {

struct Record {
  int64_t id = 0;         // assigned by the ledger on insert
  int64_t time_ms = 0;    // Unix time of arrival, milliseconds
  std::string app;        // the app's key *name* from the config (never the secret), or "" for none
  std::string endpoint;   // the model id requested by the app
  std::string route;      // LOCAL, CLOUD, SPECULATIVE, CASCADE or PEER: what the policy chose
  std::vector<std::string> reasons;  // why, strongest first (short machine-readable phrases)
  std::string served_by;  // where the answer actually came from: "device", a cloud endpoint's
                          // name or a peer's name; "device" after a failover to the device
  std::string status;     // "ok", "error" (the app got an error) or "fallback" (served, but not
                          // by the first choice)
  std::string failure;    // the classified failure that caused a fallback or an error, else "":
                          // connection, timeout, http_4xx, http_5xx, http_429, budget, privacy
  bool stream = false;
  // The output's constraint: "" (free text), "json_object", "json_schema" or "grammar" (the
  // request's response_format, json_schema or grammar field; protocol::OutputConstraint::kind).
  std::string output_constraint;

  // Tokens by where they were computed. Prompt tokens count where they were prefilled (a
  // speculative request counts its prompt on both sides when both evaluated it).
  int64_t prompt_tokens_device = 0, completion_tokens_device = 0;
  int64_t prompt_tokens_cloud = 0, completion_tokens_cloud = 0;
  // The usage the app was told (its prompt and completion, each counted once). The report's cost
  // per 1M tokens divides by these; when both are 0 it derives them from the counts above
  // (prompt = max of the two sides, completion = their sum), see docs/ledger.md.
  int64_t prompt_tokens = 0, completion_tokens = 0;

  double cost_usd = 0;                 // charged at the configured prices to what served
  double all_cloud_cost_usd = 0;       // the counterfactual: the same tokens at the primary
                                       // cloud endpoint's prices
  double latency_ms = 0;               // arrival to last byte
  std::optional<double> ttft_ms;       // arrival to first content token (streams and not)

  // Privacy.
  std::string privacy_level;           // strict, standard or open
  bool data_left_device = false;       // any request byte sent to a cloud endpoint or peer
  std::map<std::string, int> pii_found;     // type -> count (e.g. {"EMAIL": 2})
  std::map<std::string, int> pii_redacted;  // type -> count replaced by placeholders

  // Speculative decoding (0 when not speculative).
  int64_t spec_rounds = 0, spec_drafted = 0, spec_accepted = 0;

  // Text, only when the configuration sets ledger.store_text = true.
  std::optional<std::string> prompt_text, answer_text;

  bool operator==(const Record&) const = default;
};

// What the gateway found when it compared a cloud endpoint's or peer's model with the device's
// (GET /v1/models, at start and when an unchecked endpoint answers): recorded when an endpoint's
// sync state is first known or changes, so the report can say which endpoint is de-synced.
struct EndpointCheck {
  int64_t id = 0;            // assigned by the ledger on insert
  int64_t time_ms = 0;       // Unix time of the check, milliseconds
  std::string endpoint;      // its name in the config
  std::string url;
  std::string model;         // the model id it serves
  std::string sync;          // "ok", or "de-synced" (another vocabulary: no speculation there)
  std::string fingerprint;   // its vocabulary fingerprint

  bool operator==(const EndpointCheck&) const = default;
};

}  // namespace tandem::ledger
