"""Field checks shared by the format readers: each names the row, the field and what was expected.

Example:
    >>> text("hi", "row 1", "chosen")
    'hi'
    >>> text(3, "train.jsonl line 12", "chosen")
    Traceback (most recent call last):
    ...
    prefnb.formats.sources.FormatError: train.jsonl line 12: 'chosen' must be a string, got int 3
    >>> split_shared_prefix(
    ...     [{"role": "user", "content": "q"}, {"role": "assistant", "content": "x"}],
    ...     [{"role": "user", "content": "q"}, {"role": "assistant", "content": "y"}],
    ...     "row 1",
    ... )
    ([{'role': 'user', 'content': 'q'}], 'x', 'y')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefnb.formats.sources import FormatError
from prefnb.pairs import LABELS, Message, is_missing
from prefnb.text import text_of

__all__ = [
    "describe",
    "label",
    "messages",
    "response",
    "role_of",
    "sharegpt",
    "split_shared_prefix",
    "text",
]

# Spellings of labels seen in the wild, mapped to the pair table's labels.
_LABEL_ALIASES: dict[str, str] = {
    **{lab: lab for lab in LABELS},
    "response_a": "a",
    "response_b": "b",
    "model_a": "a",
    "model_b": "b",
    "1": "a",
    "2": "b",
    "both_good": "tie",
    "tie (bothbad)": "both_bad",
    "bothbad": "both_bad",
    "both-bad": "both_bad",
    "both bad": "both_bad",
    "skipped": "skip",
}


_SHAREGPT_ROLES: dict[str, str] = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bing": "assistant",
    "bard": "assistant",
    "system": "system",
    # LLaMA-Factory's tool turns: a call the assistant made and what the tool returned
    "function_call": "assistant",
    "observation": "tool",
}


def describe(value: object) -> str:
    """Short description of a value for error messages: type name and a clipped repr."""
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{type(value).__name__} {shown}"


def text(value: object, where: str, name: str) -> str:
    """``value`` as response text: a string, or a list of ``{"type": "text"}`` parts joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(_is_text_part(p) for p in value):
        return text_of(value, "")
    raise FormatError(f"{where}: {name!r} must be a string, got {describe(value)}")


def _is_text_part(part: object) -> bool:
    return (
        isinstance(part, Mapping)
        and part.get("type") == "text"
        and isinstance(part.get("text"), str)
    )


def messages(value: object, where: str, name: str, *, allow_string: bool = True) -> list[Message]:
    """``value`` as a non-empty message list. A string becomes one user message."""
    if isinstance(value, str) and allow_string:
        return [{"role": "user", "content": value}]
    if isinstance(value, Mapping) and "messages" in value:
        return messages(value["messages"], where, f"{name}.messages", allow_string=False)
    if not isinstance(value, list):
        expected = "a string or message list" if allow_string else "a message list"
        raise FormatError(f"{where}: {name!r} must be {expected}, got {describe(value)}")
    if not value:
        raise FormatError(f"{where}: {name!r} must not be an empty message list")
    out: list[Message] = []
    for i, m in enumerate(value):
        if not isinstance(m, Mapping):
            raise FormatError(f"{where}: {name}[{i}] must be a message dict, got {describe(m)}")
        m = sharegpt(m)
        role, content = m.get("role"), m.get("content")
        if not isinstance(role, str):
            raise FormatError(f"{where}: {name}[{i}].role must be a string, got {describe(role)}")
        if not isinstance(content, str | list):
            raise FormatError(
                f"{where}: {name}[{i}].content must be a string or a list of parts, "
                f"got {describe(content)}"
            )
        msg: dict[str, Any] = {k: v for k, v in m.items() if not is_missing(v)}
        out.append(msg)  # type: ignore[arg-type]
    return out


def sharegpt(m: Mapping[str, Any]) -> Mapping[str, Any]:
    """A ShareGPT-style ``{"from": "gpt", "value": ...}`` message as ``{"role", "content"}``.

    >>> sharegpt({"from": "human", "value": "hi"})
    {'role': 'user', 'content': 'hi'}
    """
    if "role" in m or "from" not in m or "value" not in m:
        return m
    rest = {k: v for k, v in m.items() if k not in ("from", "value")}
    role = _SHAREGPT_ROLES.get(str(m["from"]).lower(), m["from"])
    return {"role": role, "content": m["value"], **rest}


def role_of(m: object) -> object:
    """The role of a message dict in either spelling (``role`` or ShareGPT ``from``)."""
    return sharegpt(m).get("role") if isinstance(m, Mapping) else None


def response(value: object, where: str, name: str) -> str:
    """A response given as text, one assistant message, or a one-message list."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        value = sharegpt(value)
    if isinstance(value, Mapping) and "content" in value:
        return text(value["content"], where, f"{name}.content")
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], Mapping):
        return text(sharegpt(value[0]).get("content"), where, f"{name}[0].content")
    if isinstance(value, list) and value and all(isinstance(m, Mapping) for m in value):
        raise FormatError(
            f"{where}: {name!r} must hold exactly one message, got {len(value)} messages"
        )
    raise FormatError(f"{where}: {name!r} must be a string or message list, got {describe(value)}")


def label(value: object, where: str, name: str = "label") -> str | None:
    """A label normalized to the pair table's spelling (``A`` → ``a``), or None if missing."""
    if is_missing(value):
        return None
    key = str(value).strip().lower()
    if key == "":
        return None
    if key in _LABEL_ALIASES and not isinstance(value, float | bool):
        return _LABEL_ALIASES[key]
    raise FormatError(
        f"{where}: {name!r} must be one of {', '.join(LABELS)} (or missing), got {describe(value)}"
    )


def _same(m1: Mapping[str, Any], m2: Mapping[str, Any]) -> bool:
    return m1.get("role") == m2.get("role") and m1.get("content") == m2.get("content")


def split_shared_prefix(
    chosen: list[Message], rejected: list[Message], where: str
) -> tuple[list[Message], str, str]:
    """Split two full conversations at their longest common message prefix.

    Returns (prompt, chosen reply, rejected reply). What follows the prefix on each side
    must be one assistant message. Identical conversations split before their last message.
    """
    k = 0
    while k < min(len(chosen), len(rejected)) and _same(chosen[k], rejected[k]):
        k += 1
    if k == len(chosen) == len(rejected):
        k -= 1  # identical: the shared last message is both replies
    rest = {"chosen": chosen[k:], "rejected": rejected[k:]}
    for side, tail in rest.items():
        if len(tail) != 1 or tail[0].get("role") != "assistant":
            roles = ", ".join(str(m.get("role")) for m in tail) or "nothing"
            raise FormatError(
                f"{where}: after the {k} messages that 'chosen' and 'rejected' share, "
                f"{side!r} must continue with exactly one assistant message, got {roles}"
            )
    if k == 0:
        raise FormatError(
            f"{where}: 'chosen' and 'rejected' share no prompt messages; "
            "add a 'prompt' column or use conversations that start with the same turns"
        )
    return (
        chosen[:k],
        text(rest["chosen"][0]["content"], where, f"chosen[{k}].content"),
        text(rest["rejected"][0]["content"], where, f"rejected[{k}].content"),
    )
