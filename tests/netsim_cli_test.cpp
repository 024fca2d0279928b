// `tandem netsim` as a process: it forwards with the configured delay, SIGUSR1 cuts, SIGUSR2
// toggles dark, its control API answers, SIGTERM ends it cleanly; bad arguments give clear errors.
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "netsim/link.h"
#include "netsim_test_util.h"
#include "test_util.h"

extern char** environ;

using namespace tandem;
using namespace tandem::test;
using netsim::Clock;
using nlohmann::json;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Sends `payload` and reads the echo back; the echo, possibly short.
std::string echo_through(TcpClient& c, const std::string& payload) {
  if (!c.send_all(payload)) return {};
  return c.recv_n(payload.size());
}


// `tandem netsim` in a child process; its stderr is read line by line.
class NetsimProcess {
 public:
  explicit NetsimProcess(std::vector<std::string> args) {
    args.insert(args.begin(), {tandem_binary(), "netsim"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    err_fd = fds[0];
  }
  ~NetsimProcess() {
    if (pid > 0 && !exited) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (err_fd >= 0) close(err_fd);
  }
  std::string line() {
    std::string s;
    char c;
    while (read(err_fd, &c, 1) == 1 && c != '\n') s += c;
    return s;
  }
  int wait_exit() {
    int st = 0;
    waitpid(pid, &st, 0);
    exited = true;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  pid_t pid = -1;
  int err_fd = -1;
  bool exited = false;
};

int port_after(const std::string& line, const std::string& marker) {
  const size_t at = line.find(marker);
  if (at == std::string::npos) return -1;
  const size_t colon = line.find(':', at + marker.size());
  return colon == std::string::npos ? -1 : std::atoi(line.c_str() + colon + 1);
}

}  // namespace

TEST(NetsimCli, RunsAsAProcessWithSignalsAndControl) {
  EchoServer echo;
  NetsimProcess p({"--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:" + std::to_string(echo.port), "--delay-ms", "10",
                   "--control", "127.0.0.1:0"});
  ASSERT_GT(p.pid, 0);
  const std::string first = p.line();  // "tandem netsim: 127.0.0.1:PORT -> 127.0.0.1:UP, delay 10 ms ..."
  const int port = port_after(first, "tandem netsim: ");
  ASSERT_GT(port, 0) << first;
  EXPECT_NE(first.find("RTT 20 ms"), std::string::npos) << first;
  const std::string ctl_line = p.line();
  const int ctl_port = port_after(ctl_line, "http://");
  ASSERT_GT(ctl_port, 0) << ctl_line;
  p.line();  // the signals line: the handlers are in place

  TcpClient c(port);
  const auto t0 = Clock::now();
  ASSERT_EQ(echo_through(c, "via the CLI"), "via the CLI");
  EXPECT_GE(ms_since(t0), 20.0);

  kill(p.pid, SIGUSR1);  // cut
  EXPECT_NE(p.line().find("cut 1 connections"), std::string::npos);
  c.recv_n(1);
  EXPECT_TRUE(c.was_reset()) << c.error;

  kill(p.pid, SIGUSR2);  // dark
  EXPECT_NE(p.line().find("dark"), std::string::npos);
  httplib::Client api("127.0.0.1", ctl_port);
  auto res = api.Get("/stats");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["dark"], true);
  kill(p.pid, SIGUSR2);  // light
  EXPECT_NE(p.line().find("light"), std::string::npos);

  kill(p.pid, SIGTERM);
  EXPECT_NE(p.line().find("SIGTERM"), std::string::npos);
  EXPECT_EQ(p.wait_exit(), 0);
}

TEST(NetsimCli, BadArgumentsGiveClearErrors) {
  const std::string bin = tandem_binary() + " netsim ";
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"--listen 127.0.0.1:0", "--upstream is required"},
      {"--listen nowhere --upstream 127.0.0.1:9", "--listen: expected HOST:PORT, got 'nowhere'"},
      {"--listen 127.0.0.1:0 --upstream 127.0.0.1:0", "--upstream: port 0 is out of range"},
      {"--listen 127.0.0.1:0 --upstream 127.0.0.1:9 --loss 2", "loss must be a probability in [0, 1]"},
      {"--listen 127.0.0.1:0 --upstream 127.0.0.1:9 --delay-ms -5", "delay_ms must be a finite number >= 0"},
      {"--listen 127.0.0.1:0 --upstream 127.0.0.1:9 --loss-mode drop", "loss mode must be 'reset' or 'stall'"},
      {"--listen 127.0.0.1:0 --upstream no.such.host.invalid:9", "upstream host 'no.such.host.invalid' cannot be resolved"},
  };
  for (const Case& c : cases) {
    std::string out;
    EXPECT_NE(run_command(bin + c.args, &out), 0) << c.args;
    EXPECT_NE(out.find(c.expect), std::string::npos) << c.args << "\n" << out;
  }
}
