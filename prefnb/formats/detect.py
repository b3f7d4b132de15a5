"""Tell which preference-data format a row is in, from its keys and value types.

Example:
    >>> detect_row({"prompt": "q", "chosen": "x", "rejected": "y"})
    'trl'
    >>> detect_row({"chosen": "\\n\\nHuman: q\\n\\nAssistant: x", "rejected": "..."})
    'hh'
    >>> detect_row({"question": "q", "answer": "x"}) is None
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from prefnb.formats import hh, multi, trl
from prefnb.formats.together import KEYS as TOGETHER_KEYS

__all__ = ["FORMATS", "detect_row", "known_formats"]

#: Every format name :func:`prefnb.read_pairs` accepts, with the shape it expects.
FORMATS: Final[dict[str, str]] = {
    "together": "input.messages + preferred_output + non_preferred_output (Together/OpenAI DPO)",
    "trl": "prompt + chosen + rejected strings (TRL standard)",
    "trl_conversational": "prompt + chosen + rejected message lists (TRL conversational)",
    "trl_implicit": "chosen + rejected full conversations sharing a prompt (TRL implicit prompt)",
    "hh": "chosen + rejected 'Human: … Assistant: …' transcripts (Anthropic HH-RLHF)",
    "candidates": "prompt + response_a + response_b, optional label",
    "pairs": "prefnb pair table: pair_id + prompt + response_a + response_b + label",
    "multi": "prompt/instruction + completions (or responses + scores): scored completions",
}


def known_formats() -> str:
    """One line per format, for error messages."""
    return "\n".join(f"  {name}: {shape}" for name, shape in FORMATS.items())


def detect_row(rec: Mapping[str, Any]) -> str | None:
    """The format name of one row, or None when no known format fits."""
    keys = set(rec)
    if set(TOGETHER_KEYS) <= keys:
        return "together"
    if {"chosen", "rejected"} <= keys:
        if hh.looks_like_transcript(rec.get("prompt")):
            return "hh"
        if rec.get("prompt") is not None:
            return trl.kind(rec)
        if hh.looks_like_transcript(rec["chosen"]):
            return "hh"
        return "trl_implicit"
    if {"prompt", "response_a", "response_b"} <= keys:
        return "pairs" if "pair_id" in keys else "candidates"
    if multi.looks_multi(rec):
        return "multi"
    return None
