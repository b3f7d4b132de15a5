"""The strict (safe export) and openai profiles."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from prefnb.validation import validate


def pref(*roles: str) -> dict[str, Any]:
    roles = roles or ("user",)
    return {
        "input": {"messages": [{"role": r, "content": f"{r} text"} for r in roles]},
        "preferred_output": [{"role": "assistant", "content": "good"}],
        "non_preferred_output": [{"role": "assistant", "content": "bad"}],
    }


def strict_codes(line: dict[str, Any]) -> list[str]:
    return [e.code for e in validate([line], profile="strict").errors]


def test_clean_lines_pass_strict() -> None:
    assert strict_codes(pref()) == []
    assert strict_codes(pref("system", "user", "assistant", "user")) == []


@pytest.mark.parametrize(
    ("roles", "code"),
    [
        (("assistant", "user"), "strict.role_order"),
        (("user", "system", "user"), "strict.role_order"),
        (("system", "user", "assistant"), "strict.last_input_not_user"),
        (("user", "assistant", "system"), "strict.role_order"),
    ],
)
def test_strict_role_order(roles: tuple[str, ...], code: str) -> None:
    line = pref(*roles)
    if roles[-1] == "assistant":
        # together already rejects a last assistant turn; strict must too
        assert "together.last_input_assistant" in strict_codes(line)
        return
    assert validate([line]).ok  # together lets it through
    assert code in strict_codes(line)


def test_strict_outputs() -> None:
    empty = pref()
    empty["preferred_output"][0]["content"] = " \n"
    assert strict_codes(empty) == ["strict.empty_output"]
    same = pref()
    same["non_preferred_output"][0]["content"] = "good"
    assert strict_codes(same) == ["strict.identical_outputs"]
    weighted = pref()
    weighted["preferred_output"][0]["weight"] = 1
    assert strict_codes(weighted) == ["strict.output_extra_key"]
    parts = pref()
    parts["preferred_output"][0]["content"] = [{"type": "text", "text": "good"}]
    assert strict_codes(parts) == ["strict.output_not_string"]


def test_strict_input_shape() -> None:
    tools = pref()
    tools["input"]["tools"] = []
    assert validate([tools]).ok
    assert strict_codes(tools) == ["strict.input_extra_key"]
    named = pref()
    named["input"]["messages"][0]["name"] = "bob"
    assert strict_codes(named) == ["strict.message_extra_key"]


def test_strict_wants_preference_lines() -> None:
    conv = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    assert validate([conv]).ok
    assert strict_codes(conv) == ["strict.not_preference"]


def openai_codes(line: Any) -> list[str]:
    return [e.code for e in validate([line], profile="openai").errors]


def test_openai_allows_tools_and_tool_turns() -> None:
    line = pref()
    line["input"]["tools"] = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    line["input"]["parallel_tool_calls"] = False
    line["input"]["messages"] += [
        {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "type": "function"}]},
        {"role": "tool", "content": "42", "tool_call_id": "1"},
    ]
    assert openai_codes(line) == []
    assert not validate([line]).ok  # together rejects the tool role


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: d.update(id=1), "openai.extra_key"),
        (lambda d: d.pop("non_preferred_output"), "openai.missing_key"),
        (lambda d: d["input"].update(parallel_tool_calls="yes"), "openai.parallel_tool_calls"),
        (lambda d: d["input"].update(tools=[{"type": "web"}]), "openai.tools"),
        (lambda d: d["input"].update(messages=[]), "openai.messages"),
        (
            lambda d: d["input"]["messages"].append({"role": "assistant", "content": "x"}),
            "openai.last_input_assistant",
        ),
        (
            lambda d: d["input"]["messages"].append({"role": "tool", "content": "x"}),
            "openai.tool_call_id",
        ),
        (lambda d: d["preferred_output"][0].update(role="user"), "openai.role"),
        (
            lambda d: d["preferred_output"][0].update(
                content=[{"type": "image_url", "image_url": {"url": "data:image/png;base64,"}}]
            ),
            "openai.content_part",
        ),
        (lambda d: d.update(preferred_output=[]), "openai.output"),
        (lambda d: d["input"].update(extra=1), "openai.input_extra_key"),
    ],
)
def test_openai_rules(mutate: Any, code: str) -> None:
    line = copy.deepcopy(pref())
    mutate(line)
    assert code in openai_codes(line)


def test_openai_not_an_object() -> None:
    assert openai_codes([1]) == ["openai.not_object"]


# --- the current `together` profile vs `together-1.5.34` ---------------------------------


def tool_line() -> dict[str, Any]:
    """A tool-calling preference line as Together documents it today."""
    return {
        "input": {
            "messages": [
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "{\"temp\": 18}"},
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather",
                       "parameters": {"type": "object"}}}],
            "parallel_tool_calls": False,
        },
        "preferred_output": [{"role": "assistant", "content": "18 °C in Paris."}],
        "non_preferred_output": [{"role": "assistant", "tool_calls": [{"id": "c2",
            "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]}],
    }  # fmt: skip


def reasoning_line() -> dict[str, Any]:
    line = pref()
    line["preferred_output"][0]["reasoning"] = "Greet back, briefly."
    line["non_preferred_output"][0]["reasoning"] = "Be curt."
    line["weight"] = 2.0  # a sample weight
    return line


def test_tool_calling_and_reasoning_lines_pass_together_but_not_1_5_34() -> None:
    for line in (tool_line(), reasoning_line()):
        assert validate([line, line], profile="together").ok
    old = validate([tool_line()], profile="together-1.5.34")
    assert [e.code for e in old.errors] == ["together.message_missing_content"]
    assert old.errors[0].message == "Missing required column `content` in message on line 1."
    old = validate([reasoning_line()], profile="together-1.5.34")
    assert [e.code for e in old.errors] == ["together.extra_column"]
    role = tool_line()
    role["input"]["messages"][1]["content"] = "calling"
    assert [e.code for e in validate([role], profile="together-1.5.34").errors] == [
        "together.role_invalid"
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda x: x["input"]["messages"][1]["tool_calls"][0]["function"].update(arguments="{bad"),
         "together.tool_call_arguments"),
        (lambda x: x["input"]["messages"][1].pop("tool_calls"), "together.assistant_empty"),
        (lambda x: x["input"]["messages"][2].pop("content"), "together.message_missing_content"),
        (lambda x: x["preferred_output"][0].update(role="tool"), "together.output_role"),
        (lambda x: x["preferred_output"][0].update(reasoning=3), "together.reasoning"),
        (lambda x: x["input"].update(parallel_tool_calls="yes"), "together.parallel_tool_calls"),
        (lambda x: x["input"]["messages"][0].update(tool_calls=[]), "together.tool_calls_role"),
        (lambda x: x.update(weight=-1), "together.sample_weight"),
        (lambda x: x["input"]["messages"][0].update(weight=2), "together.weight_value"),
        (lambda x: x["input"]["messages"].pop(), "together.last_input_assistant"),
    ],
)  # fmt: skip
def test_together_still_refuses_what_together_refuses(change: Any, code: str) -> None:
    line = tool_line()
    change(line)
    assert [e.code for e in validate([line], profile="together").errors] == [code]


def test_risky_rows_together_accepts_stay_warnings() -> None:
    line = tool_line()
    line["input"]["tools"][0]["function"]["name"] = "other"
    line["id"] = "row-1"
    report = validate([line], profile="together")
    assert report.ok
    assert {w.code for w in report.warnings} >= {"together.unknown_tool", "together.extra_key"}
