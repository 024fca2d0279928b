#include "engine/chat_template.h"

#include <algorithm>
#include <cctype>

#include "engine/jinja.h"
#include "format/error.h"
#include "format/gguf.h"

namespace tandem {

enum class ChatTemplate::Kind : int {
  ChatMl,
  Llama2,
  Llama2Sys,
  Llama2SysBos,
  Llama2SysStrip,
  MistralV1,
  MistralV3,
  MistralV3Tekken,
  MistralV7,
  MistralV7Tekken,
  Phi3,
  Phi4,
  Falcon3,
  Zephyr,
  Monarch,
  Gemma,
  OpenChat,
  Vicuna,
  VicunaOrca,
  DeepSeek,
  DeepSeek3,
  CommandR,
  Llama3,
  GlmEdge,
  Granite,
  Llama4,
};

namespace {

using Kind = ChatTemplate::Kind;

struct Builtin {
  const char* name;
  Kind kind;
  const char* bos;  // the family's usual BOS / EOS token texts
  const char* eos;
};

// The templates apply() renders, by llama.cpp's names.
constexpr Builtin kBuiltins[] = {
    {"chatml", Kind::ChatMl, "<s>", "<|im_end|>"},
    {"llama2", Kind::Llama2, "<s>", "</s>"},
    {"llama2-sys", Kind::Llama2Sys, "<s>", "</s>"},
    {"llama2-sys-bos", Kind::Llama2SysBos, "<s>", "</s>"},
    {"llama2-sys-strip", Kind::Llama2SysStrip, "<s>", "</s>"},
    {"mistral-v1", Kind::MistralV1, "<s>", "</s>"},
    {"mistral-v3", Kind::MistralV3, "<s>", "</s>"},
    {"mistral-v3-tekken", Kind::MistralV3Tekken, "<s>", "</s>"},
    {"mistral-v7", Kind::MistralV7, "<s>", "</s>"},
    {"mistral-v7-tekken", Kind::MistralV7Tekken, "<s>", "</s>"},
    {"phi3", Kind::Phi3, "<s>", "<|endoftext|>"},
    {"phi4", Kind::Phi4, "<|endoftext|>", "<|im_end|>"},
    {"falcon3", Kind::Falcon3, "<|endoftext|>", "<|endoftext|>"},
    {"zephyr", Kind::Zephyr, "<s>", "<|endoftext|>"},
    {"monarch", Kind::Monarch, "<s>", "</s>"},
    {"gemma", Kind::Gemma, "<bos>", "<eos>"},
    {"openchat", Kind::OpenChat, "<s>", "<|end_of_turn|>"},
    {"vicuna", Kind::Vicuna, "<s>", "</s>"},
    {"vicuna-orca", Kind::VicunaOrca, "<s>", "</s>"},
    {"deepseek", Kind::DeepSeek, "<｜begin▁of▁sentence｜>", "<|EOT|>"},
    {"deepseek3", Kind::DeepSeek3, "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"},
    {"command-r", Kind::CommandR, "<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"},
    {"llama3", Kind::Llama3, "<|begin_of_text|>", "<|eot_id|>"},
    {"glmedge", Kind::GlmEdge, "", ""},
    {"granite", Kind::Granite, "", "<|end_of_text|>"},
    {"llama4", Kind::Llama4, "<|begin_of_text|>", "<|eot|>"},
};

// Names llama.cpp knows (and may detect) that tandem does not render.
constexpr const char* kUnrendered[] = {
    "smolvlm",  "chatglm3",  "chatglm4", "orion",  "deepseek2",   "minicpm",     "exaone3",
    "exaone4",  "rwkv-world", "gigachat", "megrez", "yandex",      "bailing",     "dots1",
    "hunyuan-moe", "hunyuan-dense", "kimi-k2",
};

const Builtin* find_builtin(std::string_view name) {
  for (const auto& b : kBuiltins)
    if (name == b.name) return &b;
  return nullptr;
}

// llama.cpp's llm_chat_detect_template: substring tests on the Jinja source, first match wins.
std::string detect_from_source(std::string_view t) {
  auto has = [t](std::string_view s) { return t.find(s) != std::string_view::npos; };
  if (has("<|im_start|>")) {
    if (has("<|im_sep|>")) return "phi4";
    if (has("<end_of_utterance>")) return "smolvlm";  // uses <|im_start|> as BOS but is not ChatML
    return "chatml";
  }
  if (t.starts_with("mistral") || has("[INST]")) {
    if (has("[SYSTEM_PROMPT]")) return "mistral-v7";
    // Mistral's official v1 template, and the v3 / v3-tekken ones (with tool support).
    if (has("' [INST] ' + system_message") || has("[AVAILABLE_TOOLS]")) {
      if (has(" [INST]")) return "mistral-v1";
      if (has("\"[INST]\"")) return "mistral-v3-tekken";
      return "mistral-v3";
    }
    // Llama 2 and its variants: system prompt support, BOS before every turn, stripped content.
    if (has("content.strip()")) return "llama2-sys-strip";
    if (has("bos_token + '[INST]")) return "llama2-sys-bos";
    if (has("<<SYS>>")) return "llama2-sys";
    return "llama2";
  }
  if (has("<|assistant|>") && has("<|end|>")) return "phi3";
  if (has("[gMASK]<sop>")) return "chatglm4";
  if (has("<|assistant|>") && has("<|user|>")) return has("</s>") ? "falcon3" : "glmedge";
  if (has("<|{{ item['role'] }}|>") && has("<|begin_of_image|>")) return "glmedge";
  if (has("<|user|>") && has("<|endoftext|>")) return "zephyr";
  if (has("bos_token + message['role']")) return "monarch";
  if (has("<start_of_turn>")) return "gemma";
  if (has("'\\n\\nAssistant: ' + eos_token")) return "orion";
  if (has("GPT4 Correct ")) return "openchat";
  if (has("USER: ") && has("ASSISTANT: ")) return has("SYSTEM: ") ? "vicuna-orca" : "vicuna";
  if (has("### Instruction:") && has("<|EOT|>")) return "deepseek";
  if (has("<|START_OF_TURN_TOKEN|>") && has("<|USER_TOKEN|>")) return "command-r";
  if (has("<|start_header_id|>") && has("<|end_header_id|>")) return "llama3";
  if (has("[gMASK]sop")) return "chatglm3";
  if (has("<用户>")) return "minicpm";
  if (has("'Assistant: ' + message['content'] + eos_token")) return "deepseek2";
  if (has("<｜Assistant｜>") && has("<｜User｜>") && has("<｜end▁of▁sentence｜>")) return "deepseek3";
  if (has("[|system|]") && has("[|assistant|]") && has("[|endofturn|]"))
    return has("[|tool|]") ? "exaone4" : "exaone3";
  if (has("rwkv-world") || has("{{- 'User: ' + message['content']|trim + '\\n\\n' -}}")) return "rwkv-world";
  if (has("<|start_of_role|>")) return "granite";
  if (has("message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]"))
    return "gigachat";
  if (has("<|role_start|>")) return "megrez";
  if (has(" Ассистент:")) return "yandex";
  if (has("<role>ASSISTANT</role>") && has("'HUMAN'")) return "bailing";
  if (has("<|header_start|>") && has("<|header_end|>")) return "llama4";
  if (has("<|endofuserprompt|>")) return "dots1";
  if (has("<|startoftext|>") && has("<|extra_4|>")) return "hunyuan-moe";
  if (has("<｜hy_place▁holder▁no▁2｜>") && has("<｜hy_place▁holder▁no▁3｜>")) return "hunyuan-dense";
  if (has("<|im_assistant|>assistant<|im_middle|>")) return "kimi-k2";
  return "";
}

std::string known_list() {
  std::string s;
  for (const auto& n : ChatTemplate::known_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// Python's str.strip() / Jinja's trim for ASCII whitespace.
std::string trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  size_t b = 0, e = s.size();
  while (b < e && ws(s[b])) ++b;
  while (e > b && ws(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

enum class Role { System, User, Assistant };

Role role_of(const ChatMessage& m) {
  if (m.role == "system") return Role::System;
  if (m.role == "user") return Role::User;
  if (m.role == "assistant") return Role::Assistant;
  throw Error("unknown chat role '" + m.role + "' (expected system, user or assistant)");
}

// The conversation split as templates with a separate system prompt see it: an optional first
// system message, then the turns. Checks every role.
struct Split {
  bool has_system = false;
  std::string_view system;
  std::span<const ChatMessage> turns;
};

Split split_system(std::span<const ChatMessage> msgs) {
  for (const auto& m : msgs) role_of(m);
  Split s;
  s.turns = msgs;
  if (!msgs.empty() && msgs[0].role == "system") {
    s.has_system = true;
    s.system = msgs[0].content;
    s.turns = msgs.subspan(1);
  }
  return s;
}

// The reference templates of these families raise an exception unless the turns after the
// optional system message go user, assistant, user, ...
void require_alternation(const Split& s, const std::string& name) {
  for (size_t i = 0; i < s.turns.size(); ++i) {
    const bool want_user = i % 2 == 0;
    if (s.turns[i].role != (want_user ? "user" : "assistant"))
      throw Error("the " + name +
                  " chat template needs turns that alternate user, assistant, user, ... after an optional "
                  "first system message (message " +
                  std::to_string(i + (s.has_system ? 1 : 0)) + " is '" + s.turns[i].role + "')");
  }
}

}  // namespace

ChatTemplate::ChatTemplate(Kind kind, std::string name) : kind_(kind), name_(std::move(name)) {
  const Builtin* b = find_builtin(name_);
  bos_ = b->bos;
  eos_ = b->eos;
}

std::vector<std::string> ChatTemplate::known_names() {
  std::vector<std::string> v;
  for (const auto& b : kBuiltins) v.emplace_back(b.name);
  std::sort(v.begin(), v.end());
  return v;
}

std::string ChatTemplate::detect(std::string_view name_or_source) {
  if (find_builtin(name_or_source)) return std::string(name_or_source);
  for (const char* n : kUnrendered)
    if (name_or_source == n) return n;
  return detect_from_source(name_or_source);
}

namespace {

bool looks_like_jinja(std::string_view s) {
  return s.find("{{") != std::string_view::npos || s.find("{%") != std::string_view::npos;
}

std::string shown_source(std::string_view source) {
  std::string shown(source.substr(0, 60));
  for (char& c : shown)
    if (c == '\n' || c == '\r') c = ' ';
  return shown + (source.size() > 60 ? "..." : "");
}

}  // namespace

ChatTemplate ChatTemplate::from_jinja(std::string_view source) {
  auto compiled = std::make_shared<const JinjaTemplate>(source);
  const std::string detected = detect_from_source(source);
  const Builtin* b = find_builtin(detected);
  ChatTemplate t(b ? b->kind : Kind::ChatMl, b ? b->name : "chatml");
  t.name_ = detected.empty() ? "jinja" : detected;
  if (!b) t.bos_ = t.eos_ = "";  // no family defaults: the model's texts (with_special_texts_of)
  t.jinja_ = std::move(compiled);
  return t;
}

ChatTemplate ChatTemplate::from_name_or_source(std::string_view name_or_source) {
  std::string syntax_error;
  if (!find_builtin(name_or_source) && looks_like_jinja(name_or_source)) {
    try {
      return from_jinja(name_or_source);
    } catch (const Error& e) {
      syntax_error = e.what();
    }
  }
  const std::string name = detect(name_or_source);
  if (name.empty())
    throw Error("unknown chat template '" + shown_source(name_or_source) + "'" +
                (syntax_error.empty() ? ": not a built-in name, nor a Jinja template recognized by its markers"
                                      : ": " + syntax_error + ", nor a template recognized by its markers") +
                "; known templates: " + known_list());
  const Builtin* b = find_builtin(name);
  if (!b)
    throw Error("the chat template is llama.cpp's '" + name + "', which tandem does not render" +
                (syntax_error.empty() ? "" : " (" + syntax_error + ")") + "; pass --chat-template NAME with one of: " +
                known_list());
  return ChatTemplate(b->kind, b->name);
}

ChatTemplate& ChatTemplate::with_special_texts(std::string_view bos, std::string_view eos) {
  bos_ = bos;
  eos_ = eos;
  return *this;
}

ChatTemplate& ChatTemplate::with_special_texts_of(const GgufFile& f) {
  const GgufValue* tokens = f.find("tokenizer.ggml.tokens");
  if (!tokens || tokens->type != GgufValueType::ARRAY || tokens->elem_type != GgufValueType::STRING) return *this;
  auto text = [&](std::string_view key) -> std::string_view {
    const auto id = f.opt_int(key);
    if (!id || *id < 0 || uint64_t(*id) >= tokens->strs.size()) return {};
    return tokens->strs[size_t(*id)];
  };
  // A model without one of the tokens keeps the family's default text.
  const std::string_view bos = text("tokenizer.ggml.bos_token_id"), eos = text("tokenizer.ggml.eos_token_id");
  if (!bos.empty()) bos_ = bos;
  if (!eos.empty()) eos_ = eos;
  return *this;
}

ChatTemplate ChatTemplate::from_gguf(const GgufFile& f) {
  const GgufValue* v = f.find("tokenizer.chat_template");
  if (!v || v->type != GgufValueType::STRING || v->str.empty())
    throw Error("the model has no chat template (no tokenizer.chat_template); pass --chat-template NAME with one of: " +
                known_list());
  ChatTemplate t = [&] {
    try {
      return from_name_or_source(v->str);
    } catch (const Error& e) {
      throw Error(std::string("the model's chat template (tokenizer.chat_template) cannot be rendered: ") + e.what() +
                  "; pass --chat-template NAME");
    }
  }();
  t.with_special_texts_of(f);
  return t;
}

std::string_view ChatTemplate::strip_leading_bos(std::string_view rendered, std::string_view bos_text,
                                                 bool tokenizer_adds_bos) {
  if (tokenizer_adds_bos && !bos_text.empty() && rendered.starts_with(bos_text)) rendered.remove_prefix(bos_text.size());
  return rendered;
}

namespace {

using Kind = ChatTemplate::Kind;

// The [INST] families. llama2: Mistral-7B-Instruct v0.1/v0.2 (BOS once, no system prompt
// support: the system text goes before the first user message, as llama.cpp does). llama2-sys:
// <<SYS>> block, BOS once. llama2-sys-bos: BOS before every [INST] (CodeLlama-Instruct).
// llama2-sys-strip: the same with stripped contents (Llama-2-chat). These have no generation
// prompt: a user turn already ends with [/INST].
std::string render_llama2(Kind kind, const std::string& name, std::span<const ChatMessage> msgs, const std::string& bos,
                          const std::string& eos) {
  const Split s = split_system(msgs);
  require_alternation(s, name);
  const bool sys_block = kind != Kind::Llama2;
  const bool bos_each = kind == Kind::Llama2SysBos || kind == Kind::Llama2SysStrip;
  const bool strip = kind == Kind::Llama2SysStrip;
  std::string out = bos_each ? "" : bos;
  for (size_t i = 0; i < s.turns.size(); ++i) {
    std::string content = s.turns[i].content;
    if (s.turns[i].role == "user") {
      if (i == 0 && s.has_system)
        content = sys_block ? "<<SYS>>\n" + std::string(s.system) + "\n<</SYS>>\n\n" + content
                            : std::string(s.system) + "\n" + content;
      if (strip) content = trim(content);
      out += (bos_each ? bos : "") + "[INST] " + content + " [/INST]";
    } else {
      if (strip) content = trim(content);
      out += sys_block ? " " + content + " " + eos : content + eos;
    }
  }
  return out;
}

// Mistral's official templates: v1 puts the system prompt in the first user message, v3 and
// v3-tekken in the last one (only if the conversation ends with a user message).
std::string render_mistral(Kind kind, const std::string& name, std::span<const ChatMessage> msgs,
                           const std::string& bos, const std::string& eos) {
  const Split s = split_system(msgs);
  require_alternation(s, name);
  std::string out = bos;
  for (size_t i = 0; i < s.turns.size(); ++i) {
    const std::string& c = s.turns[i].content;
    if (s.turns[i].role == "user") {
      const bool with_sys = s.has_system && (kind == Kind::MistralV1 ? i == 0 : i + 1 == s.turns.size());
      const std::string sys = with_sys ? std::string(s.system) + "\n\n" : "";
      if (kind == Kind::MistralV1) out += " [INST] " + sys + c + " [/INST]";
      else if (kind == Kind::MistralV3) out += "[INST] " + sys + c + "[/INST]";
      else out += "[INST]" + sys + c + "[/INST]";
    } else {
      if (kind == Kind::MistralV1) out += " " + c + eos;
      else if (kind == Kind::MistralV3) out += " " + trim(c) + eos;
      else out += c + eos;
    }
  }
  return out;
}

// Gemma 3's template: "assistant" is "model"; the system prompt (which Gemma has no turn for)
// opens the first user turn, followed by a blank line.
std::string render_gemma(const std::string& name, std::span<const ChatMessage> msgs, bool gen, const std::string& bos) {
  const Split s = split_system(msgs);
  require_alternation(s, name);
  std::string out = bos;
  for (size_t i = 0; i < s.turns.size(); ++i) {
    const bool user = s.turns[i].role == "user";
    out += std::string("<start_of_turn>") + (user ? "user" : "model") + "\n";
    if (i == 0 && s.has_system) out += std::string(s.system) + "\n\n";
    out += trim(s.turns[i].content) + "<end_of_turn>\n";
  }
  if (gen) out += "<start_of_turn>model\n";
  return out;
}

// Templates that open each message with a tag naming its role.
std::string render_role_tags(Kind kind, std::span<const ChatMessage> msgs, bool gen, const std::string& bos,
                             const std::string& eos) {
  std::string out;
  switch (kind) {
    case Kind::Phi3:  // Phi-3 / Phi-3.5 instruct
      for (const auto& m : msgs) {
        role_of(m);
        out += "<|" + m.role + "|>\n" + m.content + "<|end|>\n";
      }
      out += gen ? "<|assistant|>\n" : eos;
      break;

    case Kind::Falcon3:
      for (const auto& m : msgs) {
        role_of(m);
        out += "<|" + m.role + "|>\n" + m.content + "\n";
      }
      if (gen) out += "<|assistant|>\n";
      break;

    case Kind::Zephyr:
      for (const auto& m : msgs) {
        role_of(m);
        out += "<|" + m.role + "|>\n" + m.content + eos + "\n";
      }
      if (gen) out += "<|assistant|>\n";
      break;

    case Kind::Monarch:  // mlabonne/AlphaMonarch-7B (BOS text inside the history)
      for (size_t i = 0; i < msgs.size(); ++i) {
        role_of(msgs[i]);
        out += (i == 0 ? "" : bos) + msgs[i].role + "\n" + msgs[i].content + eos + "\n";
      }
      if (gen) out += bos + "assistant\n";
      break;

    case Kind::GlmEdge:
      for (const auto& m : msgs) {
        role_of(m);
        out += "<|" + m.role + "|>\n" + m.content;
      }
      if (gen) out += "<|assistant|>";
      break;
    default: break;
  }
  return out;
}

// Templates that put each message's role between start and end markers.
std::string render_role_headers(Kind kind, std::span<const ChatMessage> msgs, bool gen, const std::string& bos,
                                const std::string& eos) {
  std::string out;
  switch (kind) {
    case Kind::ChatMl:
      for (const auto& m : msgs) {
        role_of(m);
        out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
      }
      if (gen) out += "<|im_start|>assistant\n";
      break;

    case Kind::Phi4:
      for (const auto& m : msgs) {
        role_of(m);
        out += "<|im_start|>" + m.role + "<|im_sep|>" + m.content + "<|im_end|>";
      }
      if (gen) out += "<|im_start|>assistant<|im_sep|>";
      break;

    case Kind::Llama3:  // Meta-Llama-3-Instruct
      out += bos;
      for (const auto& m : msgs) {
        role_of(m);
        out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + trim(m.content) + "<|eot_id|>";
      }
      if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      break;

    case Kind::Granite:
      for (const auto& m : msgs) {
        role_of(m);
        out += "<|start_of_role|>" + m.role + "<|end_of_role|>" + m.content + "<|end_of_text|>\n";
      }
      if (gen) out += "<|start_of_role|>assistant<|end_of_role|>";
      break;

    case Kind::Llama4:
      for (const auto& m : msgs) {
        role_of(m);
        out += "<|header_start|>" + m.role + "<|header_end|>\n\n" + trim(m.content) + "<|eot|>";
      }
      if (gen) out += "<|header_start|>assistant<|header_end|>\n\n";
      break;
    default: break;
  }
  return out;
}

// Templates with a fixed prefix (and suffix) per role.
std::string render_role_prefixes(Kind kind, std::span<const ChatMessage> msgs, bool gen, const std::string& bos,
                                 const std::string& eos) {
  std::string out;
  switch (kind) {
    case Kind::MistralV7:
    case Kind::MistralV7Tekken: {
      const std::string sp = kind == Kind::MistralV7 ? " " : "";
      out += bos;
      for (const auto& m : msgs) {
        switch (role_of(m)) {
          case Role::System: out += "[SYSTEM_PROMPT]" + sp + m.content + "[/SYSTEM_PROMPT]"; break;
          case Role::User: out += "[INST]" + sp + m.content + "[/INST]"; break;
          case Role::Assistant: out += sp + m.content + eos; break;
        }
      }
      break;
    }

    case Kind::OpenChat:  // openchat-3.5 as llama.cpp renders it (system text as its own turn)
      for (const auto& m : msgs) {
        switch (role_of(m)) {
          case Role::System: out += m.content + "<|end_of_turn|>"; break;
          case Role::User: out += "GPT4 Correct User: " + m.content + "<|end_of_turn|>"; break;
          case Role::Assistant: out += "GPT4 Correct Assistant: " + m.content + "<|end_of_turn|>"; break;
        }
      }
      if (gen) out += "GPT4 Correct Assistant:";
      break;

    case Kind::Vicuna:
    case Kind::VicunaOrca:
      for (const auto& m : msgs) {
        switch (role_of(m)) {
          case Role::System:
            out += kind == Kind::VicunaOrca ? "SYSTEM: " + m.content + "\n" : m.content + "\n\n";
            break;
          case Role::User: out += "USER: " + m.content + "\n"; break;
          case Role::Assistant: out += "ASSISTANT: " + m.content + "</s>\n"; break;
        }
      }
      if (gen) out += "ASSISTANT:";
      break;

    case Kind::DeepSeek:  // deepseek-coder-instruct
      for (const auto& m : msgs) {
        switch (role_of(m)) {
          case Role::System: out += m.content; break;
          case Role::User: out += "### Instruction:\n" + m.content + "\n"; break;
          case Role::Assistant: out += "### Response:\n" + m.content + "\n<|EOT|>\n"; break;
        }
      }
      if (gen) out += "### Response:\n";
      break;

    case Kind::DeepSeek3:
      for (const auto& m : msgs) {
        switch (role_of(m)) {
          case Role::System: out += m.content + "\n\n"; break;
          case Role::User: out += "<｜User｜>" + m.content; break;
          case Role::Assistant: out += "<｜Assistant｜>" + m.content + "<｜end▁of▁sentence｜>"; break;
        }
      }
      if (gen) out += "<｜Assistant｜>";
      break;

    case Kind::CommandR:
      for (const auto& m : msgs) {
        static constexpr const char* kTok[] = {"<|SYSTEM_TOKEN|>", "<|USER_TOKEN|>", "<|CHATBOT_TOKEN|>"};
        out += std::string("<|START_OF_TURN_TOKEN|>") + kTok[int(role_of(m))] + trim(m.content) + "<|END_OF_TURN_TOKEN|>";
      }
      if (gen) out += "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>";
      break;
    default: break;
  }
  return out;
}

}  // namespace

std::string ChatTemplate::apply(std::span<const ChatMessage> msgs, bool gen) const {
  if (jinja_) {
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    for (const auto& m : msgs) messages.push_back({{"role", m.role}, {"content", m.content}});
    const nlohmann::ordered_json context = {
        {"messages", std::move(messages)}, {"add_generation_prompt", gen}, {"bos_token", bos_}, {"eos_token", eos_}};
    return jinja_->render(context);
  }
  switch (kind_) {
    case Kind::Llama2:
    case Kind::Llama2Sys:
    case Kind::Llama2SysBos:
    case Kind::Llama2SysStrip: return render_llama2(kind_, name_, msgs, bos_, eos_);
    case Kind::MistralV1:
    case Kind::MistralV3:
    case Kind::MistralV3Tekken: return render_mistral(kind_, name_, msgs, bos_, eos_);
    case Kind::Gemma: return render_gemma(name_, msgs, gen, bos_);
    case Kind::MistralV7:
    case Kind::MistralV7Tekken:
    case Kind::OpenChat:
    case Kind::Vicuna:
    case Kind::VicunaOrca:
    case Kind::DeepSeek:
    case Kind::DeepSeek3:
    case Kind::CommandR:
      return render_role_prefixes(kind_, msgs, gen, bos_, eos_);
    case Kind::Phi3:
    case Kind::Falcon3:
    case Kind::Zephyr:
    case Kind::Monarch:
    case Kind::GlmEdge:
      return render_role_tags(kind_, msgs, gen, bos_, eos_);
    case Kind::ChatMl:
    case Kind::Phi4:
    case Kind::Llama3:
    case Kind::Granite:
    case Kind::Llama4:
      return render_role_headers(kind_, msgs, gen, bos_, eos_);
  }
  return "";
}

}  // namespace tandem
