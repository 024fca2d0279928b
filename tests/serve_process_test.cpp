// tandem serve as a program: SIGTERM drains (no new requests, running ones finish or end
// cleanly, exit 0), and the official OpenAI Node SDK talks to the server (tests/openai-node).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "http_test_util.h"
#include "serve_test_util.h"

extern char** environ;

using namespace tandem;
using namespace tandem::test;

namespace {

// `tandem serve` in a child process on an ephemeral port (read from its startup line).
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {tandem_binary(), "serve", "-m", model_path("stories260K-q4_0.gguf"), "--port", "0",
                                     "-t", "1", "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    err_fd = fds[0];
    // "tandem serve: MODEL on http://HOST:PORT (...)"
    std::string line;
    char c;
    while (pid > 0 && read(err_fd, &c, 1) == 1 && c != '\n') line += c;
    const size_t at = line.find("http://");
    if (at != std::string::npos) port = std::stoi(line.substr(line.find(':', at + 7) + 1));
    startup = line;
  }
  ~ServeProcess() {
    if (pid > 0 && !exited) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (err_fd >= 0) close(err_fd);
  }
  // Waits for the child to exit; its exit status, or -1 on timeout.
  int wait_exit(std::chrono::seconds timeout) {
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < timeout) {
      int st = 0;
      if (waitpid(pid, &st, WNOHANG) == pid) {
        exited = true;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }
  HttpResult post(const json& body) const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60);
    return ServeFixture::wrap(c.Post("/v1/completions", body.dump(), "application/json"));
  }

  pid_t pid = -1;
  int err_fd = -1, port = 0;
  bool exited = false;
  std::string startup;
};

// Streams a long completion; signals once the first chunk is in, returns the whole body.
std::string stream_long(int port, int max_tokens, std::atomic<bool>* started) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(120);
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = json{{"prompt", "Once upon a time"}, {"max_tokens", max_tokens}, {"ignore_eos", true}, {"stream", true}}.dump();
  req.set_header("Content-Type", "application/json");
  std::string body;
  req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
    body.append(d, n);
    *started = true;
    return true;
  };
  c.send(req);
  *started = true;
  return body;
}

}  // namespace

TEST(ServeProcess, SigtermDrainsRunningRequestsAndRefusesNewOnes) {
  TANDEM_REQUIRE_FILE(model_path("stories260K-q4_0.gguf"));
  ServeProcess p({"--ctx", "4096", "--drain-timeout", "120"});
  ASSERT_GT(p.port, 0) << p.startup;
  std::atomic<bool> started{false};
  std::string body;
  std::thread t([&] { body = stream_long(p.port, 2500, &started); });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(kill(p.pid, SIGTERM), 0);
  // Draining: new requests are refused with an error object. The signal is handled
  // asynchronously, so a request sent before the server saw it may still be answered.
  auto refused = p.post({{"prompt", "Once"}, {"max_tokens", 2}});
  for (int i = 0; i < 250 && refused.status == 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    refused = p.post({{"prompt", "Once"}, {"max_tokens", 2}});
  }
  if (refused.status != 0) {  // 0: the stream already finished and the server is gone
    EXPECT_EQ(refused.status, 503) << refused.text;
    EXPECT_EQ(refused.body["error"]["code"], "shutting_down");
  }
  t.join();
  // The running request finished normally.
  const auto events = sse_data(body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "[DONE]");
  const json last = json::parse(events[events.size() - 2]);
  EXPECT_EQ(last["choices"][0]["finish_reason"], "length") << last;
  EXPECT_EQ(p.wait_exit(std::chrono::seconds(30)), 0);
}

TEST(ServeProcess, DrainTimeoutEndsRunningStreamsCleanly) {
  TANDEM_REQUIRE_FILE(model_path("stories260K-q4_0.gguf"));
  ServeProcess p({"--ctx", "4096", "--drain-timeout", "0.2"});
  ASSERT_GT(p.port, 0) << p.startup;
  std::atomic<bool> started{false};
  std::string body;
  std::thread t([&] { body = stream_long(p.port, 4000, &started); });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(kill(p.pid, SIGTERM), 0);
  t.join();
  const auto events = sse_data(body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "[DONE]");
  // Either it finished in time, or it ends with an error object instead of a finish_reason.
  const json last = json::parse(events[events.size() - 2]);
  if (!last.contains("error")) {
    EXPECT_EQ(last["choices"][0]["finish_reason"], "length");
  } else {
    EXPECT_EQ(last["error"]["type"], "server_error");
  }
  EXPECT_EQ(p.wait_exit(std::chrono::seconds(30)), 0);
}

// The drain timeout bounds the whole shutdown: clients holding a half-sent head, a half-sent
// body or sending a header line per second are closed, not waited for.
TEST(ServeProcess, DrainTimeoutBoundsShutdownWithSlowClients) {
  TANDEM_REQUIRE_FILE(model_path("stories260K-q4_0.gguf"));
  ServeProcess p({"--ctx", "4096", "--drain-timeout", "2"});
  ASSERT_GT(p.port, 0) << p.startup;
  std::atomic<bool> started{false};
  std::string body;
  std::thread stream([&] { body = stream_long(p.port, 4000, &started); });
  for (int i = 0; i < 30000 && !started; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  RawConn half_head(p.port), half_body(p.port);
  ASSERT_TRUE(half_head.send("POST /v1/completions HTTP/1.1\r\nHost: a\r\n"));
  // More than the watcher waits for, so a worker is reading the rest when the signal comes.
  ASSERT_TRUE(half_body.send("POST /v1/completions HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n" +
                             std::string(70000, 'x')));
  SlowCrowd line_per_second(p.port, 1, std::chrono::milliseconds(1000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(p.pid, SIGTERM), 0);
  EXPECT_EQ(p.wait_exit(std::chrono::seconds(30)), 0);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(took, 2.0 + 2.0) << "the drain timeout is 2 s";
  stream.join();
  const auto events = sse_data(body);
  ASSERT_GE(events.size(), 1u);
  EXPECT_EQ(events.back(), "[DONE]");
}

// An empty key (an unset variable, say) or a blank line in a key file stops the server from
// starting open.
TEST(ServeProcess, EmptyOrBlankApiKeysAreRefused) {
  TANDEM_REQUIRE_FILE(model_path("stories260K-q4_0.gguf"));
  const std::string serve = "timeout 60 " + tandem_binary() + " serve -q --port 0 -t 1 -m " + model_path("stories260K-q4_0.gguf");
  const std::string file = temp_path("serve-keys");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {" --api-key ''", "--api-key is empty"},
      {" --api-key '  '", "--api-key is empty"},
      {" --api-key-file ''", "--api-key-file is empty"},
      {" --api-key-file " + file, "line 2 is blank"},
  };
  std::ofstream(file) << "sk-one\n \t\nsk-two\n";
  for (const auto& [args, message] : cases) {
    std::string out;
    EXPECT_EQ(run_command(serve + args, &out), 1) << args << ": " << out;
    EXPECT_NE(out.find(message), std::string::npos) << args << ": " << out;
  }
  std::filesystem::remove(file);
}

// The official OpenAI Node SDK (npm package `openai`, pinned in tests/openai-node/package-lock.json;
// scripts/test.sh runs `npm ci` there): completion, chat, streamed chat, a structured output through
// the SDK's zod helper (zodResponseFormat + chat.completions.parse), an error.
TEST(ServeOpenAINode, OfficialSdkTalksToTheServer) {
  TANDEM_REQUIRE_FILE(model_path("stories260K-q8_0.gguf"));
  const std::string dir = source_dir() + "/tests/openai-node";
  ASSERT_TRUE(std::filesystem::exists(dir + "/node_modules/openai/package.json"))
      << "the OpenAI SDK is not installed: run `npm ci` in " << dir << " (scripts/test.sh does)";
  ServeFixture s("stories260K-q8_0.gguf", [](serve::ServerConfig& c) {
    c.chat_template = "chatml";
    c.api_keys = {"sdk-test-key"};
  });
  std::string out;
  const int rc = run_command("node " + dir + "/check.mjs http://127.0.0.1:" + std::to_string(s.port) +
                                 "/v1 stories260K-q8_0 sdk-test-key",
                             &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\"ok\":true"), std::string::npos) << out;
}
