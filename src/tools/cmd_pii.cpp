// tandem pii: the privacy layer from the command line.
//   tandem pii detect [TEXT]   findings as JSON (type, span, confidence, and the value: this is
//                              for the terminal; nothing here is logged)
//   tandem pii redact [TEXT]   the guard's decision and the text that may leave the device
//   tandem pii eval [--set P]  precision, recall and F2 per type on the labelled set
//   tandem pii train --set P... --out FILE   trains the token tagger (data/pii/tagger.txt)
// TEXT defaults to stdin.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "format/error.h"
#include "privacy/evaluation.h"
#include "privacy/guard.h"
#include "privacy/tagger_train.h"
#include "tools/commands.h"

namespace tandem::tools {

namespace {

std::string text_or_stdin(const std::string& text) {
  if (!text.empty()) return text;
  return std::string(std::istreambuf_iterator<char>(std::cin), {});
}

void print_misses(const privacy::Detector& det, const std::vector<privacy::LabelledText>& set) {
  for (const auto& lt : set) {
    auto pred = det.detect(lt.text);
    std::string gold, got;
    for (const auto& f : lt.entities) gold += std::string(privacy::pii_type_name(f.type)) + "[" + lt.text.substr(f.start, f.end - f.start) + "] ";
    for (const auto& f : pred) got += std::string(privacy::pii_type_name(f.type)) + "[" + lt.text.substr(f.start, f.end - f.start) + "] ";
    if (gold != got) std::printf("%s\n  text: %s\n  gold: %s\n  got:  %s\n", lt.source.c_str(), lt.text.c_str(), gold.c_str(), got.c_str());
  }
}

// Each labelled message as a tagger example, with the recognizers' candidates (not the tagger's).
int train(const std::vector<std::string>& sets, const std::string& out_path, const privacy::TaggerTraining& options) {
  privacy::DetectorOptions rules_only;
  rules_only.use_tagger = false;
  privacy::Detector rules(rules_only);
  std::vector<privacy::TaggerExample> examples;
  for (const std::string& path : sets)
    for (const auto& lt : privacy::load_labelled_set(path)) {
      const std::string text = privacy::sanitize_utf8(lt.text);
      examples.push_back(privacy::make_tagger_example(text, lt.entities, rules.candidates(text), options.bits));
    }
  std::fprintf(stderr, "%zu messages\n", examples.size());
  auto model = privacy::train_tagger(examples, options, [](int epoch, double acc) {
    std::fprintf(stderr, "epoch %d: %.4f of the tokens right\n", epoch, acc);
  });
  std::ofstream out(out_path, std::ios::binary);
  out << privacy::format_tagger_model(model);
  if (!out.flush()) throw Error("cannot write " + out_path);
  return 0;
}

}  // namespace

int cmd_pii(int argc, char** argv) {
  CLI::App app{"PII detection, redaction and its evaluation (docs/privacy.md)", argv[0]};
  app.require_subcommand(1);
  double min_conf = privacy::DetectorOptions{}.min_confidence;
  app.add_option("--min-confidence", min_conf, "drop findings below this confidence (0..1)");

  std::string detect_text;
  auto* detect = app.add_subcommand("detect", "print findings as JSON (type, span, confidence, value)");
  detect->add_option("text", detect_text, "text (default: stdin)");
  bool candidates = false;
  detect->add_flag("--candidates", candidates, "every candidate, before overlap resolution and the threshold");

  std::string redact_text, level_name = "standard";
  auto* redact = app.add_subcommand("redact", "print the guard's decision and the text that may leave the device");
  redact->add_option("text", redact_text, "text (default: stdin)");
  redact->add_option("--level", level_name, "strict | standard | open")->check(CLI::IsMember({"strict", "standard", "open"}));

  std::string set_path = "tests/data/pii";
  bool misses = false;
  auto* eval = app.add_subcommand("eval", "precision, recall and F2 per type on the labelled set");
  eval->add_option("--set", set_path, "a .jsonl file or a folder of them (default tests/data/pii)");
  eval->add_flag("--misses", misses, "also list each message where findings and labels differ (prints the texts)");
  std::vector<std::string> train_sets;
  std::string train_out = "data/pii/tagger.txt";
  privacy::TaggerTraining training;
  auto* train_cmd = app.add_subcommand("train", "train the PERSON/ADDRESS token tagger on labelled sets (docs/privacy.md)");
  train_cmd->add_option("--set", train_sets, "a .jsonl file or a folder of them (repeatable)")->required();
  train_cmd->add_option("--out", train_out, "the model file to write (default data/pii/tagger.txt; rebuild to compile it in)");
  train_cmd->add_option("--epochs", training.epochs, "passes over the data")->check(CLI::Range(1, 100));
  train_cmd->add_option("--bits", training.bits, "feature hash bits")->check(CLI::Range(8, 22));
  train_cmd->add_option("--dropout", training.dropout, "probability of leaving a feature out of a training step")->check(CLI::Range(0.0, 0.9));
  double tagger_min = privacy::DetectorOptions{}.tagger_min_confidence;
  app.add_option("--tagger-min-confidence", tagger_min, "keep the tagger's persons and places from this confidence (0..1)");
  bool rules_only = false;
  app.add_flag("--rules-only", rules_only, "PERSON and ADDRESS as the recognizers score them, without the token tagger");
  CLI11_PARSE(app, argc, argv);

  privacy::DetectorOptions opts;
  opts.min_confidence = min_conf;
  opts.use_tagger = !rules_only;
  opts.tagger_min_confidence = tagger_min;
  try {
    if (*train_cmd) return train(train_sets, train_out, training);
    if (*detect) {
      privacy::Detector det(opts);
      std::string text = text_or_stdin(detect_text);
      auto found = candidates ? det.candidates(text) : det.detect(text);
      nlohmann::json out = nlohmann::json::array();
      for (const auto& f : found)
        out.push_back({{"type", privacy::pii_type_name(f.type)},
                       {"start", f.start},
                       {"end", f.end},
                       {"confidence", std::round(f.confidence * 100) / 100},
                       {"value", privacy::sanitize_utf8(std::string_view(text).substr(f.start, f.end - f.start))}});
      std::printf("%s\n", out.dump(2).c_str());
    } else if (*redact) {
      privacy::GuardOptions gopts;
      gopts.detector = opts;
      privacy::Guard guard(gopts);
      privacy::PlaceholderMap map;
      auto r = guard.check({text_or_stdin(redact_text)}, *privacy::parse_privacy_level(level_name), map);
      std::fprintf(stderr, "decision: %s  found: %s  (%.2f ms)%s%s\n", std::string(privacy::decision_name(r.decision)).c_str(),
                   r.counts_summary().empty() ? "none" : r.counts_summary().c_str(), r.detect_ms,
                   r.error ? "  error: " : "", r.error_message.c_str());
      if (r.decision != privacy::Decision::KeepLocal) std::printf("%s", r.texts[0].c_str());
      return r.decision == privacy::Decision::KeepLocal ? 3 : 0;
    } else if (*eval) {
      privacy::Detector det(opts);
      auto set = privacy::load_labelled_set(set_path);
      auto rep = privacy::evaluate(det, set);
      if (misses) print_misses(det, set);
      std::printf("%s", privacy::format_report(rep).c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "tandem pii: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace tandem::tools
