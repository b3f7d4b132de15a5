"""``backend="chat"``: prefnb calls chat completions itself, each order a request.

Requests run on ``concurrency`` threads; the kernel's thread collects answers and commits
them to the label store in small groups (every :data:`FLUSH_S` seconds or
:data:`FLUSH_ROWS` rows), so a kernel killed mid-run loses at most the answers of the last
few milliseconds and the requests in flight; everything committed is never asked again.

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
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from prefnb.judge.prompt import judge_messages
from prefnb.judge.tasks import Pass
from prefnb.judge.verdict import parse_verdict, to_position
from prefnb.testing.serverless_models import ServerlessModel

__all__ = ["ChatStats", "JudgeError", "backoff_delay", "run_chat"]

FLUSH_S: Final = 0.05
FLUSH_ROWS: Final = 256
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
        messages = judge_messages(rubric, p.pair.prompt, p.first, p.second)
        for attempt in range(max_attempts):
            t0 = time.monotonic()
            try:
                with lock:
                    stats.requests += 1
                resp = quiet.chat.completions.create(
                    model=model, messages=messages, temperature=0.0, max_tokens=_MAX_TOKENS
                )
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
                content = resp.choices[0].message.content if resp.choices else None
                parsed = parse_verdict(content)
                usage = resp.usage
                n_in = int(getattr(usage, "prompt_tokens", 0) or 0)
                n_out = int(getattr(usage, "completion_tokens", 0) or 0)
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

    buffer: list[dict[str, Any]] = []
    done = 0
    last_flush = time.monotonic()
    pool = cf.ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="judge")
    pending: set[cf.Future[dict[str, Any] | None]] = set()
    try:
        pending = {pool.submit(one, p) for p in passes}
        while pending:
            finished, pending = cf.wait(pending, timeout=FLUSH_S, return_when="FIRST_COMPLETED")
            for fut in finished:
                row = fut.result()
                done += 1
                if row is not None:
                    buffer.append(row)
            now = time.monotonic()
            if buffer and (len(buffer) >= FLUSH_ROWS or now - last_flush >= FLUSH_S):
                flush(buffer)
                buffer = []
                last_flush = now
            progress(done)
            if fatal:
                break
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        # Whatever was answered is paid for: keep it even when the run is interrupted.
        for fut in pending:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                row = fut.result()
                if row is not None:
                    buffer.append(row)
        if buffer:
            flush(buffer)
    if fatal:
        raise fatal[0]
    return stats
