"""Every vocabulary of labels, once for the Python side: verdicts, strengths, shown orders
and the kinds of label events (the actions an annotator's labeling records).

``pairs.py``, ``labels/events.py`` and ``labeler/messages.py`` import these; the front end's
twin is ``js/lib/vocab.js`` (a test checks both say the same).

Example:
    >>> VERDICTS
    ('a', 'b', 'tie', 'both_bad', 'skip')
    >>> VERDICT_NAMES["both_bad"]
    'both bad'
    >>> "strong" in STRENGTHS
    True
"""

from __future__ import annotations

from typing import Final, Literal, get_args

__all__ = [
    "KINDS",
    "SHOWN",
    "STRENGTHS",
    "VERDICTS",
    "VERDICT_NAMES",
    "Kind",
    "Shown",
    "Strength",
    "Verdict",
]

#: A verdict on a pair: ``a``/``b`` preferred, ``tie``, ``both_bad``, or ``skip`` (no opinion).
Verdict = Literal["a", "b", "tie", "both_bad", "skip"]
#: How sure the annotator was of an ``a``/``b`` verdict.
Strength = Literal["slight", "clear", "strong"]
#: Which response was on the left when the verdict was given: ``ab`` means ``a`` was.
Shown = Literal["ab", "ba"]
#: What a label event records: a verdict, its undo, an edit of the preferred response, a
#: note, or the second verdict of a swap-replay audit.
Kind = Literal["label", "undo", "edit", "note", "audit"]

VERDICTS: Final[tuple[Verdict, ...]] = get_args(Verdict)
STRENGTHS: Final[tuple[Strength, ...]] = get_args(Strength)
SHOWN: Final[tuple[Shown, ...]] = get_args(Shown)
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

#: How a verdict is written for people (progress lines, plots, reports).
VERDICT_NAMES: Final[dict[Verdict, str]] = {
    "a": "A",
    "b": "B",
    "tie": "tie",
    "both_bad": "both bad",
    "skip": "skip",
}
