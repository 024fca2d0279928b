// serve_load: a load generator for tandem serve. N concurrent clients each stream one completion
// over HTTP (SSE); for N = 1, 4, 16, 64 (or --clients) it prints aggregate tokens/s, decode
// tokens/s, time to first token and inter-token latency (P50 / P99).
//
//   serve_load -m MODEL [--clients 1,4,16,64] [-n 64] [-t 2] [--ctx 512]   (starts a server in-process)
//   serve_load --url http://HOST:PORT [--api-key KEY] ...                   (an external server)
//
// Each client sends a distinct short prompt ("Story N:") with ignore_eos, so every stream
// generates exactly -n tokens. Decode tokens/s counts the tokens after each stream's first over
// the span from the first stream's first token to the last stream's last token.
#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "serve/server.h"

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Stream {
  Clock::time_point sent, first, last;
  std::vector<double> gaps_ms;  // between consecutive content chunks
  int tokens = 0;               // from the usage chunk
  bool ok = false;
  std::string error;
};

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = p * double(v.size() - 1);
  const size_t i = size_t(pos);
  const double f = pos - double(i);
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

void run_stream(const std::string& host, int port, const std::string& key, int id, int n_tokens, Stream* out) {
  httplib::Client c(host, port);
  c.set_read_timeout(600);
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = json{{"prompt", "Story " + std::to_string(id) + ":"}, {"max_tokens", n_tokens}, {"temperature", 0},
                  {"ignore_eos", true}, {"stream", true}, {"stream_options", {{"include_usage", true}}}}
                 .dump();
  req.set_header("Content-Type", "application/json");
  if (!key.empty()) req.set_header("Authorization", "Bearer " + key);
  std::string buf;
  bool seen_first = false;
  req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
    const auto now = Clock::now();
    buf.append(d, n);
    for (size_t end; (end = buf.find("\n\n")) != std::string::npos; buf.erase(0, end + 2)) {
      const std::string ev = buf.substr(0, end);
      if (ev.rfind("data: ", 0) != 0 || ev == "data: [DONE]") continue;
      const json j = json::parse(ev.substr(6), nullptr, false);
      if (j.is_discarded()) continue;
      if (j.contains("usage") && j["usage"].is_object()) out->tokens = j["usage"]["completion_tokens"];
      if (j.contains("error")) out->error = j["error"].dump();
      if (!j.contains("choices") || j["choices"].empty() || j["choices"][0]["text"].get<std::string>().empty()) continue;
      if (!seen_first) {
        out->first = now;
        seen_first = true;
      } else {
        out->gaps_ms.push_back(ms(now - out->last));
      }
      out->last = now;
    }
    return true;
  };
  out->sent = Clock::now();
  auto res = c.send(req);
  if (!res) out->error = "no response: " + httplib::to_string(res.error());
  else if (res->status != 200) out->error = "HTTP " + std::to_string(res->status) + " " + res->body;
  out->ok = seen_first && out->error.empty();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Load generator for tandem serve: N concurrent streaming clients"};
  std::string model, url, key, clients_list = "1,4,16,64";
  int n_tokens = 64, threads = 2, ctx = 512;
  bool as_json = false;
  app.add_option("-m,--model", model, "GGUF model to serve in-process");
  app.add_option("--url", url, "an external server instead, e.g. http://127.0.0.1:8080");
  app.add_option("--api-key", key, "API key for an external server");
  app.add_option("--clients", clients_list, "comma-separated client counts")->capture_default_str();
  app.add_option("-n,--tokens", n_tokens, "tokens per stream")->capture_default_str();
  app.add_option("-t,--threads", threads, "forward-pass threads of the in-process server")->capture_default_str();
  app.add_option("-c,--ctx", ctx, "context per slot of the in-process server")->capture_default_str();
  app.add_flag("--json", as_json, "one JSON object per client count");
  CLI11_PARSE(app, argc, argv);

  std::vector<int> counts;
  {
    std::stringstream ss(clients_list);
    for (std::string part; std::getline(ss, part, ',');) counts.push_back(std::stoi(part));
  }
  const int max_clients = *std::max_element(counts.begin(), counts.end());
  std::unique_ptr<tandem::serve::Server> server;
  std::string host = "127.0.0.1";
  int port = 0;
  try {
    if (url.empty()) {
      if (model.empty()) throw std::runtime_error("give -m MODEL or --url URL");
      tandem::serve::ServerConfig cfg;
      cfg.model_path = model;
      cfg.port = 0;
      cfg.sched.n_parallel = max_clients;
      cfg.sched.n_ctx = ctx;
      cfg.sched.n_threads = threads;
      cfg.sched.queue_size = max_clients;
      server = std::make_unique<tandem::serve::Server>(cfg);
      port = server->start();
    } else {
      const auto at = url.find("://");
      const std::string rest = at == std::string::npos ? url : url.substr(at + 3);
      host = rest.substr(0, rest.find(':'));
      port = std::stoi(rest.substr(rest.find(':') + 1));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "serve_load: %s\n", e.what());
    return 1;
  }

  // Warm-up: one short stream (page in the weights, first-touch the caches).
  {
    Stream w;
    run_stream(host, port, key, 0, 8, &w);
    if (!w.ok) {
      std::fprintf(stderr, "serve_load: warm-up failed: %s\n", w.error.c_str());
      return 1;
    }
  }
  if (!as_json)
    std::printf("| clients | tokens | agg tok/s | decode tok/s | TTFT P50 ms | TTFT P99 ms | ITL P50 ms | ITL P99 ms |\n"
                "|---|---|---|---|---|---|---|---|\n");
  for (int n : counts) {
    std::vector<Stream> streams(static_cast<size_t>(n));
    std::vector<std::thread> ts;
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) ts.emplace_back(run_stream, host, port, key, i + 1, n_tokens, &streams[size_t(i)]);
    for (auto& t : ts) t.join();
    const auto t1 = Clock::now();
    std::vector<double> ttft, itl;
    int tokens = 0, decode_tokens = 0, failed = 0;
    Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
    for (const auto& s : streams) {
      if (!s.ok) {
        ++failed;
        std::fprintf(stderr, "serve_load: a stream failed: %s\n", s.error.c_str());
        continue;
      }
      ttft.push_back(ms(s.first - s.sent));
      itl.insert(itl.end(), s.gaps_ms.begin(), s.gaps_ms.end());
      tokens += s.tokens;
      decode_tokens += s.tokens - 1;
      first = std::min(first, s.first);
      last = std::max(last, s.last);
    }
    const double agg = tokens / (ms(t1 - t0) / 1000);
    const double decode = failed < n && last > first ? decode_tokens / (ms(last - first) / 1000) : 0;
    if (as_json) {
      std::printf("%s\n", json{{"clients", n}, {"tokens", tokens}, {"failed", failed}, {"aggregate_tokens_per_s", agg},
                               {"decode_tokens_per_s", decode}, {"ttft_ms_p50", percentile(ttft, 0.5)},
                               {"ttft_ms_p99", percentile(ttft, 0.99)}, {"itl_ms_p50", percentile(itl, 0.5)},
                               {"itl_ms_p99", percentile(itl, 0.99)}}
                              .dump()
                              .c_str());
    } else {
      std::printf("| %d | %d | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f |\n", n, tokens, agg, decode,
                  percentile(ttft, 0.5), percentile(ttft, 0.99), percentile(itl, 0.5), percentile(itl, 0.99));
    }
    std::fflush(stdout);
  }
  if (server) server->stop();
  return 0;
}
