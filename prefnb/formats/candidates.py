"""Candidate pairs and prefnb's own pair-table files → pair rows.

Candidates are ``{"prompt": str or messages, "response_a": str, "response_b": str}`` with an
optional ``label`` (common spellings such as ``A``, ``response_b`` or ``tie (bothbad)`` are
normalized). Pair-table files (format ``pairs``) have the same columns plus ``pair_id``,
which is kept as written so ids stay stable.

Example:
    >>> row = to_pair({"prompt": "q", "response_a": "x", "response_b": "y", "label": "B"}, "row 1")
    >>> row["prompt"], row["label"]
    ([{'role': 'user', 'content': 'q'}], 'b')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefnb.formats.fields import label, messages, text
from prefnb.formats.sources import FormatError

__all__ = ["KEYS", "to_pair"]

KEYS = ("prompt", "response_a", "response_b")


def to_pair(rec: Mapping[str, Any], where: str) -> dict[str, Any]:
    """One pair row from a candidate or pair-table row."""
    for key in KEYS:
        if key not in rec or rec[key] is None:
            raise FormatError(f"{where}: missing {key!r}")
    row = dict(rec)
    row["prompt"] = messages(rec["prompt"], where, "prompt")
    row["response_a"] = text(rec["response_a"], where, "response_a")
    row["response_b"] = text(rec["response_b"], where, "response_b")
    row["label"] = label(rec.get("label"), where)
    return row
