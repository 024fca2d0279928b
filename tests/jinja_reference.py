#!/usr/bin/env python3
"""The oracle for tandem's Jinja interpreter: renders every chat template in a folder with
Python's jinja2, configured as Hugging Face's apply_chat_template configures it, over a set of
conversations, and writes one JSON file of cases: the template file, the conversation's name,
the context it was rendered with, and the expected text or the error jinja2 raised.

    python3 tests/jinja_reference.py TEMPLATE_DIR OUT.json
    python3 tests/jinja_reference.py --snippets OUT.json   (small templates for the language's corners)
"""
import json
import pathlib
import sys
from datetime import datetime, timezone

from jinja2 import nodes
from jinja2.exceptions import TemplateError
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

# strftime_now reads this instant (UTC), so that the expected texts do not change by the day.
FIXED_NOW = 1768435200  # 2026-01-15 00:00:00 UTC


class AssistantTracker(Extension):
    """Hugging Face's {% generation %} block: renders its body in place."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    def raise_exception(message):
        raise TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.fromtimestamp(FIXED_NOW, tz=timezone.utc).strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[AssistantTracker, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "The city, e.g. Paris"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 7.5}},
            "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "search",
        "description": "Search the web.",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}},
]

TOOL_CALL = {"id": "call12345", "type": "function",
             "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}


NESTED_TOOLS = [
    {"type": "function", "function": {
        "name": "book_trip",
        "description": "Book a trip ✈️ — flights and hotels 😀.",
        "parameters": {"type": "object", "properties": {
            "travellers": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}}}},
            "flexible": {"type": "boolean", "default": False},
            "budget": {"type": ["number", "null"], "default": None, "multipleOf": 0.01},
            "dates": {"type": "object", "properties": {"from": {"type": "string", "format": "date"},
                                                       "to": {"type": "string", "format": "date"}}}},
            "required": ["travellers"]}}},
]


def conversations():
    sys_user = [{"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "Hello! What can you do?"}]
    multi = sys_user + [{"role": "assistant", "content": "I can answer questions."},
                        {"role": "user", "content": "  What is 2+2?  "}]
    no_system = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, how can I help?"},
                 {"role": "user", "content": "Tell me a joke."}, {"role": "assistant", "content": "Why did the chicken cross the road?"}]
    tool_calls = [{"role": "system", "content": "You can call tools."},
                  {"role": "user", "content": "What is the weather in Paris?"},
                  {"role": "assistant", "content": "", "tool_calls": [TOOL_CALL]},
                  {"role": "tool", "tool_call_id": "call12345", "name": "get_weather", "content": "{\"temp\": 18.5, \"sky\": \"clear\"}"},
                  {"role": "assistant", "content": "It is 18.5 degrees and clear in Paris."},
                  {"role": "user", "content": "Thanks!"}]
    parts = [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
             {"role": "user", "content": [{"type": "text", "text": "Describe "}, {"type": "text", "text": "the sea."}]}]
    unicode = [{"role": "user", "content": "Grüße, 世界! \"quoted\" and 'single'\ttab\nnew line"}]
    thinking = [{"role": "user", "content": "Solve x+1=3."},
                {"role": "assistant", "content": "x = 2", "reasoning_content": "Subtract one from both sides."},
                {"role": "user", "content": "And x+2=5?"}]
    two_calls = [{"role": "user", "content": "Weather in Paris and Rome, then search for news."},
                 {"role": "assistant", "content": None, "tool_calls": [
                     {"id": "call00001", "type": "function",
                      "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
                     {"id": "call00002", "type": "function",
                      "function": {"name": "get_weather", "arguments": "{\"city\": \"Rome\", \"unit\": \"celsius\"}"}}]},
                 {"role": "tool", "tool_call_id": "call00001", "content": "sunny, 21.0"},
                 {"role": "tool", "tool_call_id": "call00002", "content": "rain, 1e-05 mm"},
                 {"role": "assistant", "content": "Paris is sunny; Rome has a trace of rain."}]
    return [
        ("system_user", {"messages": sys_user, "add_generation_prompt": True}),
        ("multi_turn", {"messages": multi, "add_generation_prompt": True}),
        ("no_system_no_prompt", {"messages": no_system, "add_generation_prompt": False}),
        ("tools_defined", {"messages": sys_user, "tools": TOOLS, "add_generation_prompt": True}),
        ("tool_calls", {"messages": tool_calls, "tools": TOOLS, "add_generation_prompt": True}),
        ("content_parts", {"messages": parts, "add_generation_prompt": True}),
        ("unicode", {"messages": unicode, "add_generation_prompt": True}),
        ("thinking_off", {"messages": thinking, "add_generation_prompt": True, "enable_thinking": False}),
        ("thinking_on", {"messages": thinking, "add_generation_prompt": True, "enable_thinking": True}),
        ("two_calls_string_args", {"messages": two_calls, "tools": TOOLS, "add_generation_prompt": False}),
        ("builtin_tools_documents", {"messages": sys_user, "tools": TOOLS, "add_generation_prompt": True,
                                     "builtin_tools": ["brave_search", "wolfram_alpha"],
                                     "documents": [{"title": "Doc A", "text": "Alpha text."},
                                                   {"title": "Doc B", "text": "Beta text."}]}),
        ("emoji_nested_tools", {"messages": [
            {"role": "system", "content": "Plan trips. 🌍"},
            {"role": "user", "content": "Book for Zoë (34) 😀, budget 1234.5"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "abcdef123", "type": "function", "function": {
                "name": "book_trip", "arguments": {"travellers": [{"name": "Zoë", "age": 34}], "budget": 1234.5,
                                                   "flexible": True, "dates": None}}}]},
            {"role": "tool", "tool_call_id": "abcdef123", "content": "booked ✅"}],
            "tools": NESTED_TOOLS, "add_generation_prompt": True}),
        ("user_only_no_prompt", {"messages": [{"role": "user", "content": "Just one."}], "add_generation_prompt": False}),
    ]


# Small templates for the language's corners, rendered over SNIPPET_CONTEXT.
SNIPPET_CONTEXT = {"s": "Hello World", "n": 7, "f": 2.5, "l": [3, 1, 2], "d": {"b": 1, "a": [1, 2], "c": None},
                   "msgs": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
                   "u": "héllo wörld", "e": "", "t": True, "z": 0, "neg": -3, "big": 12345678901234}
SNIPPETS = [
    "{{ n / 2 }} {{ n // 2 }} {{ n % 3 }} {{ -n // 2 }} {{ -n % 3 }} {{ n ** 2 }} {{ f * 2 }} {{ f // 1 }} {{ 7.5 % 2 }}",
    "{{ 1e3 }} {{ 1.5e-7 }} {{ 123456789.0 }} {{ 1e16 }} {{ 0.1 }} {{ 1/3 }} {{ 2.0 ** 60 }} {{ big * 1.0 }}",
    "{{ n + f }} {{ t + 1 }} {{ 3 - 5 }} {{ -f }} {{ +n }} {{ 10 / 4 }} {{ 4 / 2 }}",
    "{{ s ~ n ~ f ~ t ~ none }} {{ l }} {{ d }} {{ (1, 'a') }} {{ (1,) }} {{ [] }} {{ {} }}",
    "{{ 'it\\'s' }} {{ [\"it's\", 'say \"x\"', 'a\\nb'] }} {{ {'k': 'v', 1: 2.0} }}",
    "{{ s[0] }}{{ s[-1] }}{{ s[1:4] }}{{ s[::-1] }}{{ s[::2] }}{{ l[1:] }}{{ l[:-1] }}{{ l[::-1] }} {{ u[1] }}{{ u[::-1] }}",
    "{{ l[5] }}|{{ d.zzz }}|{{ d['zzz'] }}|{{ s.zzz }}|{{ msgs[0].role }}|{{ msgs[0]['content'] }}|{{ d.a[1] }}",
    "{{ s|length }} {{ u|length }} {{ l|length }} {{ d|length }} {{ l|count }} {{ e|length }}",
    "{{ s|upper }} {{ s|lower }} {{ 'hello wORLD'|capitalize }} {{ 'hello-world foo(bar)'|title }} {{ u|upper }}",
    "[{{ '  x  '|trim }}] [{{ 'xxaxx'|trim('x') }}] [{{ '  x  '.strip() }}] [{{ '  x  '.lstrip() }}] [{{ '  x  '.rstrip() }}] [{{ 'abcba'.strip('ab') }}]",
    "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ 'x'.split('x') }}",
    "{{ s.startswith('Hell') }} {{ s.endswith('x') }} {{ s.startswith(('a', 'H')) }} {{ s.replace('l', 'L') }} {{ s.replace('l', 'L', 1) }}",
    "{{ s.find('o') }} {{ s.rfind('o') }} {{ s.count('l') }} {{ '-'.join(['a', 'b']) }} {{ s.title() }} {{ 'aBc'.upper() }} {{ 'x{}y{}'.format(1, 'z') }}",
    "{{ l|join(', ') }} {{ l|first }} {{ l|last }} {{ s|first }} {{ l|sort }} {{ l|sort(reverse=true) }} {{ l|reverse|list }} {{ s|reverse }}",
    "{{ l|min }} {{ l|max }} {{ l|sum }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', 'c']|sort(case_sensitive=true) }} {{ [1, 2, 1, 'a', 'A']|unique|list }}",
    "{{ d|dictsort }} {{ d|items|list }} {{ d.items() }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.get('b') }} {{ d.get('q', 'dflt') }} {{ d.get('q') }}",
    "{{ msgs|map(attribute='role')|list }} {{ msgs|selectattr('role', 'equalto', 'user')|list }} {{ msgs|rejectattr('role', 'eq', 'user')|map(attribute='content')|join }}",
    "{{ l|select('odd')|list }} {{ l|reject('odd')|list }} {{ [0, 1, none, '', 'x']|select|list }} {{ ['a', 'b']|map('upper')|list }}",
    "{{ d|tojson }} {{ l|tojson }} {{ s|tojson }} {{ u|tojson }} {{ none|tojson }} {{ t|tojson }} {{ f|tojson }} {{ 'a\\tb\"c'|tojson }}",
    "{{ d|tojson(indent=2) }} {{ d|tojson(sort_keys=true) }} {{ u|tojson(ensure_ascii=true) }} {{ msgs|tojson(separators=(',', ':')) }}",
    "{{ x|default('X') }} {{ none|default('X') }} {{ e|default('X') }} {{ e|default('X', true) }} {{ z|d('Z', true) }}",
    "{{ '42'|int }} {{ '4.7'|int }} {{ 'x'|int }} {{ 'x'|int(5) }} {{ 4.7|int }} {{ '3.5'|float }} {{ n|float }} {{ n|string }} {{ t|string }} {{ 2.567|round(1) }} {{ 2.5|round }} {{ neg|abs }}",
    "{{ 'a\\nb\\nc'|indent }}|{{ 'a\\n\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'a'|indent('> ', first=true) }}",
    "{{ 'élan vital'|capitalize }} {{ 'élan vital'|title }} {{ 'straße'|upper }} {{ 'ΑΒΓ Ω'|lower }} {{ 'привет'|upper }} {{ 'ÀÉÎ'.lower() }} {{ 'ñandú x'.title() }}",
    "{{ d.items()|length }} {{ d|items|length }}",
    "{{ d.items()[0] }}|{{ (l|map('string'))[0] }}|{{ n[0] }}|{{ none[0] }}",
    "{{ d.c[1:] }}",
    "{{ (l|reverse)[1:] }}",
    "{{ l|reverse|length }}",
    "{{ l|batch(2)|list }} {{ l|batch(2, 0)|list }} {{ '<a & b>'|e }} {{ '<a>'|escape }} {{ ('<b>'|safe) + '<i>' }} {{ '<i>' + ('<b>'|safe) }} {{ ('<b>'|safe) ~ '<i>' }}",
    "{{ x is defined }} {{ n is defined }} {{ x is undefined }} {{ none is none }} {{ s is string }} {{ n is number }} {{ t is number }} {{ f is float }} {{ n is integer }} {{ t is boolean }}",
    "{{ d is mapping }} {{ l is iterable }} {{ s is iterable }} {{ n is iterable }} {{ l is sequence }} {{ d is sequence }} {{ x is iterable }} {{ t is true }} {{ 1 is true }} {{ z is false }}",
    "{{ n is odd }} {{ n is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(2) }} {{ n is eq 7 }} {{ n is equalto(7) }} {{ n is ne 7 }} {{ n is lt 8 }} {{ n is gt(8) }} {{ 'a' is in 'abc' }} {{ 1 is in l }}",
    "{{ n is not none and s is not number }} {{ not n is odd }} {{ not (n is odd) }} {{ x is not defined or x.y }}",
    "{{ 1 in l }} {{ 9 not in l }} {{ 'ell' in s }} {{ 'b' in d }} {{ 'q' in d }} {{ 1 == 1.0 }} {{ t == 1 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ l == [3, 1, 2] }} {{ d == {'b': 1, 'a': [1, 2], 'c': none} }}",
    "{{ 'yes' if t else 'no' }} {{ 'yes' if z else 'no' }} [{{ 'only' if z }}] {{ n and s }} {{ z or 'fallback' }} {{ z and s }} {{ e or none }}",
    "{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}",
    "{% for x in l %}{{ loop.previtem }}>{{ x }}>{{ loop.nextitem }};{% endfor %}",
    "{% for x in l if x > 1 %}{{ x }}:{{ loop.index }}/{{ loop.length }} {% else %}none{% endfor %}{% for x in [] %}a{% else %}empty{% endfor %}",
    "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}{% for c in 'abc' %}{{ c }}.{% endfor %}{% for a, b in [(1, 2), [3, 4]] %}{{ a + b }}{% endfor %}",
    "{% for x in l %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "{% for x in [1, 2] %}{% for y in [3, 4] %}{{ loop.index }}{{ x }}{{ y }} {% endfor %}{{ loop.index }}|{% endfor %}",
    "{% set a = 1 %}{% for x in l %}{% set a = a + x %}[{{ a }}]{% endfor %}{{ a }}",
    "{% set ns = namespace(total=0, items=[]) %}{% for x in l %}{% set ns.total = ns.total + x %}{% set ns.items = ns.items + [x * 2] %}{% endfor %}{{ ns.total }} {{ ns.items }}",
    "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = (3, 4) %}{{ c }}{% set t2 = 'x', %}{{ t2 }}",
    "{% set block %}  inner {{ n }}  {% endset %}[{{ block }}]{% set b2 | trim | upper %}  spaced  {% endset %}[{{ b2 }}]",
    "{% macro greet(name, greeting='Hi', punct='!') %}{{ greeting }} {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', 'Yo') }} {{ greet('C', punct='?') }} {{ greet() }}",
    "{% macro outer() %}{{ n }}{{ caller('x') if caller is defined }}{% endmacro %}{{ outer() }}{% call(v) outer() %}<{{ v }}>{% endcall %}",
    "{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}",
    "{% set g = 'global' %}{% macro show() %}{{ g }}{% endmacro %}{{ show() }}{% set g = 'changed' %}{{ show() }}",
    "{% filter upper %}abc {{ s }}{% endfilter %}{% filter replace('a', 'b') | upper %}aaa{% endfilter %}",
    "{% if n > 5 %}big{% elif n > 2 %}mid{% else %}small{% endif %}{% if z %}1{% elif e %}2{% else %}3{% endif %}",
    "a\n  {% if t %}\n    b\n  {% endif %}\nc\n{%- if t %} d {% endif -%}\n e {# comment #}\n f {#- c -#} g\n  {{ n }}\n",
    "{%- for m in msgs -%}\n  <{{ m.role }}>\n  {{- m.content -}}\n{%- endfor %}\n{%+ if t %}   keep{% endif %}",
    "{{ range(3)|list }} {{ range(1, 7, 2)|list }} {{ range(5, 0, -2)|list }} {{ dict(a=1, b='x') }} {{ namespace(a=1).a }}",
    "{{ raise_exception('boom') if n > 100 else 'fine' }} {{ strftime_now('%d %b %Y %H:%M') }} {{ strftime_now('%A %-d %B') }}",
    "{{ (l|select('odd'))|length }}",
    "{{ l|map('string')|join('-') }} {{ msgs|map(attribute='missing', default='D')|list }} {{ msgs|selectattr('missing')|list }} {{ msgs|selectattr('role', 'defined')|list|length }}",
    "{{ l.append(4) }}",
    "{{ d.pop('a') }}",
    "{{ x.y }}",
    "{{ x + 1 }}",
    "{{ x['k'] }}",
    "{{ x() }}",
    "{{ l < x }}",
    "{{ none.attr }}|{{ n.attr }}|{{ none['k'] }}",
    "{{ 1 / 0 }}",
    "{{ 's' + 1 }}",
    "{{ n|length }}",
    "{{ {'a': 1}|first }} {{ u|list }} {{ d|list }} {{ x|list }} {{ x|length }} {{ x|string }}[{{ x|upper }}]",
    "{{ x|tojson }}",
    "{{ (l|map('string'))|tojson }}",
    "{{ 'abc' * 2 }} {{ [1] * 3 }} {{ 2 * 'x' }} {{ l + [9] }} {{ 'a' + 'b' }}",
    "{% for x in none %}{% endfor %}",
    "{% for a, b in l %}{% endfor %}",
    "{{ l|first|string + s[0] }} {{ s[:3]|upper ~ s[3:] }} {{ -l|length }} {{ (l|length) - 1 }} {{ l|length - 1 }}",
    "{{ 'x' if n is defined and n > 5 and not z else 'y' }} {{ [1, 2, 3][n % 3] }} {{ msgs[-1]['role'] | upper }}",
    "{{ 'Line1\\nLine2'.splitlines() }} {{ '12'.isdigit() }} {{ 'a1'.isdigit() }} {{ 'x'.capitalize() }}",
    "{% if msgs[0].content is string and msgs[0].content|length > 0 %}ok{% endif %}{{ msgs|length is divisibleby 2 }}",
    "{{ d.a|tojson }}{{ d['c'] is none }}{{ d.c|default('unset') }}{{ d.c|default('unset', true) }}",
    "{% set x = {'k': [1, {'j': 'v'}]} %}{{ x.k[1].j }}{{ x['k'][0] }}{{ x.k.1.j }}",
    "{{ [('a', 2), ('b', 1)]|sort(attribute='1') }} {{ msgs|sort(attribute='role', reverse=true)|map(attribute='role')|list }}",
    "{{ 'HELLO'|lower is lower }} {{ s is upper }} {{ none is sameas none }} {{ t is sameas true }}",
    "{% if true %}x{% endif\n%}y{{\n n\n}}z",
    "{{ 'a' 'b' }} {{ \"c\" ~ 'd' }} {{ '\\u00e9\\x41' }}",
    "{{ 1 < 2 < 3 }} {{ 3 > 2 > 1 }} {{ 1 < 3 < 2 }} {{ 1 == 1 != 2 }} {{ 'a' in 'abc' in 'xabcx' }} {{ 2 in l not in [[3]] }}",
    "{{ '%s is %d years, %.2f%% sure, %r, %5s|%-5s|%03d %x' % ('Bob', 42, 99.5, 'x', 'ab', 'cd', 7, 255) }} {{ '%s!' % s }} {{ 'n=%d'|format(n) }}",
    "{{ '%d' % 'x' }}",
    "{{ '%s %s' % (1,) }}",
    "{% for x in l %}{{ loop.cycle('odd', 'even') }} {% endfor %}",
    "a {% raw %}{{ not evaluated }} {% if %}{% endraw %} b\n{% raw -%}   x  {%- endraw %}|{% raw %}\nline{% endraw %}\nend",
    "x\n    {# indented comment #}\n    {% if t %}  y  {% endif %}  \n    {{ n }}\n\t{% for i in l %}{{ i }}{% endfor %}\n",
    "a {% if t %}b{% endif %}   \nc {%+ if t %}d{% endif +%}\ne{% if t -%}\n\n\n   f{%- endif %}\n\n",
    "line1\r\n  {% if t %}\r\nline2\r\n  {% endif %}\r\nline3\r\n",
    "{% macro m() -%}\n  body\n{%- endmacro %}\n[{{ m() }}]\n{% set x -%}\n  v\n{% endset %}[{{ x }}]",
    "{%- set a = 1 -%}\n\n{{- a -}}\n\n{#- c -#}\n\n{{ a }}",
    "{% set a = 1 %}{% for x in l %}{{ a }}{% set a = x %}{{ a }}|{% endfor %}{{ a }}",
    "{% for x in l %}{% set y = x %}{% endfor %}[{{ y }}]{% if true %}{% set z = 5 %}{% endif %}{{ z }}",
    "{% macro m() %}{% set q = 1 %}{{ q }}{% endmacro %}{{ m() }}[{{ q }}]",
    "{% for a in [1, 2] %}{% set outer = loop %}{% for b in [3] %}{{ outer.index }}{{ loop.index }}{% endfor %}{% endfor %}",
    "{% set ns = namespace(v=0) %}{% macro inc() %}{% set ns.v = ns.v + 1 %}{% endmacro %}{{ inc() }}{{ inc() }}{{ ns.v }}",
    "{% macro f(x) %}{% if x > 0 %}{{ x }}{{ f(x - 1) }}{% endif %}{% endmacro %}{{ f(5) }}",
    "{% for m in msgs %}{% if loop.first %}{% set first_role = m.role %}{% endif %}{{ first_role }};{% endfor %}",
    "{% set x = 1 %}{% macro show() %}{{ x }}{% endmacro %}{% for x in [2] %}{{ show() }}{{ x }}{% endfor %}",
    "{% if %}{% endif %}",
    "{{ 1 + }}",
    "{% for x in l %}",
    "{% endif %}",
    "{{ 'unterminated }}",
    "{% unknowntag %}",
]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--snippets":
        env, out = make_env(), []
        for source in SNIPPETS:
            case = {"template": source, "context": SNIPPET_CONTEXT}
            try:
                case["expected"] = env.from_string(source).render(**SNIPPET_CONTEXT)
            except Exception as e:
                case["error"] = f"{type(e).__name__}: {e}"
            out.append(case)
        pathlib.Path(sys.argv[2]).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
        return
    template_dir, out_path = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    env = make_env()
    cases = []
    for path in sorted(template_dir.glob("*.jinja")):
        source = path.read_text(encoding="utf-8")
        try:
            template = env.from_string(source)
        except Exception as e:  # a template jinja2 does not compile
            template, compile_error = None, f"{type(e).__name__}: {e}"
        for name, context in conversations():
            context = dict(context, bos_token="<|bos|>", eos_token="<|eos|>")
            case = {"template": path.name, "conversation": name, "context": context}
            if template is None:
                case["error"] = compile_error
            else:
                try:
                    case["expected"] = template.render(**context)
                except Exception as e:
                    case["error"] = f"{type(e).__name__}: {e}"
            cases.append(case)
    out_path.write_text(json.dumps(cases, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
