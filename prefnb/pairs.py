"""The pair table: prefnb's canonical in-memory form of preference data.

One row per pair, in a pandas DataFrame. Every reader returns this shape, the Labeler
labels it, and every exporter reads it.

==================  =========================  ==============================================
column              type                       meaning
==================  =========================  ==============================================
``pair_id``         str (16 hex chars)         stable id derived from the canonical content
                                               (prompt, response_a, response_b): the same pair
                                               always gets the same id, see :func:`pair_id`
``prompt``          list of message dicts      the conversation before the responses, each
                                               ``{"role": ..., "content": ...}``; a plain
                                               string prompt becomes one ``user`` message
``response_a``      str                        first response
``response_b``      str                        second response
``label``           str or missing             ``"a"``, ``"b"``, ``"tie"``, ``"both_bad"``,
                                               ``"skip"``, or missing (None/NaN) if unlabeled
==================  =========================  ==============================================

Optional columns, checked when present: ``annotator`` (str), ``note`` (str),
``strength`` (``"slight"``, ``"clear"``, ``"strong"``), ``edited_preferred`` (str: a
rewritten preferred response that export uses instead of the original), ``source`` (str),
``split`` (``"train"`` or ``"validation"``), ``model_a``, ``model_b`` (str). Any other
column passes through every reader, the Labeler and every exporter untouched.

An imported DPO pair becomes ``response_a`` = preferred, ``response_b`` = non-preferred,
``label="a"``.

Example:
    >>> df = pairs_frame([{"prompt": "2+2?", "response_a": "4", "response_b": "5", "label": "a"}])
    >>> list(df.columns)
    ['pair_id', 'prompt', 'response_a', 'response_b', 'label']
    >>> df.loc[0, "prompt"]
    [{'role': 'user', 'content': '2+2?'}]
    >>> check_pairs(df)
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, NotRequired, TypedDict

import pandas as pd

from prefnb.vocab import STRENGTHS, VERDICTS, Verdict

__all__ = [
    "FULL_CHECK_MAX_ROWS",
    "LABELS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "STRENGTHS",
    "Label",
    "Message",
    "PairRecord",
    "PairSchemaError",
    "check_pairs",
    "is_missing",
    "normalize_prompt",
    "pair_id",
    "pairs_frame",
    "validate_frame",
]


class Message(TypedDict):
    """One chat message. ``content`` is a string, or a multimodal list of parts."""

    role: str
    content: str | list[dict[str, Any]]


Label = Verdict

LABELS: Final[tuple[str, ...]] = VERDICTS
REQUIRED_COLUMNS: Final[tuple[str, ...]] = (
    "pair_id",
    "prompt",
    "response_a",
    "response_b",
    "label",
)
#: Optional columns and the check applied to their non-missing values.
OPTIONAL_COLUMNS: Final[dict[str, str]] = {
    "annotator": "str",
    "note": "str",
    "strength": "strength",
    "edited_preferred": "str",
    "source": "str",
    "split": "split",
    "model_a": "str",
    "model_b": "str",
}
SPLITS: Final[tuple[str, ...]] = ("train", "validation")


class PairRecord(TypedDict):
    """One row of the pair table as a dict (what :func:`pairs_frame` accepts)."""

    prompt: str | list[Message]
    response_a: str
    response_b: str
    label: NotRequired[str | None]
    pair_id: NotRequired[str]


class PairSchemaError(ValueError):
    """A DataFrame does not follow the pair-table schema.

    ``column`` names the offending column and ``rows`` the index labels of offending rows
    (at most the first 20 are listed in the message).
    """

    def __init__(self, message: str, *, column: str, rows: Sequence[Any] = ()) -> None:
        self.column = column
        self.rows = list(rows)
        if self.rows:
            shown = ", ".join(repr(r) for r in self.rows[:20])
            more = f" and {len(self.rows) - 20} more" if len(self.rows) > 20 else ""
            message = f"{message} (rows {shown}{more})"
        super().__init__(message)


def is_missing(value: object) -> bool:
    """True for None, NaN and pandas' NA/NaT: the ways a cell can be empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def normalize_prompt(prompt: object) -> list[Message]:
    """Return ``prompt`` as a list of ``{"role", "content"}`` messages.

    A string becomes one user message; a list of messages is copied (extra message keys
    such as ``name`` pass through). Raises ``ValueError`` on anything else.

    >>> normalize_prompt("hi")
    [{'role': 'user', 'content': 'hi'}]
    """
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if isinstance(prompt, Mapping) and "messages" in prompt:
        return normalize_prompt(prompt["messages"])
    if hasattr(prompt, "tolist") and not isinstance(prompt, Mapping):
        prompt = prompt.tolist()  # numpy arrays of dicts, as parquet round-trips give them
    if isinstance(prompt, (list, tuple)):
        out: list[Message] = []
        for i, m in enumerate(prompt):
            if not isinstance(m, Mapping) or "role" not in m or "content" not in m:
                raise ValueError(
                    f"prompt message {i} must be a dict with 'role' and 'content', "
                    f"got {_describe(m)}"
                )
            msg = dict(m)
            content = msg["content"]
            if hasattr(content, "tolist") and not isinstance(content, str):
                msg["content"] = content.tolist()
            out.append(msg)  # type: ignore[arg-type]
        return out
    raise ValueError(f"prompt must be a string or a list of messages, got {_describe(prompt)}")


def _describe(value: object) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _canonical_messages(prompt: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"role": m["role"], "content": m["content"]} for m in prompt]


def pair_id(prompt: str | Sequence[Mapping[str, Any]], response_a: str, response_b: str) -> str:
    """Stable id of a pair: the first 16 hex digits of SHA-256 over its canonical JSON.

    Only ``role`` and ``content`` of each prompt message count, so extra message keys do
    not change the id. Order matters: swapping the responses gives another id, because
    labels ``a``/``b`` refer to positions.

    >>> pair_id("2+2?", "4", "5") == pair_id([{"role": "user", "content": "2+2?"}], "4", "5")
    True
    """
    messages = normalize_prompt(prompt) if isinstance(prompt, str) else prompt
    canonical = json.dumps(
        [_canonical_messages(messages), response_a, response_b],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    # surrogatepass: a lone surrogate (seen in scraped data) must still get an id; the
    # validator, not the id, is where such text is rejected.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def pairs_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build a pair table from dicts with ``prompt``, ``response_a``, ``response_b``.

    Prompts are normalized to message lists, ``label`` defaults to missing, and
    ``pair_id`` is computed when absent. Other keys become columns untouched.

    >>> pairs_frame([{"prompt": "q", "response_a": "x", "response_b": "y"}]).loc[0, "label"]
    """
    rows: list[dict[str, Any]] = []
    for i, rec in enumerate(records):
        for key in ("prompt", "response_a", "response_b"):
            if key not in rec:
                raise PairSchemaError(f"record {i} has no {key!r} key", column=key, rows=[i])
        row = dict(rec)
        try:
            row["prompt"] = normalize_prompt(rec["prompt"])
        except ValueError as exc:
            raise PairSchemaError(f"record {i}: {exc}", column="prompt", rows=[i]) from None
        if is_missing(row.get("label")):
            row["label"] = None
        if is_missing(row.get("pair_id")):
            row["pair_id"] = pair_id(row["prompt"], row["response_a"], row["response_b"])
        rows.append(row)
    extra: list[str] = []
    for row in rows:
        for key in row:
            if key not in REQUIRED_COLUMNS and key not in extra:
                extra.append(key)
    df = pd.DataFrame(rows, columns=[*REQUIRED_COLUMNS, *extra])
    df["label"] = df["label"].astype(object).where(df["label"].notna(), None)
    return df


def _bad_rows(series: pd.Series, ok: Any) -> list[Any]:
    return [idx for idx, value in series.items() if not ok(value)]


def _is_message_list(value: object) -> bool:
    if hasattr(value, "tolist") and not isinstance(value, (str, Mapping)):
        value = value.tolist()
    if not isinstance(value, list) or not value:
        return False
    return all(
        isinstance(m, Mapping)
        and isinstance(m.get("role"), str)
        and isinstance(m.get("content"), (str, list))
        for m in value
    )


def check_pairs(df: pd.DataFrame) -> None:
    """Check that ``df`` follows the pair-table schema; raise :class:`PairSchemaError` if not.

    The error names the first offending column and lists the offending rows.

    >>> check_pairs(pairs_frame([{"prompt": "q", "response_a": "x", "response_b": "y"}]))
    """
    if not isinstance(df, pd.DataFrame):
        raise PairSchemaError(
            f"expected a pandas DataFrame, got {type(df).__name__}", column="<frame>"
        )
    for column in REQUIRED_COLUMNS:
        if column not in df.columns:
            known = ", ".join(map(str, df.columns)) or "none"
            raise PairSchemaError(
                f"missing required column {column!r}; columns present: {known}", column=column
            )
    if df.columns.duplicated().any():
        dup = [str(c) for c in df.columns[df.columns.duplicated()]]
        raise PairSchemaError(f"duplicate column names: {', '.join(dup)}", column=dup[0])

    bad = _bad_rows(df["pair_id"], lambda v: isinstance(v, str) and v != "")
    if bad:
        raise PairSchemaError(
            "column 'pair_id' must hold non-empty strings", column="pair_id", rows=bad
        )
    dup_ids = df.index[df["pair_id"].duplicated(keep=False)].tolist()
    if dup_ids:
        raise PairSchemaError(
            "column 'pair_id' must be unique; repeated ids", column="pair_id", rows=dup_ids
        )
    bad = _bad_rows(df["prompt"], _is_message_list)
    if bad:
        raise PairSchemaError(
            "column 'prompt' must hold non-empty lists of {'role': str, 'content': str} "
            "messages (NaN or plain values are not prompts)",
            column="prompt",
            rows=bad,
        )
    for column in ("response_a", "response_b"):
        bad = _bad_rows(df[column], lambda v: isinstance(v, str))
        if bad:
            raise PairSchemaError(f"column {column!r} must hold strings", column=column, rows=bad)
    bad = _bad_rows(df["label"], lambda v: is_missing(v) or v in LABELS)
    if bad:
        raise PairSchemaError(
            f"column 'label' must be one of {', '.join(LABELS)} or missing",
            column="label",
            rows=bad,
        )
    for column, kind in OPTIONAL_COLUMNS.items():
        if column not in df.columns:
            continue
        allowed: tuple[str, ...] | None = {"strength": STRENGTHS, "split": SPLITS}.get(kind)
        if allowed is not None:
            bad = _bad_rows(df[column], lambda v, a=allowed: is_missing(v) or v in a)
            if bad:
                raise PairSchemaError(
                    f"column {column!r} must be one of {', '.join(allowed)} or missing",
                    column=column,
                    rows=bad,
                )
        else:
            bad = _bad_rows(df[column], lambda v: is_missing(v) or isinstance(v, str))
            if bad:
                raise PairSchemaError(
                    f"column {column!r} must hold strings or be missing", column=column, rows=bad
                )


#: Frames up to this many rows get the full per-row :func:`check_pairs` in
#: :func:`validate_frame`; larger frames get vectorized checks (and the Labeler checks each
#: row's prompt as it is fetched).
FULL_CHECK_MAX_ROWS: Final = 100_000


def validate_frame(df: pd.DataFrame) -> None:
    """Check ``df`` for the Labeler, fast at any size; raise :class:`PairSchemaError`.

    Small frames get :func:`check_pairs`. Large frames get vectorized checks of every column
    the Labeler reads (the slow per-row check runs only to name the rows once something is
    known to be wrong), so a million-row frame opens in well under a second.

    >>> validate_frame(pd.DataFrame({"prompt": ["q"]}))
    Traceback (most recent call last):
    ...
    prefnb.pairs.PairSchemaError: missing required column 'pair_id'; columns present: prompt
    """
    if not isinstance(df, pd.DataFrame) or len(df) <= FULL_CHECK_MAX_ROWS:
        check_pairs(df)
        return
    for column in REQUIRED_COLUMNS:
        if column not in df.columns:
            check_pairs(df)  # raises, naming the column
    infer = pd.api.types.infer_dtype
    labels = df["label"]
    given = labels[labels.notna()]
    suspicious = (
        infer(df["pair_id"], skipna=False) != "string"
        or bool((df["pair_id"] == "").any())
        # nunique hashes in C (Arrow for string dtype): ~4x faster than duplicated()
        or int(df["pair_id"].nunique(dropna=False)) != len(df)
        or infer(df["response_a"], skipna=False) != "string"
        or infer(df["response_b"], skipna=False) != "string"
        # a string dtype (pandas 3's default) infers as "string" even with missing values
        or bool(df[["pair_id", "response_a", "response_b"]].isna().to_numpy().any())
        or bool(df["prompt"].isna().any())
        or (len(given) > 0 and not bool(given.isin(LABELS).all()))
    )
    if suspicious:
        check_pairs(df)
