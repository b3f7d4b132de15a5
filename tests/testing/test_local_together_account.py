"""LocalTogether: the model catalogue, continued jobs, lost replies, downloads, delete, whoami —
through the real ``together`` client."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import together

from prefnb.testing import LocalTogether
from prefnb.testing.models import FINE_TUNING_MODELS, FineTuneModel

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
ROW = {
    "input": {"messages": [{"role": "user", "content": "Name a prime number."}]},
    "preferred_output": [{"role": "assistant", "content": "7"}],
    "non_preferred_output": [{"role": "assistant", "content": "8"}],
}


@pytest.fixture
def api() -> Iterator[LocalTogether]:
    with LocalTogether(speed=200, strict_spec=True) as server:
        yield server


@pytest.fixture
def client(api: LocalTogether) -> Any:
    return api.client()


@pytest.fixture
def train_id(client: Any, tmp_path: Path) -> str:
    path = tmp_path / "train.jsonl"
    path.write_text((json.dumps(ROW) + "\n") * 40)
    file_id: str = client.files.upload(path, purpose="fine-tune").id
    while client.files.retrieve(file_id).processing_status in ("PENDING", "RUNNING"):
        time.sleep(0.01)
    return file_id


def finish(client: Any, job_id: str) -> Any:
    for _ in range(2000):
        job = client.fine_tuning.retrieve(job_id)
        if job.status in ("completed", "error", "user_error", "cancelled"):
            return job
        time.sleep(0.01)
    raise AssertionError(f"{job_id} never finished")


def test_every_catalogue_model_serves_its_limits(client: Any) -> None:
    assert "meta-llama/Llama-3.2-3B-Instruct" in FINE_TUNING_MODELS
    for name, row in FINE_TUNING_MODELS.items():
        limits = client.fine_tuning.model_limits(model_name=name)
        assert limits.max_seq_length_dpo == row.context_dpo
        assert limits.lora_training.max_batch_size_dpo == row.lora_batch_dpo
        assert (limits.full_training is None) == (row.full_batch is None)
        assert row.guessed <= set(FineTuneModel.__dataclass_fields__)
    # A row copied from Together's page has its limits unmarked; a guessed one says so.
    assert "context_dpo" not in FINE_TUNING_MODELS["openai/gpt-oss-20b"].guessed
    assert "context_dpo" in FINE_TUNING_MODELS["meta-llama/Llama-3.2-3B-Instruct"].guessed


def test_a_continued_job_inherits_and_a_mismatched_adapter_is_refused(
    client: Any, train_id: str
) -> None:
    parent = client.fine_tuning.create(training_file=train_id, model=MODEL, lora=True, lora_r=8)
    finish(client, parent.id)
    child = client.fine_tuning.create(
        training_file=train_id, from_checkpoint=parent.id, training_method="dpo"
    )
    ttype = client.fine_tuning.retrieve(child.id).training_type
    assert (ttype.type, ttype.lora_r, ttype.lora_alpha) == ("Lora", 8, 16)
    with pytest.raises(together.BadRequestError, match="must keep its training type"):
        client.fine_tuning.create(
            training_file=train_id, from_checkpoint=parent.id, training_method="dpo", lora=True
        )
    # Without a parent the server's default is LoRA at the model's default rank.
    fresh = client.fine_tuning.create(training_file=train_id, model=MODEL, training_method="dpo")
    assert client.fine_tuning.retrieve(fresh.id).training_type.lora_r == 64


def test_a_fault_after_acting_creates_then_loses_the_reply(
    api: LocalTogether, client: Any, train_id: str
) -> None:
    api.inject("POST /v1/fine-tunes", after=True, status=502)
    with pytest.raises(together.InternalServerError):
        client.with_options(max_retries=0).fine_tuning.create(
            training_file=train_id, model=MODEL, training_method="dpo"
        )
    assert len(api.state.jobs) == 1  # it acted
    with pytest.raises(ValueError, match="after=True needs drop=True or a status"):
        api.inject("POST /v1/fine-tunes", after=True, delay=1)


def test_download_delete_and_whoami(client: Any, train_id: str) -> None:
    job = client.fine_tuning.create(training_file=train_id, model=MODEL, training_method="dpo")
    with pytest.raises(together.BadRequestError, match="cancel it before deleting"):
        client.fine_tuning.delete(job.id)
    with pytest.raises(together.BadRequestError, match="not completed"):
        client.fine_tuning.content(ft_id=job.id, checkpoint="merged")
    finish(client, job.id)
    resp = client.fine_tuning.with_raw_response.content(ft_id=job.id, checkpoint="adapter")
    data = resp.http_response.content
    assert resp.headers["etag"].strip('"') == hashlib.md5(data).hexdigest()
    assert "filename=" in resp.headers["content-disposition"]
    with pytest.raises(together.BadRequestError, match="not available for a LoRA job"):
        client.fine_tuning.content(ft_id=job.id, checkpoint="model_output_path")
    assert "deleted" in (client.fine_tuning.delete(job.id).message or "")
    with pytest.raises(together.NotFoundError):
        client.fine_tuning.retrieve(job.id)
    assert client.whoami().project.slug == "simulated"
