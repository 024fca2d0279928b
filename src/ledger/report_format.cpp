#include "ledger/report_format.h"

#include <cmath>
#include <cstdio>
#include <optional>
#include <nlohmann/json.hpp>

#include "ledger/plot_svg.h"

namespace tandem::ledger {
namespace {

using ojson = nlohmann::ordered_json;
using Opt = std::optional<double>;

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}
std::string na(const Opt& v, const char* f) { return v ? fmt(f, *v) : "-"; }
std::string pct(const Opt& v) { return na(v, "%.1f%%"); }
std::string ms(const Opt& v) { return na(v, "%.1f"); }
std::string usd(double v) { return v >= 100 ? fmt("$%.2f", v) : fmt("$%.6g", v); }
std::string usd(const Opt& v) { return v ? usd(*v) : "-"; }
std::string count(int64_t v) { return std::to_string(v); }
std::string share(int64_t part, int64_t whole) {
  return whole > 0 ? fmt("%.1f%%", 100.0 * double(part) / double(whole)) : "-";
}

// One titled table, rendered as Markdown text or as HTML.
struct Table {
  std::string title, note;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// Display width of UTF-8 text: code points (not bytes), so unicode names stay aligned.
size_t width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

std::string markdown(const Table& t) {
  std::vector<size_t> w(t.header.size(), 3);
  for (size_t i = 0; i < t.header.size(); ++i) w[i] = std::max(w[i], width(t.header[i]));
  for (const auto& r : t.rows)
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], width(r[i]));
  const auto line = [&](const std::vector<std::string>& cells, bool numeric_right) {
    std::string o = "|";
    for (size_t i = 0; i < w.size(); ++i) {
      const std::string c = i < cells.size() ? cells[i] : "";
      const std::string pad(w[i] - width(c), ' ');
      o += ' ';
      o += numeric_right && i > 0 ? pad + c : c + pad;
      o += " |";
    }
    return o + "\n";
  };
  std::string o = "## " + t.title + "\n\n";
  if (!t.note.empty()) o += t.note + "\n\n";
  o += line(t.header, false);
  o += "|";
  for (size_t i = 0; i < w.size(); ++i) {  // numbers right-aligned, the first column left
    o += ' ';
    o.append(i ? w[i] - 1 : w[i], '-');
    o += i ? ": |" : " |";
  }
  o += "\n";
  for (const auto& r : t.rows) o += line(r, true);
  return o + "\n";
}

std::string html_table(const Table& t) {
  std::string o = "<h2>" + xml_escape(t.title) + "</h2>\n";
  if (!t.note.empty()) o += "<p>" + xml_escape(t.note) + "</p>\n";
  o += "<table>\n<thead><tr>";
  for (const auto& h : t.header) o += "<th>" + xml_escape(h) + "</th>";
  o += "</tr></thead>\n<tbody>\n";
  for (const auto& r : t.rows) {
    o += "<tr>";
    for (size_t i = 0; i < r.size(); ++i) o += (i ? "<td class=\"n\">" : "<td>") + xml_escape(r[i]) + "</td>";
    o += "</tr>\n";
  }
  return o + "</tbody>\n</table>\n";
}

std::string window_text(const Report& r) {
  std::string s;
  s += r.options.since_ms ? "from " + format_utc(*r.options.since_ms) : "from the first record";
  s += r.options.until_ms ? " until " + format_utc(*r.options.until_ms) : " until now";
  if (!r.options.app.empty()) s += ", app " + r.options.app;
  if (r.first_ms) s += "; records " + format_utc(*r.first_ms) + " to " + format_utc(*r.last_ms);
  return s;
}

std::string label(const std::string& key) { return key.empty() ? "(none)" : key; }

Table summary_table(const Report& r) {
  const Totals& t = r.total;
  Table sum{"Summary", window_text(r), {"figure", "value"}, {}};
  const auto row = [&](const std::string& k, const std::string& v) { sum.rows.push_back({k, v}); };
  row("requests", count(t.requests));
  row("ok / fallback / error", count(t.ok) + " / " + count(t.fallbacks) + " / " + count(t.errors));
  row("tokens (prompt + completion, as the apps saw them)", count(t.tokens()) + " (" + count(t.prompt_tokens) + " + " + count(t.completion_tokens) + ")");
  row("tokens computed on the device / in the cloud", count(t.device_tokens) + " / " + count(t.cloud_tokens));
  row("cost", usd(t.cost_usd));
  row("all-cloud cost (counterfactual)", usd(t.all_cloud_cost_usd));
  row("cost per 1M tokens", usd(t.cost_per_million()));
  row("all-cloud cost per 1M tokens", usd(t.all_cloud_cost_per_million()));
  row("savings against all-cloud", pct(t.savings_pct()));
  row("share of tokens computed on the device", pct(t.device_token_share_pct()));
  row("share of requests that stayed on the device", pct(t.device_request_share_pct()));
  row("requests answered by the device", count(t.served_by_device) + " (" + share(t.served_by_device, t.requests) + ")");
  row("requests with data sent off the device", count(t.data_left_device));
  row("latency P50 / P99 (ms)", ms(t.latency_ms.p50) + " / " + ms(t.latency_ms.p99));
  row("time to first token P50 / P99 (ms)", ms(t.ttft_ms.p50) + " / " + ms(t.ttft_ms.p99));

  return sum;
}

// The seed's claims beside what this ledger measured.
Table claims_table(const Report& r) {
  const Totals& t = r.total;
  Table claims{"The seed's claims, measured", "Verdicts are about this ledger's requests only.", {"claim", "measured", "holds here"}, {}};
  const Opt sav = t.savings_pct(), p99 = t.latency_ms.p99, dshare = t.device_token_share_pct();
  claims.rows.push_back({"token cost cut 90%", "savings " + pct(sav), sav ? (*sav >= 90 ? "yes" : "no") : "-"});
  claims.rows.push_back({"P99 latency 50-400 ms", "P99 " + ms(p99) + " ms",
                         p99 ? (*p99 >= 50 && *p99 <= 400 ? "yes" : "no") : "-"});
  claims.rows.push_back({"offloading 60% halves OpEx", "device share " + pct(dshare) + ", savings " + pct(sav),
                         !dshare || !sav ? "-" : *dshare < 60 ? "n/a (less than 60% offloaded)" : *sav >= 50 ? "yes" : "no"});

  return claims;
}

Table route_table(const Report& r) {
  const Totals& t = r.total;
  Table route{"By route", "Latency and time to first token in ms over answered requests (status ok or fallback); nearest-rank percentiles. Constrained: requests with a response_format, json_schema or grammar.",
              {"route", "requests", "share", "device tokens", "cloud tokens", "cost", "all-cloud cost", "savings",
               "latency P50", "latency P99", "TTFT P50", "TTFT P99", "fallbacks", "errors", "constrained"}, {}};
  for (const auto& [k, g] : r.by_route)
    route.rows.push_back({label(k), count(g.requests), share(g.requests, t.requests), count(g.device_tokens),
                          count(g.cloud_tokens), usd(g.cost_usd), usd(g.all_cloud_cost_usd), pct(g.savings_pct()),
                          ms(g.latency_ms.p50), ms(g.latency_ms.p99), ms(g.ttft_ms.p50), ms(g.ttft_ms.p99),
                          count(g.fallbacks), count(g.errors), count(g.constrained)});

  return route;
}

Table served_table(const Report& r) {
  const Totals& t = r.total;
  Table served{"By what served", "", {"served by", "requests", "share", "tokens", "device tokens", "cloud tokens", "cost", "latency P50", "latency P99"}, {}};
  for (const auto& [k, g] : r.by_served_by)
    served.rows.push_back({label(k), count(g.requests), share(g.requests, t.requests), count(g.tokens()),
                           count(g.device_tokens), count(g.cloud_tokens), usd(g.cost_usd), ms(g.latency_ms.p50),
                           ms(g.latency_ms.p99)});

  return served;
}

Table failure_table(const Report& r) {
  Table fail{"Fallbacks and failures", "By failure class: served by a second choice (fallback) or an error returned to the app.",
             {"class", "fallbacks", "errors"}, {}};
  for (const auto& [k, f] : r.failures) fail.rows.push_back({k, count(f.fallbacks), count(f.errors)});

  return fail;
}

Table privacy_table(const Report& r) {
  Table priv{"Privacy", "Requests with PII found: " + count(r.privacy.requests_with_pii) +
                            "; sent off the device with PII not redacted: " + count(r.privacy.requests_pii_unredacted_sent) + ".",
             {"privacy level", "requests", "data sent off the device", "sent with PII not redacted"}, {}};
  const auto at = [](const std::map<std::string, int64_t>& m, const std::string& k) {
    const auto it = m.find(k);
    return it == m.end() ? int64_t(0) : it->second;
  };
  for (const auto& [k, n] : r.privacy.requests_by_level)
    priv.rows.push_back({label(k), count(n), count(at(r.privacy.data_left_by_level, k)),
                         count(at(r.privacy.pii_unredacted_sent_by_level, k))});

  return priv;
}

Table pii_table(const Report& r) {
  Table pii{"PII found and redacted (counts by type, never values)", "", {"type", "found", "redacted"}, {}};
  std::map<std::string, std::pair<int64_t, int64_t>> types;
  for (const auto& [k, n] : r.privacy.pii_found) types[k].first = n;
  for (const auto& [k, n] : r.privacy.pii_redacted) types[k].second = n;
  for (const auto& [k, v] : types) pii.rows.push_back({k, count(v.first), count(v.second)});

  return pii;
}

std::optional<Table> speculation_table(const Report& r) {
  const Speculation& s = r.speculation;
  if (s.requests == 0) return std::nullopt;
  Table spec{"Speculative decoding", "", {"requests", "rounds", "drafted", "accepted", "acceptance", "accepted per round"}, {}};
  spec.rows.push_back({count(s.requests), count(s.rounds), count(s.drafted), count(s.accepted), pct(s.acceptance_pct()),
                       na(s.accepted_per_round(), "%.2f")});
  return spec;
}

std::optional<Table> endpoints_table(const Report& r) {
  if (r.endpoints.empty()) return std::nullopt;
  Table eps{"Endpoints", "Each endpoint's model as last checked against the device's; de-synced: another vocabulary, so no speculation there.",
            {"endpoint", "url", "model", "sync", "checked"}, {}};
  for (const auto& c : r.endpoints) eps.rows.push_back({c.endpoint, c.url, c.model, c.sync, format_utc(c.time_ms)});
  return eps;
}

Table app_table(const Report& r) {
  Table app{"By app", "", {"app", "requests", "tokens", "cost", "all-cloud cost", "savings", "device token share", "data sent off"}, {}};
  for (const auto& [k, g] : r.by_app)
    app.rows.push_back({label(k), count(g.requests), count(g.tokens()), usd(g.cost_usd), usd(g.all_cloud_cost_usd),
                        pct(g.savings_pct()), pct(g.device_token_share_pct()), count(g.data_left_device)});

  return app;
}

Table series_table(const Report& r) {
  Table series{"Over time", "Buckets of " + fmt("%.0f", double(r.bucket_ms) / 60000.0) + " min, starting at the time shown (UTC).",
               {"bucket", "requests", "tokens", "device token share", "cost", "all-cloud cost", "cumulative cost",
                "cumulative all-cloud", "latency P50", "latency P99"}, {}};
  for (const auto& b : r.series) {
    if (b.totals.requests == 0) continue;
    series.rows.push_back({format_utc(b.start_ms), count(b.totals.requests), count(b.totals.tokens()),
                           pct(b.totals.device_token_share_pct()), usd(b.totals.cost_usd), usd(b.totals.all_cloud_cost_usd),
                           usd(b.cumulative_cost_usd), usd(b.cumulative_all_cloud_cost_usd), ms(b.totals.latency_ms.p50),
                           ms(b.totals.latency_ms.p99)});
  }
  return series;
}

std::vector<Table> tables(const Report& r) {
  std::vector<Table> out = {summary_table(r), claims_table(r), route_table(r),  served_table(r),
                            failure_table(r), privacy_table(r), pii_table(r)};
  for (const auto& only_when_present : {speculation_table(r), endpoints_table(r)})
    if (only_when_present) out.push_back(*only_when_present);
  out.push_back(app_table(r));
  out.push_back(series_table(r));
  return out;
}

ojson opt(const Opt& v) { return v ? ojson(*v) : ojson(nullptr); }

ojson percentiles_json(const Percentiles& p) {
  return ojson{{"n", p.n}, {"p50", opt(p.p50)}, {"p99", opt(p.p99)}, {"max", opt(p.max)}};
}

ojson totals_json(const Totals& t) {
  ojson j;
  j["requests"] = t.requests;
  j["ok"] = t.ok;
  j["fallbacks"] = t.fallbacks;
  j["errors"] = t.errors;
  j["prompt_tokens"] = t.prompt_tokens;
  j["completion_tokens"] = t.completion_tokens;
  j["tokens"] = t.tokens();
  j["device_tokens"] = t.device_tokens;
  j["cloud_tokens"] = t.cloud_tokens;
  j["served_by_device"] = t.served_by_device;
  j["stayed_on_device"] = t.stayed_on_device;
  j["data_left_device"] = t.data_left_device;
  j["constrained"] = t.constrained;
  j["cost_usd"] = t.cost_usd;
  j["all_cloud_cost_usd"] = t.all_cloud_cost_usd;
  j["cost_per_1m_tokens_usd"] = opt(t.cost_per_million());
  j["all_cloud_cost_per_1m_tokens_usd"] = opt(t.all_cloud_cost_per_million());
  j["savings_pct"] = opt(t.savings_pct());
  j["device_token_share_pct"] = opt(t.device_token_share_pct());
  j["device_request_share_pct"] = opt(t.device_request_share_pct());
  j["latency_ms"] = percentiles_json(t.latency_ms);
  j["ttft_ms"] = percentiles_json(t.ttft_ms);
  return j;
}

ojson group_json(const std::map<std::string, Totals>& m) {
  ojson j = ojson::object();
  for (const auto& [k, t] : m) j[k] = totals_json(t);
  return j;
}

std::vector<std::string> bucket_labels(const Report& r) {
  std::vector<std::string> labels;
  for (const auto& b : r.series) labels.push_back(format_utc(b.start_ms).substr(5, 11));  // "MM-DD HH:MM"
  return labels;
}

}  // namespace

std::string report_table(const Report& r) {
  std::string o = "# tandem report\n\n";
  for (const auto& t : tables(r)) o += markdown(t);
  return o;
}

std::string report_json(const Report& r) {
  ojson j;
  j["window"] = {{"since_ms", r.options.since_ms ? ojson(*r.options.since_ms) : ojson(nullptr)},
                 {"until_ms", r.options.until_ms ? ojson(*r.options.until_ms) : ojson(nullptr)},
                 {"app", r.options.app.empty() ? ojson(nullptr) : ojson(r.options.app)},
                 {"first_ms", r.first_ms ? ojson(*r.first_ms) : ojson(nullptr)},
                 {"last_ms", r.last_ms ? ojson(*r.last_ms) : ojson(nullptr)}};
  j["percentile_method"] = "nearest-rank over answered requests (status ok or fallback)";
  j["total"] = totals_json(r.total);
  j["by_route"] = group_json(r.by_route);
  j["by_served_by"] = group_json(r.by_served_by);
  j["by_app"] = group_json(r.by_app);
  j["by_endpoint"] = group_json(r.by_endpoint);
  ojson fail = ojson::object();
  for (const auto& [k, f] : r.failures) fail[k] = {{"fallbacks", f.fallbacks}, {"errors", f.errors}};
  j["failures"] = fail;
  const Privacy& p = r.privacy;
  j["privacy"] = {{"requests_by_level", p.requests_by_level},
                  {"data_left_by_level", p.data_left_by_level},
                  {"pii_found", p.pii_found},
                  {"pii_redacted", p.pii_redacted},
                  {"requests_with_pii", p.requests_with_pii},
                  {"requests_pii_unredacted_sent", p.requests_pii_unredacted_sent},
                  {"pii_unredacted_sent_by_level", p.pii_unredacted_sent_by_level}};
  const Speculation& s = r.speculation;
  j["speculation"] = {{"requests", s.requests}, {"rounds", s.rounds}, {"drafted", s.drafted}, {"accepted", s.accepted},
                      {"acceptance_pct", opt(s.acceptance_pct())}, {"accepted_per_round", opt(s.accepted_per_round())}};
  ojson eps = ojson::array();
  for (const auto& c : r.endpoints)
    eps.push_back({{"endpoint", c.endpoint}, {"url", c.url}, {"model", c.model}, {"sync", c.sync},
                   {"fingerprint", c.fingerprint}, {"checked_ms", c.time_ms}});
  j["endpoints"] = eps;
  j["bucket_ms"] = r.bucket_ms;
  ojson series = ojson::array();
  for (const auto& b : r.series) {
    ojson e{{"start_ms", b.start_ms}};
    e.update(totals_json(b.totals));
    e["cumulative_cost_usd"] = b.cumulative_cost_usd;
    e["cumulative_all_cloud_cost_usd"] = b.cumulative_all_cloud_cost_usd;
    series.push_back(e);
  }
  j["series"] = series;
  return j.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

std::vector<Plot> report_plots(const Report& r) {
  const double nan = NAN;
  const auto or_nan = [&](const Opt& v) { return v ? *v : nan; };
  std::vector<Plot> plots;
  const auto labels = bucket_labels(r);

  LineChart cost{"Cumulative cost against all-cloud", "USD", labels, {{"cost", {}}, {"all-cloud", {}}}, true};
  LineChart dshare{"Share kept on the device", "%", labels, {{"tokens computed on device", {}}, {"requests that stayed", {}}}, true};
  LineChart lat{"Latency over time (answered requests)", "ms", labels, {{"P50", {}}, {"P99", {}}}, true};
  for (const auto& b : r.series) {
    cost.series[0].values.push_back(b.cumulative_cost_usd);
    cost.series[1].values.push_back(b.cumulative_all_cloud_cost_usd);
    dshare.series[0].values.push_back(or_nan(b.totals.device_token_share_pct()));
    dshare.series[1].values.push_back(or_nan(b.totals.device_request_share_pct()));
    lat.series[0].values.push_back(or_nan(b.totals.latency_ms.p50));
    lat.series[1].values.push_back(or_nan(b.totals.latency_ms.p99));
  }
  plots.push_back({"cost_over_time.svg", cost.title, line_chart_svg(cost)});
  plots.push_back({"device_share_over_time.svg", dshare.title, line_chart_svg(dshare)});
  plots.push_back({"latency_over_time.svg", lat.title, line_chart_svg(lat)});

  BarChart lroute{"Latency per route (answered requests)", "ms", {},
                  {{"latency P50", {}}, {"latency P99", {}}, {"TTFT P50", {}}, {"TTFT P99", {}}}};
  BarChart troute{"Tokens per route, by where computed", "tokens", {}, {{"device", {}}, {"cloud", {}}}};
  for (const auto& [k, g] : r.by_route) {
    lroute.categories.push_back(label(k));
    troute.categories.push_back(label(k));
    lroute.series[0].values.push_back(or_nan(g.latency_ms.p50));
    lroute.series[1].values.push_back(or_nan(g.latency_ms.p99));
    lroute.series[2].values.push_back(or_nan(g.ttft_ms.p50));
    lroute.series[3].values.push_back(or_nan(g.ttft_ms.p99));
    troute.series[0].values.push_back(double(g.device_tokens));
    troute.series[1].values.push_back(double(g.cloud_tokens));
  }
  plots.push_back({"latency_by_route.svg", lroute.title, bar_chart_svg(lroute)});
  plots.push_back({"tokens_by_route.svg", troute.title, bar_chart_svg(troute)});
  return plots;
}

std::string report_html(const Report& r) {
  std::string o =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>tandem report</title>\n"
      "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
      "table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 8px}"
      "th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}"
      "figure{margin:1em 0}</style>\n</head>\n<body>\n<h1>tandem report</h1>\n";
  const auto ts = tables(r);
  for (size_t i = 0; i < ts.size(); ++i) {
    o += html_table(ts[i]);
    if (i == 1) {  // the plots after the summary and the claims
      o += "<h2>Plots</h2>\n";
      for (const auto& p : report_plots(r)) o += "<figure>\n" + p.svg + "</figure>\n";
    }
  }
  return o + "</body>\n</html>\n";
}

}  // namespace tandem::ledger
