#!/usr/bin/env python3
"""Render chat templates with jinja2 configured exactly like Hugging Face transformers
and write the golden fixture the Swift tests compare against byte-for-byte.

    python3 tools/render_templates.py        # rewrites Tests/JinjaTests/Fixtures/golden.json

Requires Jinja2 (3.1.x). Templates live in Tests/JinjaTests/Fixtures/templates/*.jinja;
templates/real/ holds further published chat templates (as collected in llama.cpp's
models/templates) that are rendered over the same conversations as a wider compatibility net.
"""
import json
import pathlib
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "JinjaTests" / "Fixtures"
TEMPLATES = FIXTURES / "templates"


class AssistantTracker(Extension):
    """transformers' `{% generation %}` tag, minus the assistant-mask bookkeeping."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_environment():
    """Mirror of transformers.utils.chat_template_utils._compile_jinja_template."""

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        # transformers replaces jinja2's HTML-escaping tojson with plain json.dumps.
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def msg(role, content, **extra):
    return {"role": role, "content": content, **extra}


CONVERSATIONS = {
    "single_user": [msg("user", "Hello!")],
    "system_user": [msg("system", "You are a terse assistant."), msg("user", "What is 2+2?")],
    "multi_turn": [
        msg("user", "Hi there."),
        msg("assistant", "Hello! How can I help?"),
        msg("user", "Tell me a joke."),
    ],
    "system_multi_turn": [
        msg("system", "Be brief."),
        msg("user", "Name a color."),
        msg("assistant", "Blue."),
        msg("user", "Another?"),
    ],
    "unicode": [
        msg("user", "Grüße 👋🏽 — 日本語, e\u0301 vs é, שלום, \u200bzero-width, tab\there"),
        msg("assistant", "Привет! 🎉 ✓"),
        msg("user", "“Quotes” and 'apostrophes' and \"doubles\" and \\backslashes\\"),
    ],
    "whitespace": [
        msg("user", "  \n padded message \t\n"),
        msg("assistant", "\n\nreply with leading newlines  "),
        msg("user", "\u00a0nbsp and \u3000ideographic space\u3000"),
    ],
}

SPECIAL_TOKENS = {
    "smollm2": {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"},
    "gemma3": {"bos_token": "<bos>", "eos_token": "<eos>"},
    "qwen3": {"eos_token": "<|im_end|>"},
    "ring_mini_2": {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>"},
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather — in °C or °F.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. \"Zürich\""},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7.5},
            },
            "required": ["city"],
        },
    },
}
TIME_TOOL = {"type": "function", "function": {"name": "now", "description": "", "parameters": {"type": "object", "properties": {}}}}

QWEN3_EXTRA = {
    "tools": {
        "messages": [msg("system", "You are helpful."), msg("user", "Weather in Zürich?")],
        "tools": [WEATHER_TOOL, TIME_TOOL],
    },
    "tools_no_system": {"messages": [msg("user", "What time is it?")], "tools": [TIME_TOOL]},
    "tool_calls": {
        "messages": [
            msg("user", "Weather in Paris and Rome?"),
            msg("assistant", "", tool_calls=[
                {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}},
                {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Rome\"}"}},
            ]),
            msg("tool", "{\"temp\": 18}"),
            msg("tool", "{\"temp\": 24}"),
            msg("assistant", "Paris is 18°C and Rome is 24°C."),
            msg("user", "Thanks!"),
        ],
        "tools": [WEATHER_TOOL],
    },
    "tool_call_with_content": {
        "messages": [
            msg("user", "Check the time."),
            msg("assistant", "Let me check.", tool_calls=[{"name": "now", "arguments": {}}]),
            msg("tool", "12:00"),
        ],
        "tools": [TIME_TOOL],
    },
    "reasoning": {
        "messages": [
            msg("user", "First question"),
            msg("assistant", "<think>\nold reasoning\n</think>\n\nOld answer."),
            msg("user", "Second question"),
            msg("assistant", "Final answer.", reasoning_content="\nstep one\nstep two\n"),
        ],
    },
    "think_in_last_turn": {
        "messages": [msg("user", "Q"), msg("assistant", "<think>inline thoughts</think>\n\nA")],
    },
    "multi_step_tool": {
        "messages": [
            msg("user", "Do the thing"),
            msg("assistant", "", tool_calls=[{"function": {"name": "now", "arguments": {}}}]),
            msg("user", "<tool_response>\n12:00\n</tool_response>"),
            msg("assistant", "Done at noon.", reasoning_content="used the tool"),
        ],
    },
}

SYNTHETIC_CONTEXT = {
    "messages": [
        msg("system", "sys prompt"),
        msg("user", "hello there"),
        msg("assistant", "hi!"),
        msg("user", "bye"),
    ],
    "tool": WEATHER_TOOL["function"],
    "parts": [{"type": "text", "text": "look "}, {"type": "image"}, {"type": "text", "text": "here"}],
}

# (name, template source) pairs rendered with SYNTHETIC_CONTEXT or their own context.
INLINE_CASES = [
    ("crlf_source", "line1\r\n{% if true %}\r\n  kept\r\n{% endif %}\r\nend\r\n", {}),
    ("trailing_newline_dropped", "one trailing newline is removed\n", {}),
    ("two_trailing_newlines", "only one of two is removed\n\n", {}),
    ("bos_missing_is_empty", "[{{ bos_token }}]{{ messages[0].content }}", {"messages": [msg("user", "x")]}),
    ("tools_none_defined", "{{ tools is defined }} {{ tools is none }} {{ 'tools' if tools else 'no tools' }}",
     {"tools": None, "documents": None}),
    ("undefined_renders_empty", "[{{ missing }}][{{ missing | upper }}][{% for x in missing %}x{% endfor %}][{{ missing is defined }}]", {}),
    ("none_attr_is_undefined", "[{{ value.attr }}]", {"value": None}),
    ("strftime_now_shape", "{{ strftime_now('%Y') | length }}", {}),
    ("elif_chain", "{% for n in [1, 2, 3, 4] %}{% if n == 1 %}one{% elif n == 2 %}two{% elif n == 3 %}three{% else %}other{% endif %} {% endfor %}", {}),
    ("set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = 1, 2 %}{{ c | length }}", {}),
    ("dict_literal_order", "{{ {'z': 1, 'a': 2, 'm': {'y': none, 'b': [true]}} | tojson }}", {}),
    ("generators_are_one_shot", "{% set g = [1, 2] | map('string') %}{{ g | list }}{{ g | list }} {{ 'truthy' if ([] | select) else 'falsy' }} {{ [3, 1] | select | first }} {{ 'x' if [1] | selectattr('missing') else 'y' }}", {}),
    ("markup_concat_escapes", "{{ '<a>' | safe + '<b>' }} {{ '<b>' + '<a>' | safe }} {{ '<x>' | e | e }} {{ ('<a>' | safe) ~ '<b>' }} {{ '<i>' | e | length }} {{ ('<a>' | safe) == '<a>' }}", {}),
    ("non_string_dict_keys", "{% set d = {1: 'a', 2: 'b', none: 'c'} %}{{ d[1] }}{{ d[2] }}{{ d[none] }}{{ d[1.0] }} {{ d | tojson }} {{ d }} {% for k in d %}{{ k }};{% endfor %}{{ 2 in d }}{{ '2' in d }}", {}),
    ("input_dict_order", "{{ payload | tojson }} {% for k in payload %}{{ k }}{% endfor %}",
     {"payload": {"zeta": 1, "alpha": {"c": 3, "b": 2}, "mid": [1.5, "x"]}}),
]

ERROR_CASES = [
    # (name, template source, context) -- expected to raise at render time
    ("raise_unsupported_role", "syn_raise", {"messages": [msg("user", "a"), msg("robot", "b")]}),
    ("gemma3_roles_must_alternate", "gemma3", {"messages": [msg("user", "a"), msg("user", "b")], "bos_token": "<bos>"}),
    ("gemma3_invalid_content", "gemma3", {"messages": [msg("user", None)], "bos_token": "<bos>"}),
    ("undefined_attribute_chain", "{{ foo.bar }}", {}),
    ("undefined_missing_key_chain", "{{ d.missing.x }}", {"d": {}}),
    ("undefined_arithmetic", "{{ foo + 'x' }}", {}),
    ("call_undefined", "{{ nothing() }}", {}),
    ("str_plus_int", "{{ 'a' + 1 }}", {}),
    ("division_by_zero", "{{ 1 / 0 }}", {}),
    ("compare_int_str", "{{ 1 < 'a' }}", {}),
    ("not_iterable", "{% for x in 5 %}{% endfor %}", {}),
    ("list_append_is_unsafe", "{% set xs = [] %}{{ xs.append(1) }}", {}),
    ("namespace_required", "{% set d = {} %}{% set d.x = 1 %}", {}),
    ("tojson_undefined", "{{ missing | tojson }}", {}),
    ("range_too_big", "{{ range(1000000) | length }}", {}),
    ("generator_has_no_len", "{{ [1, 2] | select | length }}", {}),
    ("generator_not_json", "{{ [1, 2] | map('string') | tojson }}", {}),
    ("markup_plus_int", "{{ 'a' | safe + 1 }}", {}),
]

SYNTAX_CASES = [
    ("unclosed_if", "{% if x %}never closed"),
    ("unclosed_for", "line1\n{% for x in y %}\n{{ x }}"),
    ("stray_endfor", "text\n{% endfor %}"),
    ("unknown_tag", "{% frobnicate %}"),
    ("incomplete_expression", "{{ x + }}"),
    ("unterminated_string", "{{ 'oops }}"),
    ("unbalanced_paren", "{{ (1 + 2 }}"),
    ("unclosed_comment", "a\nb {# never closed"),
    ("unclosed_variable", "{{ x "),
    ("missing_in", "{% for x y %}{% endfor %}"),
    ("else_after_else", "{% if a %}{% else %}{% else %}{% endif %}"),
    ("break_outside_loop", "{% break %}"),
    ("bad_assign", "{% set 1 = 2 %}"),
]


def load_templates():
    templates = {path.stem: path.read_text(encoding="utf-8") for path in sorted(TEMPLATES.glob("*.jinja"))}
    for path in sorted((TEMPLATES / "real").glob("*.jinja")):
        templates[f"real/{path.stem}"] = path.read_text(encoding="utf-8")
    return templates


def classify(error):
    if type(error) is jinja2.exceptions.TemplateError:
        return "raised"
    if isinstance(error, jinja2.exceptions.UndefinedError):
        return "undefined"
    if isinstance(error, jinja2.exceptions.SecurityError):
        return "security"
    if isinstance(error, OverflowError):
        return "limit"
    return "type"


def render(env, source, context):
    try:
        return {"expected": env.from_string(source).render(**context)}
    except jinja2.exceptions.TemplateSyntaxError as e:
        return {"error": {"kind": "syntax", "message": e.message, "line": e.lineno}}
    except SyntaxError as e:
        # jinja2 compiles templates to Python; e.g. `{% break %}` outside a loop fails there.
        return {"error": {"kind": "syntax", "message": str(e), "line": None}}
    except Exception as e:  # noqa: BLE001 - every failure is recorded as an expected error
        return {"error": {"kind": classify(e), "message": str(e), "python": type(e).__name__}}


def hf_context(template, messages, add_generation_prompt, tools=None, extra=None):
    """The variables transformers' apply_chat_template passes to render()."""
    context = {"messages": messages, "tools": tools, "documents": None, "add_generation_prompt": add_generation_prompt}
    context.update(SPECIAL_TOKENS[template])
    context.update(extra or {})
    return context


def build_cases(env, templates):
    cases = []

    def add(name, template, context, simple=False, source=None):
        case = {"name": name, "template": template, "context": context, "simple": simple}
        if source is not None:
            case["source"] = source
        case.update(render(env, source if source is not None else templates[template], context))
        cases.append(case)

    for template in ("smollm2", "gemma3", "qwen3", "ring_mini_2"):
        for conv_name, messages in CONVERSATIONS.items():
            for agp in (False, True):
                add(f"{template}/{conv_name}/agp={str(agp).lower()}", template,
                    hf_context(template, messages, agp), simple=True)

    gemma_mm = [msg("system", [{"type": "text", "text": "System as parts."}]),
                msg("user", [{"type": "image"}, {"type": "text", "text": "  Describe this image. "}]),
                msg("assistant", [{"type": "text", "text": "A cat. "}])]
    add("gemma3/multimodal_parts/agp=true", "gemma3", hf_context("gemma3", gemma_mm, True))

    for name, spec in QWEN3_EXTRA.items():
        for agp in (False, True):
            add(f"qwen3/{name}/agp={str(agp).lower()}", "qwen3",
                hf_context("qwen3", spec["messages"], agp, tools=spec.get("tools")))
    for thinking in (False, True):
        add(f"qwen3/enable_thinking={str(thinking).lower()}", "qwen3",
            hf_context("qwen3", CONVERSATIONS["multi_turn"], True, extra={"enable_thinking": thinking}), simple=True)

    for template in sorted(t for t in templates if t.startswith("syn_") and t != "syn_raise"):
        add(template, template, SYNTHETIC_CONTEXT)
    add("syn_raise/ok", "syn_raise", {"messages": SYNTHETIC_CONTEXT["messages"]})

    # Published templates: whatever jinja2 does (render or raise) is the expectation.
    for template in sorted(t for t in templates if t.startswith("real/")):
        tokens = {"bos_token": "<s>", "eos_token": "</s>"}
        for conv_name in ("single_user", "system_multi_turn", "unicode", "whitespace"):
            context = {"messages": CONVERSATIONS[conv_name], "tools": None, "documents": None,
                       "add_generation_prompt": True, **tokens}
            add(f"{template}/{conv_name}", template, context, simple=True)
        for name in ("tool_calls", "tools"):
            spec = QWEN3_EXTRA[name]
            context = {"messages": spec["messages"], "tools": spec["tools"], "documents": None,
                       "add_generation_prompt": False, **tokens}
            add(f"{template}/{name}", template, context)

    for name, source, context in INLINE_CASES:
        add(f"inline/{name}", "inline", context, source=source)

    for name, template_or_source, context in ERROR_CASES:
        if template_or_source in templates:
            add(f"error/{name}", template_or_source, context)
        else:
            add(f"error/{name}", "inline", context, source=template_or_source)

    for name, source in SYNTAX_CASES:
        add(f"syntax/{name}", "inline", {}, source=source)
    return cases


def main():
    env = make_environment()
    templates = load_templates()
    cases = build_cases(env, templates)
    for case in cases:
        if case["name"].startswith("real/"):
            continue
        if case["name"].startswith(("error/", "syntax/")):
            assert "error" in case, f"{case['name']} was expected to fail but rendered"
        else:
            assert "expected" in case, f"{case['name']} failed: {case['error']}"
    out = {"generator": f"tools/render_templates.py with Jinja2 {jinja2.__version__}",
           "templates": templates, "cases": cases}
    (FIXTURES / "golden.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases over {len(templates)} templates")


if __name__ == "__main__":
    main()
