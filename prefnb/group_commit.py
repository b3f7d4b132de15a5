"""Group commits for paid answers: worker threads hand rows to one committing thread, which
writes everything that arrived while the last commit ran in one transaction and only then
releases the workers (a worker sends its next paid request once its answer is on disk, so a
killed kernel loses at most the answers in flight).

Used by the judge's chat backend and by ``prefnb.generate``.

Example:
    >>> import queue, threading
    >>> inbox: Inbox = queue.Queue()
    >>> done = threading.Event()
    >>> inbox.put(({"k": 1}, done))
    >>> stored: list[dict[str, int]] = []
    >>> commit_all(drain(inbox, block=False), stored.extend)
    >>> stored, done.is_set()
    ([{'k': 1}], True)
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, Final

__all__ = ["FLUSH_S", "Inbox", "commit_all", "drain"]

#: How long the committing thread waits for a first row before looking at its workers again.
FLUSH_S: Final = 0.05

#: Rows waiting for their commit, each with the event its worker waits on.
Inbox = queue.Queue[tuple[dict[str, Any], threading.Event]]


def drain(inbox: Inbox, *, block: bool) -> list[tuple[dict[str, Any], threading.Event]]:
    """Everything waiting in ``inbox`` (waiting up to :data:`FLUSH_S` for the first when
    ``block``)."""
    got = []
    try:
        got.append(inbox.get(timeout=FLUSH_S) if block else inbox.get_nowait())
        while True:
            got.append(inbox.get_nowait())
    except queue.Empty:
        pass
    return got


def commit_all(
    items: list[tuple[dict[str, Any], threading.Event]],
    commit: Callable[[list[dict[str, Any]]], object],
) -> None:
    """Commit the rows of ``items`` in one call, then release their workers (also when the
    commit fails: the error surfaces in the committing thread, never as a stuck worker)."""
    try:
        if items:
            commit([row for row, _ in items])
    finally:
        for _, event in items:
            event.set()
