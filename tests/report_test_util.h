// Shared by the report tests: the known set of six requests (docs/ledger.md defines them, and
// report_test.cpp's KnownSetFigures computes their figures by hand) and checks of the output.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "ledger/record.h"
#include "test_util.h"

namespace tandem::test::report {

using ledger::Record;

inline constexpr int64_t kT0 = 1793491200000;  // 2026-11-01 00:00 UTC (python: datetime(2026,11,1,tzinfo=utc))
inline constexpr int64_t kMin = 60'000;
inline const std::string kUnicodeApp = "Приложение 📒";

// Prices of the imaginary cloud: $1 per 1M prompt tokens, $2 per 1M completion tokens.
inline double cloud(int64_t prompt, int64_t completion) { return (double(prompt) * 1 + double(completion) * 2) / 1e6; }

// The known set; the hand-computed figures are in the comments of KnownSetFigures.
inline std::vector<Record> known_records() {
  std::vector<Record> v(6);
  Record& r1 = v[0];  // LOCAL on the device
  r1.time_ms = kT0, r1.app = "notes", r1.route = "LOCAL", r1.served_by = "device", r1.status = "ok";
  r1.prompt_tokens_device = 100, r1.completion_tokens_device = 50, r1.prompt_tokens = 100, r1.completion_tokens = 50;
  r1.cost_usd = 0, r1.all_cloud_cost_usd = cloud(100, 50), r1.latency_ms = 100, r1.ttft_ms = 20;
  r1.privacy_level = "standard";
  Record& r2 = v[1];  // CLOUD, an e-mail redacted
  r2.time_ms = kT0 + 10 * kMin, r2.app = "mail", r2.route = "CLOUD", r2.served_by = "cloud-a", r2.status = "ok";
  r2.prompt_tokens_cloud = 200, r2.completion_tokens_cloud = 100, r2.prompt_tokens = 200, r2.completion_tokens = 100;
  r2.cost_usd = cloud(200, 100), r2.all_cloud_cost_usd = cloud(200, 100), r2.latency_ms = 300, r2.ttft_ms = 120;
  r2.privacy_level = "standard", r2.data_left_device = true, r2.pii_found = {{"EMAIL", 1}}, r2.pii_redacted = {{"EMAIL", 1}};
  Record& r3 = v[2];  // CLOUD timed out, the device answered; usage left 0 (derived: 50 + 30)
  r3.time_ms = kT0 + 30 * kMin, r3.app = "mail", r3.route = "CLOUD", r3.served_by = "device", r3.status = "fallback";
  r3.failure = "timeout", r3.prompt_tokens_device = 50, r3.completion_tokens_device = 30;
  r3.cost_usd = 0, r3.all_cloud_cost_usd = cloud(50, 30), r3.latency_ms = 900, r3.ttft_ms = 700;
  r3.privacy_level = "standard", r3.data_left_device = true;
  Record& r4 = v[3];  // SPECULATIVE; a phone number found twice, redacted once
  r4.time_ms = kT0 + 65 * kMin, r4.app = "notes", r4.route = "SPECULATIVE", r4.served_by = "cloud-a", r4.status = "ok";
  r4.prompt_tokens_device = 80, r4.completion_tokens_device = 40, r4.prompt_tokens_cloud = 80, r4.completion_tokens_cloud = 10;
  r4.prompt_tokens = 80, r4.completion_tokens = 40;
  r4.cost_usd = cloud(80, 10), r4.all_cloud_cost_usd = cloud(80, 40), r4.latency_ms = 500, r4.ttft_ms = 60;
  r4.privacy_level = "standard", r4.data_left_device = true, r4.pii_found = {{"PHONE", 2}}, r4.pii_redacted = {{"PHONE", 1}};
  r4.spec_rounds = 5, r4.spec_drafted = 40, r4.spec_accepted = 30;
  Record& r5 = v[4];  // CLOUD error: the app got a 5xx
  r5.time_ms = kT0 + 70 * kMin, r5.app = "mail", r5.route = "CLOUD", r5.served_by = "", r5.status = "error";
  r5.failure = "http_5xx", r5.latency_ms = 50, r5.privacy_level = "standard", r5.data_left_device = true;
  Record& r6 = v[5];  // LOCAL, strict, an e-mail found and kept on the device
  r6.time_ms = kT0 + 125 * kMin, r6.app = kUnicodeApp, r6.route = "LOCAL", r6.served_by = "device", r6.status = "ok";
  r6.prompt_tokens_device = 10, r6.completion_tokens_device = 10, r6.prompt_tokens = 10, r6.completion_tokens = 10;
  r6.all_cloud_cost_usd = cloud(10, 10), r6.latency_ms = 40, r6.ttft_ms = 5;
  r6.privacy_level = "strict", r6.pii_found = {{"EMAIL", 1}};
  for (auto& r : v) r.endpoint = "big-model", r.reasons = {"test"};
  return v;
}

// A tiny XML well-formedness check (tags balanced and properly nested, attributes quoted, no raw
// '<' or '&' in text); xmllint, when installed, checks the same files fully.
inline bool xml_well_formed(const std::string& s, std::string* why) {
  std::vector<std::string> stack;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '&') {
      static const std::regex ent("^&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);");
      std::smatch m;
      const std::string rest = s.substr(i, 12);
      if (!std::regex_search(rest, m, ent)) return *why = "bad entity at " + std::to_string(i), false;
      i += size_t(m.length(0));
      continue;
    }
    if (s[i] != '<') { ++i; continue; }
    const size_t end = s.find('>', i);
    if (end == std::string::npos) return *why = "unclosed tag", false;
    const std::string tag = s.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.empty()) return *why = "empty tag", false;
    if (tag[0] == '!' || tag[0] == '?') continue;  // doctype, declaration
    if (tag.find('<') != std::string::npos) return *why = "'<' inside a tag", false;
    if (std::count(tag.begin(), tag.end(), '"') % 2) return *why = "unbalanced quotes in <" + tag + ">", false;
    if (tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1)) return *why = "mismatched </" + tag.substr(1) + ">", false;
      stack.pop_back();
    } else if (tag.back() != '/') {
      stack.push_back(tag.substr(0, tag.find_first_of(" \t\n")));
    }
  }
  if (!stack.empty()) return *why = "unclosed <" + stack.back() + ">", false;
  return true;
}

inline void expect_xml(const std::string& text, const std::string& name) {
  std::string why;
  EXPECT_TRUE(xml_well_formed(text, &why)) << name << ": " << why;
  if (std::system("command -v xmllint > /dev/null 2>&1") == 0) {
    const std::string path = tandem::test::temp_path("xml-" + name);
    tandem::test::write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
    std::string out;
    EXPECT_EQ(tandem::test::run_command("xmllint --noout '" + path + "'", &out), 0) << name << ": " << out;
    std::filesystem::remove(path);
  }
}

inline size_t occurrences(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace tandem::test::report
