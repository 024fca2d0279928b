// Speculative decoding across an emulated network (README "Speculative decoding
// over the network"): a tandem serve with the cloud model runs in-process behind tandem netsim,
// and for each round-trip time this program generates the same greedy continuations five ways:
//   device   the device model alone (no network)
//   cloud    the cloud model alone, streamed from tandem serve through netsim
//   spec-k4  the device drafts 4 tokens per round, the cloud verifies (/v1/verify)
//   spec-k8  the same with 8
//   adaptive the draft length chosen per round from RTT, acceptance and speeds
// and prints tokens/s end to end, time to first token, cloud forward passes and bytes on the wire
// per generated token, acceptance rate and mean accepted length; --plot draws tokens/s and cloud
// passes per token against RTT as SVG.
//
//   ./build/bench/spec_bench --device D.gguf --cloud C.gguf --rtt 0,20,50,100,200 -n 64
//
// Device and cloud run on the same machine: each gets --device-threads / --cloud-threads.
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/generate.h"
#include "engine/sampler.h"
#include "engine/vocab.h"
#include "ledger/plot_svg.h"
#include "model/llama_model.h"
#include "netsim/proxy.h"
#include "serve/server.h"
#include "verify/speculative.h"

using namespace tandem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// One mode at one RTT, summed over the prompts.
struct Cell {
  std::string mode;
  double rtt_ms = 0;
  int64_t tokens = 0;
  double total_ms = 0, ttft_ms = 0;  // ttft: mean over prompts
  double cloud_passes = 0, bytes = 0;
  int64_t drafted = 0, accepted = 0, rounds = 0;
  double tps() const { return total_ms > 0 ? 1000.0 * double(tokens) / total_ms : 0; }
  double per_token(double x) const { return tokens > 0 ? x / double(tokens) : 0; }
};

struct Bench {
  const LlamaModel* device = nullptr;
  const Vocab* vocab = nullptr;
  serve::Server* server = nullptr;
  netsim::Proxy* proxy = nullptr;
  int proxy_port = 0, device_threads = 1, n_tokens = 64;
  bool explain = false;  // print each speculative generation's measured cost model on stderr

  uint64_t wire_bytes() const {
    const netsim::ProxyStats s = proxy->stats();
    return s.bytes_up + s.bytes_down;
  }

  void device_only(const std::vector<int32_t>& prompt, Cell& c) const {
    ContextParams cp;
    cp.n_ctx = int32_t(prompt.size()) + n_tokens + 8;
    cp.n_threads = device_threads;
    cp.n_outputs = 1;
    Context ctx(*device, cp);
    Sampler s(SamplerParams{}, device->hparams().n_vocab);
    GenerateOptions opt;
    opt.n_predict = n_tokens;
    opt.stop_at_eog = false;
    const auto t0 = Clock::now();
    bool first = true;
    const GenerateResult r = generate(ctx, *vocab, s, prompt, opt, [&](int32_t, std::string_view) {
      if (first) c.ttft_ms += ms_since(t0), first = false;
      return true;
    });
    c.total_ms += ms_since(t0);
    c.tokens += int64_t(r.tokens.size());
  }

  void cloud_only(const std::vector<int32_t>& prompt, Cell& c) const {
    const uint64_t passes0 = server->metrics().forward_passes.load(), bytes0 = wire_bytes();
    httplib::Client cl("127.0.0.1", proxy_port);
    cl.set_read_timeout(600);
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/completions";
    req.body = json{{"prompt", prompt}, {"max_tokens", n_tokens}, {"temperature", 0}, {"ignore_eos", true},
                    {"stream", true}, {"stream_options", {{"include_usage", true}}}}
                   .dump();
    req.set_header("Content-Type", "application/json");
    std::string buf;
    int64_t tokens = 0;
    bool first = true;
    const auto t0 = Clock::now();
    req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
      buf.append(d, n);
      for (size_t end; (end = buf.find("\n\n")) != std::string::npos; buf.erase(0, end + 2)) {
        const std::string ev = buf.substr(0, end);
        if (ev.rfind("data: ", 0) != 0 || ev == "data: [DONE]") continue;
        const json j = json::parse(ev.substr(6), nullptr, false);
        if (j.is_discarded()) continue;
        if (j.contains("usage") && j["usage"].is_object()) tokens = j["usage"]["completion_tokens"].get<int64_t>();
        if (first && j.contains("choices") && !j["choices"].empty() && !j["choices"][0]["text"].get<std::string>().empty())
          c.ttft_ms += ms_since(t0), first = false;
      }
      return true;
    };
    const auto res = cl.send(req);
    if (!res || res->status != 200) throw std::runtime_error("cloud-only request failed");
    c.total_ms += ms_since(t0);
    c.tokens += tokens;
    c.cloud_passes += double(server->metrics().forward_passes.load() - passes0);
    c.bytes += double(wire_bytes() - bytes0);
  }

  mutable std::optional<verify::DraftPolicy> learned;  // adaptive's policy on the current link

  void speculative(const std::vector<int32_t>& prompt, int k, bool adaptive, Cell& c) const {
    verify::SpeculativeConfig cfg;
    cfg.url = "http://127.0.0.1:" + std::to_string(proxy_port);
    cfg.draft_max = k;
    cfg.adaptive = adaptive;
    cfg.n_threads = device_threads;
    cfg.n_ctx = int32_t(prompt.size()) + n_tokens + 16;
    verify::SpeculativeSession session(*device, *vocab, cfg);
    session.connect();
    // Adaptive carries its measurements from one generation to the next on the same link, as
    // the gateway does per endpoint (the warm-up generation of each RTT starts from the priors).
    if (adaptive && learned) session.adopt_policy(*learned);
    bool first = true;
    const auto t0 = Clock::now();
    const verify::SpeculativeGeneration r = session.generate(
        prompt, SamplerParams{}, n_tokens,
        [&](int32_t, std::string_view) {
          if (first) c.ttft_ms += ms_since(t0), first = false;
          return true;
        },
        /*stop_at_eog=*/false);
    c.total_ms += ms_since(t0);
    c.tokens += int64_t(r.tokens.size());
    c.cloud_passes += double(r.stats.cloud_forward_passes);
    c.bytes += double(r.stats.bytes_sent + r.stats.bytes_received);
    c.drafted += r.stats.drafted;
    c.accepted += r.stats.accepted;
    c.rounds += r.stats.rounds;
    if (explain) {
      // What the policy measured, beside what the rounds actually took.
      const verify::CostModel m = session.policy().model();
      const double k_mean = r.stats.rounds > 0 ? double(r.stats.drafted) / double(r.stats.rounds) : 0;
      std::fprintf(stderr,
                   "    %s k %.1f/round  %.2f ms/round (model %.2f)  alpha %.2f  t_draft %.3f  rtt %.2f  "
                   "verify %.2f + %.3f/k  draft %.0f wait %.0f calls %.0f of %.0f ms  best k %d\n",
                   adaptive ? "adaptive" : ("k=" + std::to_string(k)).c_str(), k_mean,
                   r.stats.rounds > 0 ? r.stats.total_ms / double(r.stats.rounds) : 0,
                   verify::round_ms(m, int(std::lround(k_mean))), m.alpha, m.t_draft_ms, m.rtt_ms, m.verify_fixed_ms,
                   m.verify_per_token_ms, r.stats.draft_ms, r.stats.wait_ms, r.stats.network_ms + r.stats.verify_ms,
                   r.stats.total_ms,
                   verify::best_draft_length(m, k));
    }
    if (adaptive) learned = session.policy();
    session.close();
  }
};

std::vector<double> parse_list(const std::string& s) {
  std::vector<double> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, ',');) out.push_back(std::stod(part));
  return out;
}

std::string fmt(double v, int digits) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Speculative decoding over an emulated network: device-only, cloud-only, fixed and adaptive drafts"};
  std::string device_path, cloud_path, rtts = "0,20,50,100,200", plot, json_out;
  std::vector<std::string> prompts = {"Once upon a time", "The little dog", "Lily and Ben went to the park"};
  int n_tokens = 64, device_threads = 1, cloud_threads = 1;
  app.add_option("--device", device_path, "the device (draft) model")->required();
  app.add_option("--cloud", cloud_path, "the cloud (target) model, served in-process by tandem serve")->required();
  app.add_option("--rtt", rtts, "round-trip times in ms, comma-separated (netsim delays each way by half)")
      ->capture_default_str();
  app.add_option("-n,--tokens", n_tokens, "tokens generated per prompt")->capture_default_str();
  app.add_option("-p,--prompt", prompts, "prompts (repeatable)");
  app.add_option("--device-threads", device_threads, "threads of the device model")->capture_default_str();
  app.add_option("--cloud-threads", cloud_threads, "threads of the cloud server")->capture_default_str();
  app.add_option("--plot", plot, "write an SVG plot of tokens/s and cloud passes per token against RTT");
  app.add_option("--json", json_out, "write every figure as JSON to this file");
  bool explain = false;
  app.add_flag("--explain", explain, "print each speculative generation's measured cost model on stderr");
  std::vector<std::string> mode_list;
  app.add_option("--modes", mode_list, "modes to run (device, cloud, spec-k4, spec-k8, adaptive; default all)")
      ->delimiter(',');
  int repeat = 1;
  app.add_option("--repeat", repeat, "measured passes over the prompts per cell")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    const auto device = LlamaModel::load(device_path);
    const Vocab vocab = Vocab::from_gguf(device->gguf());
    serve::ServerConfig scfg;
    scfg.model_path = cloud_path;
    scfg.port = 0;
    scfg.sched.n_threads = cloud_threads;
    scfg.sched.n_parallel = 2;
    scfg.sched.n_ctx = 1024;
    serve::Server server(scfg);
    const int server_port = server.start();
    netsim::ProxyConfig pcfg;
    pcfg.upstream_port = server_port;
    netsim::Proxy proxy(pcfg);
    const int proxy_port = proxy.start();

    Bench b{device.get(), &vocab, &server, &proxy, proxy_port, device_threads, n_tokens, explain, std::nullopt};
    std::vector<std::vector<int32_t>> tokenized;
    for (const auto& p : prompts) tokenized.push_back(vocab.tokenize(p, true));

    const std::vector<std::string> modes =
        mode_list.empty() ? std::vector<std::string>{"device", "cloud", "spec-k4", "spec-k8", "adaptive"} : mode_list;
    std::vector<Cell> cells;
    std::fprintf(stderr, "spec_bench: %zu prompts x %d tokens, device %s (%d threads), cloud %s (%d threads)\n",
                 prompts.size(), n_tokens, device_path.c_str(), device_threads, cloud_path.c_str(), cloud_threads);
    for (double rtt : parse_list(rtts)) {
      netsim::LinkConfig link;
      link.delay_ms = rtt / 2;
      proxy.set_link(link);
      b.learned.reset();  // a new link: learned anew
      auto run_mode = [&](const std::string& mode, const std::vector<int32_t>& p, Cell& into) {
        if (mode == "device") b.device_only(p, into);
        else if (mode == "cloud") b.cloud_only(p, into);
        else if (mode == "spec-k4") b.speculative(p, 4, false, into);
        else if (mode == "spec-k8") b.speculative(p, 8, false, into);
        else b.speculative(p, 8, true, into);
      };
      // A warm-up generation per mode (connections, caches), then the measured ones; with
      // --repeat the modes take turns, so that a change in the machine's load hits them alike.
      std::vector<Cell> row(modes.size());
      for (size_t m = 0; m < modes.size(); ++m) {
        Cell warm;
        run_mode(modes[m], tokenized[0], warm);
        row[m].mode = modes[m];
        row[m].rtt_ms = rtt;
      }
      for (int rep = 0; rep < std::max(repeat, 1); ++rep)
        for (size_t m = 0; m < modes.size(); ++m)
          for (const auto& p : tokenized) run_mode(modes[m], p, row[m]);
      for (Cell& c : row) {
        c.ttft_ms /= double(tokenized.size() * size_t(std::max(repeat, 1)));
        if (c.mode == "device") c.cloud_passes = 0;
        cells.push_back(c);
        std::fprintf(stderr, "  rtt %5.0f ms  %-8s %8.1f tok/s\n", rtt, c.mode.c_str(), c.tps());
      }
    }
    proxy.stop();
    server.stop();

    std::printf("| RTT ms | mode | tok/s | TTFT ms | cloud passes / token | wire bytes / token | acceptance | mean accepted | k / round |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    json all = json::array();
    for (const Cell& c : cells) {
      const bool spec = c.mode.rfind("spec", 0) == 0 || c.mode == "adaptive";
      const double acc = c.drafted > 0 ? double(c.accepted) / double(c.drafted) : 0;
      const double mean_acc = c.rounds > 0 ? double(c.accepted) / double(c.rounds) : 0;
      const double k_mean = c.rounds > 0 ? double(c.drafted) / double(c.rounds) : 0;
      std::printf("| %.0f | %s | %.1f | %.1f | %s | %s | %s | %s | %s |\n", c.rtt_ms, c.mode.c_str(), c.tps(), c.ttft_ms,
                  c.mode == "device" ? "-" : fmt(c.per_token(c.cloud_passes), 3).c_str(),
                  c.mode == "device" ? "-" : fmt(c.per_token(c.bytes), 0).c_str(), spec ? fmt(acc, 3).c_str() : "-",
                  spec ? fmt(mean_acc, 2).c_str() : "-", spec ? fmt(k_mean, 2).c_str() : "-");
      all.push_back({{"rtt_ms", c.rtt_ms}, {"mode", c.mode}, {"tokens", c.tokens}, {"tokens_per_s", c.tps()},
                     {"ttft_ms", c.ttft_ms}, {"cloud_passes_per_token", c.per_token(c.cloud_passes)},
                     {"wire_bytes_per_token", c.per_token(c.bytes)}, {"acceptance", acc},
                     {"mean_accepted", mean_acc}, {"rounds", c.rounds}, {"k_per_round", k_mean}});
    }
    if (!json_out.empty()) std::ofstream(json_out) << all.dump(1) << "\n";
    if (!plot.empty()) {
      ledger::LineChart tps{"tokens/s end to end against RTT", "tokens/s", {}, {}, true};
      ledger::LineChart passes{"cloud forward passes per generated token", "passes / token", {}, {}, true};
      std::vector<double> rtt_list = parse_list(rtts);
      for (double r : rtt_list) tps.x_labels.push_back(fmt(r, 0) + " ms"), passes.x_labels.push_back(fmt(r, 0) + " ms");
      for (const auto& mode : modes) {
        ledger::PlotSeries s{mode, {}}, p{mode, {}};
        for (const Cell& c : cells)
          if (c.mode == mode) {
            s.values.push_back(c.tps());
            p.values.push_back(c.per_token(c.cloud_passes));
          }
        tps.series.push_back(s);
        if (mode != "device") passes.series.push_back(p);
      }
      std::ofstream(plot) << ledger::line_chart_svg(tps);
      const std::string p2 = plot.size() > 4 && plot.substr(plot.size() - 4) == ".svg"
                                 ? plot.substr(0, plot.size() - 4) + "-passes.svg"
                                 : plot + "-passes.svg";
      std::ofstream(p2) << ledger::line_chart_svg(passes);
      std::fprintf(stderr, "spec_bench: plots %s, %s\n", plot.c_str(), p2.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "spec_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
