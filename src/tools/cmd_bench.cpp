// tandem bench: prefill and decode speed, peak memory, and decode's effective weight bandwidth
// beside the machine's measured memory read bandwidth, all in one run on the same threads.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include "engine/context.h"
#include "format/error.h"
#include "kernels/matmul.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace tandem::tools {

namespace {

struct Stat {
  double mean = 0, sd = 0;
};
Stat stat(const std::vector<double>& v) {
  Stat s;
  if (v.empty()) return s;
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(ss / double(v.size() - 1)) : 0;
  return s;
}

// Memory read bandwidth: the threads stream through a buffer far larger than the caches with
// SIMD loads, in slices scheduled like the forward pass's loops; best of several passes, in GB/s.
// `buf` is allocated and touched on first use and kept for later calls.
double measure_read_bandwidth(ThreadPool& pool, std::vector<float>& buf, size_t bytes, int passes) {
  const size_t n = bytes / sizeof(float) / 64 * 64;
  if (buf.size() != n) {
    buf.assign(n, 0.f);
    pool.parallel_for(n, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) buf[i] = float(i & 1023) * 1e-3f;
    });
  }
  double best = 0;
  std::vector<float> sums(size_t(pool.size()), 0.f);
  for (int p = 0; p < passes; ++p) {
    const double t0 = now_ms();
    pool.parallel_for(n, 64, [&](size_t b, size_t e, int thread) {
      sums[size_t(thread)] += kernels::sum_f32(buf.data() + b, e - b);
    });
    const double s = (now_ms() - t0) / 1000.0;
    best = std::max(best, double(n) * sizeof(float) / s / 1e9);
  }
  volatile float keep = std::accumulate(sums.begin(), sums.end(), 0.f);
  (void)keep;
  return best;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

constexpr int kMaxVerify = 16;

// One point of the verification curve: a forward over k tokens with logits for every one of them
// (what a speculative verify step computes), against k single-token forwards.
struct VerifyPoint {
  int k;
  double ms_batch;   // one forward over k tokens
  double ms_single;  // one forward over 1 token, measured alongside
  double ratio() const { return ms_batch / (k * ms_single); }
};

// After a prompt of `base` tokens, times forwards of k tokens (then truncates back to the
// prompt), interleaving k = 1 and k so both see the same machine state; medians over runs.
std::vector<VerifyPoint> measure_verify_curve(Context& ctx, const std::vector<int32_t>& tokens, int base, int reps) {
  ctx.kv().clear(0);
  ctx.eval(0, std::span<const int32_t>(tokens.data(), size_t(base)));
  std::vector<int32_t> draft(kMaxVerify);
  for (int i = 0; i < kMaxVerify; ++i) draft[size_t(i)] = tokens[size_t(i) % tokens.size()];
  auto time_forward = [&](int k) {
    const double t0 = now_ms();
    ctx.eval(0, std::span<const int32_t>(draft.data(), size_t(k)), /*all_logits=*/true);
    const double ms = now_ms() - t0;
    ctx.truncate(0, base);
    return ms;
  };
  std::vector<VerifyPoint> out;
  const int runs = std::max(5, 3 * reps);
  for (int k : {1, 2, 4, 8, 16}) {
    std::vector<double> one, batch;
    time_forward(k);  // warm
    for (int r = 0; r < runs; ++r) {
      one.push_back(time_forward(1));
      batch.push_back(time_forward(k));
    }
    out.push_back({k, median(batch), median(one)});
  }
  return out;
}

struct BenchOptions {
  std::string model_path;
  int n_prompt = 512, n_gen = 128, threads = 2, reps = 3, bw_mib = 1024;
  int depth = 0;  // tokens already in the KV cache when each test starts (llama-bench's -d)
  bool json = false, quiet = false, verify_curve = false;
};

// What the repetitions measured; each decode is compared with bandwidth probes around it.
struct Measurements {
  std::vector<double> pp, tg, bws, fractions;  // prefill and decode tokens/s, GB/s, decode / probes
  double rss = 0;                              // peak resident MiB after the first prefill
  std::vector<VerifyPoint> curve;
};

// Seeded pseudo-random token ids: speed does not depend on which tokens they are.
std::vector<int32_t> bench_tokens(size_t n, int32_t n_vocab) {
  std::vector<int32_t> tokens(n);
  uint64_t s = 42;
  for (auto& t : tokens) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    t = int32_t((s >> 33) % uint64_t(n_vocab));
  }
  return tokens;
}

// Brings sequence 0 back to the test's starting point: empty, or `depth` tokens of context —
// evaluated once (untimed), then kept and cut back to after each test.
void reset_to_depth(Context& ctx, const std::vector<int32_t>& tokens, int depth, bool& filled) {
  if (depth == 0 || !filled) ctx.kv().clear(0);
  if (depth > 0 && filled) ctx.truncate(0, depth);
  if (depth > 0 && !filled) ctx.eval(0, std::span<const int32_t>(tokens.data(), size_t(depth)));
  filled = true;
}

Measurements measure(Context& ctx, const std::vector<int32_t>& tokens, const BenchOptions& o, double bytes_tok) {
  ctx.kv().clear(0);  // warm-up: one small prefill and a few decode steps
  ctx.eval(0, std::span<const int32_t>(tokens.data(), std::min<size_t>(tokens.size(), 8)));
  for (int i = 0; i < 4; ++i) ctx.eval(0, std::span<const int32_t>(&tokens[0], 1));
  bool filled = false;
  if (o.depth > 0 && !o.quiet) std::fprintf(stderr, "bench: filling the KV cache to depth %d\n", o.depth);
  reset_to_depth(ctx, tokens, o.depth, filled);

  Progress bar("bench", o.quiet);
  const int total_steps = o.reps * ((o.n_prompt > 0) + 1 + (o.n_gen > 0)) + (o.verify_curve ? 1 : 0);
  int step = 0;
  Measurements m;
  std::vector<float> bw_buf;  // allocated after the model's peak RSS is taken
  const size_t bw_bytes = size_t(o.bw_mib) << 20;
  for (int r = 0; r < o.reps; ++r) {
    if (o.n_prompt > 0) {
      reset_to_depth(ctx, tokens, o.depth, filled);
      const double t0 = now_ms();
      ctx.eval(0, std::span<const int32_t>(tokens.data(), size_t(o.n_prompt)));
      m.pp.push_back(o.n_prompt * 1000.0 / (now_ms() - t0));
      bar.update(double(++step) / total_steps, "prefill");
    }
    if (r == 0) m.rss = peak_rss_mib();
    // This machine's bandwidth drifts by tens of percent from second to second (shared hosts):
    // decode is compared with probes taken right before and right after it.
    const double bw_before = measure_read_bandwidth(ctx.pool(), bw_buf, bw_bytes, 2);
    bar.update(double(++step) / total_steps, "memory bandwidth");
    if (o.n_gen > 0) {
      reset_to_depth(ctx, tokens, o.depth, filled);
      const double t0 = now_ms();
      for (int i = 0; i < o.n_gen; ++i) ctx.eval(0, std::span<const int32_t>(&tokens[size_t(i) % tokens.size()], 1));
      m.tg.push_back(o.n_gen * 1000.0 / (now_ms() - t0));
      bar.update(double(++step) / total_steps, "decode");
      const double bw = (bw_before + measure_read_bandwidth(ctx.pool(), bw_buf, bw_bytes, 2)) / 2;
      m.bws.push_back(bw);
      m.fractions.push_back(bytes_tok * m.tg.back() / 1e9 / bw);
    } else {
      m.bws.push_back(bw_before);
    }
  }
  if (o.verify_curve) m.curve = measure_verify_curve(ctx, tokens, std::min(std::max(o.n_prompt, 1), 128), o.reps);
  bar.done();
  return m;
}

void print_json(const BenchOptions& o, const LlamaModel& model, const Measurements& m, double bytes_tok) {
  const Stat spp = stat(m.pp), stg = stat(m.tg);
  nlohmann::json j;
  j["model"] = o.model_path;
  j["type"] = model.type_summary();
  j["params"] = model.n_params();
  j["threads"] = o.threads;
  j["simd_target"] = kernels::active_target_name();
  j["n_prompt"] = o.n_prompt;
  j["n_gen"] = o.n_gen;
  j["depth"] = o.depth;
  j["repetitions"] = o.reps;
  j["prefill_tokens_per_s"] = {{"mean", spp.mean}, {"sd", spp.sd}, {"runs", m.pp}};
  j["decode_tokens_per_s"] = {{"mean", stg.mean}, {"sd", stg.sd}, {"runs", m.tg}};
  j["weight_bytes_per_token"] = bytes_tok;
  j["decode_bandwidth_gbs"] = bytes_tok * stg.mean / 1e9;
  j["memory_read_bandwidth_gbs"] = median(m.bws);
  j["memory_read_bandwidth_runs"] = m.bws;
  // The median over repetitions of decode / the probes around it.
  j["bandwidth_fraction"] = m.fractions.empty() ? 0 : median(m.fractions);
  j["bandwidth_fraction_runs"] = m.fractions;
  j["peak_rss_mib"] = m.rss;
  if (o.verify_curve) {
    nlohmann::json vc = nlohmann::json::array();
    for (const auto& p : m.curve)
      vc.push_back({{"k", p.k}, {"ms_forward", p.ms_batch}, {"ms_single_token", p.ms_single}, {"ratio_vs_k_single", p.ratio()}});
    j["verify_curve"] = vc;
  }
  std::printf("%s\n", j.dump(2).c_str());
}

void print_table(const BenchOptions& o, const LlamaModel& model, const Measurements& m, double bytes_tok) {
  const Stat spp = stat(m.pp), stg = stat(m.tg);
  std::printf("model    %s  (%s, %.1fM params, %s, %d threads)\n", o.model_path.c_str(), model.type_summary().c_str(),
              double(model.n_params()) / 1e6, kernels::active_target_name(), o.threads);
  std::printf("| %-14s | %18s | %s\n", "test", "tokens/s", "notes");
  std::printf("|----------------|--------------------|------------------------------\n");
  const std::string at = o.depth > 0 ? " @ d" + std::to_string(o.depth) : "";
  if (o.n_prompt > 0)
    std::printf("| prefill pp%-4d | %9.1f ± %6.1f |%s\n", o.n_prompt, spp.mean, spp.sd, at.c_str());
  if (o.n_gen > 0)
    std::printf("| decode  tg%-4d | %9.1f ± %6.1f | %.1f MB weights/token -> %.2f GB/s%s\n", o.n_gen, stg.mean,
                stg.sd, bytes_tok / 1e6, bytes_tok * stg.mean / 1e9, at.c_str());
  std::printf("memory read bandwidth (%d threads, %d MiB buffer, median of the probes): %.2f GB/s", o.threads, o.bw_mib,
              median(m.bws));
  if (o.n_gen > 0)
    std::printf("\ndecode reaches %.0f%% of it (median over repetitions of decode / the probes just before and after)",
                100.0 * (m.fractions.empty() ? 0 : median(m.fractions)));
  std::printf("\npeak memory: %.1f MiB resident\n", m.rss);
  if (o.verify_curve) {
    std::printf("\nverification: one forward over k tokens (logits for each) vs k single-token forwards\n");
    std::printf("|  k | ms / forward | ms / 1-token forward | cost vs k single forwards |\n");
    std::printf("|----|--------------|----------------------|---------------------------|\n");
    for (const auto& p : m.curve)
      std::printf("| %2d | %12.2f | %20.2f | %25.2f |\n", p.k, p.ms_batch, p.ms_single, p.ratio());
  }
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  CLI::App app{"Benchmark prefill and decode speed against the machine's memory bandwidth", argv[0]};
  BenchOptions o;
  app.add_option("-m,--model", o.model_path, "GGUF model file")->required();
  app.add_option("-p,--n-prompt", o.n_prompt, "prompt tokens to prefill (0: skip)")->capture_default_str();
  app.add_option("-n,--n-gen", o.n_gen, "tokens to decode (0: skip)")->capture_default_str();
  app.add_option("-t,--threads", o.threads, "threads")->capture_default_str();
  app.add_option("-d,--depth", o.depth, "tokens already in the KV cache when each test starts (prefill and decode at depth)")
      ->capture_default_str();
  app.add_option("-r,--repetitions", o.reps, "repetitions of each test")->capture_default_str();
  app.add_option("--bw-mib", o.bw_mib, "buffer size of the bandwidth probe, MiB")->capture_default_str();
  app.add_flag("--verify-curve", o.verify_curve,
               "also time one forward pass over k = 1, 2, 4, 8, 16 tokens with logits for each (speculative\n"
               "verification) against k single-token forwards, after a prompt of min(-p, 128) tokens");
  app.add_flag("--json", o.json, "print one JSON object");
  app.add_flag("-q,--quiet", o.quiet, "no progress on stderr");
  CLI11_PARSE(app, argc, argv);

  try {
    if (o.n_prompt < 0 || o.n_gen < 0 || o.n_prompt + o.n_gen == 0)
      throw Error("nothing to measure: give -p and/or -n > 0");
    if (o.depth < 0 || o.depth > 1 << 20) throw Error("--depth must be in [0, 1048576]");
    if (o.reps < 1 || o.reps > 1000) throw Error("repetitions must be in [1, 1000]");
    if (o.bw_mib < 64) throw Error("--bw-mib must be at least 64 (far larger than the caches)");
    auto model = load_model(o.model_path, o.quiet);
    ContextParams cp;
    cp.n_threads = o.threads;
    cp.n_ctx = o.depth + std::max({o.n_prompt, o.n_gen, 16}) + 1 + (o.verify_curve ? kMaxVerify : 0);  // 16: warm-up
    cp.n_batch = std::max({1, std::min(o.n_prompt, 512), o.verify_curve ? kMaxVerify : 1});
    cp.n_outputs = o.verify_curve ? kMaxVerify : 1;
    Context ctx(*model, cp);
    const std::vector<int32_t> tokens =
        bench_tokens(size_t(std::max({o.n_prompt, o.depth, 1})), model->hparams().n_vocab);
    const double bytes_tok = double(model->weight_bytes_per_token());
    const Measurements m = measure(ctx, tokens, o, bytes_tok);
    if (o.json) print_json(o, *model, m, bytes_tok);
    else print_table(o, *model, m, bytes_tok);
  } catch (const Error& e) {
    std::fprintf(stderr, "tandem bench: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace tandem::tools
