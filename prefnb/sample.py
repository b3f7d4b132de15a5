"""The bundled sample dataset: 68 realistic preference pairs for demos, docs and tests.

Topics: coding with fenced code blocks (Python, JavaScript, SQL, Bash), math with LaTeX,
multi-turn chats with a system prompt, refusals of harmful requests (and one over-refusal),
factual QA, summaries, a ~4 KB markdown answer with headings, lists and a table, and pairs
that differ only subtly. Some are labeled (``a``, ``b``, ``tie``, ``both_bad``, ``skip``,
with ``annotator`` alice or bob), the rest unlabeled. Like much real preference data it
has a length bias (the preferred answer is longer in most labeled pairs, though not all:
a few reward the concise reply), so the validator's length-bias warning shows up on it.

Files under ``prefnb/data/``:

- ``sample_pairs.jsonl``: pair-table rows (see :mod:`prefnb.pairs`);
- ``sample_dpo.jsonl``: the a/b-labeled pairs as Together preference lines.

Example:
    >>> df = load_sample()
    >>> len(df), sorted(df["label"].dropna().unique())
    (68, ['a', 'b', 'both_bad', 'skip', 'tie'])
    >>> sample_path("sample_dpo.jsonl").name
    'sample_dpo.jsonl'
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from prefnb import _json
from prefnb.pairs import check_pairs, pairs_frame

__all__ = ["SAMPLE_FILES", "load_sample", "sample_path"]

_DATA = Path(__file__).resolve().parent / "data"

#: Names :func:`sample_path` accepts.
SAMPLE_FILES = ("sample_pairs.jsonl", "sample_dpo.jsonl")


def sample_path(name: str = "sample_pairs.jsonl") -> Path:
    """Path of a bundled sample file (one of :data:`SAMPLE_FILES`)."""
    if name not in SAMPLE_FILES:
        raise ValueError(f"unknown sample file {name!r}; available: {', '.join(SAMPLE_FILES)}")
    return _DATA / name


def load_sample() -> pd.DataFrame:
    """The sample pairs as a pair table (passes :func:`prefnb.check_pairs`)."""
    lines = sample_path("sample_pairs.jsonl").read_bytes().splitlines()
    df = pairs_frame(_json.loads(line) for line in lines if line.strip())
    check_pairs(df)
    return df
