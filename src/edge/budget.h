// Spending limits per UTC day: one for all apps together and one per app key. Charged with what
// actually served each token (the gateway calls charge() after a request, at the prices of the
// endpoint that produced the tokens), checked by the router through remaining().
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "edge/config.h"

namespace tandem::edge {

class Budget {
 public:
  // day_fn: the current day number (default: utc_day of now); tests drive it.
  Budget(const EdgeConfig& cfg, std::function<int64_t()> day_fn = {});

  static constexpr int64_t kDayMs = 86400000;
  // The default day numbering: days since the Unix epoch, UTC; day d is [d * kDayMs, (d+1) * kDayMs).
  static int64_t utc_day(int64_t unix_ms) { return unix_ms / kDayMs; }

  // USD that may still be spent today for this app (the smaller of the global and the app's
  // limit); nullopt when neither is limited.
  std::optional<double> remaining(const std::string& app) const;
  void charge(const std::string& app, double usd);
  double spent_today(const std::string& app = "") const;  // "" : all apps
  // Spending already made on `day` before this process started (per app, "" for none; read back
  // from the ledger at start, see ledger_sink.h), so that a restart does not hand out the day's
  // budget again. Added to today's totals; ignored when `day` is not today.
  void seed(int64_t day, const std::map<std::string, double>& spent_by_app);

 private:
  void roll_locked() const;
  double global_limit_;
  std::map<std::string, double> app_limits_;
  std::function<int64_t()> day_fn_;
  mutable std::mutex mu_;
  mutable int64_t day_ = -1;
  mutable double spent_ = 0;
  mutable std::map<std::string, double> app_spent_;
};

}  // namespace tandem::edge
