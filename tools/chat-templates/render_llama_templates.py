#!/usr/bin/env python3
"""Render a dozen of llama.cpp's real-world chat templates (models/templates in its source,
fetched by `make llama-vocab` into ~/.cache/ringside/llama.cpp-0.3.36) over conversations with
tool calls and reasoning turns, with jinja2 configured as transformers' apply_chat_template
configures it, and write the goldens Tests/JinjaTests/LlamaTemplateTests.swift compares with.

    SOURCE_DATE_EPOCH is fixed below, so strftime_now renders one date.
    python3 tools/chat-templates/render_llama_templates.py [TEMPLATES_DIR]

The templates themselves are not committed; the fixture records each one's size so that a
different copy is reported as such rather than as a rendering difference.
"""
import json
import os
import pathlib
import sys
from datetime import datetime, timezone

import jinja2

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from render_templates import make_environment  # noqa: E402  (transformers' environment)

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "Tests" / "JinjaTests" / "Fixtures" / "llama_templates.json"
DEFAULT_DIR = pathlib.Path.home() / ".cache" / "ringside" / "llama.cpp-0.3.36" / "models" / "templates"
EPOCH = 1765000000  # 2025-12-06 05:46:40 UTC

TEMPLATES = [
    "Qwen-Qwen3-0.6B", "Qwen3.5-4B", "Qwen3-Coder", "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B",
    "deepseek-ai-DeepSeek-V3.1", "meta-llama-Llama-3.1-8B-Instruct", "mistralai-Mistral-Nemo-Instruct-2407",
    "NousResearch-Hermes-3-Llama-3.1-8B-tool_use", "openai-gpt-oss-120b", "google-gemma-4-31B-it",
    "HuggingFaceTB-SmolLM3-3B", "ibm-granite-granite-4.0", "moonshotai-Kimi-K2", "MiniMax-M2", "GLM-4.6",
    "CohereForAI-c4ai-command-r7b-12-2024-tool_use",
]

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city, in °C.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name, e.g. \"Zürich\""},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}}
CLOCK = {"type": "function", "function": {
    "name": "now", "description": "The time now.", "parameters": {"type": "object", "properties": {}}}}


def call(id_, name, arguments):
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": arguments}}


CONVERSATIONS = {
    "tools_offered": {
        "messages": [{"role": "system", "content": "You are a helpful assistant."},
                     {"role": "user", "content": "What's the weather in Zürich?"}],
        "tools": [WEATHER, CLOCK], "add_generation_prompt": True},
    "tool_round_trip": {
        "messages": [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {"role": "assistant", "content": "", "tool_calls": [
                call("callParis", "get_weather", {"city": "Paris", "unit": "celsius"}),
                call("callRome1", "get_weather", {"city": "Rome"})]},
            {"role": "tool", "tool_call_id": "callParis", "name": "get_weather", "content": "{\"temp\": 18}"},
            {"role": "tool", "tool_call_id": "callRome1", "name": "get_weather", "content": "{\"temp\": 24}"},
            {"role": "assistant", "content": "Paris: 18°C, Rome: 24°C."},
            {"role": "user", "content": "Thanks! And the time?"}],
        "tools": [WEATHER, CLOCK], "add_generation_prompt": True},
    "reasoning_turns": {
        "messages": [
            {"role": "system", "content": "Think before answering."},
            {"role": "user", "content": "Is 91 prime?"},
            {"role": "assistant", "content": "No: 91 = 7 × 13.", "reasoning_content": "Try 7: 7 × 13 = 91."},
            {"role": "user", "content": "And 97?"}],
        "add_generation_prompt": True},
    "reasoning_then_tool": {
        "messages": [
            {"role": "user", "content": "What time is it?"},
            {"role": "assistant", "content": "", "reasoning_content": "I should ask the clock.",
             "tool_calls": [call("callClock", "now", {})]},
            {"role": "tool", "tool_call_id": "callClock", "name": "now", "content": "12:00"},
            {"role": "assistant", "content": "It is noon.", "reasoning_content": "The tool said 12:00."}],
        "tools": [CLOCK], "add_generation_prompt": False},
    "no_thinking": {
        "messages": [{"role": "user", "content": "Say hi."}],
        "add_generation_prompt": True, "kwargs": {"enable_thinking": False}},
}

TOKENS = {"bos_token": "<s>", "eos_token": "</s>"}


def main():
    os.environ["SOURCE_DATE_EPOCH"] = str(EPOCH)
    directory = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    env = make_environment()
    env.globals["strftime_now"] = lambda fmt: datetime.fromtimestamp(EPOCH, timezone.utc).strftime(fmt)
    templates, cases = {}, []
    for name in TEMPLATES:
        source = (directory / f"{name}.jinja").read_text(encoding="utf-8")
        templates[name] = {"bytes": len(source.encode("utf-8"))}
        compiled = env.from_string(source)
        for conv, spec in CONVERSATIONS.items():
            context = {"messages": spec["messages"], "tools": spec.get("tools"), "documents": None,
                       "add_generation_prompt": spec["add_generation_prompt"], **TOKENS, **spec.get("kwargs", {})}
            case = {"template": name, "conversation": conv, "context": context}
            try:
                case["expected"] = compiled.render(**context)
            except Exception as e:  # noqa: BLE001 - a template refusing a conversation is recorded too
                case["error"] = f"{type(e).__name__}: {e}"
            cases.append(case)
    rendered = sum("expected" in c for c in cases)
    out = {"generator": f"tools/chat-templates/render_llama_templates.py with Jinja2 {jinja2.__version__}",
           "source_date_epoch": EPOCH, "templates": templates, "cases": cases}
    OUT.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases ({rendered} rendered) over {len(templates)} templates")


if __name__ == "__main__":
    main()
