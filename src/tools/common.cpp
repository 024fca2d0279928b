#include "tools/common.h"

#include "format/error.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace tandem::tools {

Progress::Progress(std::string label, bool quiet) : label_(std::move(label)), quiet_(quiet), tty_(isatty(2)) {}

void Progress::update(double f, const std::string& note) {
  if (quiet_) return;
  f = f < 0 ? 0 : (f > 1 ? 1 : f);
  if (tty_) {
    const int width = 30, fill = int(f * width);
    std::fprintf(stderr, "\r%s [%s%s] %3d%% %s", label_.c_str(), std::string(size_t(fill), '=').c_str(),
                 std::string(size_t(width - fill), ' ').c_str(), int(f * 100), note.c_str());
  } else {
    const int quarter = int(f * 4);  // a log file gets a line per quarter, not a redrawn bar
    if (quarter == last_quarter_) return;
    last_quarter_ = quarter;
    std::fprintf(stderr, "%s %3d%% %s\n", label_.c_str(), quarter * 25, note.c_str());
  }
  std::fflush(stderr);
}

void Progress::done(const std::string& note) {
  if (quiet_) return;
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s done%s%s\n", label_.c_str(), note.empty() ? "" : ": ", note.c_str());
}

std::unique_ptr<LlamaModel> load_model(const std::string& path, bool quiet) {
  Progress bar("loading " + path, quiet);
  const double t0 = now_ms();
  auto m = LlamaModel::load(path, [&](float f) {
    if (now_ms() - t0 > 250) bar.update(f);  // only loads that take a while draw a bar
  });
  const auto& hp = m->hparams();
  char note[256];
  std::snprintf(note, sizeof note, "%s, %.1fM params, %s, %d layers, ctx %d, %.0f ms", hp.arch.c_str(),
                double(m->n_params()) / 1e6, m->type_summary().c_str(), hp.n_layer, hp.n_ctx_train, now_ms() - t0);
  bar.done(note);
  return m;
}

std::string read_text_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(std::string("cannot read ") + what + " '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string human_bytes(uint64_t n) {
  char buf[64];
  if (n >= (uint64_t(1) << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", double(n) / double(1 << 30));
  else if (n >= (uint64_t(1) << 20)) std::snprintf(buf, sizeof buf, "%.2f MiB", double(n) / double(1 << 20));
  else if (n >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", double(n) / 1024);
  else std::snprintf(buf, sizeof buf, "%llu B", (unsigned long long)n);
  return buf;
}

double peak_rss_mib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;
}

}  // namespace tandem::tools
