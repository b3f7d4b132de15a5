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

from prefnb.formats import hh, multi, pairwise, trl
from prefnb.formats.together import KEYS as TOGETHER_KEYS

__all__ = ["FORMATS", "describe_detection", "detect_row", "known_formats", "near_miss"]

#: Every format name :func:`prefnb.read_pairs` accepts, with the shape it expects.
FORMATS: Final[dict[str, str]] = {
    "together": "input.messages + preferred_output + non_preferred_output (Together/OpenAI DPO)",
    "trl": "prompt + chosen + rejected strings (TRL standard)",
    "trl_conversational": "prompt + chosen + rejected message lists (TRL conversational)",
    "trl_implicit": "chosen + rejected full conversations sharing a prompt (TRL implicit prompt)",
    "hh": "chosen + rejected 'Human: … Assistant: …' transcripts (Anthropic HH-RLHF)",
    "sharegpt": "conversations [{from, value}] + chosen + rejected, optional system/tools "
    "(ShareGPT, LLaMA-Factory)",
    "messages": "messages [{role, content}] + chosen + rejected (OpenAI-style chat)",
    "candidates": "prompt + response_a + response_b, optional label",
    "pairs": "prefnb pair table: pair_id + prompt + response_a + response_b + label",
    "pairwise": "instruction + output_1 + output_2 + preference 1/2/0 or [1, 2] (AlpacaEval)",
    "multi": "prompt/instruction + rated or ranked completions (UltraFeedback completions, "
    "Nectar answers with rank, responses + scores, response_k + score_k columns)",
}


def known_formats() -> str:
    """One line per format, for error messages."""
    return "\n".join(f"  {name}: {shape}" for name, shape in FORMATS.items())


# Keys that single out a format (``prompt`` is shared by several, so it decides nothing).
_DISTINCT_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "together": TOGETHER_KEYS,
    "trl": ("prompt", "chosen", "rejected"),
    "candidates": ("prompt", "response_a", "response_b"),
    "sharegpt": ("conversations", "chosen", "rejected"),
    "messages": ("messages", "chosen", "rejected"),
    "pairwise": ("instruction", "output_1", "output_2", "preference"),
    "multi": ("prompt", "completions"),
}


def near_miss(keys: set[str]) -> str | None:
    """A hint naming the format ``keys`` come closest to and the keys it lacks, if any.

    >>> near_miss({"prompt", "chosen"})
    "closest format: trl, which also needs 'rejected'"
    """
    best: tuple[int, str] | None = None
    for name, needed in _DISTINCT_KEYS.items():
        hits = sum(1 for k in needed if k in keys and k != "prompt")
        if hits and (best is None or hits > best[0]):
            best = (hits, name)
    if best is None:
        return None
    missing = [k for k in _DISTINCT_KEYS[best[1]] if k not in keys]
    return f"closest format: {best[1]}, which also needs " + ", ".join(map(repr, missing))


def detect_row(rec: Mapping[str, Any]) -> str | None:
    """The format name of one row, or None when no known format fits."""
    keys = set(rec)
    if set(TOGETHER_KEYS) <= keys:
        return "together"
    if {"chosen", "rejected"} <= keys and "prompt" not in keys:
        if isinstance(rec.get("conversations"), list):
            return "sharegpt"
        if isinstance(rec.get("messages"), list):
            return "messages"
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
    if pairwise.looks_pairwise(keys):
        return "pairwise"
    if multi.looks_multi(rec):
        return "multi"
    return None


def describe_detection(rec: Mapping[str, Any], fmt: str) -> str:
    """A sentence naming the keys a row was recognized by, for logs and hints.

    >>> describe_detection({"prompt": "q", "chosen": "x", "rejected": "y"}, "trl")[-39:]
    "saw keys 'prompt', 'chosen', 'rejected'"
    """
    keys = ", ".join(map(repr, list(rec)[:8])) + (", …" if len(rec) > 8 else "")
    shape = multi.kind(rec) if fmt == "multi" else FORMATS.get(fmt, fmt)
    return f"read as {fmt!r} ({shape}): saw keys {keys}"
