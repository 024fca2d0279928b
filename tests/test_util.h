// Helpers shared by the tests: where the shared models and references are, temp files.
#pragma once
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tandem::test {

inline std::string shared_dir() { return TANDEM_SHARED_DIR; }
inline std::string model_path(const std::string& name) { return shared_dir() + "/models/" + name; }
inline std::string source_dir() { return TANDEM_SOURCE_DIR; }
inline std::string tandem_binary() { return TANDEM_BINARY; }

// The shared models are beside the checkout in CI; a clone elsewhere skips what needs them.
#define TANDEM_REQUIRE_FILE(path)                                               \
  do {                                                                          \
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "missing " << (path);   \
  } while (0)

inline std::string temp_path(const std::string& stem) {
  auto dir = std::filesystem::temp_directory_path() / "tandem-tests";
  std::filesystem::create_directories(dir);
  return (dir / (stem + "-" + std::to_string(::getpid()))).string();
}

inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// Runs a shell command, returns its exit status and captures stdout+stderr.
inline int run_command(const std::string& cmd, std::string* output) {
  std::string full = cmd + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  output->clear();
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  int st = ::pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

}  // namespace tandem::test
