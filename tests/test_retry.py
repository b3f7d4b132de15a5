"""prefnb.retry: one chat completion through the real together client against LocalTogether."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from prefnb.retry import Attempts, Refused, backoff_delay, failure_kind, send_with_retries
from prefnb.testing import LocalTogether

MODEL = "openai/gpt-oss-20b"
CHAT = "POST /v1/chat/completions"


def _send(client: Any, model: str = MODEL) -> Any:
    quiet = client.with_options(max_retries=0)
    return lambda: (
        quiet.chat.completions.with_raw_response.create(
            model=model, messages=[{"role": "user", "content": "2+2?"}], max_tokens=8
        ).http_response.content
    )


def _run(api: LocalTogether, attempts: int = 4, **kw: Any) -> tuple[Any, Attempts]:
    counts = Attempts()
    out = send_with_retries(
        _send(api.client(), **kw), max_attempts=attempts, counts=counts, stop=threading.Event()
    )
    return out, counts


def test_429_and_5xx_are_retried_unbilled_and_counted() -> None:
    with LocalTogether() as api:
        api.inject(CHAT, status=429, times=1, retry_after=0.01)
        api.inject(CHAT, status=503, times=1)
        out, counts = _run(api)
        charges = len(api.state.charges)
    assert out["choices"][0]["message"]["content"]
    assert (counts.requests, counts.retries, counts.maybe_duplicated) == (3, 2, 0)
    assert charges == 1


def test_a_lost_reply_is_retried_and_counted_as_maybe_billed_twice() -> None:
    with LocalTogether() as api:
        api.inject(CHAT, drop=True, after=True, times=1)  # Together answered; the reply is lost
        out, counts = _run(api)
        charges = len(api.state.charges)
    assert isinstance(out, dict)
    assert counts.maybe_duplicated == 1
    assert charges == 2  # the duplicate is real, and the count says so


def test_an_unreadable_200_is_a_failure_and_not_sent_again() -> None:
    with LocalTogether() as api:
        api.inject(CHAT, corrupt=True, times=1)
        out, counts = _run(api)
        sent = len(api.requests_to(CHAT))
    assert isinstance(out, str)
    assert out.startswith("HTTP 200 with a body that is not JSON")
    assert counts.requests == sent == 1


def test_other_4xx_is_this_requests_failure_without_retry() -> None:
    with LocalTogether() as api:
        api.inject(CHAT, status=422, message="max_tokens must be <= 32768", times=1)
        out, counts = _run(api)
    assert out == "HTTP 422: max_tokens must be <= 32768"
    assert (counts.requests, counts.retries) == (1, 0)


def test_giving_up_names_the_attempts() -> None:
    with LocalTogether() as api:
        api.inject(CHAT, status=500, times=None)
        out, counts = _run(api, attempts=3)
    assert out == "gave up after 3 attempts (rate limited, server errors or dropped replies)"
    assert (counts.requests, counts.retries) == (3, 2)


def test_a_refused_key_or_model_raises_refused() -> None:
    canary = "sk-canary-retry-51c0"
    with LocalTogether(rejected_keys=(canary,)) as api:
        with pytest.raises(Refused) as bad_key:
            send_with_retries(
                _send(api.client(api_key=canary)),
                max_attempts=3,
                counts=Attempts(),
                stop=threading.Event(),
            )
        with pytest.raises(Refused) as bad_model:
            _run(api, model="nobody/no-such-model")
    assert bad_key.value.kind == "bad_key"
    assert canary not in str(bad_key.value)
    assert bad_model.value.kind == "unknown_model"


def test_a_stopped_run_sends_nothing() -> None:
    stop = threading.Event()
    stop.set()
    counts = Attempts()
    with LocalTogether() as api:
        assert (
            send_with_retries(_send(api.client()), max_attempts=3, counts=counts, stop=stop) is None
        )
        assert api.requests_to(CHAT) == []
    assert counts.requests == 0


def test_errors_that_are_not_togethers_propagate() -> None:
    def boom() -> bytes:
        raise KeyError("a bug, not a network failure")

    assert failure_kind(KeyError("x")) is None
    with pytest.raises(KeyError):
        send_with_retries(boom, max_attempts=3, counts=Attempts(), stop=threading.Event())


def test_backoff_honours_retry_after_up_to_a_minute_and_grows_otherwise() -> None:
    assert backoff_delay(0, 2.5) == 2.5
    assert backoff_delay(0, 600.0) == 60.0
    assert all(0.125 <= backoff_delay(0, None) <= 0.375 for _ in range(50))
    assert all(4.0 <= backoff_delay(10, None) <= 8.0 * 1.5 for _ in range(50))
