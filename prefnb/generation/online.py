"""``mode="online"``: chat completions on ``concurrency`` threads, each answer cached at once.

Workers hand each answer to the calling thread, which commits everything answered while the
previous commit ran in one transaction (a group commit); a worker sends its next request only
once its answer is committed, so a killed kernel loses at most one answer per worker. Each
request goes through :func:`prefnb.retry.send_with_retries`, as the judge's do: 429s, 5xx and
dropped connections are retried with back-off (``Retry-After`` honoured), every attempt is
counted, and a retry after a lost reply (possibly billed twice) is counted apart. Other 4xx
answers are that request's failure, reported, not cached (a re-run tries again).

Example:
    >>> OnlineStats().requests
    0
"""

from __future__ import annotations

import concurrent.futures as cf
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prefnb.generation.requests import Task
from prefnb.group_commit import Inbox, commit_all, drain
from prefnb.retry import Attempts, send_or_stop
from prefnb.testing.serverless_models import ServerlessModel

__all__ = ["GenerateError", "OnlineStats", "row_of", "run_online"]


class GenerateError(RuntimeError):
    """Generation cannot go on (a refused key, an unknown model, a failed batch)."""


@dataclass
class OnlineStats(Attempts):
    failures: dict[str, str] = field(default_factory=dict)


def row_of(task: Task, body: Any, price: ServerlessModel | None, discount: float) -> dict[str, Any]:
    """A cache row from a ``ChatCompletion`` (object or JSON dict)."""
    if hasattr(body, "to_dict"):
        body = body.to_dict()
    choice = (body.get("choices") or [{}])[0]
    text = (choice.get("message") or {}).get("content")
    if not isinstance(text, str):
        raise ValueError("the completion has no text")
    usage = body.get("usage") or {}
    n_in, n_out = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    return {
        "key": task.key,
        "model": task.model,
        "text": text,
        "finish_reason": choice.get("finish_reason"),
        "input_tokens": n_in,
        "output_tokens": n_out,
        "cost_usd": price.cost_usd(n_in, n_out) * discount if price is not None else 0.0,
    }


def run_online(
    tasks: Sequence[Task],
    *,
    client: Any,
    prices: dict[str, ServerlessModel | None],
    concurrency: int,
    max_attempts: int,
    commit: Callable[[list[dict[str, Any]]], None],
    progress: Callable[[int], None],
) -> OnlineStats:
    quiet = client.with_options(max_retries=0)
    stats = OnlineStats()
    lock = threading.Lock()
    stop = threading.Event()
    fatal: list[BaseException] = []
    inbox: Inbox = queue.Queue()
    finished = [0]

    def one(t: Task) -> dict[str, Any] | None:
        # The raw body: building the SDK's pydantic objects costs more CPU than the rest
        # of the request, and only the text and usage are kept.
        resp = send_or_stop(
            lambda: quiet.chat.completions.with_raw_response.create(**t.body).http_response.content,
            max_attempts=max_attempts,
            counts=stats,
            stop=stop,
            fatal=fatal,
            model=f"model {t.model!r}",
            error=GenerateError,
        )
        if resp is None:
            return None
        if isinstance(resp, str):
            with lock:
                stats.failures[t.key] = resp
            return None
        try:
            return row_of(t, resp, prices.get(t.model), 1.0)
        except (ValueError, AttributeError, TypeError) as exc:
            with lock:
                stats.failures[t.key] = str(exc)
            return None

    def worker(t: Task) -> None:
        try:
            row = one(t)
        finally:
            with lock:
                finished[0] += 1
        if row is not None:
            done = threading.Event()
            inbox.put((row, done))
            done.wait()  # next request only once this answer is on disk

    pool = cf.ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="generate")
    futures: list[cf.Future[None]] = []
    try:
        futures = [pool.submit(worker, t) for t in tasks]
        while not fatal:
            commit_all(drain(inbox, block=True), commit)
            with lock:
                n_done = finished[0]
            progress(n_done)
            if n_done == len(futures) and inbox.empty():
                break
    finally:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        while not all(f.done() for f in futures):  # keep what was answered (it is paid)
            commit_all(drain(inbox, block=True), commit)
        commit_all(drain(inbox, block=False), commit)
    if fatal:
        raise fatal[0]
    return stats
