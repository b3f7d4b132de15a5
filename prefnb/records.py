"""Line shapes of the files prefnb reads and writes, and the pair → line conversions.

A Together/OpenAI preference (DPO) line::

    {"input": {"messages": [...]},
     "preferred_output": [{"role": "assistant", "content": "..."}],
     "non_preferred_output": [{"role": "assistant", "content": "..."}]}

An SFT (conversational) line: ``{"messages": prompt + [preferred assistant message]}``.

Example:
    >>> rec = dpo_record([{"role": "user", "content": "2+2?"}], "4", "5")
    >>> rec["preferred_output"]
    [{'role': 'assistant', 'content': '4'}]
    >>> pair_to_dpo({"prompt": [{"role": "user", "content": "q"}], "response_a": "x",
    ...              "response_b": "y", "label": "b"})["preferred_output"][0]["content"]
    'y'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, cast

from prefnb.pairs import Message, is_missing, normalize_prompt

__all__ = [
    "AssistantMessage",
    "DPOInput",
    "DPORecord",
    "SFTRecord",
    "dpo_record",
    "pair_to_dpo",
    "pair_to_sft",
    "preferred_and_rejected",
    "prompt_messages",
]


class AssistantMessage(TypedDict):
    """An output message of a preference line."""

    role: str
    content: str


class DPOInput(TypedDict):
    """The ``input`` object of a preference line."""

    messages: list[Message]


class DPORecord(TypedDict):
    """One line of a Together/OpenAI preference JSONL file."""

    input: DPOInput
    preferred_output: list[AssistantMessage]
    non_preferred_output: list[AssistantMessage]


class SFTRecord(TypedDict):
    """One line of a conversational SFT JSONL file."""

    messages: list[Message]


def prompt_messages(prompt: object) -> list[Message]:
    """The prompt messages every writer puts in a line: the one prompt normaliser.

    A string becomes one user message, numpy arrays (Parquet) become lists, and only
    ``role`` and ``content`` go out: Together's check rejects nothing inside messages, but
    extra keys such as ``name`` are not part of the safe export profile.

    >>> prompt_messages("hi")
    [{'role': 'user', 'content': 'hi'}]
    """
    messages = cast("list[Message]", prompt) if _is_clean(prompt) else normalize_prompt(prompt)
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def _is_clean(prompt: object) -> bool:
    # the common case (a list of plain message dicts) skips normalize_prompt's copies
    return isinstance(prompt, list) and all(
        type(m) is dict and "role" in m and isinstance(m.get("content"), str) for m in prompt
    )


def dpo_record(prompt: object, preferred: str, non_preferred: str) -> DPORecord:
    """Build one preference line from a prompt (messages or a string) and two responses."""
    return {
        "input": {"messages": prompt_messages(prompt)},
        "preferred_output": [{"role": "assistant", "content": preferred}],
        "non_preferred_output": [{"role": "assistant", "content": non_preferred}],
    }


def preferred_and_rejected(row: Mapping[str, Any]) -> tuple[str, str] | None:
    """(preferred, non-preferred) text of a pair-table row, or None unless labeled a/b.

    ``edited_preferred``, when present and non-empty, replaces the preferred text.
    """
    label = row.get("label")
    if is_missing(label) or label not in ("a", "b"):
        return None
    preferred, rejected = (
        (row["response_a"], row["response_b"])
        if label == "a"
        else (row["response_b"], row["response_a"])
    )
    edited = row.get("edited_preferred")
    if isinstance(edited, str) and edited.strip():
        preferred = edited
    return preferred, rejected


def pair_to_dpo(row: Mapping[str, Any]) -> DPORecord | None:
    """The preference line for a pair-table row, or None when it is not labeled a/b."""
    both = preferred_and_rejected(row)
    if both is None:
        return None
    return dpo_record(row["prompt"], both[0], both[1])


def pair_to_sft(row: Mapping[str, Any]) -> SFTRecord | None:
    """The SFT line (prompt + preferred answer) for a row, or None unless labeled a/b."""
    both = preferred_and_rejected(row)
    if both is None:
        return None
    return {
        "messages": [*prompt_messages(row["prompt"]), {"role": "assistant", "content": both[0]}]
    }
