#include "serve/sessions.h"

#include <random>

#include "serve/metrics.h"

namespace tandem::serve {

std::string random_id(const char* prefix) {
  static std::mutex mu;
  static std::random_device rd;
  std::lock_guard<std::mutex> lk(mu);
  std::string s = prefix;
  for (int i = 0; i < 4; ++i) {
    char b[9];
    std::snprintf(b, sizeof b, "%08x", unsigned(rd()));
    s += b;
  }
  return s;
}

void VerifySession::truncate(size_t n, size_t row_elems) {
  if (n >= tokens.size()) return;
  tokens.resize(n);
  orders.resize(n);
  prefix_hash.resize(n + 1);
  k.resize(n * row_elems);
  v.resize(n * row_elems);
  if (grammar) grammar_states.resize(n + 1);
  ++generation;
}

SessionStore::SessionStore(std::chrono::seconds ttl, size_t budget_bytes, Metrics& metrics)
    : ttl_(ttl), budget_(budget_bytes), metrics_(metrics) {}

std::shared_ptr<VerifySession> SessionStore::create(const std::string& owner) {
  auto s = std::make_shared<VerifySession>();
  s->id = random_id("vs-");
  s->owner = owner;
  s->prefix_hash.push_back(protocol::kTokenHashSeed);
  {
    std::random_device rd;
    s->rng.seed_with(uint64_t(rd()) << 32 | rd());
  }
  std::lock_guard<std::mutex> lk(mu_);
  const auto now = std::chrono::steady_clock::now();
  evict_locked(now);
  lru_.push_front(s->id);
  map_[s->id] = Entry{s, now, true, lru_.begin(), 0};
  publish_locked();
  return s;
}

std::shared_ptr<VerifySession> SessionStore::claim(const std::string& id, const std::string& owner, std::string* why) {
  std::lock_guard<std::mutex> lk(mu_);
  const auto now = std::chrono::steady_clock::now();
  evict_locked(now);
  auto it = map_.find(id);
  if (it == map_.end() || it->second.s->owner != owner) {
    *why = "unknown";
    return nullptr;
  }
  if (it->second.busy) {
    *why = "busy";
    return nullptr;
  }
  it->second.busy = true;
  it->second.last_used = now;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.s;
}

void SessionStore::release(const std::shared_ptr<VerifySession>& s) {
  std::lock_guard<std::mutex> lk(mu_);
  const auto now = std::chrono::steady_clock::now();
  auto it = map_.find(s->id);
  if (it != map_.end() && it->second.s == s) {
    it->second.busy = false;
    it->second.last_used = now;
    it->second.bytes = s->bytes();
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  evict_locked(now);
  publish_locked();
}

bool SessionStore::remove(const std::string& id, const std::string& owner) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = map_.find(id);
  if (it == map_.end() || it->second.s->owner != owner) return false;
  erase_locked(it);  // a running call keeps its shared_ptr and finishes on a detached session
  publish_locked();
  return true;
}

void SessionStore::expire() {
  std::lock_guard<std::mutex> lk(mu_);
  evict_locked(std::chrono::steady_clock::now());
  publish_locked();
}

void SessionStore::erase_locked(std::map<std::string, Entry>::iterator it) {
  lru_.erase(it->second.lru);
  map_.erase(it);
}

void SessionStore::evict_locked(std::chrono::steady_clock::time_point now) {
  for (auto it = map_.begin(); it != map_.end();) {
    auto next = std::next(it);
    if (!it->second.busy && now - it->second.last_used > ttl_) {
      erase_locked(it);
      metrics_.sessions_evicted++;
    }
    it = next;
  }
  size_t total = 0;
  for (const auto& [id, e] : map_) total += e.bytes;
  // Least recently used first; sessions in a call are skipped.
  for (auto li = lru_.end(); total > budget_ && li != lru_.begin();) {
    --li;
    auto it = map_.find(*li);
    if (it->second.busy) continue;
    total -= it->second.bytes;
    auto keep = li;
    ++keep;
    erase_locked(it);
    metrics_.sessions_evicted++;
    li = keep;
  }
}

void SessionStore::publish_locked() {
  size_t total = 0;
  for (const auto& [id, e] : map_) total += e.bytes;
  metrics_.verify_sessions = int64_t(map_.size());
  metrics_.verify_session_bytes = int64_t(total);
}

size_t SessionStore::size() const {
  std::lock_guard<std::mutex> lk(mu_);
  return map_.size();
}

size_t SessionStore::bytes() const {
  std::lock_guard<std::mutex> lk(mu_);
  size_t total = 0;
  for (const auto& [id, e] : map_) total += e.bytes;
  return total;
}

}  // namespace tandem::serve
