"""Faults LocalTogether injects into matching requests: error statuses, delays, dropped sockets.

By default a fault replaces the request (nothing happens on the server); with ``after=True``
the request is handled first and only its reply is lost.

A pattern is ``"/v1/fine-tunes*"`` (any method) or ``"POST /v1/files"`` (one method), matched
with :func:`fnmatch.fnmatchcase` against the request path without its query string.

Example:
    >>> faults = Faults()
    >>> f = faults.add("GET /v1/fine-tunes/*", status=429, times=2)
    >>> [faults.take("GET", "/v1/fine-tunes/ft-sim-1") is f for _ in range(3)]
    [True, True, False]
    >>> f.hits
    2
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field


@dataclass
class Fault:
    """One injected fault. ``times=None`` keeps it active until removed."""

    pattern: str
    status: int | None = None
    times: int | None = 1
    delay: float = 0.0
    drop: bool = False
    retry_after: float | None = None
    message: str | None = None
    after: bool = False
    corrupt: bool = False
    hits: int = 0
    method: str | None = field(default=None, init=False)
    path_glob: str = field(default="", init=False)

    def __post_init__(self) -> None:
        method, sep, glob = self.pattern.partition(" ")
        if sep and method.isupper():
            self.method, self.path_glob = method, glob.strip()
        else:
            self.path_glob = self.pattern.strip()
        if not self.path_glob.startswith("/"):
            raise ValueError(
                f"fault pattern {self.pattern!r}: expected '/path-glob' or 'METHOD /path-glob'"
            )
        if self.corrupt and (self.drop or self.status is not None):
            raise ValueError(f"fault {self.pattern!r}: corrupt=True sends the reply, altered")
        if self.after and self.status is None and not self.drop and not self.corrupt:
            raise ValueError(f"fault {self.pattern!r}: after=True needs drop=True or a status")
        if self.status is None and not self.drop and self.delay <= 0 and not self.corrupt:
            raise ValueError(f"fault {self.pattern!r} does nothing: give status, delay or drop")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(f"fault status must be an HTTP error (400-599), got {self.status}")

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return fnmatch.fnmatchcase(path, self.path_glob)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


class Faults:
    """Thread-safe list of faults; the first live match wins and is counted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        pattern: str,
        *,
        status: int | None = None,
        times: int | None = 1,
        delay: float = 0.0,
        drop: bool = False,
        retry_after: float | None = None,
        message: str | None = None,
        after: bool = False,
        corrupt: bool = False,
    ) -> Fault:
        """Add a fault. ``after=True`` lets the request act first (the job is created, the
        file stored) and then loses the reply: dropped, delayed or replaced by ``status``;
        a lost reply to a create that did happen. ``corrupt=True`` sends the real reply with
        one byte flipped (a download damaged on the way)."""
        fault = Fault(pattern, status, times, delay, drop, retry_after, message, after, corrupt)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if not fault.exhausted and fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
