#include "edge/config.h"

#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "format/error.h"

namespace tandem::edge {

namespace {

constexpr Policy kPolicies[] = {Policy::Auto, Policy::Local, Policy::Cloud, Policy::Cascade, Policy::Speculative, Policy::Peer};

// Reads one table's keys, remembering which were read, so that the rest can be named as unknown.
class TableReader {
 public:
  TableReader(const toml::table* t, std::string path) : t_(t), path_(std::move(path)) {}

  std::string key(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }

  template <class T>
  void get(const std::string& k, T& out) {
    seen_.insert(k);
    if (!t_) return;
    const toml::node* n = t_->get(k);
    if (!n) return;
    if constexpr (std::is_same_v<T, bool>) {
      if (!n->is_boolean()) throw Error("config key '" + key(k) + "' must be true or false");
      out = n->as_boolean()->get();
    } else if constexpr (std::is_same_v<T, int>) {
      if (!n->is_integer()) throw Error("config key '" + key(k) + "' must be an integer");
      const int64_t v = n->as_integer()->get();
      if (v < INT32_MIN || v > INT32_MAX) throw Error("config key '" + key(k) + "' is out of range");
      out = int(v);
    } else if constexpr (std::is_same_v<T, double>) {
      if (n->is_integer()) out = double(n->as_integer()->get());
      else if (n->is_floating_point()) out = n->as_floating_point()->get();
      else throw Error("config key '" + key(k) + "' must be a number");
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!n->is_string()) throw Error("config key '" + key(k) + "' must be a string");
      out = n->as_string()->get();
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      const toml::array* a = n->as_array();
      if (!a) throw Error("config key '" + key(k) + "' must be an array of strings");
      out.clear();
      for (const auto& e : *a) {
        if (!e.is_string()) throw Error("config key '" + key(k) + "' must be an array of strings");
        out.push_back(e.as_string()->get());
      }
    }
  }

  void mark(const std::string& k) { seen_.insert(k); }

  // Names the first key that was never read.
  void finish() const {
    if (!t_) return;
    for (const auto& [k, v] : *t_)
      if (!seen_.count(std::string(k.str())))
        throw Error("unknown config key '" + key(std::string(k.str())) + "'");
  }

 private:
  const toml::table* t_;
  std::string path_;
  std::set<std::string> seen_;
};

const toml::table* subtable(const toml::table& root, const std::string& name) {
  const toml::node* n = root.get(name);
  if (!n) return nullptr;
  if (!n->is_table()) throw Error("config key '" + name + "' must be a table ([" + name + "])");
  return n->as_table();
}

void require(bool ok, const std::string& key, const std::string& what) {
  if (!ok) throw Error("config key '" + key + "' " + what);
}

// TLS keys: only for https, a client certificate with its key, and files that exist (a typo
// is named at startup, not at the first call).
void check_tls(const TableReader& r, const EndpointConfig& e) {
  const http::TlsClientConfig& t = e.tls;
  if (e.url.rfind("https://", 0) != 0)
    for (const auto& [k, v] : {std::pair{"ca_file", &t.ca_file}, {"client_cert", &t.client_cert}, {"client_key", &t.client_key}})
      require(v->empty(), r.key(k), "needs an https:// url");
  require(t.client_cert.empty() == t.client_key.empty(), r.key(t.client_cert.empty() ? "client_cert" : "client_key"),
          "is required with " + std::string(t.client_cert.empty() ? "client_key" : "client_cert"));
  for (const auto& [k, v] : {std::pair{"ca_file", &t.ca_file}, {"client_cert", &t.client_cert}, {"client_key", &t.client_key}}) {
    std::error_code ec;
    require(v->empty() || std::filesystem::is_regular_file(*v, ec), r.key(k), "names no readable file ('" + *v + "')");
  }
}

void read_endpoints(const toml::table& root, const std::string& name, bool peer, std::vector<EndpointConfig>& out) {
  const toml::node* n = root.get(name);
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a) throw Error("config key '" + name + "' must be an array of tables ([[" + name + "]])");
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::table* t = a->get(i)->as_table();
    const std::string path = name + "[" + std::to_string(i) + "]";
    if (!t) throw Error("config key '" + path + "' must be a table");
    EndpointConfig e;
    e.peer = peer;
    TableReader r(t, path);
    r.get("name", e.name);
    r.get("url", e.url);
    r.get("model", e.model);
    r.get("api_key_env", e.api_key_env);
    r.get("price_input_per_1m", e.price_input_per_1m);
    r.get("price_output_per_1m", e.price_output_per_1m);
    r.get("priority", e.priority);
    r.get("timeout_ms", e.timeout_ms);
    r.get("ca_file", e.tls.ca_file);
    r.get("client_cert", e.tls.client_cert);
    r.get("client_key", e.tls.client_key);
    r.finish();
    require(!e.url.empty(), r.key("url"), "is required (e.g. \"http://127.0.0.1:8080\")");
    require(e.url.rfind("http://", 0) == 0 || e.url.rfind("https://", 0) == 0, r.key("url"),
            "must start with http:// or https://");
    check_tls(r, e);
    while (!e.url.empty() && e.url.back() == '/') e.url.pop_back();
    if (e.name.empty()) e.name = name + "-" + std::to_string(i);
    require(e.price_input_per_1m >= 0 && e.price_output_per_1m >= 0, r.key("price_*_per_1m"), "must not be negative");
    require(e.timeout_ms > 0, r.key("timeout_ms"), "must be positive");
    out.push_back(e);
  }
}

void check_one_of(const std::string& key, const std::string& v, std::initializer_list<const char*> allowed) {
  std::string list;
  for (const char* a : allowed) {
    if (v == a) return;
    list += std::string(list.empty() ? "" : ", ") + a;
  }
  throw Error("config key '" + key + "' is \"" + v + "\"; it must be one of " + list);
}

// One parser per TOML table: each reads its keys, names the unknown ones, and checks the values.

void parse_edge(const toml::table& root, EdgeConfig& c) {
  TableReader r(subtable(root, "edge"), "edge");
  r.get("host", c.host);
  r.get("port", c.port);
  r.get("model_id", c.model_id);
  r.get("system_prompt", c.system_prompt);
  r.get("default_max_tokens", c.default_max_tokens);
  r.get("store_text", c.store_text);
  r.get("ledger", c.ledger);
  r.get("speculative_draft_max", c.speculative_draft_max);
  r.finish();
  require(c.speculative_draft_max >= 1 && c.speculative_draft_max <= 64, "edge.speculative_draft_max", "must be 1..64");
  require(c.port >= 0 && c.port < 65536, "edge.port", "must be 0..65535");
  require(c.default_max_tokens > 0, "edge.default_max_tokens", "must be positive");
  require(!c.model_id.empty(), "edge.model_id", "must not be empty");
}

void parse_device(const toml::table& root, EdgeConfig& c) {
  TableReader r(subtable(root, "device"), "device");
  r.get("model", c.device_model);
  r.get("lora", c.device_lora);
  r.get("chat_template", c.device_chat_template);
  r.get("threads", c.device_threads);
  r.get("parallel", c.device_parallel);
  r.get("ctx", c.device_ctx);
  r.get("state_source", c.state_source);
  r.get("sysfs_root", c.sysfs_root);
  r.get("timeline", c.timeline);
  r.get("thermal_fair_c", c.thermal_fair_c);
  r.get("thermal_serious_c", c.thermal_serious_c);
  r.get("thermal_critical_c", c.thermal_critical_c);
  r.get("reference_model", c.reference_model);
  r.get("calibration_text", c.calibration_text);
  r.get("max_kld", c.max_kld);
  r.get("calibration_chunks", c.calibration_chunks);
  r.finish();
  require(c.reference_model.empty() == c.calibration_text.empty(), "device.reference_model/calibration_text",
          "are given together (the text the device model is measured against the reference on)");
  require(c.max_kld < 0 || !c.reference_model.empty(), "device.max_kld", "needs device.reference_model");
  require(c.calibration_chunks > 0, "device.calibration_chunks", "must be positive");
  check_one_of("device.state_source", c.state_source, {"auto", "sysfs", "timeline", "push"});
  require(c.state_source != "timeline" || !c.timeline.empty(), "device.timeline",
          "is required when device.state_source = \"timeline\"");
  require(c.device_threads > 0 && c.device_parallel > 0 && c.device_ctx >= 0, "device.threads/parallel/ctx",
          "must be positive");
  require(c.thermal_fair_c <= c.thermal_serious_c && c.thermal_serious_c <= c.thermal_critical_c,
          "device.thermal_*_c", "must rise: fair <= serious <= critical");
}

// [[cloud]] and [[peer]], with names unique across both.
void parse_endpoints(const toml::table& root, EdgeConfig& c) {
  read_endpoints(root, "cloud", false, c.clouds);
  read_endpoints(root, "peer", true, c.peers);
  std::set<std::string> names;
  for (const auto* list : {&c.clouds, &c.peers})
    for (const auto& e : *list)
      require(names.insert(e.name).second, e.peer ? "peer.name" : "cloud.name",
              "\"" + e.name + "\" is used twice; endpoint names must be unique");
}

void parse_policy_table(const toml::table& root, EdgeConfig& c) {
  TableReader r(subtable(root, "policy"), "policy");
  std::string policy = policy_name(c.policy);
  r.get("default", policy);
  r.get("privacy", c.privacy);
  r.get("battery_low_pct", c.battery_low_pct);
  r.get("thermal_offload", c.thermal_offload);
  r.get("min_free_mem_mb", c.min_free_mem_mb);
  r.get("cascade", c.cascade);
  r.get("cascade_min_logprob", c.cascade_min_logprob);
  r.get("latency_target_ms", c.latency_target_ms);
  r.get("offline_max_tokens", c.offline_max_tokens);
  r.finish();
  const std::optional<Policy> parsed = parse_policy(policy);
  if (!parsed) {
    std::string names;
    for (Policy p : kPolicies) names += std::string(names.empty() ? "" : ", ") + policy_name(p);
    throw Error("config key 'policy.default' is \"" + policy + "\"; it must be one of " + names);
  }
  c.policy = *parsed;
  check_one_of("policy.privacy", c.privacy, {"strict", "standard", "open"});
  check_one_of("policy.thermal_offload", c.thermal_offload, {"fair", "serious", "critical"});
  require(c.battery_low_pct >= 0 && c.battery_low_pct <= 100, "policy.battery_low_pct", "must be 0..100");
  require(c.cascade_min_logprob <= 0, "policy.cascade_min_logprob", "is a log-probability and must be <= 0");
  require(c.offline_max_tokens >= 0 && c.min_free_mem_mb >= 0 && c.latency_target_ms >= 0,
          "policy.offline_max_tokens/min_free_mem_mb/latency_target_ms", "must not be negative");
}

// complexity.keywords: category -> [keywords]; it replaces the built-in lists.
void parse_keywords(const toml::node& kw, EdgeConfig& c) {
  if (!kw.is_table()) throw Error("config key 'complexity.keywords' must be a table of arrays");
  c.category_keywords.clear();
  for (const auto& [cat, list] : *kw.as_table()) {
    const std::string key = "complexity.keywords." + std::string(cat.str());
    const toml::array* a = list.as_array();
    if (!a) throw Error("config key '" + key + "' must be an array of strings");
    auto& out = c.category_keywords[std::string(cat.str())];
    for (const auto& e : *a) {
      if (!e.is_string()) throw Error("config key '" + key + "' must be an array of strings");
      out.push_back(e.as_string()->get());
    }
  }
}

void parse_complexity(const toml::table& root, EdgeConfig& c) {
  const toml::table* t = subtable(root, "complexity");
  TableReader r(t, "complexity");
  r.get("entropy_check", c.entropy_check);
  r.get("entropy_complex", c.entropy_complex);
  r.get("long_prompt_tokens", c.long_prompt_tokens);
  r.get("complex_categories", c.complex_categories);
  r.mark("keywords");
  if (t)
    if (const toml::node* kw = t->get("keywords")) parse_keywords(*kw, c);
  r.finish();
  require(c.entropy_complex > 0, "complexity.entropy_complex", "must be positive (nats)");
  require(c.long_prompt_tokens > 0, "complexity.long_prompt_tokens", "must be positive");
}

// [budget] and the [[app]]s, each with its own key and budget.
void parse_budget_and_apps(const toml::table& root, EdgeConfig& c) {
  {
    TableReader r(subtable(root, "budget"), "budget");
    r.get("daily_usd", c.daily_usd);
    r.finish();
  }
  const toml::node* n = root.get("app");
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a) throw Error("config key 'app' must be an array of tables ([[app]])");
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string path = "app[" + std::to_string(i) + "]";
    const toml::table* t = a->get(i)->as_table();
    if (!t) throw Error("config key '" + path + "' must be a table");
    AppConfig app;
    TableReader r(t, path);
    r.get("name", app.name);
    r.get("key_env", app.key_env);
    r.get("daily_usd", app.daily_usd);
    r.get("consent", app.consent);
    r.finish();
    require(!app.name.empty(), r.key("name"), "is required");
    require(!app.key_env.empty(), r.key("key_env"), "is required (the environment variable holding the app's key)");
    c.apps.push_back(app);
  }
}

void parse_connectivity(const toml::table& root, EdgeConfig& c) {
  TableReader r(subtable(root, "connectivity"), "connectivity");
  r.get("probe_interval_ms", c.probe_interval_ms);
  r.get("probe_timeout_ms", c.probe_timeout_ms);
  r.get("ewma_alpha", c.ewma_alpha);
  r.get("breaker_failures", c.breaker_failures);
  r.get("breaker_open_ms", c.breaker_open_ms);
  r.get("connect_timeout_ms", c.connect_timeout_ms);
  r.finish();
  require(c.ewma_alpha > 0 && c.ewma_alpha <= 1, "connectivity.ewma_alpha", "must be in (0, 1]");
  require(c.breaker_failures >= 1, "connectivity.breaker_failures", "must be at least 1");
  require(c.probe_interval_ms >= 0 && c.probe_timeout_ms > 0 && c.breaker_open_ms >= 0 && c.connect_timeout_ms > 0,
          "connectivity.*_ms", "must be positive");
}

void parse_mesh(const toml::table& root, EdgeConfig& c) {
  TableReader r(subtable(root, "mesh"), "mesh");
  r.get("listen", c.mesh_listen);
  r.get("key_env", c.mesh_key_env);
  r.get("accept_unsigned", c.mesh_accept_unsigned);
  r.get("advertise", c.mesh_advertise);
  r.get("name", c.mesh_name);
  r.get("url", c.mesh_url);
  r.get("interval_ms", c.mesh_interval_ms);
  r.get("price_input_per_1m", c.mesh_peer.price_input_per_1m);
  r.get("price_output_per_1m", c.mesh_peer.price_output_per_1m);
  r.get("priority", c.mesh_peer.priority);
  r.get("timeout_ms", c.mesh_peer.timeout_ms);
  r.get("api_key_env", c.mesh_peer.api_key_env);
  r.finish();
  require(c.mesh_interval_ms >= 50 && c.mesh_interval_ms <= 3600000, "mesh.interval_ms", "must be 50..3600000");
  require(c.mesh_peer.price_input_per_1m >= 0 && c.mesh_peer.price_output_per_1m >= 0, "mesh.price_*", "must be >= 0");
  require(c.mesh_peer.timeout_ms > 0, "mesh.timeout_ms", "must be positive");
}

toml::table parse_toml(const std::string& text, const std::string& source_name) {
  try {
    return toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << source_name << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    throw Error("cannot parse the config: " + os.str());
  }
}

}  // namespace

const char* policy_name(Policy p) {
  switch (p) {
    case Policy::Auto: return "auto";
    case Policy::Local: return "local";
    case Policy::Cloud: return "cloud";
    case Policy::Cascade: return "cascade";
    case Policy::Speculative: return "speculative";
    case Policy::Peer: return "peer";
  }
  return "auto";
}

std::optional<Policy> parse_policy(std::string_view name) {
  for (Policy p : kPolicies)
    if (name == policy_name(p)) return p;
  return std::nullopt;
}

EdgeConfig default_config() {
  EdgeConfig c;
  c.category_keywords = {
      {"code", {"```", "code", "function", "compile", "python", "javascript", "c++", "sql", "regex", "#include", "def "}},
      {"math", {"math", "equation", "integral", "derivative", "prove", "theorem", "calculate", "solve for"}},
      {"reasoning", {"step by step", "explain why", "reason", "plan", "compare", "analyze", "analyse", "pros and cons"}},
  };
  return c;
}

EdgeConfig parse_config(const std::string& text, const std::string& source_name) {
  const toml::table root = parse_toml(text, source_name);
  for (const auto& [k, v] : root) {
    static const std::set<std::string> known = {"edge",   "device", "cloud",        "peer",       "policy",
                                                "budget", "app",    "connectivity", "complexity", "mesh"};
    if (!known.count(std::string(k.str()))) throw Error("unknown config key '" + std::string(k.str()) + "'");
  }
  EdgeConfig c = default_config();
  parse_edge(root, c);
  parse_device(root, c);
  parse_endpoints(root, c);
  parse_policy_table(root, c);
  parse_complexity(root, c);
  parse_budget_and_apps(root, c);
  parse_connectivity(root, c);
  parse_mesh(root, c);
  return c;
}

EdgeConfig load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read the config file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

namespace {

// The commented defaults, one writer per table, in the order parse_config reads them.

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string string_array(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + quoted(v[i]);
  return s + "]";
}

void write_edge(std::ostream& o, const EdgeConfig& d) {
  o << "[edge]\n"
    << "host = " << quoted(d.host) << "            # address the gateway listens on (keep it on localhost)\n"
    << "port = " << d.port << "                     # 0: any free port (printed on stderr)\n"
    << "model_id = " << quoted(d.model_id) << "            # the model id apps see in /v1/models and may send\n"
    << "system_prompt = \"\"               # one system prompt for every tier, through each model's own chat template\n"
    << "default_max_tokens = " << d.default_max_tokens << "       # when a request gives none, so every tier generates the same amount\n"
    << "store_text = false               # keep prompt and answer text in the ledger (otherwise only figures)\n"
    << "ledger = \"\"                      # the SQLite ledger file; \"\": $XDG_DATA_HOME/tandem/ledger.sqlite; \"none\": no ledger\n"
    << "speculative_draft_max = " << d.speculative_draft_max << "        # SPECULATIVE: most draft tokens per round (adapted below it)\n\n";
}

void write_device(std::ostream& o, const EdgeConfig& d) {
  o << "[device]\n"
    << "model = \"\"                       # GGUF of the on-device model (required)\n"
    << "lora = []                        # LoRA adapters for it, \"ADAPTER.gguf[:SCALE]\"\n"
    << "chat_template = \"\"               # template name or Jinja source; \"\": the model's own\n"
    << "threads = " << d.device_threads << "                      # threads of the device model's forward pass\n"
    << "parallel = " << d.device_parallel << "                     # requests the device model decodes together\n"
    << "ctx = 0                          # positions per request; 0: the model's (at most 4096)\n"
    << "state_source = " << quoted(d.state_source) << "            # battery/thermal/memory from: auto (sysfs where present, else pushed),\n"
    << "                                 # sysfs, timeline (a scripted file, for tests and demos) or push (PUT /v1/device only)\n"
    << "sysfs_root = " << quoted(d.sysfs_root) << "                # root holding sys/class/power_supply, sys/class/thermal, proc/meminfo\n"
    << "timeline = \"\"                    # the timeline file (state_source = \"timeline\"); see docs/edge.md\n"
    << "thermal_fair_c = " << d.thermal_fair_c << "              # hottest thermal zone at or above: fair\n"
    << "thermal_serious_c = " << d.thermal_serious_c << "           # ... serious\n"
    << "thermal_critical_c = " << d.thermal_critical_c << "          # ... critical\n"
    << "reference_model = \"\"             # GGUF the device model was made from: measured against it at start\n"
    << "calibration_text = \"\"            # text file it is measured on (with reference_model)\n"
    << "max_kld = " << d.max_kld << "                     # refuse to start past this mean KLD; < 0: measure only\n"
    << "calibration_chunks = " << d.calibration_chunks << "           # 256-token chunks scored at start\n\n";
}

// No endpoint by default: the keys as comments.
void write_endpoints(std::ostream& o) {
  o << "# Cloud endpoints, any number, each:\n"
    << "# [[cloud]]\n"
    << "# name = \"primary\"                # shown in responses, /health and the ledger\n"
    << "# url = \"http://127.0.0.1:8080\"   # base URL of an OpenAI-compatible server\n"
    << "# model = \"\"                      # model id to ask for; \"\": leave it out (the server's own)\n"
    << "# api_key_env = \"\"                # environment variable holding its API key\n"
    << "# price_input_per_1m = 0.0        # USD per million prompt tokens\n"
    << "# price_output_per_1m = 0.0       # USD per million completion tokens\n"
    << "# priority = 1                    # lower is tried first (then lower RTT)\n"
    << "# timeout_ms = 30000              # no byte for this long: the call timed out\n"
    << "# ca_file = \"\"                    # https: PEM CA file trusted for its certificate; \"\": the system's CAs\n"
    << "# client_cert = \"\"                # https: PEM certificate to present (mutual TLS), with client_key\n"
    << "# client_key = \"\"                 # its PEM private key\n"
    << "# LAN peers serving the same API: [[peer]] with the same keys (usually free: prices 0).\n\n";
}

void write_policy(std::ostream& o, const EdgeConfig& d) {
  o << "[policy]\n"
    << "default = " << quoted(policy_name(d.policy)) << "                 # auto, or always one of: local, cloud, cascade, speculative, peer\n"
    << "privacy = " << quoted(d.privacy) << "             # strict, standard or open: the level handed to the privacy check\n"
    << "battery_low_pct = " << d.battery_low_pct << "             # under this and discharging: offload (where privacy allows)\n"
    << "thermal_offload = " << quoted(d.thermal_offload) << "      # thermal state at or above which work is offloaded: fair, serious, critical\n"
    << "min_free_mem_mb = 0              # less free memory than this: offload (0: never)\n"
    << "cascade = false                  # auto: requests that are not complex go CASCADE (device first) instead of LOCAL\n"
    << "cascade_min_logprob = " << d.cascade_min_logprob << "       # CASCADE: a device answer with a lower mean token log-prob goes to the cloud\n"
    << "latency_target_ms = 0            # when the device cannot finish in time and a cloud can: cloud (0: none)\n"
    << "offline_max_tokens = " << d.offline_max_tokens << "       # offline: max_tokens is capped to this (graceful degradation; 0: no cap)\n\n";
}

void write_complexity(std::ostream& o, const EdgeConfig& d) {
  o << "[complexity]\n"
    << "entropy_check = true             # measure the device's next-token entropy after prefill (the prefill is reused)\n"
    << "entropy_complex = " << d.entropy_complex << "            # nats; at or above: complex\n"
    << "long_prompt_tokens = " << d.long_prompt_tokens << "       # prompts this long or longer: complex\n"
    << "complex_categories = " << string_array(d.complex_categories) << "  # categories that count as complex\n"
    << "[complexity.keywords]            # category -> words that put a prompt in it (case-insensitive)\n";
  for (const auto& [cat, kws] : d.category_keywords) o << cat << " = " << string_array(kws) << "\n";
  o << "\n";
}

void write_budget_and_apps(std::ostream& o, const EdgeConfig& d) {
  o << "[budget]\n"
    << "daily_usd = " << d.daily_usd << "                  # all apps together per UTC day; negative: no limit. At the limit: LOCAL\n\n"
    << "# Apps, each with its own key (then every request must carry one) and an optional budget:\n"
    << "# [[app]]\n"
    << "# name = \"notes\"                  # the name the ledger and report use (never the key)\n"
    << "# key_env = \"NOTES_APP_KEY\"       # environment variable holding the key (Authorization: Bearer KEY)\n"
    << "# daily_usd = -1.0                # this app's daily budget; negative: none\n"
    << "# consent = false                 # strict privacy: its requests may leave the device, redacted (it asks its user)\n\n";
}

void write_connectivity(std::ostream& o, const EdgeConfig& d) {
  o << "[connectivity]\n"
    << "probe_interval_ms = " << d.probe_interval_ms << "         # GET /health on every endpoint this often (0: only real calls measure)\n"
    << "probe_timeout_ms = " << d.probe_timeout_ms << "          # a probe slower than this failed\n"
    << "ewma_alpha = " << d.ewma_alpha << "                 # weight of the newest RTT sample in the moving average\n"
    << "breaker_failures = " << d.breaker_failures << "             # consecutive failures that open an endpoint's circuit\n"
    << "breaker_open_ms = " << d.breaker_open_ms << "          # open this long, then half-open: one trial call decides\n"
    << "connect_timeout_ms = " << d.connect_timeout_ms << "       # TCP connect limit per call\n\n";
}

void write_mesh(std::ostream& o, const EdgeConfig& d) {
  o << "[mesh]                           # LAN peers found by their UDP adverts (docs/mesh.md)\n"
    << "listen = \"\"                      # HOST:PORT to hear adverts on (0.0.0.0:7707: broadcasts; 239.x.y.z:P: a group); \"\": off\n"
    << "key_env = \"\"                     # environment variable holding the mesh key; adverts must be signed with it\n"
    << "accept_unsigned = false          # without a key: use peers whose adverts nobody signed (anyone on the LAN)\n"
    << "advertise = []                   # HOST:PORT targets this gateway advertises itself to (255.255.255.255:7707: broadcast)\n"
    << "name = \"\"                        # this gateway's name in its adverts; \"\": HOSTNAME:PORT\n"
    << "url = \"\"                         # its URL in them; \"\": http://HOST:PORT from [edge] (HOST must not be 0.0.0.0)\n"
    << "interval_ms = " << d.mesh_interval_ms << "               # advert interval; a peer silent for 3 of its intervals is dropped\n"
    << "price_input_per_1m = 0.0         # what a discovered peer costs this gateway, USD per 1M prompt tokens\n"
    << "price_output_per_1m = 0.0        # ... per 1M completion tokens\n"
    << "priority = " << d.mesh_peer.priority << "                     # discovered peers' priority (lower first)\n"
    << "timeout_ms = " << d.mesh_peer.timeout_ms << "               # no byte from a discovered peer for this long: timeout\n"
    << "api_key_env = \"\"                 # environment variable holding the key of discovered peers' APIs\n";
}

}  // namespace

std::string default_config_toml() {
  const EdgeConfig d = default_config();
  std::ostringstream o;
  o << "# tandem edge configuration: every key with its default. Durations in milliseconds, prices in USD.\n\n";
  write_edge(o, d);
  write_device(o, d);
  write_endpoints(o);
  write_policy(o, d);
  write_complexity(o, d);
  write_budget_and_apps(o, d);
  write_connectivity(o, d);
  write_mesh(o, d);
  return o.str();
}

}  // namespace tandem::edge
