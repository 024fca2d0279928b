// Small pieces shared by the subcommands: model loading with a progress line, timing, errors.
#pragma once
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include <string_view>

#include "format/tensor_type.h"
#include "model/llama_model.h"

namespace tandem::tools {

// Loads a model, drawing "loading NAME [=====>    ] 42%" on stderr when it is a terminal or verbose.
std::unique_ptr<LlamaModel> load_model(const std::string& path, bool quiet = false);

// A single-line progress bar on stderr (redrawn in place on a terminal, else every 10%).
class Progress {
 public:
  Progress(std::string label, bool quiet = false);
  void update(double fraction, const std::string& note = "");
  void done(const std::string& note = "");

 private:
  std::string label_;
  bool quiet_, tty_;
  int last_quarter_ = -1;
};

inline double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A whole file's bytes; Error "cannot read WHAT 'PATH'" when it cannot be opened.
std::string read_text_file(const std::string& path, const char* what);

// "1.50 GiB", "3.20 MiB", ... for a byte count.
std::string human_bytes(uint64_t n);

// Peak resident memory of this process so far, in MiB.
double peak_rss_mib();

}  // namespace tandem::tools
