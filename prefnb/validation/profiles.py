"""Validation profiles: ``together`` (default), ``together-1.5.34``, ``strict`` and ``openai``.

* ``together`` — Together's preference format as documented today and declared by the 3.1.1
  SDK: tools, ``tool_calls`` outputs, the tool role, reasoning and sample weights (see
  :mod:`.together_current`, which cites the source of each rule).
* ``together-1.5.34`` — exactly together 1.5.34's local ``check_file`` verdict and messages
  (see :mod:`.together`); the conformance corpus runs against it.
* ``strict`` — ``together-1.5.34`` plus the safe export profile: only ``input.messages``,
  an optional system message then strictly alternating user/assistant turns ending with user,
  each output exactly ``[{"role": "assistant", "content": "<non-empty string>"}]``, outputs
  that differ, and file hygiene (no CRLF, NaN or duplicate keys).
* ``openai`` — OpenAI's preference format: ``input.tools`` and ``input.parallel_tool_calls``
  allowed, tool and developer roles, assistant ``tool_calls``; text only.

Example:
    >>> line = {"input": {"messages": [{"role": "user", "content": "hi"}]},
    ...         "preferred_output": [{"role": "assistant", "content": " "}],
    ...         "non_preferred_output": [{"role": "assistant", "content": "hello"}]}
    >>> [p.code for p in strict_problems(line, 1)]
    ['strict.empty_output']
    >>> openai_problems(line, 1)
    []
"""

from __future__ import annotations

from typing import Any, Final

from prefnb.validation.together import Problem

__all__ = ["PROFILES", "check_profile_name", "openai_problems", "strict_problems"]

PROFILES: Final[tuple[str, ...]] = ("together", "together-1.5.34", "strict", "openai")

_OUTPUT_KEYS: Final[tuple[str, ...]] = ("preferred_output", "non_preferred_output")
_OPENAI_TOP: Final[tuple[str, ...]] = ("input", *_OUTPUT_KEYS)
_OPENAI_INPUT: Final[frozenset[str]] = frozenset({"messages", "tools", "parallel_tool_calls"})
_OPENAI_ROLES: Final[tuple[str, ...]] = (
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
)


def check_profile_name(profile: str) -> str:
    """Return ``profile`` if known, else raise ``ValueError`` naming the known ones."""
    if profile not in PROFILES:
        raise ValueError(
            f"unknown validation profile {profile!r}; known profiles: {', '.join(PROFILES)}"
        )
    return profile


def strict_problems(obj: dict[str, Any], n: int) -> list[Problem]:
    """Safe-export-profile problems of a preference line that passed Together's check."""
    out: list[Problem] = []
    inp = obj["input"]
    for key in inp:
        if key != "messages":
            out.append(
                Problem(
                    "strict.input_extra_key",
                    f"input.{key} is not part of the safe export profile: Together's check "
                    "ignores it and what its server does with it is unknown; only "
                    "input.messages is allowed.",
                    f"input.{key}",
                )
            )
    messages = inp["messages"]
    for i, msg in enumerate(messages):
        extra = [k for k in msg if k not in ("role", "content")]
        if extra:
            out.append(
                Problem(
                    "strict.message_extra_key",
                    f"message has extra key(s) {', '.join(map(repr, extra))}; the safe export "
                    "profile allows only 'role' and 'content'.",
                    f"input.messages[{i}]",
                )
            )
    roles = [m["role"] for m in messages]
    start = 1 if roles[0] == "system" else 0
    for i in range(start, len(roles)):
        expected = "user" if (i - start) % 2 == 0 else "assistant"
        if roles[i] != expected:
            out.append(
                Problem(
                    "strict.role_order",
                    f"role {roles[i]!r} where {expected!r} is expected: the safe export profile "
                    "wants an optional system message, then user/assistant/user/… strictly "
                    "alternating, starting with user.",
                    f"input.messages[{i}].role",
                )
            )
            break
    if roles[-1] != "user":
        out.append(
            Problem(
                "strict.last_input_not_user",
                f"the last input message has role {roles[-1]!r}; the safe export profile wants "
                "the prompt to end with a user message.",
                f"input.messages[{len(roles) - 1}].role",
            )
        )
    texts: list[Any] = []
    for key in _OUTPUT_KEYS:
        msg = obj[key][0]
        extra = [k for k in msg if k not in ("role", "content")]
        if extra:
            out.append(
                Problem(
                    "strict.output_extra_key",
                    f"{key}[0] has extra key(s) {', '.join(map(repr, extra))} (e.g. weight); "
                    "the safe export profile allows only 'role' and 'content'.",
                    f"{key}[0]",
                )
            )
        content = msg["content"]
        texts.append(content)
        if not isinstance(content, str):
            out.append(
                Problem(
                    "strict.output_not_string",
                    f"{key}[0].content is a {type(content).__name__}; the safe export profile "
                    "wants a plain string.",
                    f"{key}[0].content",
                )
            )
        elif not content.strip():
            out.append(
                Problem(
                    "strict.empty_output",
                    f"{key}[0].content is empty or whitespace only; it must be a non-empty string.",
                    f"{key}[0].content",
                )
            )
    if texts[0] == texts[1]:
        out.append(
            Problem(
                "strict.identical_outputs",
                "preferred and non-preferred outputs are identical; a preference pair needs two "
                "different responses.",
                "non_preferred_output[0].content",
            )
        )
    return out


def _openai_message(msg: Any, path: str, *, output: bool) -> list[Problem]:
    if not isinstance(msg, dict):
        return [Problem("openai.message_not_object", f"{path} must be an object.", path)]
    out: list[Problem] = []
    role = msg.get("role")
    allowed = ("assistant", "tool") if output else _OPENAI_ROLES
    if role not in allowed:
        return [
            Problem(
                "openai.role",
                f"{path}.role is {role!r}; allowed: {', '.join(allowed)}.",
                f"{path}.role",
            )
        ]
    content = msg.get("content")
    if role == "assistant" and content is None:
        if not msg.get("tool_calls"):
            out.append(
                Problem(
                    "openai.assistant_empty",
                    f"{path}: an assistant message needs 'content' or 'tool_calls'.",
                    path,
                )
            )
    elif isinstance(content, list):
        for j, part in enumerate(content):
            if not (
                isinstance(part, dict)
                and part.get("type") == "text"
                and isinstance(part.get("text"), str)
            ):
                out.append(
                    Problem(
                        "openai.content_part",
                        f"{path}.content[{j}] must be a text part {{'type': 'text', 'text': str}}"
                        "; DPO supports text inputs and outputs only.",
                        f"{path}.content[{j}]",
                    )
                )
                break
    elif not isinstance(content, str):
        out.append(
            Problem(
                "openai.content_type",
                f"{path}.content must be a string or a list of text parts, found "
                f"{type(content).__name__}.",
                f"{path}.content",
            )
        )
    if role == "tool" and not isinstance(msg.get("tool_call_id"), str):
        out.append(
            Problem(
                "openai.tool_call_id",
                f"{path}: a tool message needs a string 'tool_call_id'.",
                f"{path}.tool_call_id",
            )
        )
    return out


def openai_problems(obj: Any, n: int) -> list[Problem]:
    """Problems of one line under OpenAI's preference (DPO) format."""
    if not isinstance(obj, dict):
        return [Problem("openai.not_object", f"line {n} must be a JSON object.")]
    out: list[Problem] = []
    for key in _OPENAI_TOP:
        if key not in obj:
            out.append(
                Problem(
                    "openai.missing_key",
                    f"missing {key!r}; a preference line has input, preferred_output and "
                    "non_preferred_output.",
                    key,
                )
            )
    for key in obj:
        if key not in _OPENAI_TOP:
            out.append(
                Problem(
                    "openai.extra_key",
                    f"unexpected top-level key {key!r}; allowed: {', '.join(_OPENAI_TOP)}.",
                    str(key),
                )
            )
    if out:
        return out
    inp = obj["input"]
    if not isinstance(inp, dict):
        return [Problem("openai.input_not_object", "input must be an object.", "input")]
    for key in inp:
        if key not in _OPENAI_INPUT:
            out.append(
                Problem(
                    "openai.input_extra_key",
                    f"unexpected key input.{key}; allowed: messages, tools, parallel_tool_calls.",
                    f"input.{key}",
                )
            )
    messages = inp.get("messages")
    if not isinstance(messages, list) or not messages:
        out.append(
            Problem(
                "openai.messages",
                "input.messages must be a non-empty list of messages.",
                "input.messages",
            )
        )
    else:
        for i, msg in enumerate(messages):
            out += _openai_message(msg, f"input.messages[{i}]", output=False)
        last = messages[-1]
        if isinstance(last, dict) and last.get("role") == "assistant":
            out.append(
                Problem(
                    "openai.last_input_assistant",
                    "the input must end before the assistant turn: the outputs are the last "
                    "assistant message.",
                    f"input.messages[{len(messages) - 1}].role",
                )
            )
    if "tools" in inp:
        tools = inp["tools"]
        if not isinstance(tools, list):
            out.append(Problem("openai.tools", "input.tools must be a list.", "input.tools"))
        else:
            for i, tool in enumerate(tools):
                fn = tool.get("function") if isinstance(tool, dict) else None
                if not (
                    isinstance(tool, dict)
                    and tool.get("type") == "function"
                    and isinstance(fn, dict)
                    and isinstance(fn.get("name"), str)
                ):
                    out.append(
                        Problem(
                            "openai.tools",
                            f"input.tools[{i}] must be {{'type': 'function', 'function': "
                            "{'name': str, …}}.",
                            f"input.tools[{i}]",
                        )
                    )
    if "parallel_tool_calls" in inp and not isinstance(inp["parallel_tool_calls"], bool):
        out.append(
            Problem(
                "openai.parallel_tool_calls",
                "input.parallel_tool_calls must be true or false.",
                "input.parallel_tool_calls",
            )
        )
    for key in _OUTPUT_KEYS:
        value = obj[key]
        if not isinstance(value, list) or not value:
            out.append(
                Problem("openai.output", f"{key} must be a non-empty list of messages.", key)
            )
            continue
        for i, msg in enumerate(value):
            out += _openai_message(msg, f"{key}[{i}]", output=True)
        if not any(isinstance(m, dict) and m.get("role") == "assistant" for m in value):
            out.append(
                Problem(
                    "openai.output_assistant",
                    f"{key} must contain at least one assistant message.",
                    key,
                )
            )
    return out
