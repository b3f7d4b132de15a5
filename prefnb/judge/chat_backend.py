"""``backend="chat"``: prefnb calls chat completions itself, each order a request.

Requests run on ``concurrency`` threads; the kernel's thread commits answers to the label
store as they arrive (a group commit takes everything answered while the previous commit
ran), and a worker hands over an answer only once its previous one is committed. A kernel
killed mid-run therefore loses at most ``2 × concurrency`` answers (per worker: one awaiting
its commit, one in flight); everything committed is never asked again.

Each request goes through :func:`prefnb.retry.send_with_retries`: 429 and 5xx answers (which
Together does not bill) and dropped connections are retried with back-off, honouring
``Retry-After``, and every attempt is counted (the SDK's own retries are off). A 401/403 or an
unknown model stops the run; any other 4xx is that pass's error (not billed, not stored: a
re-run tries it again).

Example:
    >>> ChatStats().unpaid_errors
    {}
"""

from __future__ import annotations

import concurrent.futures as cf
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from prefnb.group_commit import Inbox, commit_all, drain
from prefnb.judge.prompt import judge_messages
from prefnb.judge.tasks import Pass
from prefnb.judge.verdict import parse_verdict, to_position
from prefnb.retry import Attempts, send_or_stop
from prefnb.testing.serverless_models import ServerlessModel

__all__ = ["ChatStats", "JudgeError", "run_chat"]

_MAX_TOKENS: Final = 512


class JudgeError(RuntimeError):
    """The judge run cannot go on (bad key, unknown model, a job that failed)."""


@dataclass
class ChatStats(Attempts):
    unpaid_errors: dict[tuple[str, str], str] = field(default_factory=dict)


def _answer(data: Any) -> tuple[str | None, int, int]:
    """(content, prompt tokens, completion tokens) of a chat completion's JSON."""
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        content = None
    usage = data.get("usage") if isinstance(data, dict) else None
    usage = usage if isinstance(usage, dict) else {}
    return (
        content if isinstance(content, str) else None,
        int(usage.get("prompt_tokens") or 0),
        int(usage.get("completion_tokens") or 0),
    )


def run_chat(
    passes: Sequence[Pass],
    *,
    client: Any,
    model: str,
    rubric: str,
    annotator: str,
    rubric_hash: str,
    price: ServerlessModel,
    concurrency: int,
    max_attempts: int,
    flush: Callable[[list[dict[str, Any]]], None],
    progress: Callable[[int], None],
    prebuilt: dict[Pass, list[dict[str, str]]] | None = None,
) -> ChatStats:
    """Send every pass, hand finished rows to ``flush`` in groups; return counts."""
    quiet = client.with_options(max_retries=0)
    stats = ChatStats()
    lock = threading.Lock()
    stop = threading.Event()
    fatal: list[BaseException] = []

    def one(p: Pass) -> dict[str, Any] | None:
        built = prebuilt.get(p) if prebuilt is not None else None
        messages = built or judge_messages(rubric, p.pair.prompt, p.first, p.second)
        t0 = time.monotonic()
        # The raw body skips building pydantic models: a third of the SDK's CPU.
        data = send_or_stop(
            lambda: (
                quiet.chat.completions.with_raw_response.create(
                    model=model, messages=messages, temperature=0.0, max_tokens=_MAX_TOKENS
                ).http_response.content
            ),
            max_attempts=max_attempts,
            counts=stats,
            stop=stop,
            fatal=fatal,
            model=f"judge model {model!r}",
            error=JudgeError,
        )
        if data is None:
            return None
        if isinstance(data, str):  # not billed (or billed once and unreadable): not stored
            with lock:
                stats.unpaid_errors[(p.pair.content_key, p.shown)] = data
            return None
        content, n_in, n_out = _answer(data)
        parsed = parse_verdict(content)
        return p.row(
            annotator=annotator,
            rubric_hash=rubric_hash,
            verdict=to_position(parsed.choice, p.shown),
            rationale=parsed.rationale,
            confidence=parsed.confidence,
            error=None if parsed.error is None else f"invalid verdict: {parsed.error}",
            input_tokens=n_in,
            output_tokens=n_out,
            cost_usd=price.cost_usd(n_in, n_out),
            # Wall-clock share: `concurrency` requests overlap (retry waits included).
            seconds=(time.monotonic() - t0) / max(1, concurrency),
            backend="chat",
        )

    inbox: Inbox = queue.Queue()

    finished = [0]
    last = threading.local()  # each worker's answer still waiting for its commit

    def answered(p: Pass) -> None:
        try:
            row = one(p)
        finally:
            with lock:
                finished[0] += 1
        if row is not None:
            # A worker hands over its next answer only once the previous one is committed:
            # the commit overlaps the next request instead of delaying it, and a killed
            # kernel loses at most two answers per worker (one awaiting its commit, one in
            # flight).
            previous: threading.Event | None = getattr(last, "event", None)
            if previous is not None:
                previous.wait()
            committed = threading.Event()
            inbox.put((row, committed))
            last.event = committed

    pool = cf.ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="judge")
    futures: list[cf.Future[None]] = []
    try:
        futures = [pool.submit(answered, p) for p in passes]
        committed_n = 0
        while committed_n < len(futures) and not fatal:
            # Group commit: everything answered while the last commit ran goes in one.
            items = drain(inbox, block=True)
            commit_all(items, flush)
            with lock:
                done_n = finished[0]
            committed_n = done_n - inbox.qsize()
            progress(done_n)
            if done_n == len(futures) and inbox.empty():
                break
    finally:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        # Whatever was answered is paid for: keep it even when the run is interrupted.
        while not all(f.done() for f in futures):
            commit_all(drain(inbox, block=True), flush)
        commit_all(drain(inbox, block=False), flush)
    if fatal:
        raise fatal[0]
    return stats
