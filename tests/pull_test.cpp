// tandem pull end to end against a real HTTP server on 127.0.0.1 (cpp-httplib, ephemeral port):
// plain and redirected downloads, sha256 checks, resuming a .part with a Range request, and
// clear errors with no final file for 404s, bodies that are not GGUF, and refused overwrites.
#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <thread>

#include "test_util.h"

using namespace tandem;
namespace fs = std::filesystem;

namespace {

class TestServer {
 public:
  explicit TestServer(std::string model) : model_(std::move(model)) {
    svr_.Get("/model.gguf", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string range = req.get_header_value("Range");
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back("/model.gguf " + range);
      }
      unsigned long long from = 0;
      if (!range.empty() && std::sscanf(range.c_str(), "bytes=%llu-", &from) == 1) {
        if (from >= model_.size()) {
          res.status = 416;
          res.set_header("Content-Range", "bytes */" + std::to_string(model_.size()));
          return;
        }
        // httplib 0.11 cuts a 206 response's body to the request's range itself and adds
        // Content-Range: bytes FROM-END/SIZE (the client checks it), so the whole file goes here.
        res.status = 206;
        res.set_content(model_, "application/octet-stream");
        return;
      }
      res.set_content(model_, "application/octet-stream");
    });
    svr_.Get("/redirect", [this](const httplib::Request&, httplib::Response& res) {
      log("/redirect");
      res.set_redirect("/cdn/redirect2");
    });
    svr_.Get("/cdn/redirect2", [this](const httplib::Request&, httplib::Response& res) {
      log("/cdn/redirect2");
      res.set_redirect(base() + "/model.gguf");  // an absolute Location, like a CDN's
    });
    svr_.Get("/garbage", [](const httplib::Request&, httplib::Response& res) {
      std::string body(50000, '\0');
      for (size_t i = 0; i < body.size(); ++i) body[i] = char((i * 2654435761u) >> 13);
      res.set_content(body, "application/octet-stream");
    });
    svr_.Get("/norange", [this](const httplib::Request& req, httplib::Response& res) {
      log("/norange " + req.get_header_value("Range"));
      // A server without range support sends the whole file (chunked, so of unknown length,
      // and so that httplib does not apply the range itself).
      res.status = 200;
      res.set_chunked_content_provider("application/octet-stream", [this](size_t offset, httplib::DataSink& sink) {
        if (offset < model_.size()) sink.write(model_.data() + offset, std::min<size_t>(65536, model_.size() - offset));
        if (offset + 65536 >= model_.size()) sink.done();
        return true;
      });
    });
    svr_.Get("/drop", [this](const httplib::Request&, httplib::Response& res) {
      // Announces the whole file, sends half of it, then drops the connection.
      res.set_content_provider(model_.size(), "application/octet-stream",
                               [this](size_t offset, size_t, httplib::DataSink& sink) {
                                 if (offset >= model_.size() / 2) return false;
                                 sink.write(model_.data() + offset, model_.size() / 2 - offset);
                                 return true;
                               });
    });
    svr_.Get("/truncated", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(model_.substr(0, model_.size() / 2), "application/octet-stream");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !svr_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~TestServer() {
    svr_.stop();
    thread_.join();
  }
  bool ok() const { return port_ > 0 && svr_.is_running(); }
  int port() const { return port_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void log(const std::string& s) {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(s);
  }
  std::string model_;
  httplib::Server svr_;
  int port_ = -1;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

class Pull : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string m = test::model_path("stories260K-q4_0.gguf");
    TANDEM_REQUIRE_FILE(m);
    bytes_ = test::read_file(m);
    server_ = std::make_unique<TestServer>(std::string(bytes_.begin(), bytes_.end()));
    ASSERT_TRUE(server_->ok());
    out_ = test::temp_path(std::string("pull-") + ::testing::UnitTest::GetInstance()->current_test_info()->name()) +
           ".gguf";
    fs::remove(out_);
    fs::remove(out_ + ".part");
  }
  void TearDown() override {
    server_.reset();  // stops the server
    fs::remove(out_);
    fs::remove(out_ + ".part");
  }
  int pull(const std::string& args, std::string* output) {
    return test::run_command(test::tandem_binary() + " pull " + args, output);
  }
  std::string sha256_of(const std::string& path) {
    std::string out;
    EXPECT_EQ(test::run_command("sha256sum " + path, &out), 0) << out;
    return out.substr(0, 64);
  }
  std::vector<uint8_t> bytes_;
  std::unique_ptr<TestServer> server_;
  std::string out_;
};

TEST_F(Pull, DownloadIsByteIdentical) {
  std::string out;
  ASSERT_EQ(pull(server_->base() + "/model.gguf -o " + out_, &out), 0) << out;
  EXPECT_EQ(test::read_file(out_), bytes_);
  EXPECT_FALSE(fs::exists(out_ + ".part"));
  EXPECT_NE(out.find("wrote " + out_), std::string::npos) << out;
}

TEST_F(Pull, FollowsRedirects) {
  std::string out;
  ASSERT_EQ(pull(server_->base() + "/redirect -o " + out_ + " -q", &out), 0) << out;
  EXPECT_EQ(test::read_file(out_), bytes_);
  const auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0], "/redirect");
  EXPECT_EQ(reqs[1], "/cdn/redirect2");
  EXPECT_EQ(reqs[2], "/model.gguf ");
}

TEST_F(Pull, Sha256IsVerified) {
  const std::string good = sha256_of(test::model_path("stories260K-q4_0.gguf"));
  std::string bad = good;
  bad[0] = bad[0] == '0' ? '1' : '0';
  std::string out;
  EXPECT_NE(pull(server_->base() + "/model.gguf -o " + out_ + " --sha256 " + bad, &out), 0) << out;
  EXPECT_NE(out.find("sha256 mismatch"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(out_));
  EXPECT_FALSE(fs::exists(out_ + ".part"));

  ASSERT_EQ(pull(server_->base() + "/model.gguf -o " + out_ + " --sha256 " + good, &out), 0) << out;
  EXPECT_EQ(test::read_file(out_), bytes_);
  EXPECT_NE(out.find("sha256 verified"), std::string::npos) << out;

  // Already there with the right hash: success without a request.
  const size_t n = server_->requests().size();
  ASSERT_EQ(pull(server_->base() + "/model.gguf -o " + out_ + " --sha256 " + good, &out), 0) << out;
  EXPECT_NE(out.find("already exists with the expected sha256"), std::string::npos) << out;
  EXPECT_EQ(server_->requests().size(), n);
  // ... but with a different hash it is refused and left alone.
  EXPECT_NE(pull(server_->base() + "/model.gguf -o " + out_ + " --sha256 " + bad, &out), 0) << out;
  EXPECT_NE(out.find("already exists"), std::string::npos) << out;
  EXPECT_EQ(test::read_file(out_), bytes_);

  EXPECT_NE(pull(server_->base() + "/model.gguf -o " + out_ + "x --sha256 abc", &out), 0) << out;
  EXPECT_NE(out.find("64 hex digits"), std::string::npos) << out;
}

TEST_F(Pull, ResumesPartFileWithRange) {
  const size_t half = bytes_.size() / 2;
  test::write_file(out_ + ".part", std::vector<uint8_t>(bytes_.begin(), bytes_.begin() + long(half)));
  std::string out;
  ASSERT_EQ(pull(server_->base() + "/redirect -o " + out_, &out), 0) << out;
  EXPECT_EQ(test::read_file(out_), bytes_);
  EXPECT_FALSE(fs::exists(out_ + ".part"));
  const auto reqs = server_->requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_EQ(reqs.back(), "/model.gguf bytes=" + std::to_string(half) + "-");  // the Range survived the redirects
  EXPECT_NE(out.find("resuming"), std::string::npos) << out;

  // A server that ignores the range sends the whole file, which replaces the .part.
  fs::remove(out_);
  test::write_file(out_ + ".part", std::vector<uint8_t>(bytes_.begin(), bytes_.begin() + long(half)));
  ASSERT_EQ(pull(server_->base() + "/norange -o " + out_, &out), 0) << out;
  EXPECT_EQ(test::read_file(out_), bytes_);
  EXPECT_EQ(server_->requests().back(), "/norange bytes=" + std::to_string(half) + "-");
  EXPECT_NE(out.find("server ignored the range"), std::string::npos) << out;

  // A stale .part longer than the file (416) is discarded and the download starts over.
  fs::remove(out_);
  std::vector<uint8_t> longer = bytes_;
  longer.resize(bytes_.size() + 100);
  test::write_file(out_ + ".part", longer);
  ASSERT_EQ(pull(server_->base() + "/model.gguf -o " + out_ + " -q", &out), 0) << out;
  EXPECT_EQ(test::read_file(out_), bytes_);
}

TEST_F(Pull, ErrorsAreClearAndLeaveNoFile) {
  struct Case {
    std::string url, expect;
  } cases[] = {
      {server_->base() + "/missing.gguf", "HTTP 404"},
      {server_->base() + "/garbage", "not a valid GGUF"},
      {server_->base() + "/truncated", "not a valid GGUF"},
      {"ftp://127.0.0.1/model.gguf", "bad URL"},
      {"not-a-url", "bad URL"},
      {"http://127.0.0.1:99999/x", "bad URL"},
  };
  for (const auto& c : cases) {
    std::string out;
    const int rc = pull(c.url + " -o " + out_, &out);
    EXPECT_NE(rc, 0) << c.url;
    EXPECT_LT(rc, 128) << "crashed: " << c.url << "\n" << out;
    EXPECT_NE(out.find(c.expect), std::string::npos) << c.url << "\n" << out;
    EXPECT_FALSE(fs::exists(out_)) << c.url;
    EXPECT_FALSE(fs::exists(out_ + ".part")) << c.url;
  }
  // A connection dropped mid-body: an error, no final file, and the .part is kept to resume.
  {
    std::string out;
    const int rc = pull(server_->base() + "/drop -o " + out_, &out);
    EXPECT_NE(rc, 0);
    EXPECT_LT(rc, 128) << out;
    EXPECT_NE(out.find("run again to resume"), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(out_));
    EXPECT_TRUE(fs::exists(out_ + ".part"));
    fs::remove(out_ + ".part");
  }
  // A connection failure: a port nothing listens on any more.
  const std::string dead = server_->base();
  server_.reset();
  std::string out;
  const int rc = pull(dead + "/model.gguf -o " + out_, &out);
  EXPECT_NE(rc, 0);
  EXPECT_LT(rc, 128) << out;
  EXPECT_NE(out.find("cannot connect to 127.0.0.1"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(out_));
}

TEST_F(Pull, RefusesToOverwriteWithoutForce) {
  test::write_file(out_, {1, 2, 3});
  std::string out;
  EXPECT_NE(pull(server_->base() + "/model.gguf -o " + out_, &out), 0) << out;
  EXPECT_NE(out.find("already exists"), std::string::npos) << out;
  EXPECT_NE(out.find("--force"), std::string::npos) << out;
  EXPECT_EQ(test::read_file(out_), (std::vector<uint8_t>{1, 2, 3}));
  ASSERT_EQ(pull(server_->base() + "/model.gguf -o " + out_ + " --force -q", &out), 0) << out;
  EXPECT_EQ(test::read_file(out_), bytes_);
}

}  // namespace
