"""Together/OpenAI preference (DPO) lines → pair rows.

A line is ``{"input": {"messages": [...]}, "preferred_output": [assistant message],
"non_preferred_output": [assistant message]}``. OpenAI's extras inside ``input`` (``tools``,
``parallel_tool_calls``) and any other top-level keys pass through as columns.

Example:
    >>> row = to_pair({"input": {"messages": [{"role": "user", "content": "q"}]},
    ...                "preferred_output": [{"role": "assistant", "content": "x"}],
    ...                "non_preferred_output": [{"role": "assistant", "content": "y"}]}, "line 1")
    >>> row["response_a"], row["response_b"], row["label"]
    ('x', 'y', 'a')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefnb.formats.fields import describe, messages, response
from prefnb.formats.sources import FormatError

__all__ = ["KEYS", "to_pair"]

KEYS = ("input", "preferred_output", "non_preferred_output")


def to_pair(rec: Mapping[str, Any], where: str) -> dict[str, Any]:
    """One pair row from one preference line (preferred → ``response_a``, label ``a``)."""
    for key in KEYS:
        if key not in rec:
            raise FormatError(
                f"{where}: missing {key!r} (a Together preference line needs "
                "'input', 'preferred_output' and 'non_preferred_output')"
            )
    inp = rec["input"]
    if not isinstance(inp, Mapping):
        raise FormatError(f"{where}: 'input' must be an object, got {describe(inp)}")
    if "messages" not in inp:
        raise FormatError(f"{where}: 'input' must contain 'messages'")
    row: dict[str, Any] = {k: v for k, v in rec.items() if k not in KEYS}
    row.update({k: v for k, v in inp.items() if k != "messages"})
    row["prompt"] = messages(inp["messages"], where, "input.messages", allow_string=False)
    row["response_a"] = response(rec["preferred_output"], where, "preferred_output")
    row["response_b"] = response(rec["non_preferred_output"], where, "non_preferred_output")
    row["label"] = "a"
    return row
