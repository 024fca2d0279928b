// The link that a netsim::Proxy emulates between device and cloud: a one-way delay with
// jitter, a bandwidth limit and connection loss (docs/netsim.md has the exact semantics), and
// the deterministic pieces that decide them from a seed.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace tandem::netsim {

// What happens to a lost connection once it has carried its allotted bytes.
enum class LossMode {
  Reset,  // both legs are reset (the client sees ECONNRESET)
  Stall,  // nothing more is forwarded in either direction; the connection stays open
};

struct LinkConfig {
  double delay_ms = 0;        // one-way delay D of each direction (RTT = 2D)
  double jitter_ms = 0;       // each chunk is delayed D + U[-J, +J] ms (never less than 0)
  double bandwidth_kbps = 0;  // kbit/s of each direction, shared by all connections; 0 = unlimited
  double loss = 0;            // probability that a new connection is lost
  LossMode loss_mode = LossMode::Reset;
  // A lost connection fails after k forwarded bytes (both directions counted), k uniform in
  // [0, loss_window_bytes); 0 makes it fail as soon as it is accepted.
  uint64_t loss_window_bytes = 4096;
};

// Throws tandem::Error naming the first value out of range.
void validate(const LinkConfig& link);

const char* to_string(LossMode mode);
LossMode parse_loss_mode(const std::string& text);  // "reset" | "stall"; throws Error

// splitmix64: the same seed gives the same numbers on every platform and library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  double uniform();  // in [0, 1)
 private:
  uint64_t state_;
};

// Mixes a seed with a stream number (connection index, direction) into an independent seed.
uint64_t mix_seed(uint64_t seed, uint64_t stream);

// The loss decision for the connection accepted index-th (0, 1, 2, ...): a pure function of
// the seed and the index, so a seed reproduces the decisions whatever the timing.
struct LossDecision {
  bool lost = false;
  uint64_t after_bytes = 0;  // a lost connection fails once this many bytes were forwarded
};
LossDecision decide_loss(uint64_t seed, uint64_t connection_index, const LinkConfig& link);

using Clock = std::chrono::steady_clock;

// One direction of the link, shared by all connections: its bandwidth serializes chunks.
class Wire {
 public:
  // When a chunk of `bytes` read at `t` has been sent: it starts once the earlier chunks are
  // out and takes bytes * 8 / kbps ms. Unlimited bandwidth (kbps <= 0) sends it at `t`.
  Clock::time_point transmit(Clock::time_point t, uint64_t bytes, double kbps);

 private:
  Clock::time_point free_at_{};
};

// One direction of one connection: the release time of each chunk, in order.
class Pacer {
 public:
  explicit Pacer(uint64_t seed) : rng_(seed) {}
  // A chunk sent at `sent` (Wire::transmit) is released at sent + D + jitter, but never before
  // the chunk released before it (TCP does not reorder).
  Clock::time_point release(Clock::time_point sent, const LinkConfig& link);

 private:
  Rng rng_;
  Clock::time_point last_{};
};

}  // namespace tandem::netsim
