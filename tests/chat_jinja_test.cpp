// The Jinja interpreter against Python's jinja2: tests/jinja_reference.py renders every real chat
// template in shared/reference/chat-templates over a set of conversations (tools, tool calls,
// tool results, content parts, Unicode, with and without the generation prompt) in Hugging
// Face's environment; the interpreter must render the same bytes, or fail where jinja2 fails.
// Plus unit cases for the language features and whitespace rules.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "engine/chat_template.h"
#include "engine/jinja.h"
#include "format/error.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"

using namespace tandem;
using json = nlohmann::ordered_json;

namespace {

constexpr std::time_t kFixedNow = 1768435200;  // as FIXED_NOW in tests/jinja_reference.py

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const std::filesystem::path kTemplates = std::filesystem::path(TANDEM_SHARED_DIR) / "reference" / "chat-templates";

// The expected cases, generated once per test binary run with python3 and jinja2.
const json& reference_cases() {
  static const json cases = [] {
    const auto out = std::filesystem::temp_directory_path() / ("jinja_reference_" + std::to_string(::getpid()) + ".json");
    const std::string cmd = "python3 '" + std::string(TANDEM_SOURCE_DIR) + "/tests/jinja_reference.py' '" +
                            kTemplates.string() + "' '" + out.string() + "'";
    if (std::system(cmd.c_str()) != 0) return json();
    json j = json::parse(read_file(out));
    std::filesystem::remove(out);
    return j;
  }();
  return cases;
}

std::string render(std::string_view source, const json& ctx = json::object()) {
  return render_jinja(source, ctx, kFixedNow);
}

}  // namespace

TEST(ChatJinja, MatchesPythonJinja2OnEveryRealTemplate) {
  const json& cases = reference_cases();
  ASSERT_TRUE(cases.is_array()) << "python3 tests/jinja_reference.py failed (python3-jinja2 installed?)";
  ASSERT_GE(cases.size(), 500u);
  std::map<std::string, std::string> sources;
  std::map<std::string, bool> template_ok;
  size_t passed = 0, errors_expected = 0;
  for (const auto& c : cases) {
    const std::string file = c["template"];
    if (!sources.count(file)) sources[file] = read_file(kTemplates / file);
    const std::string where = file + " / " + c["conversation"].get<std::string>();
    bool ok = false;
    try {
      const std::string got = render_jinja(sources[file], c["context"], kFixedNow);
      if (c.contains("expected")) {
        ok = got == c["expected"].get<std::string>();
        EXPECT_EQ(got, c["expected"].get<std::string>()) << where;
      } else {
        ADD_FAILURE() << where << ": jinja2 raised " << c["error"] << " but the interpreter rendered";
      }
    } catch (const Error& e) {
      ok = c.contains("error");
      errors_expected += ok;
      EXPECT_TRUE(ok) << where << ": " << e.what();
    }
    passed += ok;
    template_ok.try_emplace(file, true);
    template_ok[file] = template_ok[file] && ok;
  }
  size_t templates_passed = 0;
  for (const auto& [f, ok] : template_ok) templates_passed += ok;
  std::printf("jinja oracle: %zu / %zu cases (%zu of them errors in both), %zu / %zu templates\n", passed, cases.size(),
              errors_expected, templates_passed, template_ok.size());
}

TEST(ChatJinja, MatchesPythonJinja2OnTheLanguagesCorners) {
  const auto out = std::filesystem::temp_directory_path() / ("jinja_snippets_" + std::to_string(::getpid()) + ".json");
  const std::string cmd =
      "python3 '" + std::string(TANDEM_SOURCE_DIR) + "/tests/jinja_reference.py' --snippets '" + out.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "python3 tests/jinja_reference.py failed (python3-jinja2 installed?)";
  const json cases = json::parse(read_file(out));
  std::filesystem::remove(out);
  ASSERT_GE(cases.size(), 80u);
  for (const auto& c : cases) {
    const std::string source = c["template"];
    try {
      const std::string got = render_jinja(source, c["context"], kFixedNow);
      if (c.contains("expected")) EXPECT_EQ(got, c["expected"].get<std::string>()) << source;
      else ADD_FAILURE() << source << "\njinja2 raised " << c["error"] << " but the interpreter rendered: " << got;
    } catch (const Error& e) {
      EXPECT_TRUE(c.contains("error")) << source << "\n" << e.what();
    }
  }
}

TEST(ChatJinja, WhitespaceControlAsHuggingFaceConfiguresIt) {
  // trim_blocks: the newline after a block tag goes; lstrip_blocks: indentation before it goes.
  EXPECT_EQ(render("{% if true %}\n  a\n{% endif %}\nb"), "  a\nb");
  EXPECT_EQ(render("x\n    {% if true %}y{% endif %}"), "x\ny");
  EXPECT_EQ(render("a  {{- ' b ' -}}  c"), "a b c");
  EXPECT_EQ(render("a {%- if true %} b {% endif -%} c"), "a b c");
  EXPECT_EQ(render("a\n  {%+ if true %}b{% endif %}"), "a\n  b");
  EXPECT_EQ(render("{# note #}\nx"), "x");
  EXPECT_EQ(render("one\n"), "one");  // one trailing newline is dropped, as jinja2 does
}

TEST(ChatJinja, ExpressionsFollowPython) {
  EXPECT_EQ(render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }}"), "3 -4 1 2 3.5 1024");
  EXPECT_EQ(render("{{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 0.00001 }}"), "1.0 0.30000000000000004 1e+20 1e-05");
  EXPECT_EQ(render("{{ 'ab' ~ 1 ~ none }} {{ [1, 'a', none, true] }} {{ {'k': 1.5} }}"),
            "ab1None [1, 'a', None, True] {'k': 1.5}");
  EXPECT_EQ(render("{{ 'hello'[::-1] }} {{ [1,2,3][1:] }} {{ 'héllo'[1] }} {{ 'héllo'|length }}"), "olleh [2, 3] é 5");
  EXPECT_EQ(render("{{ 'a' if x is defined else 'b' }} {{ 1 in [1,2] }} {{ 'x' not in 'abc' }}"), "b True True");
  EXPECT_EQ(render("{{ x.y if x else 'none' }}", {{"x", {{"y", 3}}}}), "3");
}

TEST(ChatJinja, ScopingLoopsAndNamespaces) {
  EXPECT_EQ(render("{% set ns = namespace(n=0) %}{% for i in range(4) if i is even %}{% set ns.n = ns.n + i %}"
                   "{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %} {{ ns.n }}"),
            "1/2,2/2 2");
  // A set inside a loop does not leak out of it.
  EXPECT_EQ(render("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}"), "1");
  EXPECT_EQ(render("{% for i in [] %}a{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for i in [1,2,3] %}{% if i == 2 %}{% break %}{% endif %}{{ i }}{% endfor %}"), "1");
  EXPECT_EQ(render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {{"d", {{"b", 1}, {"a", 2}}}}), "b=1;a=2;");
  EXPECT_EQ(render("{% macro m(a, b='B') %}[{{ a }}{{ b }}]{% endmacro %}{{ m(1) }}{{ m(2, b=3) }}"), "[1B][23]");
  EXPECT_EQ(render("{% macro w() %}<{{ caller() }}>{% endmacro %}{% call w() %}in{% endcall %}"), "<in>");
  EXPECT_EQ(render("{% set t %} x {% endset %}[{{ t }}]{% filter upper %}up{% endfilter %}"), "[ x ]UP");
}

TEST(ChatJinja, FiltersAndTojson) {
  const json ctx = {{"d", {{"name", "Zoë"}, {"n", 1.5}, {"l", {1, 2}}}}};
  EXPECT_EQ(render("{{ d|tojson }}", ctx), R"({"name": "Zoë", "n": 1.5, "l": [1, 2]})");
  EXPECT_EQ(render("{{ d|tojson(indent=2) }}", ctx), "{\n  \"name\": \"Zoë\",\n  \"n\": 1.5,\n  \"l\": [\n    1,\n    2\n  ]\n}");
  EXPECT_EQ(render("{{ d.name|tojson(ensure_ascii=true) }}", ctx), R"("Zo\u00eb")");
  EXPECT_EQ(render("{{ ' a '|trim }}|{{ 'ab'|upper }}|{{ [3,1,2]|sort|join(',') }}|{{ none|default('x') }}|{{ y|default('x') }}"),
            "a|AB|1,2,3|None|x");
  EXPECT_EQ(render("{{ [{'t':'a'},{'t':'b'}]|selectattr('t','equalto','b')|map(attribute='t')|list }}"), "['b']");
  EXPECT_EQ(render("{{ 'a\nb'|indent(2) }}|{{ 'a\nb'|indent(2, first=true) }}"), "a\n  b|  a\n  b");
  EXPECT_EQ(render("{{ {'b':1,'A':2}|dictsort }}"), "[('A', 2), ('b', 1)]");
  EXPECT_EQ(render("{{ '{} and {}'.format(1, 'x') }} {{ 'a,b'.split(',') }} {{ 'abc'.startswith(('x','a')) }}"),
            "1 and x ['a', 'b'] True");
  EXPECT_EQ(render("{{ strftime_now('%Y-%m-%d') }}"), "2026-01-15");
}

TEST(ChatJinja, ErrorsNameTheLine) {
  auto error_of = [](std::string_view src) {
    try {
      render(src);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error_of("a\n{{ raise_exception('bad role') }}"), "template error at line 2: bad role");
  EXPECT_EQ(error_of("a\nb\n{% if x %}"), "template syntax error at line 3: unexpected end of template, expected 'elif'");
  EXPECT_NE(error_of("{{ x + 1 }}").find("'x' is undefined"), std::string::npos);
  EXPECT_NE(error_of("{{ x.y }}").find("'x' is undefined"), std::string::npos);
  EXPECT_NE(error_of("{% set l = [] %}{{ l.append(1) }}").find("unsafe"), std::string::npos);
  EXPECT_NE(error_of("{% frobnicate %}").find("unknown tag 'frobnicate'"), std::string::npos);
  EXPECT_NE(error_of("{{ 1 |nosuchfilter }}").find("no filter named 'nosuchfilter'"), std::string::npos);
  EXPECT_NE(error_of("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").find("nested too deeply"), std::string::npos);
  // Hostile templates are errors, not stack overflows or exhausted memory.
  EXPECT_NE(error_of("{{ " + std::string(1000, '(') + "1" + std::string(1000, ')') + " }}").find("nested too deeply"),
            std::string::npos);
  std::string chain = "{{ 1";
  for (int i = 0; i < 1000; ++i) chain += " + 1";
  EXPECT_NE(error_of(chain + " }}").find("nested too deeply"), std::string::npos);
  std::string ifs;
  for (int i = 0; i < 300; ++i) ifs += "{% if 1 %}";
  EXPECT_NE(error_of(ifs).find("nested too deeply"), std::string::npos);
  EXPECT_NE(error_of("{{ 'x' * 1000000000 }}").find("more than 64 MB"), std::string::npos);
  EXPECT_NE(error_of("{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}")
                .find("more than 64 MB"),
            std::string::npos);
  // Ints are 64-bit: where Python would grow a bigger int, an error (never a wrapped value).
  EXPECT_NE(error_of("{{ 2 ** 64 }}").find("integer overflow"), std::string::npos);
  EXPECT_NE(error_of("{{ 9223372036854775807 + 1 }}").find("integer overflow"), std::string::npos);
  EXPECT_NE(error_of("{{ -173908 ** 77 }}").find("integer overflow"), std::string::npos);
  EXPECT_EQ(render("{{ 2 ** 62 }} {{ (-2) ** 63 }} {{ 1 ** 9000000000000 }}"), "4611686018427387904 -9223372036854775808 1");
  EXPECT_NE(error_of("{{ 1e300|int }}").find("integer overflow"), std::string::npos);
  // Undefined is printable, iterable and falsy, as jinja2's default Undefined.
  EXPECT_EQ(render("[{{ x }}]{% for i in x %}no{% endfor %}{{ x is defined }}{{ x|length }}"), "[]False0");
}

namespace {

// A GGUF holding only a vocabulary (with BOS / EOS ids) and a chat template.
std::vector<uint8_t> gguf_with_template(const std::string& chat_template) {
  GgufWriter w;
  w.set_string_array("tokenizer.ggml.tokens", std::vector<std::string>{"<unk>", "<|bos|>", "<|eot|>", "a"});
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  w.set_string("tokenizer.chat_template", chat_template);
  std::vector<uint8_t> bytes;
  w.open(&bytes);
  w.finish();
  return bytes;
}

}  // namespace

TEST(ChatJinja, ModelsOwnTemplateIsRenderedByTheInterpreter) {
  // Llama 3.1's real template: the interpreter renders it with the model's BOS / EOS texts,
  // including the date preamble and the trimmed contents that no built-in template writes.
  const std::string source = read_file(kTemplates / "meta-llama-Llama-3.1-8B-Instruct.jinja");
  const auto bytes = gguf_with_template(source);
  const GgufFile f = GgufFile::parse(bytes.data(), bytes.size());
  const ChatTemplate t = ChatTemplate::from_gguf(f);
  EXPECT_TRUE(t.is_jinja());
  EXPECT_EQ(t.name(), "llama3");
  EXPECT_EQ(t.bos_text(), "<|bos|>");
  const std::vector<ChatMessage> conv = {{"system", "Be brief."}, {"user", " Hi "}};
  const std::string got = t.apply(conv, true);
  json ctx = {{"messages", json::array({{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", " Hi "}}})},
              {"add_generation_prompt", true},
              {"bos_token", "<|bos|>"},
              {"eos_token", "<|eot|>"}};
  EXPECT_EQ(got, render_jinja(source, ctx, std::time(nullptr)));
  EXPECT_TRUE(got.starts_with("<|bos|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"))
      << got;
  EXPECT_TRUE(got.ends_with("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"))
      << got;

  // Gemma 2's template refuses a system message: its raise_exception is the error, with its line.
  const auto gemma = gguf_with_template(read_file(kTemplates / "google-gemma-2-2b-it.jinja"));
  const ChatTemplate g = ChatTemplate::from_gguf(GgufFile::parse(gemma.data(), gemma.size()));
  try {
    g.apply(conv, true);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "template error at line 1: System role not supported");
  }

  // A template the interpreter cannot parse falls back to the built-in template llama.cpp's
  // markers recognize in it.
  const auto broken = gguf_with_template("{% for m in messages %}<|im_start|>{{ m.role }\n{% endfor %}");
  const ChatTemplate b = ChatTemplate::from_gguf(GgufFile::parse(broken.data(), broken.size()));
  EXPECT_FALSE(b.is_jinja());
  EXPECT_EQ(b.name(), "chatml");
}

// The servers render one parsed template from several request threads at once: a render only
// reads the template, so every thread gets the same text (and TSan sees no race).
TEST(ChatJinja, EngineRendersOneTemplateFromManyThreads) {
  const std::string source = read_file(kTemplates / "Qwen-Qwen3-0.6B.jinja");
  const JinjaTemplate tmpl(source);
  const json ctx = {{"messages", json::array({{{"role", "system"}, {"content", "sys"}},
                                              {{"role", "user"}, {"content", "hi"}},
                                              {{"role", "assistant"}, {"content", "yo"}},
                                              {{"role", "user"}, {"content", "again"}}})},
                    {"tools", json::array({{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", json::object()}}}}})},
                    {"add_generation_prompt", true}};
  const std::string expected = tmpl.render(ctx, kFixedNow);
  ASSERT_NE(expected.find("<|im_start|>assistant\n"), std::string::npos);
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) got[t] = tmpl.render(ctx, kFixedNow);
    });
  for (auto& th : threads) th.join();
  for (const auto& g : got) EXPECT_EQ(g, expected);
}
