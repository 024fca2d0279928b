// Chat templates: exact renderings for every built-in template, recognition of real models' Jinja
// templates by llama.cpp's rules, and llama.cpp's own expected renderings of its test conversation
// (tests/test-chat-template.cpp in llama.cpp) as an outside reference.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "engine/chat_template.h"
#include "format/error.h"

using namespace tandem;

namespace {

const std::vector<ChatMessage> kWithSystem = {{"system", "You are a helpful assistant."},
                                              {"user", "Hello"},
                                              {"assistant", "Hi there!"},
                                              {"user", "Tell me a joke."}};
const std::vector<ChatMessage> kNoSystem = {{"user", "Hello"}, {"assistant", "Hi there!"}, {"user", "Tell me a joke."}};

struct Expected {
  const char* name;
  std::string with_system, without_system;  // with the generation prompt, default BOS/EOS texts
};

// What each template renders for kWithSystem / kNoSystem. For the main families this is the
// output of the family's reference Jinja template (Llama-2-chat, CodeLlama-Instruct, Mistral's
// v1/v3/v3-tekken/v7 templates, Meta-Llama-3-Instruct, Phi-3.5-mini, Gemma 3, Zephyr), worked
// out by hand from the templates; the rest follow llama.cpp's built-in renderer.
const Expected kExpected[] = {
    {"chatml",
     "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there!<|im_end|>\n<|im_start|>user\nTell me a joke.<|im_end|>\n<|im_start|>assistant\n",
     "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there!<|im_end|>\n<|im_start|>user\nTell me a joke.<|im_end|>\n<|im_start|>assistant\n"},
    {"llama2",
     "<s>[INST] You are a helpful assistant.\nHello [/INST]Hi there!</s>[INST] Tell me a joke. [/INST]",
     "<s>[INST] Hello [/INST]Hi there!</s>[INST] Tell me a joke. [/INST]"},
    {"llama2-sys",
     "<s>[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nHello [/INST] Hi there! </s>[INST] Tell me a joke. [/INST]",
     "<s>[INST] Hello [/INST] Hi there! </s>[INST] Tell me a joke. [/INST]"},
    {"llama2-sys-bos",
     "<s>[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nHello [/INST] Hi there! </s><s>[INST] Tell me a joke. [/INST]",
     "<s>[INST] Hello [/INST] Hi there! </s><s>[INST] Tell me a joke. [/INST]"},
    {"llama2-sys-strip",
     "<s>[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nHello [/INST] Hi there! </s><s>[INST] Tell me a joke. [/INST]",
     "<s>[INST] Hello [/INST] Hi there! </s><s>[INST] Tell me a joke. [/INST]"},
    {"mistral-v1",
     "<s> [INST] You are a helpful assistant.\n\nHello [/INST] Hi there!</s> [INST] Tell me a joke. [/INST]",
     "<s> [INST] Hello [/INST] Hi there!</s> [INST] Tell me a joke. [/INST]"},
    {"mistral-v3",
     "<s>[INST] Hello[/INST] Hi there!</s>[INST] You are a helpful assistant.\n\nTell me a joke.[/INST]",
     "<s>[INST] Hello[/INST] Hi there!</s>[INST] Tell me a joke.[/INST]"},
    {"mistral-v3-tekken",
     "<s>[INST]Hello[/INST]Hi there!</s>[INST]You are a helpful assistant.\n\nTell me a joke.[/INST]",
     "<s>[INST]Hello[/INST]Hi there!</s>[INST]Tell me a joke.[/INST]"},
    {"mistral-v7",
     "<s>[SYSTEM_PROMPT] You are a helpful assistant.[/SYSTEM_PROMPT][INST] Hello[/INST] Hi there!</s>[INST] Tell me a joke.[/INST]",
     "<s>[INST] Hello[/INST] Hi there!</s>[INST] Tell me a joke.[/INST]"},
    {"mistral-v7-tekken",
     "<s>[SYSTEM_PROMPT]You are a helpful assistant.[/SYSTEM_PROMPT][INST]Hello[/INST]Hi there!</s>[INST]Tell me a joke.[/INST]",
     "<s>[INST]Hello[/INST]Hi there!</s>[INST]Tell me a joke.[/INST]"},
    {"phi3",
     "<|system|>\nYou are a helpful assistant.<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there!<|end|>\n<|user|>\nTell me a joke.<|end|>\n<|assistant|>\n",
     "<|user|>\nHello<|end|>\n<|assistant|>\nHi there!<|end|>\n<|user|>\nTell me a joke.<|end|>\n<|assistant|>\n"},
    {"phi4",
     "<|im_start|>system<|im_sep|>You are a helpful assistant.<|im_end|><|im_start|>user<|im_sep|>Hello<|im_end|><|im_start|>assistant<|im_sep|>Hi there!<|im_end|><|im_start|>user<|im_sep|>Tell me a joke.<|im_end|><|im_start|>assistant<|im_sep|>",
     "<|im_start|>user<|im_sep|>Hello<|im_end|><|im_start|>assistant<|im_sep|>Hi there!<|im_end|><|im_start|>user<|im_sep|>Tell me a joke.<|im_end|><|im_start|>assistant<|im_sep|>"},
    {"falcon3",
     "<|system|>\nYou are a helpful assistant.\n<|user|>\nHello\n<|assistant|>\nHi there!\n<|user|>\nTell me a joke.\n<|assistant|>\n",
     "<|user|>\nHello\n<|assistant|>\nHi there!\n<|user|>\nTell me a joke.\n<|assistant|>\n"},
    {"zephyr",
     "<|system|>\nYou are a helpful assistant.<|endoftext|>\n<|user|>\nHello<|endoftext|>\n<|assistant|>\nHi there!<|endoftext|>\n<|user|>\nTell me a joke.<|endoftext|>\n<|assistant|>\n",
     "<|user|>\nHello<|endoftext|>\n<|assistant|>\nHi there!<|endoftext|>\n<|user|>\nTell me a joke.<|endoftext|>\n<|assistant|>\n"},
    {"monarch",
     "system\nYou are a helpful assistant.</s>\n<s>user\nHello</s>\n<s>assistant\nHi there!</s>\n<s>user\nTell me a joke.</s>\n<s>assistant\n",
     "user\nHello</s>\n<s>assistant\nHi there!</s>\n<s>user\nTell me a joke.</s>\n<s>assistant\n"},
    {"gemma",
     "<bos><start_of_turn>user\nYou are a helpful assistant.\n\nHello<end_of_turn>\n<start_of_turn>model\nHi there!<end_of_turn>\n<start_of_turn>user\nTell me a joke.<end_of_turn>\n<start_of_turn>model\n",
     "<bos><start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\nHi there!<end_of_turn>\n<start_of_turn>user\nTell me a joke.<end_of_turn>\n<start_of_turn>model\n"},
    {"openchat",
     "You are a helpful assistant.<|end_of_turn|>GPT4 Correct User: Hello<|end_of_turn|>GPT4 Correct Assistant: Hi there!<|end_of_turn|>GPT4 Correct User: Tell me a joke.<|end_of_turn|>GPT4 Correct Assistant:",
     "GPT4 Correct User: Hello<|end_of_turn|>GPT4 Correct Assistant: Hi there!<|end_of_turn|>GPT4 Correct User: Tell me a joke.<|end_of_turn|>GPT4 Correct Assistant:"},
    {"vicuna",
     "You are a helpful assistant.\n\nUSER: Hello\nASSISTANT: Hi there!</s>\nUSER: Tell me a joke.\nASSISTANT:",
     "USER: Hello\nASSISTANT: Hi there!</s>\nUSER: Tell me a joke.\nASSISTANT:"},
    {"vicuna-orca",
     "SYSTEM: You are a helpful assistant.\nUSER: Hello\nASSISTANT: Hi there!</s>\nUSER: Tell me a joke.\nASSISTANT:",
     "USER: Hello\nASSISTANT: Hi there!</s>\nUSER: Tell me a joke.\nASSISTANT:"},
    {"deepseek",
     "You are a helpful assistant.### Instruction:\nHello\n### Response:\nHi there!\n<|EOT|>\n### Instruction:\nTell me a joke.\n### Response:\n",
     "### Instruction:\nHello\n### Response:\nHi there!\n<|EOT|>\n### Instruction:\nTell me a joke.\n### Response:\n"},
    {"deepseek3",
     "You are a helpful assistant.\n\n<｜User｜>Hello<｜Assistant｜>Hi there!<｜end▁of▁sentence｜><｜User｜>Tell me a joke.<｜Assistant｜>",
     "<｜User｜>Hello<｜Assistant｜>Hi there!<｜end▁of▁sentence｜><｜User｜>Tell me a joke.<｜Assistant｜>"},
    {"command-r",
     "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>You are a helpful assistant.<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hello<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>Hi there!<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Tell me a joke.<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>",
     "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hello<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>Hi there!<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Tell me a joke.<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"},
    {"llama3",
     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nTell me a joke.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
     "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nTell me a joke.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"glmedge",
     "<|system|>\nYou are a helpful assistant.<|user|>\nHello<|assistant|>\nHi there!<|user|>\nTell me a joke.<|assistant|>",
     "<|user|>\nHello<|assistant|>\nHi there!<|user|>\nTell me a joke.<|assistant|>"},
    {"granite",
     "<|start_of_role|>system<|end_of_role|>You are a helpful assistant.<|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Hello<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>Hi there!<|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Tell me a joke.<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>",
     "<|start_of_role|>user<|end_of_role|>Hello<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>Hi there!<|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Tell me a joke.<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>"},
    {"llama4",
     "<|header_start|>system<|header_end|>\n\nYou are a helpful assistant.<|eot|><|header_start|>user<|header_end|>\n\nHello<|eot|><|header_start|>assistant<|header_end|>\n\nHi there!<|eot|><|header_start|>user<|header_end|>\n\nTell me a joke.<|eot|><|header_start|>assistant<|header_end|>\n\n",
     "<|header_start|>user<|header_end|>\n\nHello<|eot|><|header_start|>assistant<|header_end|>\n\nHi there!<|eot|><|header_start|>user<|header_end|>\n\nTell me a joke.<|eot|><|header_start|>assistant<|header_end|>\n\n"},
};

std::string fail_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(ChatTemplate, RendersEveryTemplateExactly) {
  std::set<std::string> covered;
  for (const auto& e : kExpected) {
    SCOPED_TRACE(e.name);
    const ChatTemplate t = ChatTemplate::from_name_or_source(e.name);
    EXPECT_EQ(t.name(), e.name);
    EXPECT_EQ(t.apply(kWithSystem, true), e.with_system);
    EXPECT_EQ(t.apply(kNoSystem, true), e.without_system);
    covered.insert(e.name);
  }
  const auto names = ChatTemplate::known_names();
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), covered) << "a known template without a test";
}

TEST(ChatTemplate, GenerationPromptIsTheAssistantOpening) {
  const std::vector<ChatMessage> conv = {{"user", "Hi"}};
  struct Case {
    const char* name;
    std::string without, with;
  } cases[] = {
      {"chatml", "<|im_start|>user\nHi<|im_end|>\n", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"},
      {"llama3", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
       "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
      {"gemma", "<bos><start_of_turn>user\nHi<end_of_turn>\n", "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"},
      // Phi-3.5's template ends a conversation without a generation prompt with the EOS text.
      {"phi3", "<|user|>\nHi<|end|>\n<|endoftext|>", "<|user|>\nHi<|end|>\n<|assistant|>\n"},
      // Llama 2 and Mistral templates have no generation prompt: [/INST] opens the answer.
      {"llama2-sys-strip", "<s>[INST] Hi [/INST]", "<s>[INST] Hi [/INST]"},
      {"mistral-v7", "<s>[INST] Hi[/INST]", "<s>[INST] Hi[/INST]"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const ChatTemplate t = ChatTemplate::from_name_or_source(c.name);
    EXPECT_EQ(t.apply(conv, false), c.without);
    EXPECT_EQ(t.apply(conv, true), c.with);
  }
}

TEST(ChatTemplate, ContentWhitespaceAsTheReferenceTemplates) {
  const std::vector<ChatMessage> conv = {{"user", "  Hello \n"}, {"assistant", " Hi! "}, {"user", "Q"}};
  // Llama-2-chat strips contents (content.strip()), CodeLlama's variant as llama.cpp names it does not.
  EXPECT_EQ(ChatTemplate::from_name_or_source("llama2-sys-strip").apply(conv, true),
            "<s>[INST] Hello [/INST] Hi! </s><s>[INST] Q [/INST]");
  EXPECT_EQ(ChatTemplate::from_name_or_source("llama2-sys-bos").apply(conv, true),
            "<s>[INST]   Hello \n [/INST]  Hi!  </s><s>[INST] Q [/INST]");
  // Llama 3 and Gemma trim every content; ChatML keeps it.
  EXPECT_EQ(ChatTemplate::from_name_or_source("llama3").apply(std::vector<ChatMessage>{{"user", " x\n"}}, false),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nx<|eot_id|>");
  EXPECT_EQ(ChatTemplate::from_name_or_source("gemma").apply(std::vector<ChatMessage>{{"user", " x\n"}}, false),
            "<bos><start_of_turn>user\nx<end_of_turn>\n");
  EXPECT_EQ(ChatTemplate::from_name_or_source("chatml").apply(std::vector<ChatMessage>{{"user", " x\n"}}, false),
            "<|im_start|>user\n x\n<|im_end|>\n");
}

TEST(ChatTemplate, SpecialTextsReplaceBosAndEos) {
  ChatTemplate t = ChatTemplate::from_name_or_source("zephyr");
  EXPECT_EQ(t.bos_text(), "<s>");
  EXPECT_EQ(t.eos_text(), "<|endoftext|>");
  t.with_special_texts("<s>", "</s>");  // zephyr-7b-beta's and TinyLlama's EOS
  EXPECT_EQ(t.apply(std::vector<ChatMessage>{{"user", "Hi"}}, true), "<|user|>\nHi</s>\n<|assistant|>\n");
  ChatTemplate l = ChatTemplate::from_name_or_source("llama2-sys-strip");
  l.with_special_texts("", "");
  EXPECT_EQ(l.apply(kNoSystem, true), "[INST] Hello [/INST] Hi there! [INST] Tell me a joke. [/INST]");
}

TEST(ChatTemplate, StripLeadingBosAvoidsADoubleBos) {
  EXPECT_EQ(ChatTemplate::strip_leading_bos("<s>[INST] Hi [/INST]", "<s>", true), "[INST] Hi [/INST]");
  EXPECT_EQ(ChatTemplate::strip_leading_bos("<s>[INST] Hi [/INST]", "<s>", false), "<s>[INST] Hi [/INST]");
  EXPECT_EQ(ChatTemplate::strip_leading_bos("<|im_start|>user", "<s>", true), "<|im_start|>user");
  EXPECT_EQ(ChatTemplate::strip_leading_bos("<s><s>x", "<s>", true), "<s>x");  // only one
  EXPECT_EQ(ChatTemplate::strip_leading_bos("x", "", true), "x");
}

TEST(ChatTemplate, ClearErrors) {
  EXPECT_NE(fail_message([] { ChatTemplate::from_name_or_source("no-such-template"); })
                .find("unknown chat template 'no-such-template'"),
            std::string::npos);
  // A Jinja source that does not parse and is not recognized either: the syntax error and the
  // built-in names.
  const std::string e = fail_message([] { ChatTemplate::from_name_or_source("{{ messages | tojson }"); });
  EXPECT_NE(e.find("known templates: chatml,"), std::string::npos) << e;
  EXPECT_NE(e.find("llama2-sys-strip"), std::string::npos) << e;
  EXPECT_NE(e.find("template syntax error at line 1"), std::string::npos) << e;
  // A name llama.cpp knows but tandem has no built-in renderer for.
  EXPECT_NE(fail_message([] { ChatTemplate::from_name_or_source("chatglm3"); }).find("'chatglm3'"), std::string::npos);
  // A Jinja source is rendered by the interpreter, even where no built-in template matches it;
  // the name is still llama.cpp's.
  const ChatTemplate glm = ChatTemplate::from_name_or_source(
      "{% for message in messages %}{% if loop.first %}[gMASK]sop<|{{ message['role'] }}|>\\n "
      "{{ message['content'] }}{% endif %}{% endfor %}");
  EXPECT_TRUE(glm.is_jinja());
  EXPECT_EQ(glm.name(), "chatglm3");
  EXPECT_EQ(glm.apply(std::vector<ChatMessage>{{"user", "hi"}}, true), "[gMASK]sop<|user|>\\n hi");

  const ChatTemplate chatml = ChatTemplate::from_name_or_source("chatml");
  const std::vector<ChatMessage> bad_role = {{"user", "hi"}, {"tool", "42"}};
  EXPECT_NE(fail_message([&] { chatml.apply(bad_role, true); }).find("unknown chat role 'tool'"), std::string::npos);
  const std::vector<ChatMessage> two_users = {{"system", "s"}, {"user", "a"}, {"user", "b"}};
  for (const char* name : {"llama2", "llama2-sys-strip", "mistral-v1", "mistral-v3", "gemma"}) {
    const std::string m = fail_message([&] { ChatTemplate::from_name_or_source(name).apply(two_users, true); });
    EXPECT_NE(m.find("alternate user, assistant"), std::string::npos) << name << ": " << m;
    EXPECT_NE(m.find("message 2 is 'user'"), std::string::npos) << name << ": " << m;
  }
  const std::vector<ChatMessage> late_system = {{"user", "a"}, {"system", "s"}};
  EXPECT_NE(fail_message([&] { ChatTemplate::from_name_or_source("gemma").apply(late_system, true); }).find("alternate"),
            std::string::npos);
  EXPECT_EQ(chatml.apply(two_users, false), "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\na<|im_end|>\n<|im_start|>user\nb<|im_end|>\n");
}

// Jinja templates as models ship them in tokenizer_config.json (`chat_template`), some shortened
// where the tool-calling parts do not matter, and the name llama.cpp's detection gives them.
TEST(ChatTemplate, RecognizesRealJinjaTemplates) {
  struct Case {
    const char* model;
    const char* expect;
    const char* source;
  } cases[] = {
      {"teknium/OpenHermes-2.5-Mistral-7B", "chatml",
       R"({% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %})"},
      {"Qwen/Qwen2.5-0.5B-Instruct (shortened)", "chatml",
       R"({%- if messages[0]['role'] == 'system' %}
    {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
{%- else %}
    {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
)"},
      {"mistralai/Mistral-7B-Instruct-v0.2 (original)", "llama2",
       R"({{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %})"},
      {"a Llama 2 fine-tune with <<SYS>> and one BOS", "llama2-sys",
       R"({{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = '<<SYS>>\n' + messages[0]['content'] + '\n<</SYS>>\n\n' %}{% else %}{% set loop_messages = messages %}{% set system_message = '' %}{% endif %}{% for message in loop_messages %}{% if message['role'] == 'user' %}{% if loop.first %}{{ '[INST] ' + system_message + message['content'] + ' [/INST]' }}{% else %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endif %}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %})"},
      {"codellama/CodeLlama-7b-Instruct-hf", "llama2-sys-bos",
       R"({% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content | trim + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content | trim + ' ' + eos_token }}{% endif %}{% endfor %})"},
      {"meta-llama/Llama-2-7b-chat-hf", "llama2-sys-strip",
       R"({% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %})"},
      {"mistralai/Mistral-7B-Instruct-v0.1 (v1 template)", "mistral-v1",
       R"({%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
)"},
      {"mistralai/Mistral-7B-Instruct-v0.3 (shortened)", "mistral-v3",
       R"({%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}
{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS] [" }}
            {%- for tool in tools %}{{- tool.function|tojson }}{%- if not loop.last %}{{- ", " }}{%- endif %}{%- endfor %}
            {{- "][/AVAILABLE_TOOLS]" }}
        {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message["role"] == "assistant" %}
        {{- " " + message["content"]|trim + eos_token}}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
)"},
      {"mistralai/Mistral-Nemo-Instruct-2407 (shortened)", "mistral-v3-tekken",
       R"({%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS][" }}{{- tools|tojson }}{{- "][/AVAILABLE_TOOLS]" }}
        {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST]" + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST]" + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message["role"] == "assistant" %}
        {{- message["content"] + eos_token}}
    {%- endif %}
{%- endfor %}
)"},
      {"mistralai/Mistral-Large-Instruct-2411", "mistral-v7",
       R"({{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + '[/INST]' }}{% elif message['role'] == 'system' %}{{ '[SYSTEM_PROMPT] ' + message['content'] + '[/SYSTEM_PROMPT]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}{% else %}{{ raise_exception('Only user, system and assistant roles are supported!') }}{% endif %}{% endfor %})"},
      // llama.cpp detects v7-tekken only by name: Mistral Small 3.1's template reads as mistral-v7.
      {"mistralai/Mistral-Small-3.1-24B-Instruct-2503 (shortened)", "mistral-v7",
       R"({{- bos_token }}{%- for message in loop_messages %}{%- if message['role'] == 'user' %}{{- '[INST]' + message['content'] + '[/INST]' }}{%- elif message['role'] == 'system' %}{{- '[SYSTEM_PROMPT]' + message['content'] + '[/SYSTEM_PROMPT]' }}{%- elif message['role'] == 'assistant' %}{{- message['content'] + eos_token }}{%- endif %}{%- endfor %})"},
      {"microsoft/Phi-3.5-mini-instruct", "phi3",
       R"({% for message in messages %}{% if message['role'] == 'system' and message['content'] %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %})"},
      {"microsoft/phi-4", "phi4",
       R"({% for message in messages %}{% if (message['role'] == 'system') %}{{'<|im_start|>system<|im_sep|>' + message['content'] + '<|im_end|>'}}{% elif (message['role'] == 'user') %}{{'<|im_start|>user<|im_sep|>' + message['content'] + '<|im_end|><|im_start|>assistant<|im_sep|>'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|im_end|>'}}{% endif %}{% endfor %})"},
      {"tiiuae/Falcon3-1B-Instruct (shortened)", "falcon3",
       R"({%- for message in messages %}{%- if message['role'] == 'system' %}{{- '<|system|>\n' + message['content'] + '\n' }}{%- elif message['role'] == 'user' %}{{- '<|user|>\n' + message['content'] + '\n' }}{%- elif message['role'] == 'assistant' %}{{- '<|assistant|>\n' + message['content'] + '</s>\n' }}{%- endif %}{%- endfor %}{%- if add_generation_prompt %}{{- '<|assistant|>\n' }}{%- endif %})"},
      // llama.cpp's zephyr test: <|user|> and <|endoftext|> spelled out, the other roles not.
      {"a StableLM-2-Zephyr-style template", "zephyr",
       R"({% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + '<|endoftext|>\n' }}{% else %}{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|endoftext|>\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|' + 'assistant' + '|>\n' }}{% endif %})"},
      // ... while zephyr-7b-beta's own template (also TinyLlama-Chat's) spells out <|assistant|>
      // and <|user|> and reads as glmedge under llama.cpp's rules; tandem follows them.
      {"HuggingFaceH4/zephyr-7b-beta", "glmedge",
       R"({% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>
'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %})"},
      {"mlabonne/AlphaMonarch-7B", "monarch",
       R"({% for message in messages %}{{bos_token + message['role'] + '\n' + message['content'] + eos_token + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ bos_token + 'assistant\n' }}{% endif %})"},
      {"google/gemma-2-2b-it", "gemma",
       R"({{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %})"},
      {"google/gemma-3-1b-it (shortened)", "gemma",
       R"({{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'assistant') -%}{%- set role = "model" -%}{%- else -%}{%- set role = message['role'] -%}{%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {{ message['content'] | trim }}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
)"},
      {"openchat/openchat-3.5-0106", "openchat",
       R"({{ bos_token }}{% for message in messages %}{{ 'GPT4 Correct ' + message['role'].title() + ': ' + message['content'] + '<|end_of_turn|>'}}{% endfor %}{% if add_generation_prompt %}{{ 'GPT4 Correct Assistant:' }}{% endif %})"},
      {"eachadea/vicuna-13b-1.1 (as set by hand)", "vicuna",
       R"({%- for message in messages %}{%- if message['role'] == 'system' -%}{{- '' + message['content'] + '\n\n' -}}{%- else -%}{%- if message['role'] == 'user' -%}{{-'USER: ' + message['content'] + '\n'-}}{%- else -%}{{-'ASSISTANT: ' + message['content'] + '</s>\n' -}}{%- endif -%}{%- endif -%}{%- endfor -%}{%- if add_generation_prompt -%}{{-'ASSISTANT:'-}}{%- endif -%})"},
      {"Orca-Vicuna", "vicuna-orca",
       R"({%- for message in messages %}{%- if message['role'] == 'system' -%}{{-'SYSTEM: ' + message['content'] + '\n' -}}{%- else -%}{%- if message['role'] == 'user' -%}{{-'USER: ' + message['content'] + '\n'-}}{%- else -%}{{-'ASSISTANT: ' + message['content'] + '</s>\n' -}}{%- endif -%}{%- endif -%}{%- endfor -%}{%- if add_generation_prompt -%}{{-'ASSISTANT:'-}}{%- endif -%})"},
      {"deepseek-ai/deepseek-coder-6.7b-instruct (shortened)", "deepseek",
       R"({%- for message in messages %}
    {%- if message['role'] == 'system' %}
{{ message['content'] }}
    {%- else %}
        {%- if message['role'] == 'user' %}
{{'### Instruction:\n' + message['content'] + '\n'}}
        {%- else %}
{{'### Response:\n' + message['content'] + '\n<|EOT|>\n'}}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{% if add_generation_prompt %}
{{'### Response:'}}
{% endif %})"},
      {"deepseek-ai/DeepSeek-R1-Distill (shortened)", "deepseek3",
       R"({{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}{%- if message['role'] == 'user' %}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' %}{{'<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor %}{% if add_generation_prompt %}{{'<｜Assistant｜>'}}{% endif %})"},
      {"CohereForAI/c4ai-command-r-v01 (shortened)", "command-r",
       R"({{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% if system_message != false %}{{ '<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>' + system_message + '<|END_OF_TURN_TOKEN|>' }}{% endif %}{% for message in loop_messages %}{% set content = message['content'] %}{% if message['role'] == 'user' %}{{ '<|START_OF_TURN_TOKEN|><|USER_TOKEN|>' + content.strip() + '<|END_OF_TURN_TOKEN|>' }}{% elif message['role'] == 'assistant' %}{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>'  + content.strip() + '<|END_OF_TURN_TOKEN|>' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' }}{% endif %})"},
      {"meta-llama/Meta-Llama-3-8B-Instruct", "llama3",
       R"({% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>

'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>

' }}{% endif %})"},
      {"meta-llama/Llama-3.2-1B-Instruct (shortened)", "llama3",
       R"({{- bos_token }}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{{- system_message }}
{{- "<|eot_id|>" }}
{%- for message in messages %}
    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
)"},
      {"THUDM/glm-edge-1.5b-chat", "glmedge",
       R"({% for item in messages %}{% if item['role'] == 'system' %}<|system|>
{{ item['content'] }}{% elif item['role'] == 'user' %}<|user|>
{{ item['content'] }}{% elif item['role'] == 'assistant' %}<|assistant|>
{{ item['content'] }}{% endif %}{% endfor %}<|assistant|>)"},
      {"ibm-granite/granite-3.0-8b-instruct (shortened)", "granite",
       R"({%- for message in messages %}
    {%- if message['role'] == 'system' %}
    {{- '<|start_of_role|>system<|end_of_role|>' + message['content'] + '<|end_of_text|>\n' }}
    {%- elif message['role'] == 'user' %}
    {{- '<|start_of_role|>user<|end_of_role|>' + message['content'] + '<|end_of_text|>\n' }}
    {%- elif message['role'] == 'assistant' %}
    {{- '<|start_of_role|>assistant<|end_of_role|>'  + message['content'] + '<|end_of_text|>\n' }}
    {%- endif %}
    {%- if loop.last and add_generation_prompt %}
    {{- '<|start_of_role|>assistant<|end_of_role|>' }}
    {%- endif %}
{%- endfor %})"},
      {"meta-llama/Llama-4-Scout-17B-16E-Instruct (shortened)", "llama4",
       R"({{- bos_token }}{%- for message in messages %}{{- '<|header_start|>' + message['role'] + '<|header_end|>\n\n' }}{{- message['content'] | trim }}{{- '<|eot|>' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|header_start|>assistant<|header_end|>\n\n' }}{%- endif %})"},
      // Recognized, but templates tandem does not render.
      {"HuggingFaceTB/SmolVLM-Instruct", "smolvlm",
       R"(<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>
{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %})"},
      {"THUDM/chatglm3-6b", "chatglm3",
       R"({% for message in messages %}{% if loop.first %}[gMASK]sop<|{{ message['role'] }}|>
 {{ message['content'] }}{% else %}<|{{ message['role'] }}|>
 {{ message['content'] }}{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %})"},
  };
  std::set<std::string> recognized;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.model);
    EXPECT_EQ(ChatTemplate::detect(c.source), c.expect);
    recognized.insert(c.expect);
  }
  // Every rendered family is recognized from some real source, except the names llama.cpp only
  // ever selects by name.
  for (const auto& n : ChatTemplate::known_names()) {
    if (n == "mistral-v7-tekken") continue;
    EXPECT_TRUE(recognized.count(n)) << n << " has no source in this test";
  }
  // Names win over markers, and a name is recognized exactly.
  EXPECT_EQ(ChatTemplate::detect("llama3"), "llama3");
  EXPECT_EQ(ChatTemplate::detect("mistral-v7-tekken"), "mistral-v7-tekken");
  EXPECT_EQ(ChatTemplate::detect("Llama3"), "");
  // llama.cpp also takes a source that merely starts with "mistral" as a Mistral/Llama 2 one.
  EXPECT_EQ(ChatTemplate::detect("mistral-something"), "llama2");
  EXPECT_EQ(ChatTemplate::from_name_or_source(cases[5].source).name(), "llama2-sys-strip");
}

// llama.cpp's tests/test-chat-template.cpp renders one conversation with every template; these
// are its expected outputs (its "jinja" expectation where that differs, i.e. the real template's
// output), with the BOS / EOS texts that test uses.
TEST(ChatTemplate, MatchesLlamaCppExpectedRenderings) {
  const std::vector<ChatMessage> conv = {
      {"system", "You are a helpful assistant"}, {"user", "Hello"},
      {"assistant", "Hi there"},                 {"user", "Who are you"},
      {"assistant", "   I am an assistant   "}, {"user", "Another question"},
  };
  struct Case {
    const char* name;
    const char *bos, *eos;
    std::string expect;
  } cases[] = {
      {"chatml", "", "",
       "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n"},
      {"llama2", "", "</s>",
       "[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]"},
      {"llama2-sys-strip", "", "</s>",  // bofenghuang/vigogne-2-70b-chat
       "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s>[INST] Who are you [/INST] I am an assistant </s>[INST] Another question [/INST]"},
      {"mistral-v1", "", "</s>",
       " [INST] You are a helpful assistant\n\nHello [/INST] Hi there</s> [INST] Who are you [/INST]    I am an assistant   </s> [INST] Another question [/INST]"},
      {"mistral-v3", "", "</s>",
       "[INST] Hello[/INST] Hi there</s>[INST] Who are you[/INST] I am an assistant</s>[INST] You are a helpful assistant\n\nAnother question[/INST]"},
      {"mistral-v3-tekken", "", "</s>",
       "[INST]Hello[/INST]Hi there</s>[INST]Who are you[/INST]   I am an assistant   </s>[INST]You are a helpful assistant\n\nAnother question[/INST]"},
      {"mistral-v7", "", "</s>",
       "[SYSTEM_PROMPT] You are a helpful assistant[/SYSTEM_PROMPT][INST] Hello[/INST] Hi there</s>[INST] Who are you[/INST]    I am an assistant   </s>[INST] Another question[/INST]"},
      {"gemma", "", "",
       "<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n"},
      {"llama3", "", "",
       "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
      {"phi3", "", "",
       "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n"},
      {"phi4", "", "",
       "<|im_start|>system<|im_sep|>You are a helpful assistant<|im_end|><|im_start|>user<|im_sep|>Hello<|im_end|><|im_start|>assistant<|im_sep|>Hi there<|im_end|><|im_start|>user<|im_sep|>Who are you<|im_end|><|im_start|>assistant<|im_sep|>   I am an assistant   <|im_end|><|im_start|>user<|im_sep|>Another question<|im_end|><|im_start|>assistant<|im_sep|>"},
      {"monarch", "<s>", "</s>",
       "system\nYou are a helpful assistant</s>\n<s>user\nHello</s>\n<s>assistant\nHi there</s>\n<s>user\nWho are you</s>\n<s>assistant\n   I am an assistant   </s>\n<s>user\nAnother question</s>\n<s>assistant\n"},
      {"openchat", "", "",
       "You are a helpful assistant<|end_of_turn|>GPT4 Correct User: Hello<|end_of_turn|>GPT4 Correct Assistant: Hi there<|end_of_turn|>GPT4 Correct User: Who are you<|end_of_turn|>GPT4 Correct Assistant:    I am an assistant   <|end_of_turn|>GPT4 Correct User: Another question<|end_of_turn|>GPT4 Correct Assistant:"},
      {"deepseek", "", "",
       "You are a helpful assistant### Instruction:\nHello\n### Response:\nHi there\n<|EOT|>\n### Instruction:\nWho are you\n### Response:\n   I am an assistant   \n<|EOT|>\n### Instruction:\nAnother question\n### Response:\n"},
      {"vicuna", "", "",
       "You are a helpful assistant\n\nUSER: Hello\nASSISTANT: Hi there</s>\nUSER: Who are you\nASSISTANT:    I am an assistant   </s>\nUSER: Another question\nASSISTANT:"},
      {"vicuna-orca", "", "",
       "SYSTEM: You are a helpful assistant\nUSER: Hello\nASSISTANT: Hi there</s>\nUSER: Who are you\nASSISTANT:    I am an assistant   </s>\nUSER: Another question\nASSISTANT:"},
      {"command-r", "", "",
       "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>You are a helpful assistant<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hello<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>Hi there<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Who are you<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>I am an assistant<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Another question<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"},
      {"glmedge", "", "",
       "<|system|>\nYou are a helpful assistant<|user|>\nHello<|assistant|>\nHi there<|user|>\nWho are you<|assistant|>\n   I am an assistant   <|user|>\nAnother question<|assistant|>"},
      {"granite", "", "",
       "<|start_of_role|>system<|end_of_role|>You are a helpful assistant<|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Hello<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>Hi there<|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Who are you<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>   I am an assistant   <|end_of_text|>\n<|start_of_role|>user<|end_of_role|>Another question<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ChatTemplate t = ChatTemplate::from_name_or_source(c.name);
    t.with_special_texts(c.bos, c.eos);
    EXPECT_EQ(t.apply(conv, true), c.expect);
  }
  // TheBloke/FusionNet_34Bx2_MoE (llama2-sys-bos) writes no BOS before its first [INST]; ours
  // matches once the leading BOS text is dropped, as it is when the tokenizer adds BOS.
  ChatTemplate t = ChatTemplate::from_name_or_source("llama2-sys-bos");
  t.with_special_texts("<s>", "</s>");
  const std::string out = t.apply(conv, true);
  EXPECT_EQ(ChatTemplate::strip_leading_bos(out, "<s>", true),
            "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s><s>[INST] Who are you "
            "[/INST]    I am an assistant    </s><s>[INST] Another question [/INST]");
}
