#include "edge/budget.h"

#include <algorithm>
#include <chrono>

namespace tandem::edge {

Budget::Budget(const EdgeConfig& cfg, std::function<int64_t()> day_fn) : global_limit_(cfg.daily_usd) {
  for (const auto& a : cfg.apps)
    if (a.daily_usd >= 0) app_limits_[a.name] = a.daily_usd;
  day_fn_ = day_fn ? std::move(day_fn) : [] {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
    return utc_day(int64_t(ms.count()));
  };
}

void Budget::roll_locked() const {
  const int64_t d = day_fn_();
  if (d != day_) {
    day_ = d;
    spent_ = 0;
    app_spent_.clear();
  }
}

std::optional<double> Budget::remaining(const std::string& app) const {
  std::lock_guard<std::mutex> lk(mu_);
  roll_locked();
  std::optional<double> r;
  if (global_limit_ >= 0) r = std::max(0.0, global_limit_ - spent_);
  if (auto it = app_limits_.find(app); it != app_limits_.end()) {
    auto s = app_spent_.find(app);
    const double left = std::max(0.0, it->second - (s == app_spent_.end() ? 0.0 : s->second));
    r = r ? std::min(*r, left) : left;
  }
  return r;
}

void Budget::charge(const std::string& app, double usd) {
  std::lock_guard<std::mutex> lk(mu_);
  roll_locked();
  spent_ += usd;
  app_spent_[app] += usd;
}

void Budget::seed(int64_t day, const std::map<std::string, double>& spent_by_app) {
  std::lock_guard<std::mutex> lk(mu_);
  roll_locked();
  if (day != day_) return;
  for (const auto& [app, usd] : spent_by_app) {
    spent_ += usd;
    app_spent_[app] += usd;
  }
}

double Budget::spent_today(const std::string& app) const {
  std::lock_guard<std::mutex> lk(mu_);
  roll_locked();
  if (app.empty()) return spent_;
  auto it = app_spent_.find(app);
  return it == app_spent_.end() ? 0.0 : it->second;
}

}  // namespace tandem::edge
