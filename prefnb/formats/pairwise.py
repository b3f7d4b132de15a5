"""Pairwise judgment files (AlpacaEval / AlpacaFarm annotations) → pair rows.

A row holds ``instruction`` (or ``prompt``), an optional ``input`` appended to it, the two
outputs ``output_1`` and ``output_2`` and a ``preference``: ``1`` (output_1 is better),
``2`` (output_2 is better), ``0`` for a tie (AlpacaFarm's human annotations), or a float in
[1, 2] such as an LLM judge's probability-weighted preference (below 1.5 favours output_1,
above favours output_2, exactly 1.5 is a tie). A missing preference is an unlabeled pair.
``generator_1``/``generator_2`` become ``model_a``/``model_b``; the raw ``preference`` is kept.

Example:
    >>> row = to_pair({"instruction": "2+2?", "output_1": "5", "output_2": "4",
    ...                "preference": 1.9, "generator_1": "m1", "generator_2": "m2"}, "row 1")
    >>> row["label"], row["model_b"], row["response_b"]
    ('b', 'm2', '4')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from prefnb.formats.fields import describe, messages, text
from prefnb.formats.sources import FormatError
from prefnb.pairs import is_missing

__all__ = ["KEYS", "looks_pairwise", "preference_label", "to_pair"]

KEYS = ("output_1", "output_2")
_PROMPT_KEYS = ("instruction", "prompt")


def looks_pairwise(keys: set[str]) -> bool:
    """True when a row has the two outputs and a prompt of a pairwise judgment file."""
    return set(KEYS) <= keys and any(k in keys for k in _PROMPT_KEYS)


def preference_label(value: object, where: str) -> str | None:
    """The pair-table label of a pairwise ``preference`` value (None when missing).

    >>> [preference_label(v, "row") for v in (1, 2, 0, 1.5, 1.2, "2", None)]
    ['a', 'b', 'tie', 'tie', 'a', 'b', None]
    """
    if is_missing(value) or value == "":
        return None
    number: float
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = math.nan
    elif isinstance(value, bool) or not isinstance(value, int | float):
        number = math.nan
    else:
        number = float(value)
    if number == 0:
        return "tie"
    if not 1 <= number <= 2:  # NaN fails too
        raise FormatError(
            f"{where}: 'preference' must be 1 (output_1 better), 2 (output_2 better), 0 (a "
            f"tie) or a number in [1, 2], got {describe(value)}",
            field="preference",
        )
    if number == 1.5:
        return "tie"
    return "a" if number < 1.5 else "b"


def to_pair(rec: Mapping[str, Any], where: str) -> dict[str, Any]:
    """One pair row from a pairwise judgment row (output_1 → ``response_a``)."""
    prompt_key = next((k for k in _PROMPT_KEYS if not is_missing(rec.get(k))), None)
    if prompt_key is None:
        raise FormatError(f"{where}: missing 'instruction' (or 'prompt')", field="instruction")
    for key in KEYS:
        if key not in rec or rec[key] is None:
            raise FormatError(f"{where}: missing {key!r}", field=key)
    consumed = {*_PROMPT_KEYS, *KEYS, "generator_1", "generator_2", "input"}
    row: dict[str, Any] = {k: v for k, v in rec.items() if k not in consumed}
    prompt = rec[prompt_key]
    extra = rec.get("input")
    if isinstance(prompt, str) and isinstance(extra, str) and extra.strip():
        prompt = f"{prompt}\n\n{extra}"  # Alpaca's optional input follows the instruction
    row["prompt"] = messages(prompt, where, prompt_key)
    row["response_a"] = text(rec["output_1"], where, "output_1")
    row["response_b"] = text(rec["output_2"], where, "output_2")
    row["label"] = preference_label(rec.get("preference"), where)
    for ours, theirs in (("model_a", "generator_1"), ("model_b", "generator_2")):
        value = rec.get(theirs)
        if not is_missing(value):
            row[ours] = str(value)
    return row
