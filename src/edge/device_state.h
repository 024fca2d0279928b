// The device's state as the routing policy sees it — battery, charging, thermal state, free
// memory, network — from one of three sources: Linux sysfs (with an injectable root, so tests use
// a fake tree), a scripted timeline replayed against a clock (tests and demos), and state pushed by
// the host app (PUT /v1/device), which overrides the other two field by field.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tandem::edge {

enum class Thermal { Nominal = 0, Fair = 1, Serious = 2, Critical = 3 };
const char* thermal_name(Thermal t);
std::optional<Thermal> parse_thermal(const std::string& s);

// Every field is optional: absent means unknown, and the policy then does not act on it.
struct DeviceState {
  std::optional<int> battery_pct;       // 0..100
  std::optional<bool> charging;         // plugged in (charging or full)
  std::optional<Thermal> thermal;
  std::optional<int64_t> free_mem_mb;
  std::optional<bool> online;           // network reachable, as the host (or timeline) says

  // Fields present in `over` replace ours.
  void merge(const DeviceState& over);
  bool operator==(const DeviceState&) const = default;
};

nlohmann::json to_json(const DeviceState& s);
// A partial state from JSON ({"battery":15,"charging":false,"thermal":"serious",
// "free_mem_mb":512,"online":true}); unknown keys and bad values throw Error naming the key.
DeviceState device_state_from_json(const nlohmann::json& j);

struct ThermalThresholds {
  double fair_c = 60, serious_c = 75, critical_c = 90;
};

// Reads ROOT/sys/class/power_supply/*/{type,capacity,status,online},
// ROOT/sys/class/thermal/thermal_zone*/temp (millidegrees; the hottest zone counts) and
// ROOT/proc/meminfo (MemAvailable). What is not there stays unknown.
DeviceState read_sysfs(const std::string& root, const ThermalThresholds& th);

// A scripted timeline: {"events": [{"at_ms": 0, "battery": 80, "charging": false,
// "thermal": "nominal", "free_mem_mb": 2048, "online": true}, {"at_ms": 5000, "battery": 15}, ...]}
// (or the bare array). Each event sets the fields it names; the state at time t is every event
// with at_ms <= t applied in order.
class Timeline {
 public:
  static Timeline parse(const std::string& json_text);
  static Timeline load(const std::string& path);
  DeviceState at(int64_t ms) const;
  size_t size() const { return events_.size(); }

 private:
  std::vector<std::pair<int64_t, DeviceState>> events_;  // sorted by time
};

// Milliseconds on some monotonic clock; tests pass a hand-driven one.
using ClockFn = std::function<int64_t()>;
ClockFn steady_clock_ms();

class DeviceMonitor {
 public:
  enum class Source { Sysfs, Timeline, Push };
  // A timeline's time 0 is the monitor's creation (by `clock`).
  DeviceMonitor(Source source, std::string sysfs_root, ThermalThresholds th, std::optional<Timeline> timeline,
                ClockFn clock);

  DeviceState current() const;  // the source's state with pushed fields on top
  void push(const DeviceState& partial);
  void clear_pushed();
  const char* source_name() const;

 private:
  Source source_;
  std::string root_;
  ThermalThresholds th_;
  std::optional<Timeline> timeline_;
  ClockFn clock_;
  int64_t t0_;
  mutable std::mutex mu_;
  DeviceState pushed_;
};

}  // namespace tandem::edge
