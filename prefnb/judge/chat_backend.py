"""``backend="chat"``: prefnb calls chat completions itself, each order a request.

Requests run on ``concurrency`` threads; the kernel's thread commits answers to the label
store as they arrive (a group commit takes everything answered while the previous commit
ran), and a worker hands over an answer only once its previous one is committed. A kernel
killed mid-run therefore loses at most ``2 × concurrency`` answers (per worker: one awaiting
its commit, one in flight); everything committed is never asked again.

429 and 5xx answers (which Together does not bill) and dropped connections are retried with
exponential back-off and jitter, honouring ``Retry-After``; the SDK's own retries are off
(``max_retries=0``) so every attempt is counted. A 401/403 or an unknown model stops the run;
any other 4xx is that pass's error (not billed, not stored: a re-run tries it again).

Example:
    >>> backoff_delay(0, None) <= 0.5
    True
"""

from __future__ import annotations

import concurrent.futures as cf
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from prefnb.group_commit import Inbox, commit_all, drain
from prefnb.judge.prompt import judge_messages
from prefnb.judge.tasks import Pass
from prefnb.judge.verdict import parse_verdict, to_position
from prefnb.testing.serverless_models import ServerlessModel

__all__ = ["ChatStats", "JudgeError", "backoff_delay", "run_chat"]

_MAX_TOKENS: Final = 512


class JudgeError(RuntimeError):
    """The judge run cannot go on (bad key, unknown model, a job that failed)."""


@dataclass
class ChatStats:
    requests: int = 0
    retries: int = 0
    unpaid_errors: dict[tuple[str, str], str] = field(default_factory=dict)
    maybe_duplicated: int = 0


def backoff_delay(attempt: int, retry_after: float | None) -> float:
    """Seconds before retry ``attempt`` (0-based): Retry-After if given, else 0.25·2^n
    with ±50 % jitter, at most 8 s."""
    if retry_after is not None and retry_after >= 0:
        return float(min(retry_after, 60.0))
    return float(min(0.25 * 2**attempt, 8.0) * random.uniform(0.5, 1.5))


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        return float(headers.get("retry-after"))
    except (TypeError, ValueError):
        return None


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
    import together

    quiet = client.with_options(max_retries=0)
    stats = ChatStats()
    lock = threading.Lock()
    stop = threading.Event()
    fatal: list[BaseException] = []

    def one(p: Pass) -> dict[str, Any] | None:
        if stop.is_set():
            return None
        built = prebuilt.get(p) if prebuilt is not None else None
        messages = built or judge_messages(rubric, p.pair.prompt, p.first, p.second)
        for attempt in range(max_attempts):
            t0 = time.monotonic()
            try:
                with lock:
                    stats.requests += 1
                # The raw response skips building pydantic models: a third of the SDK's CPU.
                raw = quiet.chat.completions.with_raw_response.create(
                    model=model, messages=messages, temperature=0.0, max_tokens=_MAX_TOKENS
                )
                data = raw.http_response.json()
            except (together.RateLimitError, together.InternalServerError) as exc:
                wait = backoff_delay(attempt, _retry_after(exc))
            except together.APIConnectionError as exc:
                # A dropped answer may have been billed: count it, then ask again.
                with lock:
                    stats.maybe_duplicated += 1
                wait = backoff_delay(attempt, _retry_after(exc))
            except (together.AuthenticationError, together.PermissionDeniedError) as exc:
                stop.set()
                fatal.append(JudgeError(f"Together refused the API key: {exc.message}"))
                return None
            except together.NotFoundError as exc:
                stop.set()
                fatal.append(JudgeError(f"judge model {model!r}: {exc.message}"))
                return None
            except together.APIStatusError as exc:
                with lock:
                    stats.unpaid_errors[(p.pair.content_key, p.shown)] = (
                        f"HTTP {exc.status_code}: {exc.message}"
                    )
                return None
            else:
                seconds = time.monotonic() - t0
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
                    # Wall-clock share: `concurrency` requests overlap.
                    seconds=seconds / max(1, concurrency),
                    backend="chat",
                )
            if attempt + 1 < max_attempts:
                with lock:
                    stats.retries += 1
                time.sleep(wait)
        with lock:
            stats.unpaid_errors[(p.pair.content_key, p.shown)] = (
                f"gave up after {max_attempts} attempts (rate limited or server errors)"
            )
        return None

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
