// Verify sessions (docs/verify-protocol.md): each holds the target model's context for one
// speculative-decoding client — its tokens and their KV cache rows, copied out of the engine's
// slots so that a session does not pin a slot between calls. Sessions expire after a TTL, the
// least recently used go first when their bytes exceed the budget, and each belongs to the API
// key that created it.
#pragma once
#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/grammar.h"
#include "engine/sampler.h"
#include "model/forward.h"
#include "protocol/token_hash.h"

namespace tandem::serve {

class Metrics;

struct VerifySession {
  std::string id;
  std::string owner;  // hash of the API key that made it ("" without keys)

  // Owned by whoever holds `busy` (one verify call at a time).
  std::vector<int32_t> tokens;       // the target's context, all evaluated
  std::vector<TokenOrder> orders;    // how each was evaluated (see model/forward.h)
  std::vector<uint64_t> prefix_hash; // prefix_hash[i]: hash of tokens[0, i)
  std::vector<uint16_t> k, v;        // KV rows, [pos][layer][kv_dim] fp16
  uint64_t generation = 0;           // bumped whenever tokens change (slot affinity)
  Rng rng;                           // draws of calls that give no seed (randomly seeded)
  // The output's grammar, when the session has one: tokens at positions from grammar_start on
  // are under it, and grammar_states[i] is its state after tokens[0, i) (so that cutting the
  // session back also rewinds the grammar).
  std::optional<GrammarMatcher> grammar;
  size_t grammar_start = 0;
  std::vector<GrammarMatcher::Checkpoint> grammar_states;

  size_t bytes() const {
    return (k.capacity() + v.capacity()) * 2 + tokens.capacity() * 13 +
           grammar_states.capacity() * sizeof(GrammarMatcher::Checkpoint);
  }
  void truncate(size_t n, size_t row_elems);  // keeps tokens[0, n)
};

class SessionStore {
 public:
  SessionStore(std::chrono::seconds ttl, size_t budget_bytes, Metrics& metrics);

  // A new session owned by `owner`, already claimed (busy).
  std::shared_ptr<VerifySession> create(const std::string& owner);
  // Claims a session for one call. Returns null and sets *why to "unknown" (no such session for
  // this owner) or "busy" (a call on it is running).
  std::shared_ptr<VerifySession> claim(const std::string& id, const std::string& owner, std::string* why);
  // Ends a call (by the thread that claimed it): the session is idle again; then drops expired
  // and over-budget sessions.
  void release(const std::shared_ptr<VerifySession>& s);
  bool remove(const std::string& id, const std::string& owner);
  void expire();  // drops sessions idle longer than the TTL

  size_t size() const;
  size_t bytes() const;

 private:
  struct Entry {
    std::shared_ptr<VerifySession> s;
    std::chrono::steady_clock::time_point last_used;
    bool busy = false;
    std::list<std::string>::iterator lru;
    size_t bytes = 0;  // as of the last release (a busy session is being written by its call)  // position in lru_ (front: most recent)
  };
  void evict_locked(std::chrono::steady_clock::time_point now);
  void erase_locked(std::map<std::string, Entry>::iterator it);
  void publish_locked();

  mutable std::mutex mu_;
  std::chrono::seconds ttl_;
  size_t budget_;
  Metrics& metrics_;
  std::map<std::string, Entry> map_;
  std::list<std::string> lru_;
};

// 128 random bits as hex, with a prefix ("vs-..."); from std::random_device.
std::string random_id(const char* prefix);

}  // namespace tandem::serve
