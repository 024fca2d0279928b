// The gateway's configuration: one TOML file (tandem edge --config FILE.toml) read into plain
// structs with defaults. Every key is checked: an unknown key, a wrong type or an out-of-range
// value is an Error that names the key, so a typo never silently falls back to a default.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/client_tls.h"

namespace tandem::edge {

// What an endpoint charges for a call: the one cost formula of the gateway (budget, ledger,
// router all use it).
inline double token_cost_usd(double price_input_per_1m, double price_output_per_1m, int64_t prompt_tokens,
                             int64_t completion_tokens) {
  return (double(prompt_tokens) * price_input_per_1m + double(completion_tokens) * price_output_per_1m) / 1e6;
}

// The routing policy: `auto` lets the router's rules decide; the others name one route, still
// below privacy, connectivity and the budget (docs/edge.md).
enum class Policy { Auto, Local, Cloud, Cascade, Speculative, Peer };
const char* policy_name(Policy p);  // "auto", "local", "cloud", "cascade", "speculative", "peer"
// The exact lowercase name; nullopt for anything else.
std::optional<Policy> parse_policy(std::string_view name);

// A cloud endpoint or a LAN peer: any server speaking the OpenAI API (tandem serve, or others).
struct EndpointConfig {
  std::string name;
  std::string url;          // base URL, e.g. http://127.0.0.1:8080 (the /v1/... paths are added)
  std::string model;        // model id sent in requests; "": none (the server's only model)
  std::string api_key_env;  // environment variable holding its API key; "": no key
  double price_input_per_1m = 0;   // USD per million prompt tokens
  double price_output_per_1m = 0;  // USD per million completion tokens
  int priority = 1;                // lower is tried first
  int timeout_ms = 30000;          // no byte for this long: the call failed (timeout)
  bool peer = false;               // a LAN peer ([[peer]]) rather than a cloud ([[cloud]])
  http::TlsClientConfig tls;       // https: ca_file (else the system's CAs), client_cert/client_key
};

// An app that talks to the gateway with its own key; budgets and the ledger name it.
struct AppConfig {
  std::string name;
  std::string key_env;      // environment variable holding the app's key
  double daily_usd = -1;    // per-app daily budget; negative: none
  // Under strict privacy, this app's requests carry the user's consent to leave the device
  // (redacted): the app asks its user itself. Without it each request must say so.
  bool consent = false;
};

struct EdgeConfig {
  // [edge]
  std::string host = "127.0.0.1";
  int port = 8090;
  std::string model_id = "tandem";  // the model id apps see in /v1/models
  std::string system_prompt;        // applied to every chat request on every tier
  int default_max_tokens = 256;     // when a request does not say (so every tier agrees)
  bool store_text = false;          // keep prompt and answer text in the ledger
  std::string ledger;               // ledger file; "": ledger::default_path(); "none": no ledger
  int speculative_draft_max = 8;    // SPECULATIVE: most draft tokens per round

  // [device]
  std::string device_model;         // GGUF of the on-device model (required)
  std::vector<std::string> device_lora;  // ADAPTER.gguf[:SCALE] (parsed; see docs/edge.md)
  std::string device_chat_template; // name or Jinja; "": the model's own
  int device_threads = 2;
  int device_parallel = 2;
  int device_ctx = 0;
  std::string state_source = "auto";  // auto | sysfs | timeline | push
  std::string sysfs_root = "/";
  std::string timeline;               // timeline file (state_source = timeline)
  double thermal_fair_c = 60, thermal_serious_c = 75, thermal_critical_c = 90;
  // The device model measured against the model it was made from at start (edge/device_fidelity.h).
  std::string reference_model;   // GGUF, e.g. the F16 file the device model was quantized from
  std::string calibration_text;  // text scored on (required with reference_model)
  double max_kld = -1;           // refuse to start past this mean KLD; < 0: measure only
  int calibration_chunks = 4;    // 256-token chunks scored (bounds the start-up time)

  std::vector<EndpointConfig> clouds, peers;

  // [policy]
  Policy policy = Policy::Auto;    // [policy] default
  std::string privacy = "standard";  // strict | standard | open (handed to the PrivacyGate)
  int battery_low_pct = 20;
  std::string thermal_offload = "serious";  // fair | serious | critical: offload at or above
  int min_free_mem_mb = 0;
  bool cascade = false;             // auto policy: simple requests go CASCADE instead of LOCAL
  double cascade_min_logprob = -1.0;  // CASCADE: device answers whose mean log-prob is lower go to the cloud
  double latency_target_ms = 0;     // 0: none
  int offline_max_tokens = 128;     // offline: cap max_tokens to this (0: no cap)

  // [complexity]
  bool entropy_check = true;        // measure the device's next-token entropy after prefill
  double entropy_complex = 2.5;     // nats; at or above: complex
  int long_prompt_tokens = 384;     // at or above: complex
  std::vector<std::string> complex_categories = {"code", "math", "reasoning"};
  std::map<std::string, std::vector<std::string>> category_keywords;  // category -> keywords

  // [budget]
  double daily_usd = 1.0;  // all apps together per UTC day; negative: no limit
  std::vector<AppConfig> apps;

  // [connectivity]
  int probe_interval_ms = 2000;  // 0: no background probes
  int probe_timeout_ms = 1000;
  double ewma_alpha = 0.3;
  int breaker_failures = 3;      // consecutive failures that open the circuit
  int breaker_open_ms = 10000;   // open this long, then half-open (one trial call)
  int connect_timeout_ms = 2000;

  // [mesh] (docs/mesh.md): LAN peers found by their UDP adverts instead of listed as [[peer]].
  std::string mesh_listen;                  // "HOST:PORT" to hear adverts on; "": no discovery
  std::string mesh_key_env;                 // environment variable holding the mesh key (HMAC)
  bool mesh_accept_unsigned = false;        // without a key: use peers whose adverts are unsigned
  std::vector<std::string> mesh_advertise;  // "HOST:PORT" targets this gateway advertises itself to
  std::string mesh_name;                    // this gateway's name in its adverts; "": HOSTNAME:PORT
  std::string mesh_url;                     // its URL in them; "": http://HOST:PORT (HOST not 0.0.0.0)
  int mesh_interval_ms = 1000;              // advert interval; silent peers expire after 3 of theirs
  // What a discovered peer is to this gateway: its price, priority, timeout and API key (the
  // peer's advert says what it serves, not what it costs).
  EndpointConfig mesh_peer{.name = "", .url = "", .model = "", .api_key_env = "", .price_input_per_1m = 0,
                           .price_output_per_1m = 0, .priority = 1, .timeout_ms = 30000, .peer = true, .tls = {}};
};

EdgeConfig default_config();  // with the built-in complexity keywords
EdgeConfig parse_config(const std::string& toml_text, const std::string& source_name = "config");
EdgeConfig load_config(const std::string& path);
// The commented TOML of all defaults (tandem edge --print-config); parses back to default_config().
std::string default_config_toml();

}  // namespace tandem::edge
