"""ShareGPT-style and OpenAI-style preference rows → pair rows.

Two layouts that put the prompt in a message list and the two responses beside it:

- ``sharegpt``, LLaMA-Factory's documented preference layout: ``conversations`` is a list of
  ``{"from": "human" | "gpt" | "observation" | "function_call" | "system", "value": str}``
  turns (multi-turn, ending with the human turn), ``chosen`` and ``rejected`` are each one
  ``{"from": "gpt", "value": str}`` message (or a plain string); optional ``system`` (a system
  prompt put first) and ``tools`` (a JSON string of tool schemas, passed through as a column).
- ``messages``, the OpenAI-style chat layout: ``messages`` is a list of ``{"role", "content"}``
  messages, ``chosen``/``rejected`` a string, one assistant message, or a one-message list.

Chosen becomes ``response_a``, label ``a``; other keys pass through.

Example:
    >>> row = to_pair({"conversations": [{"from": "human", "value": "2+2?"}],
    ...                "chosen": {"from": "gpt", "value": "4"},
    ...                "rejected": {"from": "gpt", "value": "5"}, "system": "Be brief."}, "row 1")
    >>> row["prompt"], row["response_a"], row["label"]
    ([{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': '2+2?'}], '4', 'a')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefnb.formats.fields import describe, messages, response
from prefnb.formats.sources import FormatError

__all__ = ["to_pair"]


def to_pair(rec: Mapping[str, Any], where: str) -> dict[str, Any]:
    """One pair row from a ShareGPT (``conversations``) or OpenAI-style (``messages``) row."""
    key = "conversations" if "conversations" in rec else "messages"
    for k in (key, "chosen", "rejected"):
        if k not in rec or rec[k] is None:
            raise FormatError(f"{where}: missing {k!r}", field=k)
    row: dict[str, Any] = {
        k: v for k, v in rec.items() if k not in (key, "chosen", "rejected", "system")
    }
    prompt = messages(rec[key], where, key, allow_string=False)
    system = rec.get("system")
    if system is not None and system != "":
        if not isinstance(system, str):
            raise FormatError(
                f"{where}: 'system' must be a string, got {describe(system)}", field="system"
            )
        if prompt[0].get("role") != "system":
            prompt = [{"role": "system", "content": system}, *prompt]
    if prompt[-1].get("role") == "assistant":
        raise FormatError(
            f"{where}: {key!r} must end with the turn the responses answer (a user or tool "
            f"turn), but it ends with an assistant turn",
            field=key,
        )
    row["prompt"] = prompt
    row["response_a"] = response(rec["chosen"], where, "chosen")
    row["response_b"] = response(rec["rejected"], where, "rejected")
    row["label"] = "a"
    return row
