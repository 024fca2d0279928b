// serve's generation service: what a process that runs a model in-process asks of it — submit a
// generation, read its events as they are produced, cancel it — and how large and how busy it
// is. serve's Scheduler implements it (continuous batching and its prompt cache), so a caller
// (tandem edge's device tier) answers exactly as `tandem serve` would over the same model.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/lora.h"
#include "protocol/generation.h"

namespace tandem {
class LlamaModel;
class Vocab;
}  // namespace tandem

namespace tandem::serve {

struct SchedulerConfig {
  int32_t n_parallel = 4;   // slots (sequences decoded together)
  int32_t n_ctx = 0;        // positions per slot; 0: the model's (at most 4096)
  int32_t n_batch = 512;    // most tokens per forward pass
  int32_t max_draft = 16;   // most draft tokens per verify call
  int32_t queue_size = 64;  // most requests waiting for a slot
  int n_threads = 2;
  // LoRA adapters applied to every request (set once on the Context, so all slots and the
  // prompt cache share the adapted model); each must fit the model (else Error naming it).
  std::vector<LoraUse> loras;
};

// What a generation produces, in order: text deltas with the tokens behind them, then a final
// event with the finish reason or the error.
struct StreamEvent {
  std::string text;                            // text delta, possibly empty
  std::vector<protocol::TokenLogprob> tokens;  // the tokens behind it (logprobs only when asked for)
  bool final = false;
  std::string finish_reason;  // "stop" or "length", with final
  int error_status = 0;       // with final: the request failed (HTTP status) ...
  std::string error;          // ... with this message
};

struct GenerationRequest {
  std::vector<int32_t> prompt;  // at least one token, fewer than n_ctx()
  protocol::GenerationParams gen;
  std::string user;  // prefer the slot this user's last request used
  // Text that precedes the generated text but was not sent yet (a continuation's tail that may
  // begin a stop string; TextStream::hold): the stream starts holding it.
  std::string held_text;
  // Output already produced under gen.constraint before this generation (a continuation of
  // another tier's answer, held_text included): the grammar starts from the state this text
  // reaches. Text the grammar does not allow fails the generation with kOutsideGrammarStatus.
  std::string grammar_prefix;
};

// The final event's error_status when grammar_prefix breaks the constraint (the message names the
// byte where it stops being allowed).
constexpr int kOutsideGrammarStatus = 422;

struct GenerationUsage {
  int32_t prompt_tokens = 0, cached_tokens = 0, completion_tokens = 0;
};

// One submitted generation. The engine pushes its events; the caller reads them.
class Generation {
 public:
  virtual ~Generation() = default;
  // Waits up to `timeout` for the next event; false when none came.
  virtual bool next(StreamEvent* e, std::chrono::milliseconds timeout) = 0;
  // The caller gives up: the engine frees the slot at its next step (a no-op once finished).
  virtual void cancel() = 0;
  // Valid once the final event was read.
  virtual GenerationUsage usage() const = 0;
};

struct GenerationLoad {
  int64_t active = 0;  // generations running
  int64_t queued = 0;  // waiting for a slot
};

class GenerationService {
 public:
  virtual ~GenerationService() = default;
  // Queues a generation; null when the queue is full.
  virtual std::shared_ptr<Generation> generate(GenerationRequest req) = 0;
  // Positions per sequence: prompt and completion together.
  virtual int32_t n_ctx() const = 0;
  virtual GenerationLoad load() const = 0;
};

// A Scheduler over `model` and `vocab` (both must outlive it) with metrics of its own; it stops
// when the last reference goes. Throws Error when a LoRA adapter does not fit the model.
std::shared_ptr<GenerationService> start_generation_service(const LlamaModel& model, const Vocab& vocab,
                                                            const SchedulerConfig& cfg);

}  // namespace tandem::serve
