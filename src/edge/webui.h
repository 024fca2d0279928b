// The gateway's web UI (src/edge/webui/): a chat page that shows, for each answer, where it ran
// and why, plus the device state, the endpoints' health and the ledger's report. Its files are
// compiled into the program (cmake/embed_files.cmake), so nothing is read from disk at run time.
#pragma once
#include <cstddef>
#include <optional>
#include <string_view>

namespace tandem::edge {

struct EmbeddedFile {
  const char* name;  // file name in src/edge/webui/
  const char* data;
  size_t size;
};
extern const EmbeddedFile kEmbeddedFiles[];  // generated
extern const size_t kEmbeddedFileCount;

struct WebAsset {
  std::string_view body;
  std::string_view content_type;
};
// The asset at an HTTP path: "/" (and "/ui", "/ui/") is index.html, "/ui/NAME" is NAME.
std::optional<WebAsset> find_web_asset(std::string_view path);

}  // namespace tandem::edge
