// pii_bench: how long PII detection takes per kilobyte of text, for the kinds of text a request
// carries: prose without personal data, chat messages full of it, and number-heavy text (tables,
// logs: the detector's worst case, since every digit run is a phone/card/date candidate).
//
//   pii_bench [--kb 16] [--reps 20] [--set tests/data/pii-independent]
//
// Prints, per kind, the median and best ms per KB over --reps runs of detect() on a --kb text
// (the first run, which compiles the patterns and loads libphonenumber's metadata, is not
// counted; the one-time cost is printed separately), and the guard's time for a 1 KB message.
// --set adds the messages of a labelled set (tandem pii eval's format), each detected on its own:
// ms per KB of all of them, median and best over --reps passes.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "privacy/evaluation.h"
#include "privacy/guard.h"

using namespace tandem::privacy;
using BenchClock = std::chrono::steady_clock;

namespace {

std::string repeat_to(const std::vector<std::string>& parts, size_t bytes) {
  std::string s;
  for (size_t i = 0; s.size() < bytes; ++i) s += parts[i % parts.size()] + " ";
  return s;
}

double ms_since(BenchClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(BenchClock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"PII detection speed (ms per KB)"};
  size_t kb = 16;
  int reps = 20;
  app.add_option("--kb", kb, "size of each text in KB");
  app.add_option("--reps", reps, "timed runs per text");
  std::string set_path;
  app.add_option("--set", set_path, "also time the messages of this labelled set (a .jsonl file or a folder)");
  bool rules_only = false;
  app.add_flag("--rules-only", rules_only, "without the token tagger (PERSON and ADDRESS by the recognizers alone)");
  CLI11_PARSE(app, argc, argv);

  const std::vector<std::string> prose = {
      "The committee met on a grey morning to review the proposal for the new library wing.",
      "Most members agreed that the reading rooms should face the park, where the light is softer.",
      "Die Stadt plant außerdem einen Radweg entlang des Flusses, der im Frühjahr eröffnet werden soll.",
      "Les travaux commenceront après l'été, si le budget est approuvé par le conseil municipal.",
      "El arquitecto presentó tres variantes, y la segunda recibió el mayor apoyo del público.",
      "Questions about the schedule should be raised at the next session, not by email."};
  const std::vector<std::string> chat = {
      "Hi, I'm Anna Müller, please call me at +49 30 12345678 or write to anna.mueller@example.de.",
      "My card 4111 1111 1111 1111 was charged twice; refund to DE89 3704 0044 0532 0130 00 please.",
      "SSN 078-05-1121, born 14 March 1987, I live at 221B Baker Street, London.",
      "Server 192.168.1.20 (MAC 00:1A:2B:3C:4D:5E) logged in from 2001:db8::8a2e:370:7334.",
      "Send BTC to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa, details at https://example.com/p?id=5.",
      "Je m'appelle Claire Bernard, mon numéro est le 06 12 34 56 78.",
      "The meeting is on 2024-05-14 at 10:30 in room 4."};
  const std::vector<std::string> numbers = {
      "row 17: 2024 3.5 1200 18.25 0.004 5521 order 48213 qty 12 total 1,234.56",
      "2023-11-02 14:22:07 INFO request 9f2c took 183 ms (p99 412 ms) bytes 104857 status 200",
      "id 123456789 ref 987654321 code 555 1234 5678 batch 7781 2290 lot 0042-17-9"};

  struct Kind { const char* name; std::string text; };
  std::vector<Kind> kinds = {{"prose, no personal data", repeat_to(prose, kb * 1024)},
                             {"chat with personal data", repeat_to(chat, kb * 1024)},
                             {"numbers and logs", repeat_to(numbers, kb * 1024)}};

  DetectorOptions options;
  options.use_tagger = !rules_only;
  Detector detector(options);
  auto t0 = BenchClock::now();
  (void)detector.detect("warm up: call +1 415 555 2671, 4111 1111 1111 1111, Anna");
  std::printf("one-time setup (patterns, phone metadata): %.1f ms\n\n", ms_since(t0));

  std::printf("\n%-26s %8s %10s %12s %10s\n", "text", "KB", "findings", "median ms/KB", "best ms/KB");
  for (const Kind& k : kinds) {
    std::vector<double> per_kb;
    size_t findings = 0;
    for (int r = 0; r < reps; ++r) {
      auto t = BenchClock::now();
      findings = detector.detect(k.text).size();
      per_kb.push_back(ms_since(t) / (k.text.size() / 1024.0));
    }
    std::sort(per_kb.begin(), per_kb.end());
    std::printf("%-26s %8.1f %10zu %12.3f %10.3f\n", k.name, k.text.size() / 1024.0, findings, per_kb[per_kb.size() / 2],
                per_kb.front());
  }

  if (!set_path.empty()) {
    std::vector<LabelledText> set = load_labelled_set(set_path);
    size_t bytes = 0;
    for (const LabelledText& lt : set) bytes += lt.text.size();
    std::vector<double> per_kb;
    size_t findings = 0;
    for (int r = 0; r < reps; ++r) {
      findings = 0;
      auto t = BenchClock::now();
      for (const LabelledText& lt : set) findings += detector.detect(lt.text).size();
      per_kb.push_back(ms_since(t) / (bytes / 1024.0));
    }
    std::sort(per_kb.begin(), per_kb.end());
    std::printf("%-26s %8.1f %10zu %12.3f %10.3f\n", "labelled set, per message", bytes / 1024.0, findings,
                per_kb[per_kb.size() / 2], per_kb.front());
  }

  // Short messages: the per-call cost (about 25 pattern passes) dominates.
  for (const char* msg : {"What is the capital of France?", "Call me at (415) 555-2671 tomorrow, Anna."}) {
    std::vector<double> us;
    for (int r = 0; r < reps * 10; ++r) {
      auto t = BenchClock::now();
      (void)detector.detect(msg);
      us.push_back(ms_since(t) * 1000);
    }
    std::sort(us.begin(), us.end());
    std::printf("%-44s median %.1f us per call\n", (std::string("\"") + msg + "\"").c_str(), us[us.size() / 2]);
  }

  Guard guard;
  std::string one_kb = repeat_to(chat, 1024);
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    PlaceholderMap map;
    auto t = BenchClock::now();
    auto res = guard.check({one_kb}, PrivacyLevel::Standard, map);
    ms.push_back(ms_since(t));
    if (res.error) std::printf("guard error: %s\n", res.error_message.c_str());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("\nguard (standard: detect + redact) on a 1 KB chat message: median %.3f ms\n", ms[ms.size() / 2]);
  return 0;
}
