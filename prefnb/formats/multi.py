"""Multi-completion rows (one prompt, several scored completions) → a long frame.

Accepted row shapes, UltraFeedback-like and plainer ones:

- ``{"instruction" | "prompt" | "question": ..., "completions": [{"text" | "response" |
  "completion" | "content": str, "score" | "rating" | "overall_score" | "reward": number,
  "model": str?}, ...]}``
- ``{"prompt": ..., "completions" | "responses": [str, ...], "scores" | "ratings" |
  "rewards": [number, ...]}``

The long frame has one row per completion: ``group`` (the source row it came from),
``prompt`` (messages), ``response``, ``score`` (float or None), ``model`` (when given) and
the source row's other columns. :func:`prefnb.binarize` turns it into pairs.

Example:
    >>> rows = to_long({"prompt": "2+2?", "responses": ["4", "5"], "scores": [9, 1]}, "row 1", 0)
    >>> [(r["response"], r["score"]) for r in rows]
    [('4', 9.0), ('5', 1.0)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from prefnb.formats.fields import describe, messages, text
from prefnb.formats.sources import FormatError

__all__ = ["LIST_KEYS", "PROMPT_KEYS", "SCORE_LIST_KEYS", "looks_multi", "to_long"]

PROMPT_KEYS = ("prompt", "instruction", "question")
LIST_KEYS = ("completions", "responses")
SCORE_LIST_KEYS = ("scores", "ratings", "rewards")
_TEXT_KEYS = ("text", "response", "completion", "content", "output")
_SCORE_KEYS = ("score", "rating", "overall_score", "reward", "fine-grained_score")


def looks_multi(rec: Mapping[str, Any]) -> bool:
    """True if ``rec`` has a prompt and a list of completions (with scores somewhere)."""
    if not any(k in rec for k in PROMPT_KEYS):
        return False
    items = next((rec[k] for k in LIST_KEYS if isinstance(rec.get(k), list)), None)
    if items is None:
        return False
    if any(k in rec for k in SCORE_LIST_KEYS):
        return True
    return bool(items) and all(isinstance(c, Mapping) for c in items)


def _score(value: object, where: str, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())  # CSV cells arrive as text
        except ValueError:
            raise FormatError(f"{where}: {name} must be a number, got {describe(value)}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FormatError(f"{where}: {name} must be a number, got {describe(value)}")
    score = float(value)
    return None if math.isnan(score) else score


def to_long(rec: Mapping[str, Any], where: str, group: int) -> list[dict[str, Any]]:
    """The long-frame rows (one per completion) of one multi-completion row."""
    prompt_key = next((k for k in PROMPT_KEYS if rec.get(k) is not None), None)
    if prompt_key is None:
        raise FormatError(f"{where}: missing a prompt (one of {', '.join(PROMPT_KEYS)})")
    list_key = next((k for k in LIST_KEYS if k in rec), None)
    if list_key is None or not isinstance(rec[list_key], list):
        got = describe(rec[list_key]) if list_key else "nothing"
        raise FormatError(f"{where}: 'completions' or 'responses' must be a list, got {got}")
    items: list[Any] = rec[list_key]
    score_key = next((k for k in SCORE_LIST_KEYS if k in rec), None)
    scores: list[Any] | None = None
    if score_key is not None:
        scores = rec[score_key]
        if not isinstance(scores, list) or len(scores) != len(items):
            raise FormatError(
                f"{where}: {score_key!r} must be a list as long as {list_key!r} "
                f"({len(items)}), got {describe(scores)}"
            )
    consumed = {prompt_key, list_key, score_key, "models"}
    base = {k: v for k, v in rec.items() if k not in consumed}
    prompt = messages(rec[prompt_key], where, prompt_key)
    out: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        name = f"{list_key}[{i}]"
        model: Any = None
        if isinstance(item, Mapping):
            text_key = next((k for k in _TEXT_KEYS if k in item), None)
            if text_key is None:
                raise FormatError(
                    f"{where}: {name} has no text (one of {', '.join(_TEXT_KEYS)}); "
                    f"keys: {', '.join(map(str, item))}"
                )
            body = text(item[text_key], where, f"{name}.{text_key}")
            model = item.get("model")
            if scores is not None:
                score = _score(scores[i], where, f"{score_key}[{i}]")
            else:
                s_key = next((k for k in _SCORE_KEYS if k in item), None)
                score = _score(item[s_key], where, f"{name}.{s_key}") if s_key else None
        else:
            body = text(item, where, name)
            if scores is None:
                raise FormatError(
                    f"{where}: {list_key!r} holds plain texts, so a "
                    f"{' / '.join(repr(k) for k in SCORE_LIST_KEYS)} list is needed"
                )
            score = _score(scores[i], where, f"{score_key}[{i}]")
        row = {**base, "group": group, "prompt": prompt, "response": body, "score": score}
        if model is None and isinstance(rec.get("models"), list) and i < len(rec["models"]):
            model = rec["models"][i]
        if model is not None:
            row["model"] = model
        out.append(row)
    return out
