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
