"""The ``together`` profile: Together's preference format as its docs and the 3.1.1 SDK
describe it today, tool calling and reasoning included.

together 3.1.1 no longer validates a file locally beyond "one JSON object per line"
(``lib/utils/files.py::_check_jsonl``: "Semantic checks run on the server after upload"), so
these rules come from what Together documents and what its SDK declares. Each rule names its
source:

[D]  docs.together.ai "Preference fine-tuning" data format: ``input.messages``, and
     ``preferred_output`` / ``non_preferred_output`` each one assistant message.
[C]  together 3.1.1 ``lib/constants.py``: ``JSONL_REQUIRED_COLUMNS_MAP`` (the three preference
     columns), ``REQUIRED_COLUMNS_MESSAGE = ["role"]``, ``POSSIBLE_ROLES_CONVERSATION``
     (system, user, assistant, **tool**).
[R]  together 3.1.1 ``types/file_response.py``, the server's validation report:
     ``dataset_has_tools``, ``dataset_has_parallel_tool_calls``, ``dataset_has_reasoning``,
     ``dataset_has_sample_weights``, ``dataset_has_message_weights``: the server accepts these.
[V2] together-py 2.x ``lib/utils/files.py``, the last local validator: an assistant message
     needs ``content`` and/or ``tool_calls``; other roles need ``content`` and no
     ``tool_calls``; a tool call needs ``type``, a ``function`` with a string ``name``, and
     ``arguments`` (if any) as a JSON string of an object; message weights are 0 or 1; the
     prompt must not end with an assistant message.

Undecided by the docs, and prefnb's choice: the per-sample weight is a top-level numeric
``weight`` ≥ 0 (the report says only that sample weights exist); a tool call's name missing from
``input.tools`` is a warning (together-py 2.x refused it for conversations only); top-level keys
beyond the three columns and ``weight`` are warnings, not errors (3.1.1 no longer checks them).

Rows Together accepts but that are risky (an unknown top-level key, a call to a function not
in ``input.tools``) are warnings, not errors. Non-preference lines keep together 1.5.34's
rules (:mod:`.together`).

Example:
    >>> line = {"input": {"messages": [{"role": "user", "content": "weather?"}],
    ...                   "tools": [{"type": "function", "function": {"name": "get"}}]},
    ...         "preferred_output": [{"role": "assistant", "tool_calls": [
    ...             {"type": "function", "function": {"name": "get", "arguments": "{}"}}]}],
    ...         "non_preferred_output": [{"role": "assistant", "content": "No idea.",
    ...                                   "reasoning": "I cannot look it up."}]}
    >>> check_current(line, 1)
    ('preference_openai', [], [])
"""

from __future__ import annotations

import json
from typing import Any, Final

from prefnb.validation.together import (
    FORMATS,
    MSG_NOT_OBJECT,
    Problem,
    _Fail,
    check_content,
    check_line,
)

__all__ = ["ROLES", "check_current"]

#: [C] POSSIBLE_ROLES_CONVERSATION
ROLES: Final[tuple[str, ...]] = ("system", "user", "assistant", "tool")
_PREF: Final[str] = "preference_openai"
_OUTPUTS: Final[tuple[str, str]] = ("preferred_output", "non_preferred_output")
#: [R] a per-sample weight (``dataset_has_sample_weights``)
_TOP_OPTIONAL: Final[frozenset[str]] = frozenset({"weight"})


def _fail(code: str, message: str, path: str) -> _Fail:
    return _Fail(f"together.{code}", message, path)


def _tool_calls(calls: Any, n: int, path: str) -> list[str]:
    """[V2] tool call structure; returns the function names called."""
    if not isinstance(calls, list) or not calls:
        raise _fail("tool_calls", f"`tool_calls` must be a non-empty list on line {n}.", path)
    names: list[str] = []
    for i, call in enumerate(calls):
        p = f"{path}[{i}]"
        if not isinstance(call, dict) or "type" not in call:
            raise _fail("tool_call", f"A tool call must be an object with a `type` on line {n}.", p)
        if call["type"] != "function":
            continue
        fn = call.get("function")
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise _fail(
                "tool_call_function",
                f"A function tool call needs a `function` object with a string `name` on line {n}.",
                f"{p}.function",
            )
        args = fn.get("arguments")
        if args is not None:
            try:
                parsed = json.loads(args) if isinstance(args, str) else None
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                raise _fail(
                    "tool_call_arguments",
                    "`function.arguments` must be a JSON string encoding an object on line "
                    f"{n} (got {args!r:.60}).",
                    f"{p}.function.arguments",
                )
        names.append(fn["name"])
    return names


def _message(msg: Any, n: int, path: str) -> tuple[str, list[str], bool | None]:
    """One message; returns (role, functions it calls, multimodal or None without content).

    Rules shared with together 1.5.34 keep its codes and messages word for word.
    """
    bad = f"Invalid format on line {n} of the input file. "
    if not isinstance(msg, dict):
        raise _Fail(
            "together.message_not_dict",
            f"{bad}The `messages` column must be a list of dicts. Found {type(msg)}",
            path,
        )
    present = {k: v for k, v in msg.items() if v is not None}  # [V2] None values are dropped
    if "role" not in present:  # [C] REQUIRED_COLUMNS_MESSAGE
        raise _Fail(
            "together.message_missing_role",
            f"Missing required column `role` in message on line {n}.",
            path,
        )
    role = present["role"]
    if not isinstance(role, str) or role not in ROLES:  # [C] POSSIBLE_ROLES_CONVERSATION
        raise _Fail(
            "together.role_invalid",
            f"Invalid role `{role}` in conversation on line {n}. Possible roles: "
            f"{', '.join(ROLES)}",
            f"{path}.role",
        )
    weight = present.get("weight")
    if weight is not None:  # [V2] message weights are 0 or 1
        if isinstance(weight, bool) or not isinstance(weight, int):
            raise _Fail(
                "together.weight_type", f"Weight must be an integer on line {n}.", f"{path}.weight"
            )
        if weight not in (0, 1):
            raise _Fail(
                "together.weight_value",
                f"Weight must be either 0 or 1 on line {n}.",
                f"{path}.weight",
            )
    names: list[str] = []
    if role == "assistant":
        if "content" not in present and "tool_calls" not in present:
            raise _fail(
                "assistant_empty",
                f"Assistant message must have 'content' and/or 'tool_calls' on line {n}.",
                path,
            )
        if "tool_calls" in present:
            names = _tool_calls(present["tool_calls"], n, f"{path}.tool_calls")
        reasoning = present.get("reasoning")
        if reasoning is not None and not isinstance(reasoning, str):  # [R] dataset_has_reasoning
            raise _fail(
                "reasoning", f"`reasoning` must be a string on line {n}.", f"{path}.reasoning"
            )
    else:
        if "content" not in present:
            raise _Fail(
                "together.message_missing_content",
                f"Missing required column `content` in message on line {n}.",
                path,
            )
        if "tool_calls" in present:
            raise _fail(
                "tool_calls_role",
                f"Only assistant messages may have 'tool_calls' on line {n}.",
                f"{path}.tool_calls",
            )
    multimodal: bool | None = None
    if "content" in present:
        multimodal, images = check_content(present["content"], role, n, f"{path}.content")
        if images and weight:
            raise _Fail(
                "together.image_weight", "Messages with images cannot have non-zero weights.", path
            )
    return role, names, multimodal


def _tools(tools: Any, n: int) -> set[str]:
    if not isinstance(tools, list):
        raise _fail("tools", f"`input.tools` must be a list on line {n}.", "input.tools")
    names: set[str] = set()
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise _fail(
                "tool",
                "Each tool must be {'type': 'function', 'function': {'name': ...}} on line "
                f"{n}.",
                f"input.tools[{i}]",
            )
        names.add(fn["name"])
    return names


def _preference(obj: dict[str, Any], n: int) -> list[Problem]:
    warnings: list[Problem] = []
    malformed = "The dataset is malformed, the"
    inp = obj["input"]
    if not isinstance(inp, dict):  # [D]
        raise _Fail(
            "together.input_not_dict", f"{malformed} `input` field must be a dictionary.", "input"
        )
    if "messages" not in inp:
        raise _Fail(
            "together.input_no_messages",
            f"{malformed} `input` dictionary must contain a `messages` field.",
            "input",
        )
    messages = inp["messages"]
    bad = f"Invalid format on line {n} of the input file. "
    if not isinstance(messages, list):
        raise _Fail(
            "together.messages_not_list",
            f"{bad}The `messages` column must be a list. Found {type(messages)}",
            "input.messages",
        )
    if not messages:
        raise _Fail(
            "together.messages_empty",
            f"{bad}The `messages` column must not be empty.",
            "input.messages",
        )
    tools = _tools(inp["tools"], n) if inp.get("tools") is not None else None
    ptc = inp.get("parallel_tool_calls")
    if ptc is not None and not isinstance(ptc, bool):  # [R] dataset_has_parallel_tool_calls
        raise _fail(
            "parallel_tool_calls",
            f"`input.parallel_tool_calls` must be true or false on line {n}.",
            "input.parallel_tool_calls",
        )
    called: list[tuple[str, str]] = []
    kinds: list[tuple[str, bool]] = []
    role = ""
    for i, msg in enumerate(messages):
        role, names, mm = _message(msg, n, f"input.messages[{i}]")
        called += [(f"input.messages[{i}]", x) for x in names]
        if mm is not None:
            kinds.append((f"input.messages[{i}].content", mm))
    if role == "assistant":  # [V2]
        raise _Fail(
            "together.last_input_assistant",
            "The last message in the input conversation must not be from the assistant on "
            f"line {n}.",
            f"input.messages[{len(messages) - 1}].role",
        )
    for key in _OUTPUTS:  # [D] one assistant message each
        value = obj[key]
        if not isinstance(value, list):
            raise _Fail(
                "together.output_not_list",
                f"{malformed} `{key}` field must be a list on line {n}.",
                key,
            )
        if len(value) != 1:
            raise _Fail(
                "together.output_count",
                f"{malformed} `{key}` list must contain exactly one message on line {n}.",
                key,
            )
        first, p = value[0], f"{key}[0]"
        if not isinstance(first, dict):
            raise _Fail(
                "together.output_not_dict",
                f"{malformed} first element of `{key}` must be a dictionary on line {n}.",
                p,
            )
        if first.get("role") is None:
            raise _Fail(
                "together.output_no_role",
                f"{malformed} first element of `{key}` must have a 'role' field on line {n}.",
                p,
            )
        if first["role"] != "assistant":
            raise _Fail(
                "together.output_role",
                f"{malformed} first element of `{key}` must have the 'assistant' role on line {n}.",
                f"{p}.role",
            )
        _, names, mm = _message(first, n, p)
        called += [(p, x) for x in names]
        if mm is not None:
            kinds.append((f"{p}.content", mm))
    if len({mm for _, mm in kinds}) > 1:  # [V2] text-only and multimodal do not mix
        raise _Fail(
            "together.mixed_multimodal",
            "Messages in the conversation must be either all in multimodal or all in "
            "text-only format.",
            next(path for path, mm in kinds if mm != kinds[0][1]),
        )
    if tools is not None:
        for path, name in called:
            if name not in tools:
                warnings.append(
                    Problem(
                        "together.unknown_tool",
                        f"line {n} calls {name!r}, which is not in input.tools; the model "
                        "learns to call a function it is never offered.",
                        path,
                    )
                )
    for key in obj:
        if key not in FORMATS[_PREF] and key not in _TOP_OPTIONAL:
            warnings.append(
                Problem(
                    "together.extra_key",
                    f"line {n} has the top-level key {key!r}, which Together's preference format "
                    "does not define; it is probably ignored.",
                    str(key),
                )
            )
    weight = obj.get("weight")
    if weight is not None and (
        isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0
    ):
        raise _fail(
            "sample_weight", f"The sample `weight` must be a number ≥ 0 on line {n}.", "weight"
        )
    return warnings


def check_current(
    obj: Any, n: int, dataset_format: str | None = None
) -> tuple[str | None, list[Problem], list[Problem]]:
    """Check one parsed line under the ``together`` profile.

    Returns (format, errors, warnings). A line is a preference line when it has the three
    preference columns [C]; other formats are checked as together 1.5.34 did.
    """
    if not isinstance(obj, dict):
        return None, [Problem("together.not_object", MSG_NOT_OBJECT.format(n=n))], []
    if not all(col in obj for col in FORMATS[_PREF]):
        fmt, problem = check_line(obj, n, dataset_format)
        return fmt, [problem] if problem is not None else [], []
    try:
        warnings = _preference(obj, n)
    except _Fail as fail:
        return _PREF, [fail.problem], []
    if dataset_format is not None and dataset_format != _PREF:
        return (
            _PREF,
            [
                Problem(
                    "together.format_mismatch",
                    "All samples in the dataset must have the same dataset format. "
                    f"Got DatasetFormat.{dataset_format.upper()} for the first line and "
                    f"DatasetFormat.PREFERENCE_OPENAI for the line {n}.",
                )
            ],
            warnings,
        )
    return _PREF, [], warnings
