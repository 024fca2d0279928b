// tandem pull URL -o FILE [--sha256 HEX] [--force]: downloads a GGUF model over http(s).
//
// Follows redirects (Hugging Face resolve/ URLs redirect to a CDN), writes FILE.part and
// renames it to FILE only once the download is complete, verified (--sha256) and parses as
// GGUF, so a partial FILE never exists. An existing FILE.part is resumed with a Range request
// when the server answers 206; a server that ignores ranges sends the whole file again.
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#include <httplib.h>
#include <openssl/evp.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "format/error.h"
#include "format/gguf.h"
#include "tools/common.h"
#include "tools/commands.h"

namespace tandem::tools {
namespace {

namespace fs = std::filesystem;

struct PullError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Url {
  std::string scheme, authority, path;  // "https", "host:port", "/a/b?q"
  std::string origin() const { return scheme + "://" + authority; }
  std::string str() const { return origin() + path; }
};

Url parse_url(const std::string& s) {
  const auto bad = [&](const char* why) { return PullError("bad URL '" + s + "': " + why); };
  const size_t sep = s.find("://");
  if (sep == std::string::npos) throw bad("expected http://HOST/PATH or https://HOST/PATH");
  Url u;
  u.scheme = s.substr(0, sep);
  for (auto& c : u.scheme) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (u.scheme != "http" && u.scheme != "https") throw bad("only http:// and https:// are supported");
  const size_t start = sep + 3, slash = s.find_first_of("/?#", start);
  u.authority = s.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
  if (u.authority.empty() || u.authority.find_first_of(" @") != std::string::npos) throw bad("no valid host");
  if (const size_t colon = u.authority.rfind(':'); colon != std::string::npos && u.authority.back() != ']') {
    const std::string port = u.authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) == 0 || std::stoi(port) > 65535)
      throw bad("invalid port");
  }
  u.path = slash == std::string::npos ? "/" : s.substr(slash);
  if (const size_t hash = u.path.find('#'); hash != std::string::npos) u.path.resize(hash);
  if (u.path.empty() || u.path[0] != '/') u.path = "/" + u.path;
  return u;
}

// Where a redirect's Location points, relative to the URL that answered it.
Url resolve_location(const Url& from, const std::string& loc) {
  if (loc.find("://") != std::string::npos) return parse_url(loc);
  Url u = from;
  if (loc.rfind("//", 0) == 0) return parse_url(from.scheme + ":" + loc);
  if (!loc.empty() && loc[0] == '/') {
    u.path = loc;
  } else {
    const std::string dir = from.path.substr(0, from.path.find('?'));
    u.path = dir.substr(0, dir.rfind('/') + 1) + loc;
  }
  return u;
}

std::string sha256_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw PullError("cannot read " + path);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    throw PullError("OpenSSL: cannot start sha256");
  }
  std::vector<char> buf(1 << 20);
  while (f) {
    f.read(buf.data(), std::streamsize(buf.size()));
    if (f.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), size_t(f.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  char b[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(b, sizeof b, "%02x", md[i]);
    hex += b;
  }
  return hex;
}

std::string error_text(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection: return "connection failed (refused, unreachable, or host not found)";
    case httplib::Error::ConnectionTimeout: return "connection timed out";
    case httplib::Error::Read: return "read error (connection lost or timed out)";
    case httplib::Error::Write: return "write error (connection lost)";
    case httplib::Error::SSLConnection: return "TLS handshake failed";
    case httplib::Error::SSLLoadingCerts: return "cannot load the system's CA certificates";
    case httplib::Error::SSLServerVerification: return "the server's TLS certificate did not verify";
    default: return httplib::to_string(e);
  }
}

std::string mb_per_s(uint64_t bytes, double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB/s", ms > 0 ? double(bytes) / 1e3 / ms : 0.0);
  return buf;
}

// One GET's state: what the server said, and where its body goes (appended to the .part file
// when the server honours the Range request, else written from the start).
struct Attempt {
  Attempt(const std::string& part_path, uint64_t part_size, bool no_notes, Progress& progress)
      : part(part_path), offset(part_size), quiet(no_notes), bar(progress) {}

  const std::string& part;
  uint64_t offset;  // bytes of the .part file asked for with Range
  bool quiet;
  Progress& bar;
  int status = 0;
  std::string location, reason;
  uint64_t total = 0, got = 0, start = 0;
  std::ofstream out;
  double t0 = now_ms(), last_draw = 0;

  bool on_response(const httplib::Response& r) {
    status = r.status;
    reason = r.reason;
    if (status >= 300 && status < 400) {
      location = r.get_header_value("Location");
      return false;  // stop here and follow it
    }
    if (status >= 400) return false;
    if (status == 206 && offset > 0) {
      // Content-Range: bytes START-END/TOTAL; append only if it starts where .part ends.
      const std::string cr = r.get_header_value("Content-Range");
      unsigned long long a = 0, b = 0, t = 0;
      if (std::sscanf(cr.c_str(), "bytes %llu-%llu/%llu", &a, &b, &t) == 3 && a == offset) {
        start = offset;
        total = t;
      }
    }
    if (start == 0) {
      if (status == 206) {  // an unasked-for or misplaced range: do not trust it
        status = 0;
        reason = "unexpected partial content (Content-Range '" + r.get_header_value("Content-Range") + "')";
        return false;
      }
      if (r.has_header("Content-Length")) total = std::stoull(r.get_header_value("Content-Length"));
    }
    if (offset > 0 && !quiet)
      std::fprintf(stderr, start ? "resuming %s at %s\n" : "%s: server ignored the range, starting over\n",
                   part.c_str(), human_bytes(offset).c_str());
    out.open(part, start ? std::ios::binary | std::ios::app : std::ios::binary | std::ios::trunc);
    return bool(out);
  }

  bool on_data(const char* data, size_t n) {
    out.write(data, std::streamsize(n));
    got += n;
    const double t = now_ms();
    if (total > 0 && (t - last_draw > 100 || start + got == total)) {
      last_draw = t;
      bar.update(double(start + got) / double(total),
                 human_bytes(start + got) + " / " + human_bytes(total) + ", " + mb_per_s(got, t - t0));
    }
    return bool(out);
  }

  // Throws PullError unless the attempt fetched the whole body.
  void require_complete(const httplib::Result& res, const Url& url) const {
    if (status >= 300 && status < 400)
      throw PullError("HTTP " + std::to_string(status) + " redirect without a Location from " + url.str());
    if (status >= 400)
      throw PullError("HTTP " + std::to_string(status) + (reason.empty() ? "" : " " + reason) + " from " + url.str());
    if (status == 0 && !reason.empty()) throw PullError(reason + " from " + url.str());
    if (!res || res.error() != httplib::Error::Success) {
      const auto err = res.error();
      if (status == 0) throw PullError("cannot connect to " + url.authority + ": " + error_text(err));
      throw PullError("download from " + url.str() + " failed after " + human_bytes(start + got) + ": " +
                      error_text(err) + (got > 0 ? " (run again to resume)" : ""));
    }
    if (total > 0 && start + got != total)
      throw PullError("download from " + url.str() + " ended early: " + std::to_string(start + got) + " of " +
                      std::to_string(total) + " bytes (run again to resume)");
  }
};

// One GET of `url` into `part` (appending from its current size when the server honours the
// Range request), following up to 10 redirects. Throws PullError; the .part file is kept on
// connection errors so that the next run resumes it.
void fetch(Url url, const std::string& part, bool quiet) {
  uint64_t offset = fs::exists(part) ? fs::file_size(part) : 0;
  Progress bar("pull " + fs::path(part).filename().replace_extension().string(), quiet);
  for (int hop = 0;; ++hop) {
    if (hop > 10) throw PullError("too many redirects (last: " + url.str() + ")");
    httplib::Client cli(url.origin());
    if (!cli.is_valid()) throw PullError("bad URL '" + url.str() + "'");
    cli.set_follow_location(false);  // followed here, so a Range survives a move to another host
    cli.set_decompress(false);
    cli.set_connection_timeout(15);
    cli.set_read_timeout(60);
    httplib::Headers headers = {{"Accept-Encoding", "identity"}, {"User-Agent", "tandem-pull/0.1"}};
    if (offset > 0) headers.emplace("Range", "bytes=" + std::to_string(offset) + "-");

    Attempt a(part, offset, quiet, bar);
    auto res = cli.Get(
        url.path, headers, [&](const httplib::Response& r) { return a.on_response(r); },
        [&](const char* data, size_t n) { return a.on_data(data, n); });
    if (a.out.is_open()) a.out.close();
    if (!a.location.empty()) {
      url = resolve_location(url, a.location);
      continue;
    }
    if (a.status == 416 && offset > 0) {  // the range is past the end: the .part is stale, restart
      fs::remove(part);
      offset = 0;
      continue;
    }
    a.require_complete(res, url);
    if (!fs::exists(part)) std::ofstream(part, std::ios::binary);  // an empty body
    bar.done(human_bytes(a.start + a.got) + " in " + std::to_string(int(now_ms() - a.t0)) + " ms, " +
             mb_per_s(a.got, now_ms() - a.t0));
    return;
  }
}

bool valid_sha256(std::string& s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

int cmd_pull(int argc, char** argv) {
  CLI::App app{"Download a GGUF model over http(s) (resumable, verified)", argv[0]};
  std::string url_text, out, sha;
  bool force = false, quiet = false;
  app.add_option("url", url_text, "http:// or https:// URL of the GGUF file")->required();
  app.add_option("-o,--output", out, "where to write it")->required();
  app.add_option("--sha256", sha, "expected sha256 of the file (64 hex digits)");
  app.add_flag("--force", force, "overwrite an existing output file");
  app.add_flag("-q,--quiet", quiet, "no progress on stderr");
  CLI11_PARSE(app, argc, argv);
  const std::string part = out + ".part";
  try {
    if (!sha.empty() && !valid_sha256(sha)) throw PullError("--sha256 needs 64 hex digits, got '" + sha + "'");
    const Url url = parse_url(url_text);
    if (fs::exists(out) && !force) {
      if (!sha.empty() && sha256_file(out) == sha) {
        std::fprintf(stderr, "%s already exists with the expected sha256; nothing to download\n", out.c_str());
        return 0;
      }
      throw PullError(out + " already exists" + (sha.empty() ? "" : " and its sha256 differs from --sha256") +
                      "; use --force to overwrite it");
    }
    fetch(url, part, quiet);
    if (!sha.empty()) {
      const std::string got = sha256_file(part);
      if (got != sha) {
        fs::remove(part);
        throw PullError("sha256 mismatch: expected " + sha + ", got " + got + "; the download was deleted");
      }
    }
    try {
      GgufFile::open(part);
    } catch (const Error& e) {
      fs::remove(part);
      throw PullError(std::string("the download is not a valid GGUF file (") + e.what() + "); it was deleted");
    }
    fs::rename(part, out);
    std::fprintf(stderr, "wrote %s (%s%s)\n", out.c_str(), human_bytes(fs::file_size(out)).c_str(),
                 sha.empty() ? "" : ", sha256 verified");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tandem pull: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace tandem::tools
