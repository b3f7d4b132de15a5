"""DPO jobs on LocalTogether through the real ``together`` client: create, run, observe, cancel."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import together

from prefnb.testing import LocalTogether

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
ROW = {
    "input": {"messages": [{"role": "user", "content": "Name a prime number."}]},
    "preferred_output": [{"role": "assistant", "content": "7"}],
    "non_preferred_output": [{"role": "assistant", "content": "8"}],
}
TERMINAL = {"completed", "error", "user_error", "cancelled"}


@pytest.fixture
def api() -> Iterator[LocalTogether]:
    with LocalTogether(speed=60, strict_spec=True) as server:
        yield server


@pytest.fixture
def client(api: LocalTogether) -> Any:
    return api.client()


def write(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def upload(client: Any, path: Path, rows: list[Any]) -> str:
    file_id: str = client.files.upload(write(path, rows), purpose="fine-tune").id
    for _ in range(200):
        if client.files.retrieve(file_id).processing_status not in ("PENDING", "RUNNING"):
            return file_id
        time.sleep(0.01)
    raise AssertionError("file processing never finished")


@pytest.fixture
def train_id(client: Any, tmp_path: Path) -> str:
    return upload(client, tmp_path / "train.jsonl", [ROW] * 48)


@pytest.fixture
def val_id(client: Any, tmp_path: Path) -> str:
    return upload(client, tmp_path / "val.jsonl", [ROW] * 6)


def wait(client: Any, job_id: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.fine_tuning.retrieve(job_id)
        if job.status in TERMINAL:
            return job
        time.sleep(0.05)
    raise AssertionError(f"{job_id} did not finish in {timeout}s")


def test_every_dpo_hyperparameter_reaches_the_request_body(
    api: LocalTogether, client: Any, train_id: str, val_id: str
) -> None:
    job = client.fine_tuning.create(
        training_file=train_id,
        validation_file=val_id,
        model=MODEL,
        training_method="dpo",
        dpo_beta=0.25,
        dpo_normalize_logratios_by_length=True,
        rpo_alpha=0.5,
        simpo_gamma=0.8,
        lora=True,
        lora_r=16,
        lora_alpha=32,
        lora_dropout=0.05,
        n_epochs=2,
        learning_rate=3e-6,
        batch_size=8,
        n_evals=3,
        n_checkpoints=2,
        suffix="canary-run",
        wandb_api_key="wandb-secret-canary",
        wandb_project_name="prefnb-tests",
        wandb_name="beta-0.25",
    )
    (sent,) = [r.body for r in api.requests_to("POST /v1/fine-tunes")]
    assert sent["training_method"] == {
        "method": "dpo",
        "dpo_beta": 0.25,
        "dpo_normalize_logratios_by_length": True,
        "dpo_reference_free": True,  # the SDK turns it on because simpo_gamma > 0
        "rpo_alpha": 0.5,
        "simpo_gamma": 0.8,
    }
    assert sent["training_type"] == {
        "type": "Lora",
        "lora_r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.05,
        "lora_trainable_modules": "all-linear",
    }
    expected = {
        "model": MODEL,
        "training_file": train_id,
        "validation_file": val_id,
        "n_epochs": 2,
        "learning_rate": 3e-6,
        "batch_size": 8,
        "n_evals": 3,
        "n_checkpoints": 2,
        "suffix": "canary-run",
        "wandb_key": "wandb-secret-canary",
        "wandb_project_name": "prefnb-tests",
        "wandb_name": "beta-0.25",
    }
    assert {k: sent[k] for k in expected} == expected
    # The SDK asked for the model's limits and a price estimate first.
    assert [r.path for r in api.requests if r.path.startswith("/v1/fine-tunes")] == [
        "/v1/fine-tunes/models/limits",
        "/v1/fine-tunes/estimate-price",
        "/v1/fine-tunes",
    ]
    assert api.requests_to("GET /v1/fine-tunes/models/limits")[0].query == {"model_name": MODEL}
    assert job.id.startswith("ft-sim-")
    assert job.status == "pending"
    assert "simulated" in job.output_name
    assert "canary-run" in job.output_name
    # The W&B key reached the server but is never sent back.
    assert "wandb-secret-canary" not in client.fine_tuning.retrieve(job.id).model_dump_json()
    assert not api.spec_violations


def test_a_job_runs_to_completion_with_events_checkpoints_and_metrics(
    api: LocalTogether, client: Any, train_id: str, val_id: str
) -> None:
    job = client.fine_tuning.create(
        training_file=train_id, validation_file=val_id, model=MODEL, training_method="dpo",
        dpo_beta=0.1, batch_size=8, n_epochs=2, n_evals=2, n_checkpoints=3, lora=True,
    )  # fmt: skip
    seen = []
    deadline = time.monotonic() + 10
    while (status := client.fine_tuning.retrieve(job.id).status) not in TERMINAL:
        if not seen or seen[-1] != status:
            seen.append(status)
        assert time.monotonic() < deadline
        time.sleep(0.02)
    seen.append(status)
    order = ["pending", "queued", "running", "compressing", "uploading", "completed"]
    assert seen == [s for s in order if s in seen]
    assert {"running", "completed"} <= set(seen)

    done = client.fine_tuning.retrieve(job.id)
    assert done.steps_completed == done.total_steps == 12  # 48 lines / batch 8 × 2 epochs
    assert done.progress.seconds_remaining == 0
    types = [e.type for e in client.fine_tuning.list_events(job.id).data]
    assert types[0] == "job_pending"
    assert types[-1] == "job_complete"
    for needed in ("job_start", "model_downloading", "training_data_downloading",
                   "training_start", "checkpoint_save", "eval_complete", "training_complete",
                   "model_compressing", "model_uploading"):  # fmt: skip
        assert needed in types
    assert types.count("epoch_complete") == 2
    assert types.count("eval_complete") == 2
    assert types.count("checkpoint_save") == 2  # intermediate ones; the final is the output

    checkpoints = client.fine_tuning.list_checkpoints(job.id).data
    assert [(c.step, c.checkpoint_type) for c in checkpoints] == [
        (12, "Final"), (8, "Intermediate"), (4, "Intermediate")
    ]  # fmt: skip

    metrics = client.fine_tuning.list_metrics(job.id).metrics
    train = [m for m in metrics if "train/loss" in m]
    evals = [m for m in metrics if "eval/loss" in m]
    assert [m["train/global_step"] for m in train] == list(range(1, 13))
    assert [m["train/global_step"] for m in evals] == [6, 12]
    for key in ("train/loss", "train/reward/accuracy", "train/approx. KL/chosen",
                "train/approx. KL/rejected", "train/learning_rate"):  # fmt: skip
        assert key in train[0]
    assert {"eval/reward/accuracy", "eval/approx. KL/chosen", "eval/approx. KL/rejected"} <= set(
        evals[0]
    )
    assert train[0]["train/loss"] == pytest.approx(0.693, abs=0.06)
    assert train[-1]["train/loss"] < train[0]["train/loss"] - 0.1
    assert train[-1]["train/reward/accuracy"] > 0.65
    assert train[-1]["train/approx. KL/rejected"] > train[0]["train/approx. KL/rejected"]
    # Deterministic per job: asking again gives the same numbers.
    assert client.fine_tuning.list_metrics(job.id).metrics == metrics
    assert not api.spec_violations


def test_only_steps_already_run_have_metrics(tmp_path: Path) -> None:
    # A nearly frozen clock, moved by hand, so that "now" is exact.
    with LocalTogether(speed=1e-3, strict_spec=True) as api:
        client = api.client()
        file_id = client.files.upload(
            write(tmp_path / "t.jsonl", [ROW] * 48), purpose="fine-tune"
        ).id
        api.advance(1.0)  # file processing
        job = client.fine_tuning.create(training_file=file_id, model=MODEL, training_method="dpo")
        assert client.fine_tuning.list_metrics(job.id).metrics == []
        assert client.fine_tuning.retrieve(job.id).status == "pending"
        api.advance(6 + 18 / 6 * 2.5)  # to training start, then two and a half of six steps
        steps = [m["train/global_step"] for m in client.fine_tuning.list_metrics(job.id).metrics]
        assert steps == [1.0, 2.0]
        running = client.fine_tuning.retrieve(job.id)
        assert running.status == "running"
        assert (running.steps_completed, running.total_steps) == (2, 6)
        assert running.progress.estimate_available is True
        assert running.progress.seconds_remaining > 0


def test_metrics_filters(api: LocalTogether, client: Any, train_id: str) -> None:
    job = client.fine_tuning.create(training_file=train_id, model=MODEL, training_method="dpo",
                                    batch_size=8, n_epochs=4)  # fmt: skip
    api.advance(60)
    rows = client.fine_tuning.list_metrics(job.id).metrics
    assert len(rows) == 24

    window = client.fine_tuning.list_metrics(job.id, global_step_from=5, global_step_to=9).metrics
    assert [r["train/global_step"] for r in window] == [5, 6, 7, 8, 9]

    sampled = client.fine_tuning.list_metrics(job.id, resolution=4).metrics
    assert [r["train/global_step"] for r in sampled] == [1, 9, 16, 24]

    middle = rows[10]["timestamp"]
    since = datetime.fromtimestamp(middle, UTC)
    later = client.fine_tuning.list_metrics(job.id, logged_at_from=since).metrics
    assert later[0]["train/global_step"] == 11
    before = client.fine_tuning.list_metrics(job.id, logged_at_to=since.isoformat()).metrics
    assert before[-1]["train/global_step"] == 11

    with pytest.raises(together.BadRequestError, match="logged_at_from"):
        client.fine_tuning.list_metrics(job.id, logged_at_from="yesterday")


def test_lower_beta_drops_the_loss_faster_and_drifts_further(
    api: LocalTogether, client: Any, train_id: str
) -> None:
    finals = {}
    for beta in (0.05, 0.5):
        job = client.fine_tuning.create(training_file=train_id, model=MODEL,
                                        training_method="dpo", dpo_beta=beta)  # fmt: skip
        api.advance(60)
        finals[beta] = client.fine_tuning.list_metrics(job.id).metrics[-1]
    assert finals[0.05]["train/loss"] < finals[0.5]["train/loss"]
    assert finals[0.05]["train/approx. KL/rejected"] > 5 * finals[0.5]["train/approx. KL/rejected"]


def test_cancel_goes_through_cancel_requested_to_cancelled(
    api: LocalTogether, client: Any, train_id: str
) -> None:
    job = client.fine_tuning.create(training_file=train_id, model=MODEL, training_method="dpo")
    api.advance(8)
    cancelled = client.fine_tuning.cancel(job.id)
    assert cancelled.status == "cancel_requested"
    frozen = client.fine_tuning.retrieve(job.id).steps_completed
    final = wait(client, job.id)
    assert final.status == "cancelled"
    assert final.steps_completed == frozen < final.total_steps
    types = [e.type for e in client.fine_tuning.list_events(job.id).data]
    assert types[-2:] == ["cancel_requested", "job_stopped"]
    assert "job_complete" not in types
    with pytest.raises(together.BadRequestError, match="already cancelled"):
        client.fine_tuning.cancel(job.id)


def test_a_job_on_an_invalid_file_ends_in_user_error(
    api: LocalTogether, client: Any, tmp_path: Path
) -> None:
    bad = dict(ROW, non_preferred_output=[])
    path = tmp_path / "bad.jsonl"
    file_id = upload(client, path, [ROW, bad])
    estimate = client.fine_tuning.estimate_price(training_file=file_id, model=MODEL)
    assert estimate.estimation_available is False
    assert estimate.unavailable_reason == "train_file_invalid"

    job = client.fine_tuning.create(training_file=file_id, model=MODEL, training_method="dpo")
    final = wait(client, job.id)
    assert final.status == "user_error"
    (error,) = [e for e in final.events if e.type == "job_error"]
    assert error.level == "error"
    assert file_id in error.message
    assert "`non_preferred_output` list must contain exactly one message on line 2" in error.message


def test_list_jobs_and_sft_then_dpo_from_checkpoint(
    api: LocalTogether, client: Any, tmp_path: Path, train_id: str
) -> None:
    sft_row = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    }
    sft_file = upload(client, tmp_path / "sft.jsonl", [sft_row] * 20)
    sft = client.fine_tuning.create(training_file=sft_file, model=MODEL, train_on_inputs="auto")
    api.advance(60)
    assert client.fine_tuning.retrieve(sft.id).status == "completed"
    assert "train/reward/accuracy" not in client.fine_tuning.list_metrics(sft.id).metrics[-1]

    dpo = client.fine_tuning.create(training_file=train_id, from_checkpoint=sft.id,
                                    training_method="dpo")  # fmt: skip
    (sent,) = [
        r.body for r in api.requests_to("POST /v1/fine-tunes") if "from_checkpoint" in r.body
    ]
    assert "model" not in sent
    assert api.requests_to("GET /v1/fine-tunes/models/limits")[-1].query == {"model_name": sft.id}
    assert dpo.model == MODEL
    assert dpo.from_checkpoint == sft.id
    assert {j.id for j in client.fine_tuning.list().data} == {sft.id, dpo.id}
    with pytest.raises(together.NotFoundError):
        client.fine_tuning.create(training_file=train_id, from_checkpoint="ft-sim-nope",
                                  training_method="dpo")  # fmt: skip


def test_server_rejects_what_together_would(api: LocalTogether, client: Any, train_id: str) -> None:
    raw = api.client(max_retries=0)
    with pytest.raises(together.BadRequestError, match="batch_size must be between 8 and 8"):
        raw.post("/v1/fine-tunes", cast_to=dict, body={
            "training_file": train_id, "model": MODEL, "batch_size": 64,
            "training_method": {"method": "dpo"},
        })  # fmt: skip
    with pytest.raises(together.BadRequestError, match="training_file 'file-nope' does not exist"):
        raw.post(
            "/v1/fine-tunes", cast_to=dict, body={"training_file": "file-nope", "model": MODEL}
        )
    with pytest.raises(together.NotFoundError):
        client.fine_tuning.retrieve("ft-sim-missing")
