#!/usr/bin/env python3
"""The oracle for tandem's Jinja interpreter: renders every chat template in a folder with
Python's jinja2, configured as Hugging Face's apply_chat_template configures it, over a set of
conversations, and writes one JSON file of cases: the template file, the conversation's name,
the context it was rendered with, and the expected text or the error jinja2 raised.

    python3 tests/jinja_reference.py TEMPLATE_DIR OUT.json
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
    return [
        ("system_user", {"messages": sys_user, "add_generation_prompt": True}),
        ("multi_turn", {"messages": multi, "add_generation_prompt": True}),
        ("no_system_no_prompt", {"messages": no_system, "add_generation_prompt": False}),
        ("tools_defined", {"messages": sys_user, "tools": TOOLS, "add_generation_prompt": True}),
        ("tool_calls", {"messages": tool_calls, "tools": TOOLS, "add_generation_prompt": True}),
        ("content_parts", {"messages": parts, "add_generation_prompt": True}),
        ("unicode", {"messages": unicode, "add_generation_prompt": True}),
        ("thinking_off", {"messages": thinking, "add_generation_prompt": True, "enable_thinking": False}),
    ]


def main():
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
