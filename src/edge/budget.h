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
  // day_fn: the current day number (default: days since the Unix epoch, UTC); tests drive it.
  Budget(const EdgeConfig& cfg, std::function<int64_t()> day_fn = {});

  // USD that may still be spent today for this app (the smaller of the global and the app's
  // limit); nullopt when neither is limited.
  std::optional<double> remaining(const std::string& app) const;
  void charge(const std::string& app, double usd);
  double spent_today(const std::string& app = "") const;  // "" : all apps

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
