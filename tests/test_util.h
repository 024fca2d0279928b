// Helpers shared by the tests: where the shared models and references are, temp files.
#pragma once
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace tandem::test {

// Whether this build runs under AddressSanitizer or ThreadSanitizer (tests then do less work).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

inline std::string shared_dir() { return TANDEM_SHARED_DIR; }
inline std::string model_path(const std::string& name) { return shared_dir() + "/models/" + name; }
inline std::string source_dir() { return TANDEM_SOURCE_DIR; }
// Only the test binaries built after the `tandem` program know its path (tests/CMakeLists.txt,
// RUNS_TANDEM): a test elsewhere that starts it fails to compile rather than run a stale one.
#ifdef TANDEM_BINARY
inline std::string tandem_binary() { return TANDEM_BINARY; }
#endif

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

// A program the test starts (usually a `tandem` subcommand), ended when the object goes: SIGTERM,
// then SIGKILL if it has not exited within a few seconds. Its stdout and stderr go to a log file
// (not a pipe: a chatty child never blocks on a full one), which wait_for_line() polls for the
// line a server prints once it listens; log() shows it in a failing assertion.
class ChildProcess {
 public:
  // env: extra "NAME=VALUE" entries on top of the test's environment.
  explicit ChildProcess(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    static int counter = 0;
    log_path_ = temp_path("child-" + std::to_string(++counter)) + ".log";
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) envs.emplace_back(*e);
    envs.insert(envs.end(), env.begin(), env.end());
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    stop();
    std::filesystem::remove(log_path_);
  }

  // Everything the child wrote so far.
  std::string log() const {
    std::ifstream f(log_path_);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  // The first complete log line containing `marker`; "" when the child exited or the time ran out.
  std::string wait_for_line(const std::string& marker, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::istringstream in(log());
      std::string line;
      while (std::getline(in, line))
        if (!in.eof() && line.find(marker) != std::string::npos) return line;
      if (!running() || std::chrono::steady_clock::now() > deadline) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  // The port in the first line containing `marker`: the digits after the first ':' that follows
  // `after` in it (e.g. after "http://" in "... on http://127.0.0.1:PORT"); -1 if none came.
  int wait_for_port(const std::string& marker, const std::string& after,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    const std::string line = wait_for_line(marker, timeout);
    const size_t at = line.find(after);
    if (at == std::string::npos) return -1;
    const size_t colon = line.find(':', at + after.size());
    if (colon == std::string::npos) return -1;
    return std::atoi(line.c_str() + colon + 1);
  }
  bool running() {
    if (pid <= 0 || exited_) return false;
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) == pid) {
      exited_ = true;
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return false;
    }
    return true;
  }
  // Sends `sig` and waits for the exit; the exit status (128 + signal when killed by one).
  // After `grace`, SIGKILL.
  int stop(int sig = SIGTERM, std::chrono::milliseconds grace = std::chrono::seconds(10)) {
    if (!running()) return status_;
    ::kill(pid, sig);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (running()) {
      ::kill(pid, SIGKILL);
      int st = 0;
      ::waitpid(pid, &st, 0);
      exited_ = true;
      status_ = 128 + SIGKILL;
    }
    return status_;
  }

  pid_t pid = -1;

 private:
  std::string log_path_;
  bool exited_ = false;
  int status_ = -1;
};

}  // namespace tandem::test
