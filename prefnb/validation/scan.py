"""One pass over a block of JSON lines: the byte counts the validator's fast path needs.

For a block of clean lines the fast path needs the number of lines, whether any line starts
with whitespace (a blank line hides among lines that decode), and the quote bytes, escaped
or not, which prove no key was repeated (see ``checker._Batch``). With numpy that is five
passes over the block (:func:`~prefnb.validation.lines.line_heads` and the guard's masks);
:mod:`prefnb._scan`, a small C module compiled with the package when a C compiler is at hand,
counts everything in one pass, about four times faster. It also measures a batch of output
texts (:func:`text_stats`: lengths, empty ones, pairs close in length) in one loop instead of
six passes of Python and numpy. :func:`block_counts` returns None
without it (no compiler, or ``PREFNB_PURE_PYTHON=1`` set before import) and the checker
uses numpy; tests check both against a byte-by-byte reference.

Example:
    >>> counts = block_counts(b'{"a": "say \\\\"hi\\\\""}\\n {"b": 2}\\n')
    >>> counts is None or counts == (8, 2, 2, True, 0)
    True
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import NamedTuple

__all__ = ["ACCELERATED", "BlockCounts", "TextStats", "block_counts", "text_stats"]


class TextStats(NamedTuple):
    """Per pair of texts: both lengths (native int64 arrays, as bytes), the indexes of the
    empty or whitespace-only ones, and of the pairs that may be identical or near-identical
    (lengths within max(8, total // 20), and first characters that can match: the first two
    gates of :func:`~prefnb.validation.warnings.near_identical`)."""

    lengths_a: bytes
    lengths_b: bytes
    empty_a: list[int]
    empty_b: list[int]
    close: list[int]


class BlockCounts(NamedTuple):
    quotes: int
    #: quotes after an odd run of backslashes: those inside strings
    escaped_quotes: int
    newlines: int
    #: a byte after a newline (not the block's last byte) is whitespace or a control byte
    whitespace_led: bool
    carriage_returns: int


def _accelerator() -> ModuleType | None:
    if os.environ.get("PREFNB_PURE_PYTHON"):
        return None
    try:
        from prefnb import _scan
    except ImportError:
        return None
    return _scan


_SCAN = _accelerator()
#: True when the C module is built (and not turned off).
ACCELERATED: bool = _SCAN is not None
# Without SSE2 (not x86-64) the C byte loop is slower than numpy's vector passes: only
# text_stats is used then.
_COUNTS = _SCAN if _SCAN is not None and _SCAN.SIMD else None


def block_counts(data: bytes) -> BlockCounts | None:
    """Quotes, escaped quotes, newlines, whitespace-led lines and CRs of ``data`` in one
    pass; None without the C module (callers then count with numpy)."""
    if _COUNTS is None:
        return None
    return BlockCounts(*_COUNTS.counts(data))


def text_stats(preferred: list[str], rejected: list[str]) -> TextStats | None:
    """:class:`TextStats` of a batch of output pairs in one C loop; None without the C
    module (``PairStats.add_many`` then computes them with numpy)."""
    if _SCAN is None:
        return None
    return TextStats(*_SCAN.text_stats(preferred, rejected))
