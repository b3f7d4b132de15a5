r"""Anthropic HH-RLHF transcripts → pair rows.

Each row has ``chosen`` and ``rejected`` transcripts like
``"\n\nHuman: Hi\n\nAssistant: Hello!"``; both share the conversation up to the final
assistant turn, which is the response. Real dumps are untidy, so turn markers are matched
case-insensitively, with any spacing around the colon, after any number of newlines (or at the
very start), and the text of each turn is stripped. Split variants, with a ``prompt``
transcript ending in ``Assistant:`` and bare ``chosen``/``rejected`` replies, are read too.

Example:
    >>> parse_transcript("\n\nHuman: 2+2?\n\nAssistant: 4", "row 1", "chosen")
    [{'role': 'user', 'content': '2+2?'}, {'role': 'assistant', 'content': '4'}]
    >>> to_pair({"chosen": "\n\nHuman: q\n\nAssistant: x",
    ...          "rejected": "\n\nHuman: q\n\nAssistant: y"}, "row 1")["response_b"]
    'y'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from prefnb.formats.fields import describe, split_shared_prefix, text
from prefnb.formats.sources import FormatError
from prefnb.pairs import Message

__all__ = ["looks_like_transcript", "parse_transcript", "to_pair"]

# A turn marker: a newline, optional spaces, the speaker, optional spaces, a colon. Requiring
# a line start keeps "Human:" inside a sentence from splitting a turn. Texts are searched with
# a "\n" prepended so a marker at the very start counts, and the literal first character
# lets the regex engine skip ahead quickly (3x faster than a MULTILINE "^").
_MARKER = re.compile(r"\n[ \t]*(human|assistant)[ \t]*:", re.IGNORECASE)
_ROLES = {"human": "user", "assistant": "assistant"}


def looks_like_transcript(value: object) -> bool:
    """True if ``value`` is a string with at least one Human and one Assistant turn."""
    if not isinstance(value, str):
        return False
    speakers = {m.group(1).lower() for m in _MARKER.finditer("\n" + value)}
    return speakers == {"human", "assistant"}


def parse_transcript(value: object, where: str, name: str) -> list[Message]:
    """Split a transcript into ``user``/``assistant`` messages."""
    if not isinstance(value, str):
        raise FormatError(
            f"{where}: {name!r} must be a 'Human: … Assistant: …' transcript string, "
            f"got {describe(value)}"
        )
    padded = "\n" + value
    marks = list(_MARKER.finditer(padded))
    if not marks:
        raise FormatError(
            f"{where}: {name!r} has no 'Human:'/'Assistant:' turns: {describe(value)}"
        )
    lead = padded[: marks[0].start()]
    if lead.strip():
        raise FormatError(
            f"{where}: {name!r} has text before its first 'Human:' turn: {describe(lead.strip())}"
        )
    out: list[Message] = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(padded)
        out.append({"role": _ROLES[m.group(1).lower()], "content": padded[m.end() : end].strip()})
    return out


def to_pair(rec: Mapping[str, Any], where: str) -> dict[str, Any]:
    """One pair row from an HH-RLHF row (chosen → ``response_a``, label ``a``)."""
    for key in ("chosen", "rejected"):
        if key not in rec:
            raise FormatError(f"{where}: missing {key!r}")
    row: dict[str, Any] = {k: v for k, v in rec.items() if k not in ("chosen", "rejected")}
    prompt = rec.get("prompt")
    if looks_like_transcript(prompt) and not looks_like_transcript(rec["chosen"]):
        # Split variants (prompt "…Assistant:", bare chosen/rejected replies).
        turns = parse_transcript(prompt, where, "prompt")
        if turns[-1]["role"] == "assistant" and not turns[-1]["content"]:
            turns.pop()
        row["prompt"] = turns
        row["response_a"] = text(rec["chosen"], where, "chosen").strip()
        row["response_b"] = text(rec["rejected"], where, "rejected").strip()
        row["label"] = "a"
        return row
    row.pop("prompt", None)
    row["prompt"], row["response_a"], row["response_b"] = split_shared_prefix(
        parse_transcript(rec["chosen"], where, "chosen"),
        parse_transcript(rec["rejected"], where, "rejected"),
        where,
    )
    row["label"] = "a"
    return row
