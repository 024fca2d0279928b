#include "privacy/evaluation.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "format/error.h"

namespace tandem::privacy {

double Score::f2() const {
  double p = precision(), r = recall();
  return p + r > 0 ? 5 * p * r / (4 * p + r) : 0.0;
}

namespace {

void load_file(const std::string& path, std::vector<LabelledText>& out) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open labelled set " + path);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    std::string where = path + ":" + std::to_string(lineno);
    LabelledText lt;
    lt.source = where;
    try {
      auto j = nlohmann::json::parse(line);
      lt.text = j.at("text").get<std::string>();
      for (const auto& e : j.at("entities")) {
        auto type = pii_type_from_name(e.at("type").get<std::string>());
        if (!type) throw Error("unknown type " + e.at("type").get<std::string>());
        Finding f{*type, e.at("start").get<size_t>(), e.at("end").get<size_t>(), 1.0};
        if (f.end <= f.start || f.end > lt.text.size()) throw Error("span out of the text");
        lt.entities.push_back(f);
      }
    } catch (const std::exception& e) {
      throw Error(where + ": " + e.what());
    }
    out.push_back(std::move(lt));
  }
}

}  // namespace

std::vector<LabelledText> load_labelled_set(const std::string& path) {
  std::vector<LabelledText> out;
  if (std::filesystem::is_directory(path)) {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(path))
      if (e.path().extension() == ".jsonl") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw Error("no *.jsonl files in " + path);
    for (const auto& f : files) load_file(f, out);
  } else {
    load_file(path, out);
  }
  return out;
}

EvalReport evaluate(const Detector& detector, const std::vector<LabelledText>& set) {
  EvalReport rep;
  size_t bytes = 0;
  double ms = 0;
  for (const LabelledText& lt : set) {
    std::vector<Finding> pred = detector.detect(lt.text);
    ++rep.messages;
    if (lt.entities.empty()) {
      ++rep.clean;
      rep.clean_flagged += !pred.empty();
    } else {
      ++rep.with_pii;
      rep.with_pii_flagged += !pred.empty();
    }
    std::vector<bool> used(lt.entities.size(), false);
    for (const Finding& p : pred) {
      bool matched = false;
      for (size_t g = 0; g < lt.entities.size() && !matched; ++g) {
        const Finding& e = lt.entities[g];
        if (used[g] || e.type != p.type) continue;
        size_t lo = std::max(e.start, p.start), hi = std::min(e.end, p.end);
        size_t overlap = hi > lo ? hi - lo : 0;
        if (2 * overlap >= std::max(e.length(), p.length())) used[g] = matched = true;
      }
      ++(matched ? rep.per_type[p.type].tp : rep.per_type[p.type].fp);
    }
    for (size_t g = 0; g < lt.entities.size(); ++g)
      if (!used[g]) ++rep.per_type[lt.entities[g].type].fn;
  }
  for (const auto& [t, s] : rep.per_type) {
    rep.all.tp += s.tp;
    rep.all.fp += s.fp;
    rep.all.fn += s.fn;
  }
  // Timed on a second pass: the first one pays for compiling the patterns and for
  // libphonenumber's lazily built per-region metadata, once per process.
  auto t0 = Clock::now();
  for (const LabelledText& lt : set) {
    (void)detector.detect(lt.text);
    bytes += lt.text.size();
  }
  ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  rep.ms_per_kb = bytes ? ms / (bytes / 1024.0) : 0;
  rep.us_per_message = set.empty() ? 0 : 1000 * ms / double(set.size());
  return rep;
}

std::string format_report(const EvalReport& rep) {
  std::string s = "| type | gold | found | TP | FP | FN | precision | recall | F2 |\n|---|---|---|---|---|---|---|---|---|\n";
  char buf[256];
  auto row = [&](std::string_view name, const Score& sc) {
    std::snprintf(buf, sizeof buf, "| %.*s | %d | %d | %d | %d | %d | %.3f | %.3f | %.3f |\n", int(name.size()), name.data(),
                  sc.tp + sc.fn, sc.tp + sc.fp, sc.tp, sc.fp, sc.fn, sc.precision(), sc.recall(), sc.f2());
    s += buf;
  };
  for (PiiType t : all_pii_types()) {
    auto it = rep.per_type.find(t);
    if (it != rep.per_type.end()) row(pii_type_name(t), it->second);
  }
  row("**all (micro)**", rep.all);
  std::snprintf(buf, sizeof buf,
                "\n%d messages: %d with personal data, %d of them flagged (%.1f%%); %d without, %d of them "
                "flagged anyway (%.1f%%). Detection: %.1f us per message, %.3f ms per KB.\n",
                rep.messages, rep.with_pii, rep.with_pii_flagged, rep.with_pii ? 100.0 * rep.with_pii_flagged / rep.with_pii : 0.0,
                rep.clean, rep.clean_flagged, rep.clean ? 100.0 * rep.clean_flagged / rep.clean : 0.0, rep.us_per_message,
                rep.ms_per_kb);
  s += buf;
  return s;
}

}  // namespace tandem::privacy
