"""Multi-completion rows (one prompt, several rated or ranked completions) → a long frame.

Accepted row shapes, each as its publisher documents it, and plainer ones:

- UltraFeedback: ``{"instruction": str, "models": [...], "completions": [{"model": str,
  "response": str, "annotations": {"helpfulness": {"Rating": "4", "Rationale": ...}, ...},
  "fine-grained_score": float, "overall_score": float, ...}]}``. The score is
  ``overall_score``, else ``fine-grained_score``, else the mean of the numeric annotation
  ratings (``"N/A"`` ratings are left out);
- Nectar: ``{"prompt": "\\n\\nHuman: …\\n\\nAssistant:", "answers": [{"answer": str,
  "model": str, "rank": 1.0}, ...]}``: rank 1 is best, so the score is ``-rank``. An
  HH-style transcript prompt is split into turns;
- ``{"prompt" | "instruction" | "question": ..., "completions" | "responses": [str, ...],
  "scores" | "ratings" | "rewards": [number, ...]}``, or completions as dicts with
  ``text``/``response``/``completion``/``content``/``output`` and
  ``score``/``rating``/``reward``;
- per-response columns: ``{"prompt": ..., "response_1": str, "score_1": number,
  "response_2": ..., "score_2": ...}`` (also ``output_k``/``completion_k`` with
  ``score_k``/``rating_k``/``reward_k``; the suffix may be any digits or letters).

The long frame has one row per completion: ``group`` (the source row it came from),
``prompt`` (messages), ``response``, ``score`` (float or None), ``model`` (when given) and
the source row's other columns. :func:`prefnb.binarize` turns it into pairs.

Example:
    >>> rows = to_long({"prompt": "2+2?", "responses": ["4", "5"], "scores": [9, 1]}, "row 1", 0)
    >>> [(r["response"], r["score"]) for r in rows]
    [('4', 9.0), ('5', 1.0)]
    >>> rows = to_long({"prompt": "q", "answers": [{"answer": "x", "rank": 2},
    ...                 {"answer": "y", "rank": 1}]}, "row 1", 0)
    >>> [(r["response"], r["score"]) for r in rows]
    [('x', -2.0), ('y', -1.0)]
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from prefnb.formats import hh
from prefnb.formats.fields import describe, messages, text
from prefnb.formats.sources import FormatError
from prefnb.pairs import Message

__all__ = ["LIST_KEYS", "PROMPT_KEYS", "SCORE_LIST_KEYS", "kind", "looks_multi", "to_long"]

PROMPT_KEYS = ("prompt", "instruction", "question")
LIST_KEYS = ("completions", "responses", "answers")
SCORE_LIST_KEYS = ("scores", "ratings", "rewards")
_TEXT_KEYS = ("text", "response", "completion", "content", "output", "answer")
_SCORE_KEYS = ("score", "rating", "overall_score", "reward", "fine-grained_score")
_COLUMN = re.compile(r"^(response|output|completion)_([A-Za-z0-9]+)$")
_SCORE_PREFIXES = ("score", "rating", "reward")


def _columns(rec: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(suffix, text column, score column) of per-response columns, in listing order."""
    out = []
    for key in rec:
        m = _COLUMN.match(key)
        if m is None:
            continue
        suffix = m.group(2)
        score = next((f"{p}_{suffix}" for p in _SCORE_PREFIXES if f"{p}_{suffix}" in rec), None)
        if score is not None:
            out.append((suffix, key, score))
    return out


def kind(rec: Mapping[str, Any]) -> str:
    """Which multi-completion layout a row uses, in words (for detection messages)."""
    items = next((rec[k] for k in LIST_KEYS if isinstance(rec.get(k), list)), None)
    if items is None:
        return "per-response text and score columns"
    first = items[0] if items else None
    if isinstance(first, Mapping):
        if "rank" in first:
            return "answers ranked with 'rank' (Nectar)"
        if "annotations" in first or "overall_score" in first:
            return "completions with annotations / overall_score (UltraFeedback)"
        return "completions with per-completion scores"
    return "a completion list with a score list"


def looks_multi(rec: Mapping[str, Any]) -> bool:
    """True if ``rec`` has a prompt and several completions with scores or ranks."""
    if not any(k in rec for k in PROMPT_KEYS):
        return False
    if len(_columns(rec)) >= 2:
        return True
    items = next((rec[k] for k in LIST_KEYS if isinstance(rec.get(k), list)), None)
    if items is None:
        return False
    if any(k in rec for k in SCORE_LIST_KEYS):
        return True
    return bool(items) and all(isinstance(c, Mapping) for c in items)


def _number(value: object, where: str, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if stripped == "" or stripped.upper() in ("N/A", "NA", "NAN"):
            return None
        try:
            value = float(stripped)  # CSV cells and UltraFeedback ratings arrive as text
        except ValueError:
            raise FormatError(
                f"{where}: {name} must be a number, got {describe(value)}", field=name
            ) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FormatError(f"{where}: {name} must be a number, got {describe(value)}", field=name)
    score = float(value)
    return None if math.isnan(score) else score


def _annotation_mean(value: object, where: str, name: str) -> float | None:
    """Mean of UltraFeedback's per-aspect ``Rating`` values (N/A left out)."""
    if not isinstance(value, Mapping):
        raise FormatError(
            f"{where}: {name} must be an object of aspects, got {describe(value)}", field=name
        )
    ratings = []
    for aspect, body in value.items():
        rating = body.get("Rating") if isinstance(body, Mapping) else body
        number = _number(rating, where, f"{name}.{aspect}.Rating")
        if number is not None:
            ratings.append(number)
    return sum(ratings) / len(ratings) if ratings else None


def _item_score(item: Mapping[str, Any], where: str, name: str) -> float | None:
    if "rank" in item:
        rank = _number(item["rank"], where, f"{name}.rank")
        return None if rank is None else -rank  # rank 1 is best
    for key in _SCORE_KEYS:
        if key in item and item[key] is not None:
            return _number(item[key], where, f"{name}.{key}")
    if "annotations" in item:
        return _annotation_mean(item["annotations"], where, f"{name}.annotations")
    return None


def _prompt(value: object, where: str, name: str) -> list[Message]:
    if isinstance(value, str) and hh.looks_like_transcript(value + "\n\nAssistant:"):
        # Nectar (and HH-derived sets) give the prompt as a transcript ending "Assistant:"
        turns = hh.parse_transcript(value, where, name)
        if turns and turns[-1]["role"] == "assistant" and not turns[-1]["content"]:
            turns.pop()
        if turns:
            return turns
    return messages(value, where, name)


def _base(rec: Mapping[str, Any], used: set[str | None]) -> dict[str, Any]:
    base = {k: v for k, v in rec.items() if k not in used}
    source = base.get("source")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        # Nectar lists the datasets a prompt came from; the pair table's source is text
        base["source"] = ", ".join(source)
    return base


def to_long(rec: Mapping[str, Any], where: str, group: int) -> list[dict[str, Any]]:
    """The long-frame rows (one per completion) of one multi-completion row."""
    prompt_key = next((k for k in PROMPT_KEYS if rec.get(k) is not None), None)
    if prompt_key is None:
        raise FormatError(
            f"{where}: missing a prompt (one of {', '.join(PROMPT_KEYS)})", field="prompt"
        )
    columns = _columns(rec)
    list_key = next((k for k in LIST_KEYS if k in rec), None)
    if list_key is None and len(columns) >= 2:
        consumed = {prompt_key, *(c for _s, t, sc in columns for c in (t, sc))}
        base = _base(rec, set(consumed))
        prompt = _prompt(rec[prompt_key], where, prompt_key)
        out = []
        for suffix, tkey, skey in columns:
            row = {
                **base,
                "group": group,
                "prompt": prompt,
                "response": text(rec[tkey], where, tkey),
                "score": _number(rec[skey], where, skey),
            }
            if rec.get(f"model_{suffix}") is not None:
                row["model"] = rec[f"model_{suffix}"]
            out.append(row)
        return out
    if list_key is None or not isinstance(rec[list_key], list):
        got = describe(rec[list_key]) if list_key else "nothing"
        raise FormatError(
            f"{where}: 'completions', 'responses' or 'answers' must be a list, got {got}",
            field=list_key or "completions",
        )
    items: list[Any] = rec[list_key]
    score_key = next((k for k in SCORE_LIST_KEYS if k in rec), None)
    scores: list[Any] | None = None
    if score_key is not None:
        scores = rec[score_key]
        if not isinstance(scores, list) or len(scores) != len(items):
            raise FormatError(
                f"{where}: {score_key!r} must be a list as long as {list_key!r} "
                f"({len(items)}), got {describe(scores)}",
                field=score_key,
            )
    used: set[str | None] = {prompt_key, list_key, score_key, "models"}
    base = _base(rec, used)
    prompt = _prompt(rec[prompt_key], where, prompt_key)
    out = []
    for i, item in enumerate(items):
        name = f"{list_key}[{i}]"
        model: Any = None
        if isinstance(item, Mapping):
            text_key = next((k for k in _TEXT_KEYS if k in item), None)
            if text_key is None:
                raise FormatError(
                    f"{where}: {name} has no text (one of {', '.join(_TEXT_KEYS)}); "
                    f"keys: {', '.join(map(str, item))}",
                    field=name,
                )
            body = text(item[text_key], where, f"{name}.{text_key}")
            model = item.get("model")
            if scores is not None:
                score = _number(scores[i], where, f"{score_key}[{i}]")
            else:
                score = _item_score(item, where, name)
        else:
            body = text(item, where, name)
            if scores is None:
                raise FormatError(
                    f"{where}: {list_key!r} holds plain texts, so a "
                    f"{' / '.join(repr(k) for k in SCORE_LIST_KEYS)} list is needed",
                    field=list_key,
                )
            score = _number(scores[i], where, f"{score_key}[{i}]")
        row = {**base, "group": group, "prompt": prompt, "response": body, "score": score}
        if model is None and isinstance(rec.get("models"), list) and i < len(rec["models"]):
            model = rec["models"][i]
        if model is not None:
            row["model"] = model
        out.append(row)
    return out
