#include "edge/device_state.h"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "format/error.h"

namespace tandem::edge {

namespace fs = std::filesystem;
using nlohmann::json;

const char* thermal_name(Thermal t) {
  switch (t) {
    case Thermal::Nominal: return "nominal";
    case Thermal::Fair: return "fair";
    case Thermal::Serious: return "serious";
    case Thermal::Critical: return "critical";
  }
  return "nominal";
}

std::optional<Thermal> parse_thermal(const std::string& s) {
  for (Thermal t : {Thermal::Nominal, Thermal::Fair, Thermal::Serious, Thermal::Critical})
    if (s == thermal_name(t)) return t;
  return std::nullopt;
}

void DeviceState::merge(const DeviceState& o) {
  if (o.battery_pct) battery_pct = o.battery_pct;
  if (o.charging) charging = o.charging;
  if (o.thermal) thermal = o.thermal;
  if (o.free_mem_mb) free_mem_mb = o.free_mem_mb;
  if (o.online) online = o.online;
}

json to_json(const DeviceState& s) {
  json j = json::object();
  j["battery"] = s.battery_pct ? json(*s.battery_pct) : json(nullptr);
  j["charging"] = s.charging ? json(*s.charging) : json(nullptr);
  j["thermal"] = s.thermal ? json(thermal_name(*s.thermal)) : json(nullptr);
  j["free_mem_mb"] = s.free_mem_mb ? json(*s.free_mem_mb) : json(nullptr);
  j["online"] = s.online ? json(*s.online) : json(nullptr);
  return j;
}

DeviceState device_state_from_json(const json& j) {
  if (!j.is_object()) throw Error("device state must be a JSON object");
  DeviceState s;
  for (const auto& [k, v] : j.items()) {
    if (k == "at_ms") continue;  // timeline events carry their time beside the state
    if (v.is_null()) continue;
    if (k == "battery") {
      if (!v.is_number()) throw Error("device state 'battery' must be a number 0..100");
      const double b = v.get<double>();
      if (b < 0 || b > 100) throw Error("device state 'battery' must be 0..100");
      s.battery_pct = int(b);
    } else if (k == "charging") {
      if (!v.is_boolean()) throw Error("device state 'charging' must be true or false");
      s.charging = v.get<bool>();
    } else if (k == "thermal") {
      const auto t = v.is_string() ? parse_thermal(v.get<std::string>()) : std::nullopt;
      if (!t) throw Error("device state 'thermal' must be nominal, fair, serious or critical");
      s.thermal = t;
    } else if (k == "free_mem_mb") {
      // Bounded so that the conversion to an integer is defined (a petabyte is plenty).
      if (!v.is_number() || !(v.get<double>() >= 0 && v.get<double>() <= 1e9))
        throw Error("device state 'free_mem_mb' must be a number in [0, 1e9], got " + v.dump());
      s.free_mem_mb = int64_t(v.get<double>());
    } else if (k == "online") {
      if (!v.is_boolean()) throw Error("device state 'online' must be true or false");
      s.online = v.get<bool>();
    } else {
      throw Error("unknown device state key '" + k + "' (battery, charging, thermal, free_mem_mb, online)");
    }
  }
  return s;
}

namespace {

std::optional<std::string> read_line(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  std::string s;
  std::getline(in, s);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::optional<long long> read_int(const fs::path& p) {
  auto s = read_line(p);
  if (!s || s->empty()) return std::nullopt;
  try {
    return std::stoll(*s);
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

DeviceState read_sysfs(const std::string& root, const ThermalThresholds& th) {
  DeviceState s;
  std::error_code ec;
  const fs::path ps = fs::path(root) / "sys/class/power_supply";
  bool mains_online = false;
  if (fs::is_directory(ps, ec)) {
    std::vector<fs::path> entries;
    for (const auto& e : fs::directory_iterator(ps, ec)) entries.push_back(e.path());
    std::sort(entries.begin(), entries.end());
    for (const auto& d : entries) {
      const auto type = read_line(d / "type");
      if (!type) continue;
      if (*type == "Battery") {
        if (s.battery_pct) continue;  // the first battery speaks for the device
        if (auto cap = read_int(d / "capacity")) s.battery_pct = int(std::clamp<long long>(*cap, 0, 100));
        if (auto st = read_line(d / "status")) {
          if (*st == "Charging" || *st == "Full") s.charging = true;
          else if (*st == "Discharging" || *st == "Not charging") s.charging = false;
        }
      } else if (*type == "Mains" || *type == "USB" || *type == "USB_C" || *type == "Wireless") {
        if (auto on = read_int(d / "online"); on && *on == 1) mains_online = true;
      }
    }
    if (mains_online && s.battery_pct) s.charging = true;
  }
  const fs::path tz = fs::path(root) / "sys/class/thermal";
  if (fs::is_directory(tz, ec)) {
    std::optional<double> hottest;
    for (const auto& e : fs::directory_iterator(tz, ec)) {
      if (e.path().filename().string().rfind("thermal_zone", 0) != 0) continue;
      if (auto t = read_int(e.path() / "temp")) hottest = std::max(hottest.value_or(-1e9), double(*t) / 1000.0);
    }
    if (hottest) {
      s.thermal = *hottest >= th.critical_c  ? Thermal::Critical
                  : *hottest >= th.serious_c ? Thermal::Serious
                  : *hottest >= th.fair_c    ? Thermal::Fair
                                             : Thermal::Nominal;
    }
  }
  std::ifstream mi(fs::path(root) / "proc/meminfo");
  for (std::string line; std::getline(mi, line);) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream is(line.substr(13));
      long long kb = 0;
      if (is >> kb) s.free_mem_mb = kb / 1024;
      break;
    }
  }
  return s;
}

Timeline Timeline::parse(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw Error("the device timeline is not valid JSON");
  if (j.is_object() && j.contains("events")) j = j["events"];
  if (!j.is_array()) throw Error("the device timeline must be {\"events\": [...]} or an array of events");
  Timeline t;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& e = j[i];
    if (!e.is_object() || !e.contains("at_ms") || !e["at_ms"].is_number())
      throw Error("device timeline event " + std::to_string(i) + " needs a numeric 'at_ms'");
    if (!(std::fabs(e["at_ms"].get<double>()) <= 1e15))
      throw Error("device timeline event " + std::to_string(i) + ": 'at_ms' is out of range, got " + e["at_ms"].dump());
    try {
      t.events_.emplace_back(int64_t(e["at_ms"].get<double>()), device_state_from_json(e));
    } catch (const Error& err) {
      throw Error("device timeline event " + std::to_string(i) + ": " + err.what());
    }
  }
  std::stable_sort(t.events_.begin(), t.events_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return t;
}

Timeline Timeline::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read the device timeline '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str());
}

DeviceState Timeline::at(int64_t ms) const {
  DeviceState s;
  for (const auto& [t, e] : events_) {
    if (t > ms) break;
    s.merge(e);
  }
  return s;
}

ClockFn steady_clock_ms() {
  return [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
}

DeviceMonitor::DeviceMonitor(Source source, std::string sysfs_root, ThermalThresholds th,
                             std::optional<Timeline> timeline, ClockFn clock)
    : source_(source), root_(std::move(sysfs_root)), th_(th), timeline_(std::move(timeline)),
      clock_(clock ? std::move(clock) : steady_clock_ms()), t0_(clock_()) {
  if (source_ == Source::Timeline && !timeline_) throw Error("a timeline device source needs a timeline");
}

DeviceState DeviceMonitor::current() const {
  DeviceState s;
  if (source_ == Source::Sysfs) s = read_sysfs(root_, th_);
  else if (source_ == Source::Timeline) s = timeline_->at(clock_() - t0_);
  std::lock_guard<std::mutex> lk(mu_);
  s.merge(pushed_);
  return s;
}

void DeviceMonitor::push(const DeviceState& partial) {
  std::lock_guard<std::mutex> lk(mu_);
  pushed_.merge(partial);
}

void DeviceMonitor::clear_pushed() {
  std::lock_guard<std::mutex> lk(mu_);
  pushed_ = DeviceState{};
}

const char* DeviceMonitor::source_name() const {
  switch (source_) {
    case Source::Sysfs: return "sysfs";
    case Source::Timeline: return "timeline";
    case Source::Push: return "push";
  }
  return "push";
}

}  // namespace tandem::edge
