// tandem serve: the OpenAI-compatible inference server (src/serve, docs/serve.md).
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <pthread.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "format/error.h"
#include "mesh/announcer.h"
#include "serve/server.h"
#include "tools/commands.h"

namespace tandem::tools {

namespace {

// One key per line; `#` starts a comment line. A blank line is an error, not an empty key.
std::vector<std::string> read_api_key_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read the API key file '" + path + "'");
  std::vector<std::string> keys;
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    const size_t b = line.find_first_not_of(" \t\r"), e = line.find_last_not_of(" \t\r");
    if (b == std::string::npos)
      throw Error("the API key file '" + path + "' line " + std::to_string(n) + " is blank (an empty key is not allowed)");
    if (line[b] == '#') continue;
    keys.push_back(line.substr(b, e - b + 1));
  }
  if (keys.empty()) throw Error("the API key file '" + path + "' holds no keys");
  return keys;
}

// The command line beyond the server's own config: keys, limits, draining and the LAN adverts.
struct ServeOptions {
  serve::ServerConfig cfg;
  std::string key, key_file;
  int ttl_s = 600, session_mib = 1024, request_timeout_s = 10;
  double drain_s = 30;
  bool quiet = false;
  std::vector<std::string> advertise;
  std::string advertise_name, advertise_url, mesh_key_env;
  int advertise_interval_ms = 1000;
};

void add_options(CLI::App& app, ServeOptions& o) {
  serve::ServerConfig& cfg = o.cfg;
  app.add_option("-m,--model", cfg.model_path, "GGUF model file")->required();
  app.add_option("--alias", cfg.model_id, "model id in the API (default: the file name without .gguf)");
  app.add_option("--host", cfg.host, "address to listen on")->capture_default_str();
  app.add_option("--port", cfg.port, "port (0: any free port, printed on stderr)")->capture_default_str();
  app.add_option("--api-key", o.key, "require this API key (Authorization: Bearer KEY)");
  app.add_option("--api-key-file", o.key_file, "require one of the keys in this file (one per line)");
  app.add_option("--parallel", cfg.sched.n_parallel, "sequences decoded together (slots)")->capture_default_str();
  app.add_option("-c,--ctx", cfg.sched.n_ctx, "context size per slot (default: the model's, at most 4096)");
  app.add_option("-b,--batch", cfg.sched.n_batch, "most tokens per forward pass")->capture_default_str();
  app.add_option("--queue", cfg.sched.queue_size, "most requests waiting for a slot before 429")->capture_default_str();
  app.add_option("--max-draft", cfg.sched.max_draft, "most draft tokens per /v1/verify call")->capture_default_str();
  app.add_option("-t,--threads", cfg.sched.n_threads, "threads of the forward pass")->capture_default_str();
  app.add_option("--lora", cfg.lora,
                 "LoRA adapter FILE[:SCALE] applied to every request (GGUF; repeatable; scale default 1)");
  app.add_option("--chat-template", cfg.chat_template, "chat template name or source (default: the model's)");
  app.add_option("--session-ttl", o.ttl_s, "seconds an idle verify session is kept")->capture_default_str();
  app.add_option("--session-memory", o.session_mib, "MiB of KV cache verify sessions may hold")->capture_default_str();
  app.add_option("--drain-timeout", o.drain_s, "seconds SIGTERM waits for running requests")->capture_default_str();
  app.add_option("--max-connections", cfg.max_connections, "open connections; beyond: 503 at once")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--request-timeout", o.request_timeout_s, "seconds a connection has to send a request's headers (then 408)")->capture_default_str()->check(CLI::Range(1, 3600));
  app.add_flag("-q,--quiet", o.quiet, "no request log on stderr");
  app.add_option("--advertise", o.advertise,
                 "send LAN mesh adverts (docs/mesh.md) to HOST:PORT (repeatable; 255.255.255.255:7707 broadcasts)");
  app.add_option("--advertise-name", o.advertise_name, "name in the adverts (default: HOSTNAME:PORT)");
  app.add_option("--advertise-url", o.advertise_url, "URL in the adverts (default: http[s]://HOST:PORT; needed with --host 0.0.0.0)");
  app.add_option("--advertise-interval-ms", o.advertise_interval_ms, "advert interval")->capture_default_str()->check(CLI::Range(50, 3600000));
  app.add_option("--ssl-cert", cfg.ssl_cert, "serve HTTPS with this PEM certificate (chain); needs --ssl-key");
  app.add_option("--ssl-key", cfg.ssl_key, "the PEM private key of --ssl-cert");
  app.add_option("--ssl-ca", cfg.ssl_ca, "require client certificates signed by a CA in this PEM file (mutual TLS)");
  app.add_option("--mesh-key-env", o.mesh_key_env, "environment variable holding the mesh key that signs the adverts");
}

// The keys and limits into the server's config; throws Error naming the option that is wrong.
void apply_keys_and_limits(const CLI::App& app, ServeOptions& o) {
  serve::ServerConfig& cfg = o.cfg;
  const bool key_given = app.count("--api-key") > 0, key_file_given = app.count("--api-key-file") > 0;
  if (key_given && key_file_given) throw Error("give --api-key or --api-key-file, not both");
  if (key_file_given && o.key_file.empty()) throw Error("--api-key-file is empty: give the file's path");
  // An empty key (an unset variable, say) must not start the server open.
  if (key_given && o.key.find_first_not_of(" \t\r\n") == std::string::npos)
    throw Error("--api-key is empty: give a key, or leave the option out to serve without keys");
  if (key_given) cfg.api_keys.push_back(o.key);
  if (key_file_given) cfg.api_keys = read_api_key_file(o.key_file);
  cfg.request_timeout = std::chrono::seconds(o.request_timeout_s);
  if (o.ttl_s < 1 || o.session_mib < 0 || o.drain_s < 0)
    throw Error("--session-ttl, --session-memory and --drain-timeout must be positive");
  cfg.session_ttl = std::chrono::seconds(o.ttl_s);
  cfg.session_budget_bytes = size_t(o.session_mib) << 20;
  cfg.log_requests = !o.quiet;
  cfg.quiet = o.quiet;
}

const char* scheme_of(const serve::ServerConfig& cfg) { return cfg.ssl_cert.empty() ? "http" : "https"; }

void print_started(const serve::Server& server, const serve::ServerConfig& cfg, int port) {
  std::string adapters;
  for (const auto& l : server.loras()) {
    char scale[32];
    std::snprintf(scale, sizeof scale, "%g", double(l.use.scale));
    adapters += ", LoRA " + l.file + ":" + scale;
  }
  std::fprintf(stderr, "tandem serve: %s on %s://%s:%d (%d slots of %d tokens%s%s%s)\n", server.model_id().c_str(),
               scheme_of(cfg), cfg.host.c_str(), port, cfg.sched.n_parallel, server.n_ctx(), adapters.c_str(),
               cfg.api_keys.empty() ? "" : ", API keys required", cfg.ssl_ca.empty() ? "" : ", client certificates required");
}

// With --advertise: the mesh adverts of this server (docs/mesh.md), started; else none.
std::unique_ptr<mesh::Announcer> start_adverts(ServeOptions& o, serve::Server& server, int port) {
  if (o.advertise.empty()) return nullptr;
  mesh::AnnouncerConfig ac;
  ac.targets = o.advertise;
  if (!o.mesh_key_env.empty()) {
    const char* k = std::getenv(o.mesh_key_env.c_str());
    if (!k || !*k) throw Error("--mesh-key-env names " + o.mesh_key_env + ", which is not set");
    ac.key = k;
  }
  if (o.advertise_url.empty()) {
    const std::string& host = o.cfg.host;
    if (host == "0.0.0.0" || host == "::")
      throw Error("--advertise needs --advertise-url when --host is " + host + " (which address should peers call?)");
    o.advertise_url = std::string(scheme_of(o.cfg)) + "://" + host + ":" + std::to_string(port);
  }
  if (o.advertise_name.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    o.advertise_name = std::string(host) + ":" + std::to_string(port);
  }
  ac.advert.name = o.advertise_name;
  ac.advert.url = o.advertise_url;
  ac.advert.kind = "serve";
  ac.advert.model = server.model_id();
  ac.advert.vocab_fingerprint = server.vocab_fingerprint();
  ac.advert.sha256 = server.file_sha256();
  ac.advert.interval_ms = o.advertise_interval_ms;
  auto announcer = std::make_unique<mesh::Announcer>(ac, [&server] {
    const int32_t slots = server.n_parallel();
    const auto active = int32_t(server.metrics().active_sequences.load());
    const auto queued = int32_t(server.metrics().queue_depth.load());
    return mesh::Capacity{slots, slots - active, queued};
  });
  announcer->start();
  std::fprintf(stderr, "tandem serve: advertising %s as %s every %d ms (%s)\n", o.advertise_url.c_str(),
               o.advertise_name.c_str(), o.advertise_interval_ms, ac.key.empty() ? "unsigned" : "signed");
  return announcer;
}

}  // namespace

int cmd_serve(int argc, char** argv) {
  CLI::App app{"Serve a GGUF model over an OpenAI-compatible HTTP API", argv[0]};
  ServeOptions o;
  add_options(app, o);
  CLI11_PARSE(app, argc, argv);

  // Signals go to the thread that waits for them, not to the server's threads.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    apply_keys_and_limits(app, o);
    serve::Server server(o.cfg);
    const int port = server.start();
    print_started(server, o.cfg, port);
    std::unique_ptr<mesh::Announcer> announcer = start_adverts(o, server, port);
    std::fflush(stderr);
    int sig = 0;
    sigwait(&sigs, &sig);
    std::fprintf(stderr, "tandem serve: %s, draining (up to %.0f s)\n", sig == SIGTERM ? "SIGTERM" : "SIGINT", o.drain_s);
    if (announcer) announcer->stop();  // peers stop sending work; they expire this server shortly
    server.drain(std::chrono::milliseconds(int64_t(o.drain_s * 1000)));
    std::fprintf(stderr, "tandem serve: stopped\n");
  } catch (const Error& e) {
    std::fprintf(stderr, "tandem serve: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace tandem::tools
