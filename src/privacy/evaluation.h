// Scoring the detector on a labelled set (tests/data/pii/*.jsonl): precision, recall and F2 per
// type, and how often a message with personal data is flagged at all (what strict relies on).
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "privacy/detector.h"

namespace tandem::privacy {

struct LabelledText {
  std::string text;
  std::vector<Finding> entities;  // gold spans (confidence 1)
  std::string source;             // "file:line", for messages about it
};

// One JSON object per line: {"text": ..., "entities": [{"type": "EMAIL", "start": 5, "end": 22}]}
// with byte offsets into the UTF-8 text. A path that is a folder loads all its *.jsonl files in
// name order. Throws tandem::Error naming the file and line of anything malformed.
std::vector<LabelledText> load_labelled_set(const std::string& path);

struct Score {
  int tp = 0, fp = 0, fn = 0;
  double precision() const { return tp + fp ? double(tp) / (tp + fp) : 1.0; }
  double recall() const { return tp + fn ? double(tp) / (tp + fn) : 1.0; }
  double f2() const;  // recall weighted twice: 5PR / (4P + R)
};

struct EvalReport {
  std::map<PiiType, Score> per_type;
  Score all;                     // micro-average over all types
  int messages = 0;
  int with_pii = 0, with_pii_flagged = 0;   // messages with gold entities / with any finding
  int clean = 0, clean_flagged = 0;         // messages without / flagged anyway (false alarms)
  double ms_per_kb = 0;           // detection time on a second pass over the set
  double us_per_message = 0;
};

// A predicted finding matches a gold entity of the same type when their overlap covers at least
// half of the longer of the two spans; each gold entity is matched at most once.
EvalReport evaluate(const Detector& detector, const std::vector<LabelledText>& set);

// A Markdown table of the report (the README's).
std::string format_report(const EvalReport& report);

}  // namespace tandem::privacy
