"""Faults, auth, unknown models and funds: what the real SDK sees from LocalTogether."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import together

from prefnb.testing import REJECTED_KEY, LocalTogether

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
ROW = {
    "input": {"messages": [{"role": "user", "content": "Say yes."}]},
    "preferred_output": [{"role": "assistant", "content": "Yes."}],
    "non_preferred_output": [{"role": "assistant", "content": "No."}],
}


@pytest.fixture
def api() -> Iterator[LocalTogether]:
    with LocalTogether(speed=60, strict_spec=True) as server:
        yield server


@pytest.fixture
def train_id(api: LocalTogether, tmp_path: Path) -> str:
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(ROW) + "\n", encoding="utf-8")
    file_id: str = api.client().files.upload(path, purpose="fine-tune").id
    api.advance(1.0)
    return file_id


def statuses(api: LocalTogether, pattern: str) -> list[int]:
    return [r.status for r in api.requests_to(pattern)]


def test_429_is_retried_by_the_sdk_after_retry_after(api: LocalTogether) -> None:
    fault = api.inject("GET /v1/fine-tunes", status=429, times=2, retry_after=0.2)
    start = time.monotonic()
    assert api.client().fine_tuning.list().data == []
    assert time.monotonic() - start >= 0.4  # two waits of Retry-After
    assert fault.hits == 2
    assert statuses(api, "GET /v1/fine-tunes") == [429, 429, 200]


def test_429_carries_retry_after(api: LocalTogether) -> None:
    api.inject("/v1/fine-tunes", status=429, retry_after=3)
    resp = httpx.get(f"{api.base_url}/v1/fine-tunes", headers={"Authorization": "Bearer k"})
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "3"
    assert resp.json()["error"]["type"] == "rate_limit_exceeded"


def test_5xx_beyond_the_retries_surfaces_as_an_error(api: LocalTogether) -> None:
    api.inject("GET /v1/fine-tunes/*", status=503, times=None, message="upstream down")
    client = api.client(max_retries=1)
    with pytest.raises(together.InternalServerError, match="upstream down"):
        client.fine_tuning.retrieve("ft-sim-x")
    assert statuses(api, "GET /v1/fine-tunes/*") == [503, 503]
    api.clear_faults()
    with pytest.raises(together.NotFoundError):
        client.fine_tuning.retrieve("ft-sim-x")


def test_a_dropped_connection_is_retried_and_creates_nothing(
    api: LocalTogether, train_id: str
) -> None:
    api.inject("POST /v1/fine-tunes", drop=True, times=1)
    job = api.client().fine_tuning.create(
        training_file=train_id, model=MODEL, training_method="dpo"
    )
    assert statuses(api, "POST /v1/fine-tunes") == [0, 200]  # 0: no response was sent
    assert [j.id for j in api.client().fine_tuning.list().data] == [job.id]


def test_a_dropped_connection_without_retries_is_a_connection_error(api: LocalTogether) -> None:
    api.inject("/v1/files", drop=True, times=None)
    with pytest.raises(together.APIConnectionError):
        api.client(max_retries=0).files.list()


def test_a_delay_slows_the_response_and_can_time_out(api: LocalTogether) -> None:
    api.inject("GET /v1/files", delay=0.3, times=1)
    start = time.monotonic()
    api.client().files.list()
    assert time.monotonic() - start >= 0.3
    api.inject("GET /v1/files", delay=1.0, times=1)
    with pytest.raises(together.APITimeoutError):
        api.client(max_retries=0, timeout=0.2).files.list()


def test_fault_patterns_are_checked() -> None:
    api = LocalTogether()
    with pytest.raises(ValueError, match="does nothing"):
        api.inject("/v1/files")
    with pytest.raises(ValueError, match="expected '/path-glob'"):
        api.inject("v1/files", status=500)
    with pytest.raises(ValueError, match="400-599"):
        api.inject("/v1/files", status=302)


def test_a_rejected_key_is_401_and_never_echoed(api: LocalTogether) -> None:
    with pytest.raises(together.AuthenticationError) as err:
        api.client(api_key=REJECTED_KEY).fine_tuning.list()
    assert REJECTED_KEY not in str(err.value)
    assert REJECTED_KEY not in err.value.response.text
    custom = LocalTogether(rejected_keys=("canary-key-123",)).start()
    try:
        with pytest.raises(together.AuthenticationError):
            custom.client(api_key="canary-key-123").files.list()
        assert custom.client(api_key="any-other-key").files.list().data == []
    finally:
        custom.stop()


def test_a_missing_key_is_401(api: LocalTogether) -> None:
    resp = httpx.get(f"{api.base_url}/v1/fine-tunes")
    assert resp.status_code == 401
    assert "Authorization: Bearer" in resp.json()["error"]["message"]


def test_unknown_model_limits_are_404_with_a_message(api: LocalTogether, train_id: str) -> None:
    client = api.client()
    with pytest.raises(together.NotFoundError) as err:
        client.fine_tuning.model_limits(model_name="no/such-model")
    assert "no/such-model" in err.value.body["message"]  # type: ignore[index]
    with pytest.raises(together.NotFoundError):
        client.fine_tuning.create(training_file=train_id, model="no/such-model")
    limits = client.fine_tuning.model_limits(model_name=MODEL)
    assert limits.lora_training.max_batch_size_dpo == 8
    assert limits.max_seq_length_dpo == 8192


def test_estimate_price_and_insufficient_funds(api: LocalTogether, train_id: str) -> None:
    client = api.client()
    estimate = client.fine_tuning.estimate_price(
        training_file=train_id, model=MODEL, n_epochs=1,
        training_method={"method": "dpo", "dpo_beta": 0.1},
    )  # fmt: skip
    assert estimate.estimation_available is True
    assert estimate.allowed_to_proceed is True
    assert estimate.estimated_total_price > 0
    assert estimate.user_limit == 100.0

    api.balance = 0.0
    broke = client.fine_tuning.estimate_price(training_file=train_id, model=MODEL)
    assert broke.allowed_to_proceed is False
    assert broke.user_limit == 0.0
    assert LocalTogether(balance=0.0).balance == 0.0


def test_unknown_routes_are_json_404s_that_explain_a_v1_base_url(api: LocalTogether) -> None:
    auth = {"Authorization": "Bearer k"}
    resp = httpx.get(f"{api.base_url}/v1/nothing-here", headers=auth)
    assert resp.status_code == 404
    assert resp.json()["error"]["message"] == "No route GET /v1/nothing-here"
    wrong = together.Together(api_key="k", base_url=f"{api.base_url}/v1", max_retries=0)
    with pytest.raises(together.NotFoundError, match="should not end in /v1"):
        wrong.files.list()


def test_strict_spec_turns_a_violation_into_a_500(api: LocalTogether, train_id: str) -> None:
    client = api.client(max_retries=0)
    body = {"training_file": train_id, "model": MODEL, "n_epochs": "two"}
    with pytest.raises(together.InternalServerError, match=r"request\.n_epochs: expected integer"):
        client.post("/v1/fine-tunes", cast_to=dict, body=body)
    assert api.spec_violations[-1].operation == "POST /v1/fine-tunes"

    lenient = LocalTogether(speed=60).start()
    try:
        with pytest.raises(together.BadRequestError):  # recorded, then handled normally
            lenient.client(max_retries=0).post("/v1/fine-tunes", cast_to=dict, body=body)
        assert len(lenient.spec_violations) == 1
    finally:
        lenient.stop()


def test_every_request_is_recorded_without_headers(api: LocalTogether, train_id: str) -> None:
    method, path, body = api.requests[0]
    assert (method, path) == ("POST", "/v1/files")
    assert body["purpose"] == "fine-tune"
    assert "sim-local-key" not in repr(api.requests)


@pytest.mark.slow
def test_runs_as_a_process_and_prints_its_url() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefnb.testing", "--port", "0", "--speed", "60"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        client: Any = together.Together(api_key="k", base_url=url, max_retries=0)
        assert client.fine_tuning.model_limits(model_name=MODEL).model_name == MODEL
    finally:
        proc.terminate()
        proc.wait(timeout=10)
