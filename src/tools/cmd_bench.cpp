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

// Memory read bandwidth: every thread streams its slice of a buffer far larger than the
// caches with SIMD loads; best of several passes, in GB/s.
double measure_read_bandwidth(ThreadPool& pool, size_t bytes, int passes) {
  const size_t n = bytes / sizeof(float);
  std::vector<float> buf(n);
  pool.parallel_for(n, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) buf[i] = float(i & 1023) * 1e-3f;  // touch (first-touch on each thread)
  });
  double best = 0;
  std::vector<float> sums(size_t(pool.size()), 0.f);
  for (int p = 0; p < passes; ++p) {
    const double t0 = now_ms();
    // Scheduled like the forward pass's loops: a few slices per thread, claimed dynamically.
    pool.parallel_for(n / 64 * 64, 64, [&](size_t b, size_t e, int thread) {
      sums[size_t(thread)] += kernels::sum_f32(buf.data() + b, e - b);
    });
    const double s = (now_ms() - t0) / 1000.0;
    best = std::max(best, double(n / 64 * 64) * sizeof(float) / s / 1e9);
  }
  volatile float keep = std::accumulate(sums.begin(), sums.end(), 0.f);
  (void)keep;
  return best;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  CLI::App app{"Benchmark prefill and decode speed against the machine's memory bandwidth", argv[0]};
  std::string model_path;
  int n_prompt = 512, n_gen = 128, threads = 2, reps = 3, bw_mib = 1024;
  bool json = false, quiet = false;
  app.add_option("-m,--model", model_path, "GGUF model file")->required();
  app.add_option("-p,--n-prompt", n_prompt, "prompt tokens to prefill (0: skip)")->capture_default_str();
  app.add_option("-n,--n-gen", n_gen, "tokens to decode (0: skip)")->capture_default_str();
  app.add_option("-t,--threads", threads, "threads")->capture_default_str();
  app.add_option("-r,--repetitions", reps, "repetitions of each test")->capture_default_str();
  app.add_option("--bw-mib", bw_mib, "buffer size of the bandwidth probe, MiB")->capture_default_str();
  app.add_flag("--json", json, "print one JSON object");
  app.add_flag("-q,--quiet", quiet, "no progress on stderr");
  CLI11_PARSE(app, argc, argv);

  try {
    if (n_prompt < 0 || n_gen < 0 || n_prompt + n_gen == 0) throw Error("nothing to measure: give -p and/or -n > 0");
    if (reps < 1 || reps > 1000) throw Error("repetitions must be in [1, 1000]");
    if (bw_mib < 64) throw Error("--bw-mib must be at least 64 (far larger than the caches)");
    auto model = load_model(model_path, quiet);
    const auto& hp = model->hparams();
    ContextParams cp;
    cp.n_threads = threads;
    cp.n_ctx = std::max({n_prompt, n_gen, 16}) + 1;  // 16: room for the warm-up below
    cp.n_batch = std::max(1, std::min(n_prompt, 512));
    cp.n_outputs = 1;
    Context ctx(*model, cp);

    // Seeded pseudo-random token ids: speed does not depend on which tokens they are.
    std::vector<int32_t> tokens(size_t(std::max(n_prompt, 1)));
    uint64_t s = 42;
    for (auto& t : tokens) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      t = int32_t((s >> 33) % uint64_t(hp.n_vocab));
    }

    ctx.kv().clear(0);  // warm-up: one small prefill and a few decode steps
    ctx.eval(0, std::span<const int32_t>(tokens.data(), std::min<size_t>(tokens.size(), 8)));
    for (int i = 0; i < 4; ++i) ctx.eval(0, std::span<const int32_t>(&tokens[0], 1));

    Progress bar("bench", quiet);
    const int total_steps = reps * ((n_prompt > 0) + (n_gen > 0));
    int step = 0;
    std::vector<double> pp, tg;
    for (int r = 0; r < reps; ++r) {
      if (n_prompt > 0) {
        ctx.kv().clear(0);
        const double t0 = now_ms();
        ctx.eval(0, std::span<const int32_t>(tokens.data(), size_t(n_prompt)));
        pp.push_back(n_prompt * 1000.0 / (now_ms() - t0));
        bar.update(double(++step) / total_steps, "prefill");
      }
      if (n_gen > 0) {
        ctx.kv().clear(0);
        const double t0 = now_ms();
        for (int i = 0; i < n_gen; ++i) ctx.eval(0, std::span<const int32_t>(&tokens[size_t(i) % tokens.size()], 1));
        tg.push_back(n_gen * 1000.0 / (now_ms() - t0));
        bar.update(double(++step) / total_steps, "decode");
      }
    }
    const double rss = peak_rss_mib();  // before the bandwidth probe's buffer
    bar.update(1.0, "memory bandwidth");
    const double mem_bw = measure_read_bandwidth(ctx.pool(), size_t(bw_mib) << 20, 5);
    bar.done();

    const Stat spp = stat(pp), stg = stat(tg);
    const double bytes_tok = double(model->weight_bytes_per_token());
    const double eff_bw = bytes_tok * stg.mean / 1e9;
    if (json) {
      nlohmann::json j;
      j["model"] = model_path;
      j["type"] = model->type_summary();
      j["params"] = model->n_params();
      j["threads"] = threads;
      j["simd_target"] = kernels::active_target_name();
      j["n_prompt"] = n_prompt;
      j["n_gen"] = n_gen;
      j["repetitions"] = reps;
      j["prefill_tokens_per_s"] = {{"mean", spp.mean}, {"sd", spp.sd}, {"runs", pp}};
      j["decode_tokens_per_s"] = {{"mean", stg.mean}, {"sd", stg.sd}, {"runs", tg}};
      j["weight_bytes_per_token"] = bytes_tok;
      j["decode_bandwidth_gbs"] = eff_bw;
      j["memory_read_bandwidth_gbs"] = mem_bw;
      j["bandwidth_fraction"] = mem_bw > 0 ? eff_bw / mem_bw : 0;
      j["peak_rss_mib"] = rss;
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      std::printf("model    %s  (%s, %.1fM params, %s, %d threads)\n", model_path.c_str(), model->type_summary().c_str(),
                  double(model->n_params()) / 1e6, kernels::active_target_name(), threads);
      std::printf("| %-14s | %18s | %s\n", "test", "tokens/s", "notes");
      std::printf("|----------------|--------------------|------------------------------\n");
      if (n_prompt > 0) std::printf("| prefill pp%-4d | %9.1f ± %6.1f |\n", n_prompt, spp.mean, spp.sd);
      if (n_gen > 0)
        std::printf("| decode  tg%-4d | %9.1f ± %6.1f | %.1f MB weights/token -> %.2f GB/s\n", n_gen, stg.mean, stg.sd,
                    bytes_tok / 1e6, eff_bw);
      std::printf("memory read bandwidth (%d threads, %d MiB buffer): %.2f GB/s", threads, bw_mib, mem_bw);
      if (n_gen > 0) std::printf("  -> decode reaches %.0f%% of it", 100.0 * eff_bw / mem_bw);
      std::printf("\npeak memory: %.1f MiB resident\n", rss);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "tandem bench: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace tandem::tools
