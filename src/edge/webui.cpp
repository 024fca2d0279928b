#include "edge/webui.h"

namespace tandem::edge {

namespace {

std::string_view content_type_of(std::string_view name) {
  const auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

}  // namespace

std::optional<WebAsset> find_web_asset(std::string_view path) {
  std::string_view name;
  if (path == "/" || path == "/ui" || path == "/ui/") name = "index.html";
  else if (path.substr(0, 4) == "/ui/") name = path.substr(4);
  else return std::nullopt;
  for (size_t i = 0; i < kEmbeddedFileCount; ++i)
    if (name == kEmbeddedFiles[i].name)
      return WebAsset{std::string_view(kEmbeddedFiles[i].data, kEmbeddedFiles[i].size), content_type_of(name)};
  return std::nullopt;
}

}  // namespace tandem::edge
