// libFuzzer target for request parsing, the text any client may send: the completion, chat
// and verify bodies, and the edge's (the "tandem" extensions, the system prompt, then the same
// OpenAI parse; PUT /v1/device's state; a device timeline). The first byte picks the parser, the
// rest is the body. Any body must parse or be refused with a 400 ApiError (or, for the device
// state, an Error), never crash, throw anything else or convert a number out of range (UBSan);
// what parses must hold values in their documented ranges.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "edge/device_state.h"
#include "edge/request_extensions.h"
#include "format/error.h"
#include "protocol/openai.h"
#include "protocol/verify_wire.h"

namespace {

using nlohmann::json;
using namespace tandem;

constexpr int32_t kVocab = 512, kMaxDraft = 8;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_sampling(const SamplerParams& s, float max_temperature) {
  check(s.temperature >= 0 && s.temperature <= max_temperature);
  check(s.top_p >= 0 && s.top_p <= 1 && s.min_p >= 0 && s.min_p <= 1 && s.top_k >= 0);
}

void check_completion(const protocol::CompletionRequest& r) {
  check(r.gen.max_tokens >= -1);
  check(r.gen.top_logprobs >= -1 && r.gen.top_logprobs <= 20);
  check_sampling(r.gen.sampling, 2);
  check(std::isfinite(r.gen.sampling.repeat_penalty) && r.gen.sampling.repeat_last_n >= 0);
  for (int32_t t : r.prompt_tokens) check(t >= 0 && t < kVocab);
  check(r.chat ? !r.messages.empty() : (r.prompt_is_tokens ? !r.prompt_tokens.empty() : r.messages.empty()));
}

void check_verify(const protocol::VerifyRequest& r) {
  check(!r.tokens.empty() && r.draft.size() <= size_t(kMaxDraft) && r.n_past >= 0);
  check_sampling(r.sampling, 100);
  for (int32_t t : r.tokens) check(t >= 0 && t < kVocab);
  for (int32_t t : r.draft) check(t >= 0 && t < kVocab);
  check(r.draft_probs.empty() || r.draft_probs.size() == r.draft.size());
  for (size_t i = 0; i < r.draft_probs.size(); ++i) check(protocol::prob_of(r.draft_probs[i], r.draft[i]) > 0);
}

void parse_edge(const std::string& text, bool chat) {
  json body = protocol::parse_request_json(text);
  if (!body.is_object()) return;  // the gateway refuses it before this point
  const edge::Extensions x = edge::take_extensions(body, {});
  check(!body.contains("tandem"));
  check(x.route.empty() || x.route == "auto" || x.route == "local" || x.route == "cloud" || x.route == "cascade" ||
        x.route == "speculative" || x.route == "peer");
  if (chat) edge::apply_system_prompt(body, "You are brief.");
  check_completion(protocol::parse_completion_request(body, chat, kVocab));
}

void parse_device(const std::string& text) {
  try {
    const edge::DeviceState s = edge::device_state_from_json(protocol::parse_request_json(text));
    if (s.battery_pct) check(*s.battery_pct >= 0 && *s.battery_pct <= 100);
    if (s.free_mem_mb) check(*s.free_mem_mb >= 0);
  } catch (const Error&) {
  }
  try {
    edge::Timeline::parse(text);
  } catch (const Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 6) {
      case 0: check_completion(protocol::parse_completion_request(protocol::parse_request_json(text), false, kVocab)); break;
      case 1: check_completion(protocol::parse_completion_request(protocol::parse_request_json(text), true, kVocab)); break;
      case 2: check_verify(protocol::parse_verify_request(protocol::parse_request_json(text), kVocab, kMaxDraft)); break;
      case 3: parse_edge(text, false); break;
      case 4: parse_edge(text, true); break;
      default: parse_device(text); break;
    }
  } catch (const protocol::ApiError& e) {
    check(e.status == 400 && !e.message.empty());
  }
  return 0;
}
