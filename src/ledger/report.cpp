#include "ledger/report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>
#include <tuple>

#include "format/error.h"

namespace tandem::ledger {

std::optional<double> percentile(std::vector<double> values, double p) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100.0 * double(values.size()));
  const size_t index = rank < 1 ? 0 : std::min(values.size() - 1, size_t(rank) - 1);
  return values[index];
}

namespace {

std::optional<double> ratio_pct(double part, double whole) {
  if (whole <= 0) return std::nullopt;
  return 100.0 * part / whole;
}

// A Totals being filled: the latency samples are kept until the percentiles are taken.
struct Acc {
  Totals t;
  std::vector<double> latency, ttft;

  void add(const Record& r) {
    ++t.requests;
    if (r.status == "error") ++t.errors;
    else if (r.status == "fallback") ++t.fallbacks;
    else ++t.ok;
    int64_t prompt = r.prompt_tokens, completion = r.completion_tokens;
    if (prompt == 0 && completion == 0) {  // usage not filled: derive it from where tokens were computed
      prompt = std::max(r.prompt_tokens_device, r.prompt_tokens_cloud);
      completion = r.completion_tokens_device + r.completion_tokens_cloud;
    }
    t.prompt_tokens += prompt;
    t.completion_tokens += completion;
    t.device_tokens += r.prompt_tokens_device + r.completion_tokens_device;
    t.cloud_tokens += r.prompt_tokens_cloud + r.completion_tokens_cloud;
    if (r.served_by == "device") ++t.served_by_device;
    if (r.data_left_device) ++t.data_left_device;
    else ++t.stayed_on_device;
    if (!r.output_constraint.empty()) ++t.constrained;
    t.cost_usd += r.cost_usd;
    t.all_cloud_cost_usd += r.all_cloud_cost_usd;
    // Latency describes answered requests; an error's time to fail is not a latency of the route.
    if (r.status != "error") {
      latency.push_back(r.latency_ms);
      if (r.ttft_ms) ttft.push_back(*r.ttft_ms);
    }
  }

  Totals finish() {
    const auto pct = [](const std::vector<double>& v) {
      Percentiles p;
      p.n = int64_t(v.size());
      p.p50 = percentile(v, 50);
      p.p99 = percentile(v, 99);
      if (!v.empty()) p.max = *std::max_element(v.begin(), v.end());
      return p;
    };
    t.latency_ms = pct(latency);
    t.ttft_ms = pct(ttft);
    return t;
  }
};

std::map<std::string, Totals> finish_all(std::map<std::string, Acc>& m) {
  std::map<std::string, Totals> out;
  for (auto& [k, a] : m) out[k] = a.finish();
  return out;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::optional<double> Totals::cost_per_million() const {
  if (tokens() <= 0) return std::nullopt;
  return cost_usd * 1e6 / double(tokens());
}
std::optional<double> Totals::all_cloud_cost_per_million() const {
  if (tokens() <= 0) return std::nullopt;
  return all_cloud_cost_usd * 1e6 / double(tokens());
}
std::optional<double> Totals::savings_pct() const {
  if (all_cloud_cost_usd <= 0) return std::nullopt;
  return 100.0 * (1.0 - cost_usd / all_cloud_cost_usd);
}
std::optional<double> Totals::device_token_share_pct() const {
  return ratio_pct(double(device_tokens), double(device_tokens + cloud_tokens));
}
std::optional<double> Totals::device_request_share_pct() const {
  return ratio_pct(double(stayed_on_device), double(requests));
}
std::optional<double> Speculation::acceptance_pct() const { return ratio_pct(double(accepted), double(drafted)); }
std::optional<double> Speculation::accepted_per_round() const {
  if (rounds <= 0) return std::nullopt;
  return double(accepted) / double(rounds);
}

int64_t auto_bucket_ms(int64_t first_ms, int64_t last_ms) {
  constexpr int64_t kMin = 60'000, kHour = 60 * kMin, kDay = 24 * kHour;
  const int64_t steps[] = {kMin, 5 * kMin, 15 * kMin, kHour, 6 * kHour, kDay, 7 * kDay};
  for (int64_t b : steps)
    if (floor_div(last_ms, b) - floor_div(first_ms, b) + 1 <= 60) return b;
  return 7 * kDay;
}

namespace {

// Each endpoint's latest check (ties: the later row).
std::vector<EndpointCheck> latest_checks(const std::vector<EndpointCheck>& checks) {
  std::map<std::string, EndpointCheck> latest;
  for (const EndpointCheck& c : checks) {
    auto [it, fresh] = latest.emplace(c.endpoint, c);
    if (!fresh && std::tie(c.time_ms, c.id) >= std::tie(it->second.time_ms, it->second.id)) it->second = c;
  }
  std::vector<EndpointCheck> out;
  for (auto& [name, c] : latest) out.push_back(std::move(c));
  return out;
}

void count_failure(const Record& r, std::map<std::string, FailureCount>& failures) {
  if (r.failure.empty() && r.status != "error" && r.status != "fallback") return;
  FailureCount& f = failures[r.failure.empty() ? "unclassified" : r.failure];
  if (r.status == "error") ++f.errors;
  else ++f.fallbacks;
}

void count_privacy(const Record& r, Privacy& p) {
  ++p.requests_by_level[r.privacy_level];
  if (r.data_left_device) ++p.data_left_by_level[r.privacy_level];
  bool any_pii = false, unredacted = false;
  for (const auto& [type, n] : r.pii_found) {
    p.pii_found[type] += n;
    any_pii |= n > 0;
    const auto red = r.pii_redacted.find(type);
    unredacted |= n > (red == r.pii_redacted.end() ? 0 : red->second);
  }
  for (const auto& [type, n] : r.pii_redacted) p.pii_redacted[type] += n;
  p.requests_with_pii += any_pii;
  if (r.data_left_device && unredacted) {
    ++p.requests_pii_unredacted_sent;
    ++p.pii_unredacted_sent_by_level[r.privacy_level];
  }
}

void count_speculation(const Record& r, Speculation& s) {
  if (r.spec_rounds <= 0 && r.spec_drafted <= 0) return;
  ++s.requests;
  s.rounds += r.spec_rounds;
  s.drafted += r.spec_drafted;
  s.accepted += r.spec_accepted;
}

// The time series over [first_ms, last_ms] in buckets of bucket_ms (0: chosen to give at most 60).
void build_series(const std::vector<Record>& records, int64_t bucket_ms, Report& rep) {
  const int64_t b = bucket_ms > 0 ? bucket_ms : auto_bucket_ms(*rep.first_ms, *rep.last_ms);
  rep.bucket_ms = b;
  const int64_t first = floor_div(*rep.first_ms, b), last = floor_div(*rep.last_ms, b);
  if (last - first + 1 > 10000)
    throw Error("report: a bucket of " + std::to_string(b) + " ms cuts the window into " +
                std::to_string(last - first + 1) + " buckets (at most 10000); pass a larger --bucket");
  std::vector<Acc> acc(size_t(last - first + 1));
  for (const Record& r : records) acc[size_t(floor_div(r.time_ms, b) - first)].add(r);
  double cost = 0, cloud = 0;
  for (size_t i = 0; i < acc.size(); ++i) {
    Bucket bucket;
    bucket.start_ms = (first + int64_t(i)) * b;
    bucket.totals = acc[i].finish();
    cost += bucket.totals.cost_usd;
    cloud += bucket.totals.all_cloud_cost_usd;
    bucket.cumulative_cost_usd = cost;
    bucket.cumulative_all_cloud_cost_usd = cloud;
    rep.series.push_back(std::move(bucket));
  }
}

}  // namespace

Report build_report(const std::vector<Record>& records, const ReportOptions& options,
                    const std::vector<EndpointCheck>& checks) {
  Report rep;
  rep.endpoints = latest_checks(checks);
  rep.options = options;
  Acc total;
  std::map<std::string, Acc> route, served, app, endpoint;
  for (const Record& r : records) {
    rep.first_ms = rep.first_ms ? std::min(*rep.first_ms, r.time_ms) : r.time_ms;
    rep.last_ms = rep.last_ms ? std::max(*rep.last_ms, r.time_ms) : r.time_ms;
    total.add(r);
    route[r.route].add(r);
    served[r.served_by].add(r);
    app[r.app].add(r);
    endpoint[r.endpoint].add(r);
    count_failure(r, rep.failures);
    count_privacy(r, rep.privacy);
    count_speculation(r, rep.speculation);
  }
  rep.total = total.finish();
  rep.by_route = finish_all(route);
  rep.by_served_by = finish_all(served);
  rep.by_app = finish_all(app);
  rep.by_endpoint = finish_all(endpoint);
  if (rep.first_ms) build_series(records, options.bucket_ms, rep);
  return rep;
}

int64_t parse_duration_ms(const std::string& text) {
  static const std::regex re(R"(^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)\s*$)");
  std::smatch m;
  if (!std::regex_match(text, m, re))
    throw Error("invalid duration '" + text + "': expected a number and a unit (ms, s, m, h, d, w), e.g. 15m, 24h, 7d");
  const std::string unit = m[2];
  const double mult = unit == "ms" ? 1 : unit == "s" ? 1e3 : (unit == "m" || unit == "min") ? 6e4
                      : unit == "h" ? 3.6e6 : unit == "d" ? 8.64e7 : 6.048e8;
  // strtod, not stod: a number beyond a double's range is HUGE_VAL here, an exception there.
  const double ms = std::strtod(m.str(1).c_str(), nullptr) * mult;
  if (ms < 1 || ms > 1e15) throw Error("invalid duration '" + text + "': out of range");
  return int64_t(std::llround(ms));
}

int64_t parse_time(const std::string& text, int64_t now_ms) {
  using namespace std::chrono;
  static const std::regex unix_re(R"(^\s*(\d{1,16})\s*$)");
  static const std::regex date_re(R"(^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?Z?\s*$)");
  std::smatch m;
  if (std::regex_match(text, m, unix_re)) return std::stoll(m[1]);
  if (std::regex_match(text, m, date_re)) {
    const year_month_day ymd{year{std::stoi(m[1])}, month{unsigned(std::stoi(m[2]))}, day{unsigned(std::stoi(m[3]))}};
    const int hh = m[4].matched ? std::stoi(m[4]) : 0, mm = m[5].matched ? std::stoi(m[5]) : 0,
              ss = m[6].matched ? std::stoi(m[6]) : 0;
    if (!ymd.ok() || hh > 23 || mm > 59 || ss > 59) throw Error("invalid date '" + text + "'");
    const auto t = sys_days{ymd} + hours{hh} + minutes{mm} + seconds{ss};
    return duration_cast<milliseconds>(t.time_since_epoch()).count();
  }
  try {
    return now_ms - parse_duration_ms(text);
  } catch (const Error&) {
    throw Error("invalid time '" + text +
                "': expected a span back from now (30m, 24h, 7d, 2w), a UTC date (2026-11-01 or "
                "2026-11-01T08:30), or Unix milliseconds");
  }
}

std::string format_utc(int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds{unix_ms}};
  const auto day_start = floor<days>(t);
  const year_month_day ymd{day_start};
  const auto minute_of_day = duration_cast<minutes>(t - day_start).count();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d UTC", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()), int(minute_of_day / 60), int(minute_of_day % 60));
  return buf;
}

}  // namespace tandem::ledger
