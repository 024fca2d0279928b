// tandem run: generate a continuation of a prompt, streamed to stdout (or one JSON object).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

#include "engine/chat_template.h"
#include "engine/context.h"
#include "engine/generate.h"
#include "engine/grammar.h"
#include "engine/sampler.h"
#include "engine/vocab.h"
#include "format/error.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "verify/speculative.h"

namespace tandem::tools {

// --chat: the conversation [system?, user] rendered with the model's chat template (or the
// override) and its generation prompt, tokenized with special-token parsing. When the tokenizer
// adds BOS itself, a BOS text the template wrote at the start is dropped (as llama.cpp does).
static std::vector<int32_t> chat_prompt_tokens(const GgufFile& gguf, const Vocab& vocab, const std::string& user,
                                               const std::string& system, const std::string& template_arg,
                                               bool add_bos, std::string& rendered, std::string& template_name) {
  ChatTemplate tmpl = template_arg.empty() ? ChatTemplate::from_gguf(gguf)
                                           : ChatTemplate::from_name_or_source(template_arg).with_special_texts_of(gguf);
  std::vector<ChatMessage> messages;
  if (!system.empty()) messages.push_back({"system", system});
  messages.push_back({"user", user});
  rendered = tmpl.apply(messages, true);
  template_name = tmpl.name();
  return vocab.tokenize(ChatTemplate::strip_leading_bos(rendered, tmpl.bos_text(), add_bos), add_bos, true);
}

// --verify-url: the model drafts, a tandem serve verifies (docs/speculative.md).
struct SpeculativeArgs {
  std::string url, api_key;
  int draft_max = 8;
  bool draft_fixed = false, no_pipeline = false;
  float min_prob = 0;
  double timeout_s = 30;
  int retries = 4;
};

static nlohmann::json stats_json(const verify::SpeculativeGeneration& r, const verify::Estimate& e,
                                 const verify::ServerModel& server, const std::string& url) {
  const auto& st = r.stats;
  nlohmann::json j = {
      {"url", url},
      {"server_model", server.id},
      {"rounds", st.rounds},
      {"drafted", st.drafted},
      {"accepted", st.accepted},
      {"acceptance_rate", st.acceptance_rate()},
      {"mean_accepted", st.mean_accepted()},
      {"cloud_forward_passes", st.cloud_forward_passes},
      {"tokens_per_cloud_pass",
       st.cloud_forward_passes > 0 ? double(r.degraded_from >= 0 ? r.degraded_from : int64_t(r.tokens.size())) /
                                         double(st.cloud_forward_passes)
                                   : 0.0},
      {"bytes_sent", st.bytes_sent},
      {"bytes_received", st.bytes_received},
      {"draft_ms", st.draft_ms},
      {"wait_ms", st.wait_ms},
      {"network_ms", st.network_ms},
      {"verify_ms", st.verify_ms},
      {"device_only_ms", st.device_only_ms},
      {"ahead_drafted", st.ahead_drafted},
      {"ahead_kept", st.ahead_kept},
      {"ahead_discarded", st.ahead_discarded},
      {"attempts_failed", st.attempts_failed},
      {"timeouts", st.timeouts},
      {"reconnects", st.reconnects},
      {"sessions_restarted", st.sessions_restarted},
      {"estimate",
       {{"spec_tps", e.spec_tps},
        {"cloud_tps", e.cloud_tps},
        {"device_tps", e.device_tps},
        {"rtt_ms", e.rtt_ms},
        {"acceptance", e.acceptance},
        {"best_k", e.best_k},
        {"t_draft_ms", e.t_draft_ms},
        {"t_target_ms", e.t_target_ms}}}};
  j["degraded_from"] = r.degraded_from >= 0 ? nlohmann::json(r.degraded_from) : nlohmann::json(nullptr);
  if (r.degraded_from >= 0) j["degraded_reason"] = r.degraded_reason;
  return j;
}

// What `tandem run` takes from its command line.
struct RunOptions {
  std::string model_path, prompt, prompt_file;
  int n_predict = 128, threads = 2, n_ctx = 0;
  SamplerParams sp;
  int64_t seed = -1;
  bool json = false, quiet = false, ignore_eos = false, no_bos = false, chat = false;
  std::string system_prompt, chat_template;
  std::vector<std::string> lora_args;
  SpeculativeArgs spec;
  std::string json_schema_file, grammar_file;
  std::optional<Grammar> grammar;  // from one of the two files
};

static void add_run_options(CLI::App& app, RunOptions& o) {
  o.sp.temperature = 0.8f;  // llama.cpp's defaults
  o.sp.top_k = 40;
  o.sp.top_p = 0.95f;
  o.sp.min_p = 0.05f;
  SamplerParams& sp = o.sp;
  app.add_option("-m,--model", o.model_path, "GGUF model file")->required();
  app.add_option("-p,--prompt", o.prompt, "prompt text");
  app.add_option("-f,--file", o.prompt_file, "read the prompt from a file");
  app.add_option("-n,--n-predict", o.n_predict, "tokens to generate")->capture_default_str();
  app.add_option("-c,--ctx-size", o.n_ctx, "context size (default: the model's, or prompt + n if larger)");
  app.add_option("-t,--threads", o.threads, "threads")->capture_default_str();
  app.add_option("--temp", sp.temperature, "temperature (0: greedy)")->capture_default_str();
  app.add_option("--top-k", sp.top_k, "top-k (0: off)")->capture_default_str();
  app.add_option("--top-p", sp.top_p, "top-p (1: off)")->capture_default_str();
  app.add_option("--min-p", sp.min_p, "min-p (0: off)")->capture_default_str();
  app.add_option("--repeat-penalty", sp.repeat_penalty, "repetition penalty (1: off)")->capture_default_str();
  app.add_option("--repeat-last-n", sp.repeat_last_n, "tokens the penalty looks back over")->capture_default_str();
  app.add_option("-s,--seed", o.seed, "random seed (default: random, printed with --json)");
  app.add_flag("--json", o.json, "print one JSON object instead of streaming text");
  app.add_flag("--ignore-eos", o.ignore_eos, "keep generating past end-of-generation tokens");
  app.add_flag("--no-bos", o.no_bos, "do not add the BOS token");
  app.add_flag("-q,--quiet", o.quiet, "no progress on stderr");
  app.add_flag("--chat", o.chat, "treat the prompt as a user message and render it with the chat template");
  app.add_option("--system", o.system_prompt, "system prompt (with --chat)");
  app.add_option("--chat-template", o.chat_template,
                 "with --chat: a built-in template name or a Jinja template to recognize (default: the model's)");
  app.add_option("--lora", o.lora_args, "LoRA adapter FILE[:SCALE] (GGUF; repeatable; scale default 1)");
  app.add_option("--json-schema", o.json_schema_file,
                 "constrain the output to JSON that follows the JSON Schema in FILE (docs/structured-outputs.md)");
  app.add_option("--grammar", o.grammar_file, "constrain the output to the GBNF grammar in FILE");
  SpeculativeArgs& spec = o.spec;
  app.add_option("--verify-url", spec.url,
                 "speculative decoding: this model drafts, the tandem serve at URL verifies (its model's output)");
  app.add_option("--api-key", spec.api_key, "with --verify-url: the server's API key");
  app.add_option("--draft-max", spec.draft_max, "with --verify-url: most draft tokens per round")->capture_default_str();
  app.add_flag("--draft-fixed", spec.draft_fixed, "with --verify-url: always draft --draft-max tokens (no adaptation)");
  app.add_option("--draft-min-prob", spec.min_prob,
                 "with --verify-url: end a draft at a token the draft model is less sure of (0: never)")
      ->capture_default_str();
  app.add_flag("--no-pipeline", spec.no_pipeline, "with --verify-url: do not draft while a verification is on the wire");
  app.add_option("--verify-timeout", spec.timeout_s, "with --verify-url: seconds to wait for a verify answer")
      ->capture_default_str();
  app.add_option("--verify-retries", spec.retries,
                 "with --verify-url: failed attempts in a row before going on with this model alone")
      ->capture_default_str();
}

// --json-schema / --grammar, compiled before the model is loaded so that a bad one fails fast.
static void load_grammar(RunOptions& o) {
  if (!o.json_schema_file.empty() && !o.grammar_file.empty()) throw Error("give --json-schema or --grammar, not both");
  if (o.json_schema_file.empty() && o.grammar_file.empty()) return;
  if (!o.spec.url.empty()) throw Error("--json-schema and --grammar do not work with --verify-url");
  try {
    o.grammar = o.grammar_file.empty()
                    ? Grammar::from_json_schema(read_text_file(o.json_schema_file, "JSON Schema file"))
                    : Grammar::from_gbnf(read_text_file(o.grammar_file, "grammar file"));
  } catch (const Error& e) {
    throw Error((o.grammar_file.empty() ? o.json_schema_file : o.grammar_file) + ": " + e.what());
  }
}

// Reads the prompt file and checks what can be checked before the model is loaded.
static void complete_options(RunOptions& o) {
  if (!o.prompt_file.empty()) o.prompt = read_text_file(o.prompt_file, "prompt file");
  load_grammar(o);
  if (o.n_predict < 0 || o.n_predict > (1 << 20))
    throw Error("-n " + std::to_string(o.n_predict) + " is out of range [0, 1048576]");
  o.sp.seed = o.seed >= 0 ? uint64_t(o.seed) : std::random_device{}();
  validate(o.sp);
  if (!o.chat && (!o.system_prompt.empty() || !o.chat_template.empty()))
    throw Error("--system and --chat-template need --chat");
  if (!o.chat_template.empty()) ChatTemplate::from_name_or_source(o.chat_template);  // fail before loading
}

// The model, its vocabulary and adapters, and the prompt as tokens.
struct LoadedRun {
  std::unique_ptr<LlamaModel> model;
  double load_ms = 0;
  Vocab vocab;
  std::vector<int32_t> prompt_tokens;
  std::string rendered, template_name;  // with --chat
  std::vector<LoraUse> loras;
};

static LoadedRun load_run(const RunOptions& o) {
  LoadedRun l;
  const double t_load = now_ms();
  l.model = load_model(o.model_path, o.quiet || o.json);
  l.load_ms = now_ms() - t_load;
  l.vocab = Vocab::from_gguf(l.model->gguf());
  const bool add_bos = l.vocab.add_bos() && !o.no_bos;
  l.prompt_tokens = o.chat ? chat_prompt_tokens(l.model->gguf(), l.vocab, o.prompt, o.system_prompt, o.chat_template,
                                                add_bos, l.rendered, l.template_name)
                           : l.vocab.tokenize(o.prompt, add_bos);
  if (l.prompt_tokens.empty()) throw Error("the prompt is empty; give -p TEXT or -f FILE");
  for (const auto& a : o.lora_args) l.loras.push_back(parse_lora_arg(a, *l.model));
  return l;
}

// The --json fields both ways of generating share.
static nlohmann::json result_json(const RunOptions& o, const LoadedRun& l, const std::vector<int32_t>& tokens,
                                  const std::string& text, const std::string& finish_reason) {
  nlohmann::json j;
  j["model"] = o.model_path;
  j["prompt"] = o.prompt;
  if (o.chat) {
    j["chat_template"] = l.template_name;
    j["rendered_prompt"] = l.rendered;
  }
  j["prompt_tokens"] = l.prompt_tokens;
  j["tokens"] = tokens;
  j["text"] = text;
  j["finish_reason"] = finish_reason;
  j["seed"] = o.sp.seed;
  return j;
}

static void print_json(const nlohmann::json& j) {
  std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

// Streams a generated token's text to stdout.
static bool print_piece(int32_t, std::string_view piece) {
  std::fwrite(piece.data(), 1, piece.size(), stdout);
  std::fflush(stdout);
  return true;
}

// The prompt before the streamed text; a chat answer is printed alone, without the template's markup.
static void echo_prompt(const RunOptions& o) {
  if (o.json || o.chat) return;
  std::fwrite(o.prompt.data(), 1, o.prompt.size(), stdout);
  std::fflush(stdout);
}

static verify::SpeculativeConfig speculative_config(const RunOptions& o, const LoadedRun& l) {
  verify::SpeculativeConfig cfg;
  cfg.loras = l.loras;  // the adapted model drafts; the output is still the server's model's
  cfg.url = o.spec.url;
  cfg.api_key = o.spec.api_key;
  cfg.draft_max = o.spec.draft_max;
  cfg.adaptive = !o.spec.draft_fixed;
  cfg.min_prob = o.spec.min_prob;
  cfg.pipeline = !o.spec.no_pipeline;
  cfg.read_timeout_s = o.spec.timeout_s;
  cfg.max_retries = o.spec.retries;
  cfg.n_threads = o.threads;
  cfg.n_ctx = o.n_ctx > 0 ? o.n_ctx : int32_t(l.prompt_tokens.size()) + o.n_predict + o.spec.draft_max + 2;
  return cfg;
}

static void print_speculative_summary(const verify::SpeculativeGeneration& r) {
  const auto& st = r.stats;
  std::fprintf(stderr,
               "\nspeculative: %zu tokens in %.1f ms, %lld rounds, %lld/%lld drafts accepted (%.1f %%), %lld cloud "
               "passes, %llu bytes sent, %llu received (%s)\n",
               r.tokens.size(), st.total_ms, (long long)st.rounds, (long long)st.accepted, (long long)st.drafted,
               100 * st.acceptance_rate(), (long long)st.cloud_forward_passes, (unsigned long long)st.bytes_sent,
               (unsigned long long)st.bytes_received, r.finish_reason.c_str());
}

// --verify-url: this model drafts, the server's model decides the output.
static void run_speculative(const RunOptions& o, const LoadedRun& l) {
  verify::SpeculativeSession session(*l.model, l.vocab, speculative_config(o, l));
  echo_prompt(o);
  const auto r = session.generate(l.prompt_tokens, o.sp, o.n_predict, o.json ? nullptr : print_piece, !o.ignore_eos);
  session.close();
  if (o.json) {
    const SamplerParams& sp = o.sp;
    nlohmann::json j = result_json(o, l, r.tokens, r.text, r.finish_reason);
    j["sampling"] = {{"temperature", sp.temperature}, {"top_k", sp.top_k}, {"top_p", sp.top_p}, {"min_p", sp.min_p}};
    j["speculative"] = stats_json(r, session.estimate(), session.server_model(), o.spec.url);
    j["timings"] = {{"load_ms", l.load_ms},
                    {"total_ms", r.stats.total_ms},
                    {"tokens_per_s", r.stats.total_ms > 0 ? r.tokens.size() * 1000.0 / r.stats.total_ms : 0.0}};
    print_json(j);
  } else {
    std::fputc('\n', stdout);
    if (!o.quiet) print_speculative_summary(r);
  }
  // Always said: the text after this token is the device model's alone.
  if (r.degraded_from >= 0)
    std::fprintf(stderr, "tandem run: degraded to the device model from token %lld: %s\n", (long long)r.degraded_from,
                 r.degraded_reason.c_str());
}

// The context for a plain run: the model's (at most 4096) or prompt + n tokens, whichever is larger.
static ContextParams plain_context_params(const RunOptions& o, const LoadedRun& l) {
  ContextParams cp;
  cp.n_threads = o.threads;
  const LlamaHparams& hp = l.model->hparams();
  const int64_t needed = int64_t(l.prompt_tokens.size()) + o.n_predict;
  cp.n_ctx = o.n_ctx > 0 ? o.n_ctx : int32_t(std::max<int64_t>(std::min(hp.n_ctx_train, 4096), needed));
  const double kv_gib = 4.0 * hp.n_layer * double(cp.n_ctx) * hp.kv_dim() / (1 << 30);
  if (kv_gib > 16)
    throw Error("a context of " + std::to_string(cp.n_ctx) + " tokens needs " + std::to_string(int(kv_gib)) +
                " GiB of KV cache; lower -n or -c");
  cp.n_outputs = 1;
  return cp;
}

// This model alone.
static void run_plain(const RunOptions& o, LoadedRun& l) {
  Context ctx(*l.model, plain_context_params(o, l));
  ctx.set_loras(std::move(l.loras));
  Sampler sampler(o.sp, l.model->hparams().n_vocab);
  GenerateOptions opt;
  opt.n_predict = o.n_predict;
  opt.stop_at_eog = !o.ignore_eos;
  std::optional<GrammarMatcher> matcher;
  if (o.grammar) {
    matcher.emplace(*o.grammar, GrammarVocab::build(l.vocab));
    opt.grammar = &*matcher;
  }
  echo_prompt(o);
  const GenerateResult r = generate(ctx, l.vocab, sampler, l.prompt_tokens, opt, o.json ? nullptr : print_piece);
  if (!o.json) std::fputc('\n', stdout);
  const double prefill_tps = r.prefill_ms > 0 ? l.prompt_tokens.size() * 1000.0 / r.prefill_ms : 0;
  if (o.json) {
    const SamplerParams& sp = o.sp;
    nlohmann::json j = result_json(o, l, r.tokens, r.text, r.finish_reason);
    j["sampling"] = {{"temperature", sp.temperature}, {"top_k", sp.top_k}, {"top_p", sp.top_p},
                     {"min_p", sp.min_p}, {"repeat_penalty", sp.repeat_penalty}};
    j["timings"] = {{"load_ms", l.load_ms},
                    {"prefill_ms", r.prefill_ms},
                    {"decode_ms", r.decode_ms},
                    {"prefill_tokens_per_s", prefill_tps},
                    {"decode_tokens_per_s", r.decode_tokens_per_s()}};
    if (o.grammar) {
      j["timings"]["grammar_ms"] = r.grammar_ms;
      j["timings"]["forced_tokens"] = r.forced_tokens;
    }
    print_json(j);
  } else if (!o.quiet) {
    std::fprintf(stderr, "\nprompt %zu tokens in %.1f ms (%.1f tok/s), generated %zu tokens at %.1f tok/s (%s)\n",
                 l.prompt_tokens.size(), r.prefill_ms, prefill_tps, r.tokens.size(), r.decode_tokens_per_s(),
                 r.finish_reason.c_str());
  }
}

int cmd_run(int argc, char** argv) {
  CLI::App app{"Generate text with a GGUF model", argv[0]};
  RunOptions o;
  add_run_options(app, o);
  CLI11_PARSE(app, argc, argv);
  try {
    complete_options(o);
    LoadedRun l = load_run(o);
    if (o.spec.url.empty()) run_plain(o, l);
    else run_speculative(o, l);
  } catch (const Error& e) {
    std::fprintf(stderr, "tandem run: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace tandem::tools
