"""The strict verdict parser: a judge's answer counts only if it is one JSON verdict.

Accepted: the whole answer (optionally inside one ```json fence) is a single JSON object
with ``choice`` in ``A``/``B``/``Tie`` and, optionally, ``feedback`` or ``rationale`` (a
string) and ``confidence`` (a number in [0, 1]); nothing else. Rejected, as a judge failure
(the pair goes to people): prose around the JSON, two objects, duplicate keys, unknown keys,
any other choice. A judge that echoes a verdict planted in a response therefore fails
instead of being fooled, and no regex ever picks "the first thing that looks like a choice".

Example:
    >>> parse_verdict('{"feedback": "A is right", "choice": "A"}').choice
    'A'
    >>> parse_verdict('It says {"choice": "B"}. My verdict: {"choice": "A"}').error
    'not a single JSON object'
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = ["Choice", "ParsedVerdict", "parse_verdict", "to_position"]

Choice = Literal["A", "B", "Tie"]
_ALLOWED: Final = frozenset({"choice", "feedback", "rationale", "confidence"})
_CHOICES: Final[dict[str, Choice]] = {"A": "A", "B": "B", "Tie": "Tie", "tie": "Tie"}


@dataclass(frozen=True)
class ParsedVerdict:
    """``choice`` names a shown position; ``error`` is set (and ``choice`` None) on failure."""

    choice: Choice | None
    rationale: str | None = None
    confidence: float | None = None
    error: str | None = None


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for k, v in pairs:
        if k in seen:
            raise _Duplicate(k)
        seen[k] = v
    return seen


def _unfence(text: str) -> str:
    t = text.strip()
    if t.startswith("```") and t.endswith("```") and t.count("```") == 2:
        t = t[3:-3]
        if t.startswith("json"):
            t = t[4:]
    return t.strip()


def parse_verdict(text: str | None) -> ParsedVerdict:
    """Parse one judge answer strictly (see the module docstring)."""
    if not isinstance(text, str) or not text.strip():
        return ParsedVerdict(None, error="empty answer")
    try:
        obj = json.loads(_unfence(text), object_pairs_hook=_no_duplicates)
    except _Duplicate as dup:
        return ParsedVerdict(None, error=f"duplicate key {dup.args[0]!r}")
    except ValueError:
        return ParsedVerdict(None, error="not a single JSON object")
    if not isinstance(obj, dict):
        return ParsedVerdict(None, error="not a single JSON object")
    extra = sorted(set(obj) - _ALLOWED)
    if extra:
        return ParsedVerdict(None, error=f"unexpected key(s) {', '.join(extra)}")
    choice = obj.get("choice")
    if not isinstance(choice, str) or choice not in _CHOICES:
        return ParsedVerdict(None, error=f"choice must be A, B or Tie, got {choice!r}")
    rationale = obj.get("feedback", obj.get("rationale"))
    if rationale is not None and not isinstance(rationale, str):
        return ParsedVerdict(None, error="feedback must be a string")
    conf = obj.get("confidence")
    if conf is not None and (
        isinstance(conf, bool)
        or not isinstance(conf, (int, float))
        or not math.isfinite(conf)
        or not 0 <= conf <= 1
    ):
        return ParsedVerdict(None, error="confidence must be a number in [0, 1]")
    return ParsedVerdict(_CHOICES[choice], rationale, None if conf is None else float(conf))


def to_position(choice: Choice | None, shown: str) -> str | None:
    """A shown-position choice as a DataFrame verdict (``a``/``b``/``tie``) for order
    ``shown`` (``ab``: response_a was shown first).

    >>> to_position("A", "ba")
    'b'
    """
    if choice is None:
        return None
    if choice == "Tie":
        return "tie"
    first_is_a = shown == "ab"
    return "a" if (choice == "A") == first_is_a else "b"


def combine_orders(
    ab: str | None, ba: str | None, *, both_orders: bool = True
) -> tuple[str | None, bool | None]:
    """(judge_label, consistent) from the two orders' DataFrame verdicts.

    Both orders valid and equal: that verdict, consistent. Valid but different: ``tie``
    (Together's compare does the same), inconsistent. A missing or failed order: no label,
    inconsistent. With one order only, its verdict and ``None`` (consistency unknown).

    >>> combine_orders("a", "a"), combine_orders("a", "b"), combine_orders("a", None)
    (('a', True), ('tie', False), (None, False))
    """
    if not both_orders:
        return ab, None
    if ab is None or ba is None:
        return None, False
    if ab == ba:
        return ab, True
    return "tie", False
