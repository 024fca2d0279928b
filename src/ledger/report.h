// The report drawn from the ledger: the seed's economics, measured. Every figure is defined in
// docs/ledger.md ("Report figures"); the formats (table, json, html) are in report_format.h.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ledger/record.h"

namespace tandem::ledger {

// Nearest-rank percentile of a sample: the smallest value v such that at least p% of the values
// are <= v, i.e. sorted[ceil(p/100 * n) - 1] (index 0 when that is 0). Never interpolates, so it
// is always a latency that was actually measured; with fewer than 100 values P99 is the maximum.
// nullopt for an empty sample. `values` need not be sorted.
std::optional<double> percentile(std::vector<double> values, double p);

struct Percentiles {
  int64_t n = 0;
  std::optional<double> p50, p99, max;
};

// Figures for one set of requests (all of them, one route, one app, one time bucket, ...).
struct Totals {
  int64_t requests = 0;
  int64_t ok = 0, fallbacks = 0, errors = 0;  // by Record::status
  int64_t prompt_tokens = 0, completion_tokens = 0;  // as the app saw them (usage)
  int64_t device_tokens = 0, cloud_tokens = 0;       // computed on the device / in the cloud
  int64_t served_by_device = 0;   // requests whose answer came from the device
  int64_t stayed_on_device = 0;   // requests of which no byte left the device
  int64_t data_left_device = 0;   // requests of which some byte did
  int64_t constrained = 0;        // requests whose output had a constraint (Record::output_constraint)
  double cost_usd = 0, all_cloud_cost_usd = 0;
  Percentiles latency_ms, ttft_ms;

  int64_t tokens() const { return prompt_tokens + completion_tokens; }
  // cost_usd per 1,000,000 app tokens, and the same for the all-cloud counterfactual.
  std::optional<double> cost_per_million() const;
  std::optional<double> all_cloud_cost_per_million() const;
  // 100 * (1 - cost / all_cloud_cost): percent of the all-cloud cost saved.
  std::optional<double> savings_pct() const;
  // 100 * device_tokens / (device_tokens + cloud_tokens): work kept on the device.
  std::optional<double> device_token_share_pct() const;
  // 100 * stayed_on_device / requests.
  std::optional<double> device_request_share_pct() const;
};

struct FailureCount {
  int64_t fallbacks = 0, errors = 0;  // served by a second choice / the app got an error
};

struct Privacy {
  std::map<std::string, int64_t> requests_by_level, data_left_by_level;  // privacy_level -> n
  std::map<std::string, int64_t> pii_found, pii_redacted;                // type -> total count
  int64_t requests_with_pii = 0;
  // Requests that sent data off the device while a PII type was found more often than it was
  // redacted: expected of `open`, a failure of `strict` and `standard`.
  int64_t requests_pii_unredacted_sent = 0;
  std::map<std::string, int64_t> pii_unredacted_sent_by_level;  // the same, by privacy_level
};

struct Speculation {
  int64_t requests = 0, rounds = 0, drafted = 0, accepted = 0;
  std::optional<double> acceptance_pct() const;       // 100 * accepted / drafted
  std::optional<double> accepted_per_round() const;   // accepted / rounds
};

struct Bucket {
  int64_t start_ms = 0;
  Totals totals;
  double cumulative_cost_usd = 0, cumulative_all_cloud_cost_usd = 0;
};

struct ReportOptions {
  std::optional<int64_t> since_ms, until_ms;  // the window asked for (shown, not applied here)
  std::string app;                            // the --app filter, "" for all
  int64_t bucket_ms = 0;                      // time-series bucket; 0 picks one (auto_bucket_ms)
};

struct Report {
  ReportOptions options;
  std::optional<int64_t> first_ms, last_ms;  // of the records
  Totals total;
  std::map<std::string, Totals> by_route, by_served_by, by_app, by_endpoint;
  std::map<std::string, FailureCount> failures;  // failure class -> counts
  Privacy privacy;
  Speculation speculation;
  int64_t bucket_ms = 0;
  std::vector<Bucket> series;  // consecutive buckets from first to last record, empty ones kept
  // Each endpoint's latest check up to the window's end (by endpoint name): which are de-synced.
  std::vector<EndpointCheck> endpoints;
};

// Aggregates records (any order), and the endpoint checks (any order, up to the window's end;
// the latest of each endpoint is kept). Pure: no clock, no I/O.
Report build_report(const std::vector<Record>& records, const ReportOptions& options = {},
                    const std::vector<EndpointCheck>& checks = {});

// The smallest of 1 min, 5 min, 15 min, 1 h, 6 h, 1 day, 7 days that cuts [first, last] into at
// most 60 buckets (7 days beyond that).
int64_t auto_bucket_ms(int64_t first_ms, int64_t last_ms);

// A time given on the command line, as Unix milliseconds: "24h", "7d", "30m", "90s", "2w"
// (that long before now_ms), "2026-11-01" or "2026-11-01T08:30[:00]" (UTC), or a bare integer
// (Unix milliseconds). Throws tandem::Error naming the accepted forms otherwise.
int64_t parse_time(const std::string& text, int64_t now_ms);
// A duration: "15m", "1h", "1d", "90s", "500ms"; for --bucket.
int64_t parse_duration_ms(const std::string& text);
// "2026-11-01 08:30 UTC": a Unix time in milliseconds as a UTC date and minute.
std::string format_utc(int64_t unix_ms);

}  // namespace tandem::ledger
