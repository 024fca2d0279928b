#include "netsim/link.h"

#include <algorithm>
#include <cmath>

#include "format/error.h"

namespace tandem::netsim {

void validate(const LinkConfig& link) {
  auto finite_nonneg = [](double v, const char* name) {
    if (!std::isfinite(v) || v < 0) throw Error(std::string(name) + " must be a finite number >= 0, got " + std::to_string(v));
  };
  finite_nonneg(link.delay_ms, "delay_ms");
  finite_nonneg(link.jitter_ms, "jitter_ms");
  finite_nonneg(link.bandwidth_kbps, "bandwidth_kbps");
  if (!std::isfinite(link.loss) || link.loss < 0 || link.loss > 1)
    throw Error("loss must be a probability in [0, 1], got " + std::to_string(link.loss));
}

const char* to_string(LossMode mode) { return mode == LossMode::Stall ? "stall" : "reset"; }

LossMode parse_loss_mode(const std::string& text) {
  if (text == "reset") return LossMode::Reset;
  if (text == "stall") return LossMode::Stall;
  throw Error("loss mode must be 'reset' or 'stall', got '" + text + "'");
}

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Rng::uniform() { return double(next() >> 11) * 0x1.0p-53; }

uint64_t mix_seed(uint64_t seed, uint64_t stream) {
  Rng r(seed ^ (stream * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull));
  return r.next();
}

LossDecision decide_loss(uint64_t seed, uint64_t connection_index, const LinkConfig& link) {
  Rng r(mix_seed(seed, connection_index));
  LossDecision d;
  d.lost = r.uniform() < link.loss;  // loss 0 never, loss 1 always
  const uint64_t k = r.next();
  if (d.lost && link.loss_window_bytes > 0) d.after_bytes = k % link.loss_window_bytes;
  return d;
}

static Clock::duration from_ms(double ms) {
  // Rounded up: a chunk is never released early.
  return std::chrono::ceil<Clock::duration>(std::chrono::duration<double, std::milli>(ms));
}

Clock::time_point Wire::transmit(Clock::time_point t, uint64_t bytes, double kbps) {
  if (kbps <= 0) return t;
  const Clock::time_point start = std::max(t, free_at_);
  // kbit/s is bits per millisecond.
  free_at_ = start + from_ms(double(bytes) * 8.0 / kbps);
  return free_at_;
}

Clock::time_point Pacer::release(Clock::time_point sent, const LinkConfig& link) {
  const double jitter = link.jitter_ms > 0 ? (2 * rng_.uniform() - 1) * link.jitter_ms : 0;
  const double delay = std::max(0.0, link.delay_ms + jitter);
  last_ = std::max(sent + from_ms(delay), last_);
  return last_;
}

}  // namespace tandem::netsim
