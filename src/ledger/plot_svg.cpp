#include "ledger/plot_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tandem::ledger {
namespace {

constexpr double kWidth = 760, kHeight = 380;
constexpr double kLeft = 80, kRight = 170, kTop = 44, kBottom = 56;  // plot area margins
constexpr double kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"};

const char* color(size_t i) { return kColors[i % (sizeof kColors / sizeof kColors[0])]; }

std::string num(double v) {  // coordinates: 1 decimal is plenty
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

std::string tick_label(double v) {
  char b[32];
  if (v == 0) return "0";
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

// A bar's value printed above it: whole numbers from 100 up, else 3 significant digits.
std::string bar_label(double v) {
  char b[32];
  std::snprintf(b, sizeof b, std::fabs(v) >= 100 ? "%.0f" : "%.3g", v);
  return b;
}

// Decodes one UTF-8 sequence at s[i]; returns its length, 0 when invalid.
size_t utf8_length(const std::string& s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) n = 2, cp = c & 0x1f;
  else if ((c & 0xf0) == 0xe0) n = 3, cp = c & 0x0f;
  else if ((c & 0xf8) == 0xf0) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff) return 0;
  return n;
}

struct Frame {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  double y(double v) const { return kTop + kPlotH * (1 - (v - lo) / (hi - lo)); }
};

Frame y_frame(const std::vector<PlotSeries>& series, bool from_zero) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& s : series)
    for (double v : s.values)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (from_zero) lo = std::min(lo, 0.0), hi = std::max(hi, 0.0);
  if (hi - lo < 1e-12) hi = lo + (lo == 0 ? 1 : std::fabs(lo) * 0.1);
  Frame f;
  f.ticks = nice_ticks(lo, hi, 5);
  f.lo = std::min(lo, f.ticks.front());
  f.hi = std::max(hi, f.ticks.back());
  return f;
}

std::string open_svg(const std::string& title, const std::string& y_label, const Frame& f) {
  std::string o;
  o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(kWidth) + "\" height=\"" + num(kHeight) +
       "\" viewBox=\"0 0 " + num(kWidth) + " " + num(kHeight) +
       "\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n";
  o += "<title>" + xml_escape(title) + "</title>\n";
  o += "<rect x=\"0\" y=\"0\" width=\"" + num(kWidth) + "\" height=\"" + num(kHeight) + "\" fill=\"white\"/>\n";
  o += "<text x=\"" + num(kWidth / 2) + "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">" +
       xml_escape(title) + "</text>\n";
  // Horizontal grid lines and y tick labels.
  for (double t : f.ticks) {
    const std::string y = num(f.y(t));
    o += "<line x1=\"" + num(kLeft) + "\" y1=\"" + y + "\" x2=\"" + num(kLeft + kPlotW) + "\" y2=\"" + y +
         "\" stroke=\"#e0e0e0\"/>\n";
    o += "<text x=\"" + num(kLeft - 6) + "\" y=\"" + y + "\" text-anchor=\"end\" dominant-baseline=\"middle\">" +
         tick_label(t) + "</text>\n";
  }
  o += "<text transform=\"translate(16 " + num(kTop + kPlotH / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
       xml_escape(y_label) + "</text>\n";
  // Axes.
  o += "<line x1=\"" + num(kLeft) + "\" y1=\"" + num(kTop) + "\" x2=\"" + num(kLeft) + "\" y2=\"" +
       num(kTop + kPlotH) + "\" stroke=\"black\"/>\n";
  o += "<line x1=\"" + num(kLeft) + "\" y1=\"" + num(kTop + kPlotH) + "\" x2=\"" + num(kLeft + kPlotW) + "\" y2=\"" +
       num(kTop + kPlotH) + "\" stroke=\"black\"/>\n";
  return o;
}

std::string legend(const std::vector<PlotSeries>& series) {
  std::string o;
  for (size_t i = 0; i < series.size(); ++i) {
    const double y = kTop + 8 + 20 * double(i);
    o += "<rect x=\"" + num(kLeft + kPlotW + 14) + "\" y=\"" + num(y - 6) + "\" width=\"12\" height=\"12\" fill=\"" +
         color(i) + "\"/>\n";
    o += "<text x=\"" + num(kLeft + kPlotW + 32) + "\" y=\"" + num(y) + "\" dominant-baseline=\"middle\">" +
         xml_escape(series[i].name) + "</text>\n";
  }
  return o;
}

std::string x_tick(double x, const std::string& label) {
  return "<line x1=\"" + num(x) + "\" y1=\"" + num(kTop + kPlotH) + "\" x2=\"" + num(x) + "\" y2=\"" +
         num(kTop + kPlotH + 5) + "\" stroke=\"black\"/>\n<text x=\"" + num(x) + "\" y=\"" + num(kTop + kPlotH + 19) +
         "\" text-anchor=\"middle\">" + xml_escape(label) + "</text>\n";
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string o;
  o.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    const size_t n = utf8_length(text, i);
    if (n == 0) {
      o += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    if (n > 1) {
      o.append(text, i, n);
      i += n;
      continue;
    }
    ++i;
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') o += c;
    }
  }
  return o;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> ticks;
  const double start = std::floor(lo / step) * step, stop = std::ceil(hi / step) * step;
  for (int k = 0; start + k * step <= stop + step * 1e-9 && k < 100; ++k) {
    const double t = start + k * step;
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

std::string line_chart_svg(const LineChart& c) {
  const Frame f = y_frame(c.series, c.y_from_zero);
  std::string o = open_svg(c.title, c.y_label, f);
  size_t points = c.x_labels.size();
  for (const auto& s : c.series) points = std::max(points, s.values.size());
  const auto x_at = [&](size_t i) { return points <= 1 ? kLeft + kPlotW / 2 : kLeft + kPlotW * double(i) / double(points - 1); };
  const size_t every = std::max<size_t>(1, (c.x_labels.size() + 5) / 6);
  for (size_t i = 0; i < c.x_labels.size(); i += every) o += x_tick(x_at(i), c.x_labels[i]);
  for (size_t si = 0; si < c.series.size(); ++si) {
    // One polyline per run of finite values; a lone value is drawn as a dot.
    const auto& v = c.series[si].values;
    for (size_t i = 0; i < v.size();) {
      if (!std::isfinite(v[i])) { ++i; continue; }
      size_t j = i;
      std::string pts;
      for (; j < v.size() && std::isfinite(v[j]); ++j) {
        if (j > i) pts += ' ';
        pts += num(x_at(j));
        pts += ',';
        pts += num(f.y(v[j]));
      }
      if (j - i == 1)
        o += "<circle cx=\"" + num(x_at(i)) + "\" cy=\"" + num(f.y(v[i])) + "\" r=\"3\" fill=\"" + color(si) + "\"/>\n";
      else
        o += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(color(si)) + "\" points=\"" + pts +
             "\"/>\n";
      i = j;
    }
  }
  o += legend(c.series);
  o += "</svg>\n";
  return o;
}

std::string bar_chart_svg(const BarChart& c) {
  const Frame f = y_frame(c.series, true);
  std::string o = open_svg(c.title, c.y_label, f);
  const size_t cats = std::max<size_t>(1, c.categories.size()), groups = std::max<size_t>(1, c.series.size());
  const double slot = kPlotW / double(cats), bar = slot * 0.8 / double(groups);
  for (size_t ci = 0; ci < c.categories.size(); ++ci) {
    o += x_tick(kLeft + slot * (double(ci) + 0.5), c.categories[ci]);
    for (size_t si = 0; si < c.series.size(); ++si) {
      if (ci >= c.series[si].values.size() || !std::isfinite(c.series[si].values[ci])) continue;
      const double v = c.series[si].values[ci];
      const double x = kLeft + slot * double(ci) + slot * 0.1 + bar * double(si);
      const double y0 = f.y(0), y1 = f.y(v);
      o += "<rect x=\"" + num(x) + "\" y=\"" + num(std::min(y0, y1)) + "\" width=\"" + num(bar) + "\" height=\"" +
           num(std::fabs(y1 - y0)) + "\" fill=\"" + color(si) + "\"><title>" +
           xml_escape(c.series[si].name + " " + c.categories[ci] + ": " + tick_label(v)) + "</title></rect>\n";
      o += "<text x=\"" + num(x + bar / 2) + "\" y=\"" + num(std::min(y0, y1) - 4) +
           "\" text-anchor=\"middle\" font-size=\"10\">" + bar_label(v) + "</text>\n";
    }
  }
  o += legend(c.series);
  o += "</svg>\n";
  return o;
}

}  // namespace tandem::ledger
