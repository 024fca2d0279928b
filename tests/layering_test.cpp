// The library is layered format -> kernels -> model -> engine -> {protocol, api} -> http ->
// {serve, verify} -> edge -> tools: a file may include project headers only from its own layer and
// the layers below it. Folders of the same rank are side by side and include neither each other:
// netsim (the network emulator), privacy (PII detection), ledger (the SQLite ledger and its
// report) and mesh (LAN peers' adverts) need nothing above the engine layer; protocol holds the
// wire formats and rules (OpenAI's, /v1/verify's), http the HTTP server, TLS and replies built on
// them; serve (the model server) and verify (the device side of speculative decoding) both speak
// the verify protocol and neither needs the other; edge, the gateway, drives serve's generation
// service for its device model.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "test_util.h"

TEST(Layering, NoUpwardIncludes) {
  const std::map<std::string, int> rank = {
      {"format", 0}, {"kernels", 1}, {"model", 2}, {"engine", 3}, {"netsim", 3}, {"privacy", 3},
      {"ledger", 3}, {"mesh", 3},    {"protocol", 4}, {"api", 4},  {"http", 5},  {"serve", 6},
      {"verify", 6}, {"edge", 7},    {"tools", 8}};
  const std::regex include_re(R"re(^\s*#\s*include\s+"(\w+)/[^"]+")re");
  int files = 0;
  const std::filesystem::path src = tandem::test::source_dir() + "/src";
  for (const auto& entry : std::filesystem::recursive_directory_iterator(src)) {
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".h" && ext != ".cpp")) continue;  // not e.g. edge/webui/*.js
    const std::string layer = entry.path().lexically_relative(src).begin()->string();
    ASSERT_TRUE(rank.count(layer)) << "unknown layer folder " << layer;
    std::ifstream in(entry.path());
    std::string line;
    ++files;
    while (std::getline(in, line)) {
      std::smatch m;
      if (!std::regex_search(line, m, include_re) || !rank.count(m[1])) continue;
      EXPECT_TRUE(m[1] == layer || rank.at(m[1]) < rank.at(layer))
          << entry.path() << " includes upward or sideways: " << line;
    }
  }
  EXPECT_GT(files, 20);
}
