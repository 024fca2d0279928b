// A Report written out: aligned text (Markdown) tables, one JSON object with every figure, a
// self-contained HTML page (the tables and the plots inline), and the plots as SVG files.
#pragma once
#include <string>
#include <vector>

#include "ledger/report.h"

namespace tandem::ledger {

std::string report_table(const Report& report);
std::string report_json(const Report& report);  // pretty-printed, keys in a fixed order
std::string report_html(const Report& report);

struct Plot {
  std::string file_name;  // e.g. "cost_over_time.svg"
  std::string title;
  std::string svg;
};
// cost_over_time, device_share_over_time, latency_over_time, latency_by_route, tokens_by_route.
std::vector<Plot> report_plots(const Report& report);

}  // namespace tandem::ledger
