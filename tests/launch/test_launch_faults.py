"""Faults: retried with backoff where that can help, one plain message where it cannot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from launch_support import MODEL, write_dpo

from prefnb.launch import (
    AuthenticationFailed,
    DataRejected,
    FileValidationFailed,
    InsufficientFunds,
    TogetherUnavailable,
    UnknownModel,
    launch_dpo,
)
from prefnb.launch.ledger import Ledger
from prefnb.launch.upload import upload_file
from prefnb.testing import REJECTED_KEY, LocalTogether


def test_rate_limits_and_server_errors_are_retried(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    api.inject("POST /v1/fine-tunes", status=429, times=2)
    api.inject("GET /v1/fine-tunes/models/limits", status=503, times=1)
    job = launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
    assert job.id.startswith("ft-")
    statuses = [r.status for r in api.requests_to("POST /v1/fine-tunes")]
    assert statuses == [429, 429, 200]


def test_upload_put_reset_is_retried_by_prefnb(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    # The SDK never retries the PUT of the file content; prefnb retries the whole upload.
    api.inject("PUT /_sim_upload/*", drop=True, times=1)
    api.inject("POST /v1/files", status=502, times=1)
    job = launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
    assert job.id.startswith("ft-")
    assert [r.status for r in api.requests_to("POST /v1/files")][-1] == 302


def test_polling_rides_out_dropped_connections(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    job = launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
    api.inject("GET /v1/fine-tunes/ft-*", drop=True, times=4)
    assert job.wait(progress=False, poll=0.05).last_status == "completed"


def test_persistent_server_errors_give_a_plain_message(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    api.inject("GET /v1/fine-tunes/models/limits", status=500, times=None)
    with pytest.raises(TogetherUnavailable, match="HTTP 500 while reading the fine-tuning limits"):
        launch_dpo(dpo_file, model=MODEL, client=client.with_options(max_retries=1))
    assert not api.requests_to("POST /v1/files")


def test_rejected_key_is_a_plain_message(api: LocalTogether, dpo_file: Path) -> None:
    with pytest.raises(AuthenticationFailed, match="rejected the API key") as err:
        launch_dpo(dpo_file, model=MODEL, client=api.client(api_key=REJECTED_KEY))
    assert REJECTED_KEY not in str(err.value)
    assert err.value.__suppress_context__


def test_a_401_on_upload_keeps_the_sdks_own_message(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    # Limits were readable (the key is good); the upload is refused: the SDK says why.
    api.inject("POST /v1/files", status=401, message="Free trial limit reached (simulated)")
    with pytest.raises(AuthenticationFailed) as err:
        launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
    text = str(err.value)
    assert text.startswith("This job would exceed your free trial credits.")
    assert "HTTP 401 while uploading train.jsonl" in text
    assert "Free trial limit reached (simulated)" in text
    assert "rejected the API key" not in text
    assert not api.state.jobs


def test_missing_key_is_a_plain_message(dpo_file: Path) -> None:
    with pytest.raises(AuthenticationFailed, match="set the TOGETHER_API_KEY"):
        launch_dpo(dpo_file, model=MODEL)


def test_unknown_model_is_a_plain_message(api: LocalTogether, client: Any, dpo_file: Path) -> None:
    with pytest.raises(UnknownModel, match="does not fine-tune a model called 'acme/nope'"):
        launch_dpo(dpo_file, model="acme/nope", client=client)
    assert not api.requests_to("POST /v1/files")


def test_insufficient_funds_stops_before_the_job_is_created(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    api.balance = 0.0
    with pytest.raises(InsufficientFunds, match=r"Together estimates it costs \$") as err:
        launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
    assert "allows $0.00" in str(err.value)
    assert not api.requests_to("POST /v1/fine-tunes")


def test_file_our_validator_rejects_is_never_uploaded(
    api: LocalTogether, client: Any, tmp_path: Path
) -> None:
    bad = write_dpo(tmp_path / "bad.jsonl", 3)
    lines = bad.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["preferred_output"] = [{"role": "user", "content": "wrong role"}]
    lines[1] = json.dumps(rec)
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataRejected, match=r"bad\.jsonl was not uploaded") as err:
        launch_dpo(bad, model=MODEL, client=client)
    assert "2" in str(err.value)  # the offending line is named
    assert not api.requests_to("POST /v1/files")


def test_server_file_validation_error_is_shown_verbatim(
    api: LocalTogether, client: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"input": {"messages": []}}\n')
    with pytest.raises(FileValidationFailed) as err:
        upload_file(client, bad, ledger=Ledger(), progress=False)
    info = client.files.retrieve(err.value.file_id)
    assert info.validation_report.error
    assert err.value.server_error == info.validation_report.error
    assert info.validation_report.error in str(err.value)


def test_invalid_hyperparameters_are_refused_before_any_request(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    from prefnb.launch import ParameterError

    cases: list[tuple[dict[str, Any], str]] = [
        ({"dpo_beta": 0.0}, "dpo_beta must be > 0"),
        ({"rpo_alpha": -0.1}, "rpo_alpha must be ≥ 0"),
        ({"simpo_gamma": -1.0}, "simpo_gamma must be ≥ 0"),
        ({"train_on_inputs": True}, "train_on_inputs is not allowed for DPO"),
        ({"lora_dropout": 1.0}, r"lora_dropout must be in \[0, 1\)"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ParameterError, match=message):
            launch_dpo(dpo_file, model=MODEL, client=client, **kwargs)
    assert api.requests == []


def test_limits_are_checked_before_upload(api: LocalTogether, client: Any, dpo_file: Path) -> None:
    from prefnb.launch import ParameterError

    with pytest.raises(ParameterError, match="max_batch_size_dpo=8"):
        launch_dpo(dpo_file, model=MODEL, batch_size=16, client=client)
    with pytest.raises(ParameterError, match="max_seq_length_dpo=8192"):
        launch_dpo(dpo_file, model=MODEL, max_seq_length=16384, client=client)
    with pytest.raises(ParameterError, match="n_evals=2 needs validation data"):
        launch_dpo(dpo_file, model=MODEL, n_evals=2, client=client)
    assert not api.requests_to("POST /v1/files")
