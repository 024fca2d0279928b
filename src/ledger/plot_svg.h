// Small dependency-free SVG charts for the report: a line chart over equally spaced points (time
// buckets) and a grouped bar chart (categories such as routes), with axes, ticks, labels and a
// legend. The output is a standalone, valid SVG 1.1 document (labels XML-escaped; bytes that are
// not valid UTF-8 become U+FFFD), usable as a file or inline in HTML.
#pragma once
#include <string>
#include <vector>

namespace tandem::ledger {

struct PlotSeries {
  std::string name;
  std::vector<double> values;  // one per point / category; NaN = no value (a gap, no bar)
};

struct LineChart {
  std::string title, y_label;
  std::vector<std::string> x_labels;  // one per point; a few are drawn as ticks
  std::vector<PlotSeries> series;
  bool y_from_zero = true;  // else the axis starts near the smallest value
};

struct BarChart {
  std::string title, y_label;
  std::vector<std::string> categories;
  std::vector<PlotSeries> series;  // grouped: one bar per series in each category
};

std::string line_chart_svg(const LineChart& chart);
std::string bar_chart_svg(const BarChart& chart);

// Text as XML character data or attribute value: & < > " ' escaped, control characters XML
// forbids dropped, invalid UTF-8 replaced by U+FFFD.
std::string xml_escape(const std::string& text);

// About `target` round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten).
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

}  // namespace tandem::ledger
