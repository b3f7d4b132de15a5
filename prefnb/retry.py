"""Sending one paid chat completion to Together: retries, back-off, and what a failure means.

The judge and generation send thousands of chat completions, each billed per answer and with
no idempotency key. Both go through :func:`send_with_retries`, so they agree on every failure:

- 429 and 5xx: Together did not answer, so did not bill. Retried after ``Retry-After`` or an
  exponential back-off with jitter.
- A dropped connection or a timeout: the answer may have been produced, and billed, before the
  reply was lost. Retried, and counted in :attr:`Attempts.maybe_duplicated` so a report can
  say so instead of hiding it.
- 401/403 (the key) and 404 (the model): no later request can succeed; :class:`Refused` stops
  the run.
- Any other 4xx, or a 200 whose body is not JSON: this request's failure, returned as a
  message (a 200 was billed, so it is not sent again).

Billable *creates* (fine-tunes, batches, evaluations, endpoints) are not retried this way:
:mod:`prefnb.launch.billable` reconciles with the account's listing before re-sending.

Example:
    >>> import httpx, together
    >>> request = httpx.Request("POST", "http://x/v1/chat/completions")
    >>> busy = together.RateLimitError(
    ...     "slow down", body=None,
    ...     response=httpx.Response(429, request=request, headers={"retry-after": "2"}))
    >>> failure_kind(busy), retry_after(busy), backoff_delay(0, 2.0)
    ('retry', 2.0, 2.0)
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Attempts",
    "Refused",
    "backoff_delay",
    "error_detail",
    "failure_kind",
    "retry_after",
    "send_or_stop",
    "send_with_retries",
]

#: What a failed request means for the run (see the module docstring).
FailureKind = Literal["retry", "retry_maybe_billed", "bad_key", "unknown_model", "failed"]


class Refused(Exception):
    """Together refused something no retry can fix: the key (``bad_key``) or the model.

    ``detail`` is Together's own message.
    """

    def __init__(self, kind: Literal["bad_key", "unknown_model"], detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail

    def sentence(self, model: str) -> str:
        """What to tell the user, ``model`` naming the model as the run knows it.

        >>> Refused("unknown_model", "not found").sentence("judge model 'm'")
        "judge model 'm': not found"
        """
        if self.kind == "bad_key":
            return f"Together refused the API key: {self.detail}"
        return f"{model}: {self.detail}"


@dataclass
class Attempts:
    """Counts shared by the worker threads of one run."""

    requests: int = 0
    retries: int = 0
    #: retries after a reply was lost in transit: each may have been billed twice
    maybe_duplicated: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: Literal["requests", "retries", "maybe_duplicated"]) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


def backoff_delay(attempt: int, retry_after: float | None) -> float:
    """Seconds before retry ``attempt`` (0-based): ``Retry-After`` if given (at most 60 s),
    else 0.25·2^n with ±50 % jitter, at most 8 s.

    >>> backoff_delay(5, 90.0), 0.125 <= backoff_delay(0, None) <= 0.375
    (60.0, True)
    """
    if retry_after is not None and retry_after >= 0:
        return float(min(retry_after, 60.0))
    return float(min(0.25 * 2**attempt, 8.0) * random.uniform(0.5, 1.5))


def retry_after(exc: BaseException) -> float | None:
    """The ``Retry-After`` seconds of a failed request's reply, if it had a usable one."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None:
        return None
    try:
        seconds = float(headers.get("retry-after"))
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def error_detail(exc: BaseException) -> str:
    """Together's own words for a failed request: the body's ``error.message`` when there is
    one (the SDK's message wraps the whole body in "Error code: …")."""
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str) and error["message"]:
        return str(error["message"])
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
        return str(body["message"])
    return str(getattr(exc, "message", None) or exc)


def failure_kind(exc: BaseException) -> FailureKind | None:
    """What ``exc`` means for the run; None when it is not an error of Together's client."""
    import together

    if isinstance(exc, together.APIConnectionError):  # includes APITimeoutError
        return "retry_maybe_billed"
    if not isinstance(exc, together.APIStatusError):
        return None
    if exc.status_code == 429 or exc.status_code >= 500:
        return "retry"
    if exc.status_code in (401, 403):
        return "bad_key"
    if exc.status_code == 404:
        return "unknown_model"
    return "failed"


def send_with_retries(
    send: Callable[[], bytes],
    *,
    max_attempts: int,
    counts: Attempts,
    stop: threading.Event,
) -> Any | str | None:
    """Send one request until it is answered: the reply's JSON, else why not.

    ``send`` makes the request with the SDK's own retries off and returns the raw body.
    Returns the decoded JSON; a ``str`` (this request's failure, for the report); or None
    when ``stop`` was set before an attempt. Raises :class:`Refused` for a refused key or
    model (the caller stops the run).
    """
    for attempt in range(max_attempts):
        if stop.is_set():
            return None
        counts.add("requests")
        try:
            body = send()
        except Exception as exc:
            kind = failure_kind(exc)
            if kind is None:
                raise
            detail = error_detail(exc)
            if kind == "bad_key" or kind == "unknown_model":
                raise Refused(kind, detail) from None
            if kind == "failed":
                return f"HTTP {getattr(exc, 'status_code', '?')}: {detail}"
            wait = backoff_delay(attempt, retry_after(exc))
        else:
            try:
                return json.loads(body)
            except ValueError:
                return f"HTTP 200 with a body that is not JSON: {body[:80]!r}"
        if attempt + 1 < max_attempts:
            counts.add("retries")
            if kind == "retry_maybe_billed":
                counts.add("maybe_duplicated")
            time.sleep(wait)
    return f"gave up after {max_attempts} attempts (rate limited, server errors or dropped replies)"


def send_or_stop(
    send: Callable[[], bytes],
    *,
    max_attempts: int,
    counts: Attempts,
    stop: threading.Event,
    fatal: list[BaseException],
    model: str,
    error: Callable[[str], BaseException],
) -> Any | str | None:
    """:func:`send_with_retries` for one of a run's worker threads.

    A refused key or model stops the whole run: ``stop`` is set and ``error`` (the run's
    exception type, given :meth:`Refused.sentence` with ``model``) goes to ``fatal``, for
    the calling thread to raise; this worker gets None.
    """
    try:
        return send_with_retries(send, max_attempts=max_attempts, counts=counts, stop=stop)
    except Refused as exc:
        stop.set()
        fatal.append(error(exc.sentence(model)))
        return None
