#include "engine/generate.h"

#include <algorithm>
#include <chrono>

#include "format/error.h"

namespace tandem {

namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int32_t next_constrained(GrammarMatcher& g, Sampler& sampler, const float* logits, GrammarStep& step) {
  const auto t0 = std::chrono::steady_clock::now();
  g.fill_mask(step.allowed);
  const int32_t forced = g.forced_token(step.allowed);
  step.grammar_ms += ms_since(t0);
  if (forced >= 0) {
    ++step.forced_tokens;
    return forced;
  }
  if (step.allowed.first() < 0) {
    if (g.can_end()) return -1;
    throw Error("no token of the vocabulary can continue the grammar here");
  }
  step.masked.assign(logits, logits + sampler.n_vocab());
  mask_logits(step.allowed, step.masked.data());
  return sampler.sample(step.masked.data());
}

double GenerateResult::decode_tokens_per_s() const {
  // The first generated token comes out of the prefill; each later one costs a decode step.
  return tokens.size() > 1 && decode_ms > 0 ? double(tokens.size() - 1) * 1000.0 / decode_ms : 0;
}

PromptFit check_prompt_fits(int64_t prompt_tokens, int64_t max_tokens, int64_t n_ctx, std::string_view model) {
  const std::string L = std::to_string(prompt_tokens), N = std::to_string(n_ctx), who(model);
  PromptFit f;
  f.room = std::max<int64_t>(0, n_ctx - prompt_tokens);
  if (prompt_tokens == 0) {
    f.problem = PromptFit::EmptyPrompt;
    f.message = "the prompt is empty (no tokens)";
  } else if (prompt_tokens >= n_ctx) {
    f.problem = PromptFit::PromptTooLong;
    f.message = "the prompt has " + L + " tokens; " + who + "'s context holds " + N + " (prompt and completion together)";
  } else if (max_tokens >= 0 && prompt_tokens + max_tokens > n_ctx) {
    f.problem = PromptFit::CompletionTooLong;
    f.message = who + "'s context holds " + N + " tokens, but you asked for " + std::to_string(prompt_tokens + max_tokens) +
                " (" + L + " in the prompt, " + std::to_string(max_tokens) + " for the completion)";
  }
  return f;
}

GenerateResult generate(Context& ctx, const Vocab& vocab, Sampler& sampler, std::span<const int32_t> prompt,
                        const GenerateOptions& opt, const TokenCallback& on_token) {
  if (prompt.empty()) throw Error("the prompt is empty (no tokens)");
  if (opt.n_predict < 0) throw Error("n_predict must not be negative");
  if (int64_t(prompt.size()) + opt.n_predict > int64_t(ctx.n_ctx()))
    throw Error("prompt (" + std::to_string(prompt.size()) + " tokens) plus " + std::to_string(opt.n_predict) +
                " new tokens exceed the context size " + std::to_string(ctx.n_ctx()));
  GenerateResult r;
  r.finish_reason = "length";
  r.tokens.reserve(size_t(opt.n_predict));
  ctx.kv().clear(opt.seq);
  sampler.reset();
  for (int32_t t : prompt) sampler.accept(t);

  auto t0 = std::chrono::steady_clock::now();
  const float* logits = ctx.eval(opt.seq, prompt);
  r.prefill_ms = ms_since(t0);
  t0 = std::chrono::steady_clock::now();
  GrammarStep step;
  for (int32_t i = 0; i < opt.n_predict; ++i) {
    const int32_t tok = opt.grammar ? next_constrained(*opt.grammar, sampler, logits, step)
                                    : sampler.sample(logits);
    if (tok < 0 || ((opt.stop_at_eog || opt.grammar) && vocab.is_eog(tok))) {
      r.finish_reason = "stop";
      break;
    }
    if (opt.grammar && !opt.grammar->accept(tok)) throw Error("the grammar rejected a token it allowed");
    sampler.accept(tok);
    r.tokens.push_back(tok);
    const std::string_view piece = vocab.piece(tok);
    r.text.append(piece);
    if (on_token && !on_token(tok, piece)) {
      r.finish_reason = "cancelled";
      break;
    }
    if (i + 1 < opt.n_predict) logits = ctx.eval(opt.seq, std::span<const int32_t>(&tok, 1));
  }
  r.decode_ms = ms_since(t0);
  r.forced_tokens = step.forced_tokens;
  r.grammar_ms = step.grammar_ms;
  return r;
}

}  // namespace tandem
