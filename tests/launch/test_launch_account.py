"""Jobs on the account: remote listing joined with the ledger, download, delete."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from launch_support import MODEL, write_dpo

import prefnb
from prefnb.launch import LaunchError, delete_file, jobs, launch_dpo
from prefnb.testing import LocalTogether


def test_remote_jobs_are_joined_with_the_ledger(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    mine = launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
    file_id = api.requests_to("POST /v1/fine-tunes")[0].body["training_file"]
    other = client.fine_tuning.create(training_file=file_id, model=MODEL, training_method="dpo")
    frame = jobs(remote=True, client=client)
    assert set(frame["job_id"]) == {mine.id, other.id}
    by_id = frame.set_index("job_id")
    assert bool(by_id.loc[mine.id, "launched_here"]) is True
    assert by_id.loc[mine.id, "method"] == "dpo"
    assert bool(by_id.loc[other.id, "launched_here"]) is False
    assert by_id["on_account"].all()
    assert prefnb.jobs(remote=True, client=client)["job_id"].tolist() == frame["job_id"].tolist()


def test_download_checks_size_and_checksum_and_delete_removes_the_job(
    api: LocalTogether, client: Any, dpo_file: Path, tmp_path: Path
) -> None:
    big = write_dpo(tmp_path / "big.jsonl", 40, tag="big")
    job = launch_dpo(big, model=MODEL, n_checkpoints=2, client=client, wait=True,
                     progress=False)  # fmt: skip
    merged = job.download(tmp_path, progress=False)
    adapter = job.download(tmp_path / "a.bin", checkpoint="adapter", progress=False)
    first = min(c["step"] for c in job.checkpoints())
    early = job.download(tmp_path, step=first, progress=False)
    assert merged.parent == tmp_path
    assert merged.name.endswith("-merged.tar.zst")
    assert adapter == tmp_path / "a.bin"
    assert f"-step{first}-" in early.name
    assert len({hashlib.sha256(p.read_bytes()).hexdigest() for p in (merged, adapter, early)}) == 3
    # What the server sent, byte for byte (its ETag is the MD5).
    resp = api.requests_to("GET /v1/finetune/download")
    assert [r.query.get("checkpoint") for r in resp] == ["merged", "adapter", "merged"]
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
    assert first < job.snapshot()["total_steps"]

    with pytest.raises(LaunchError, match="no checkpoint at step 999"):
        job.download(tmp_path, step=999, progress=False)
    assert job.delete().endswith("deleted (simulated)")
    assert job.id not in api.state.jobs
    assert jobs()["status"].tolist() == ["deleted"]
    frame = jobs(remote=True, client=client)
    assert frame.set_index("job_id").loc[job.id, "on_account"] == False  # noqa: E712
    # The uploaded file goes too, and the ledger forgets it (the next launch re-uploads).
    file_id = api.requests_to("POST /v1/fine-tunes")[0].body["training_file"]
    delete_file(file_id, client)
    assert file_id not in api.state.files
    launch_dpo(big, model=MODEL, client=client, progress=False, force=True)
    assert len(api.requests_to("PUT *")) == 2


def test_a_running_job_is_not_deleted(dpo_file: Path) -> None:
    with LocalTogether(speed=1) as slow:
        job = launch_dpo(dpo_file, model=MODEL, client=slow.client(), progress=False)
        with pytest.raises(LaunchError, match="cancel it first"):
            job.delete()
        assert job.id in slow.state.jobs


def test_deleting_from_the_widget_needs_a_confirming_click(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    job = launch_dpo(dpo_file, model=MODEL, client=client, wait=True, progress=False)
    keep = job.confirm_delete()
    assert "LocalTogether (simulated)" in keep.question.value
    keep.no.click()
    assert job.id in api.state.jobs
    assert keep.yes.disabled
    box = job.confirm_delete()
    assert job.id in api.state.jobs  # showing it deletes nothing
    box.yes.click()
    assert job.id not in api.state.jobs
    assert "deleted" in box.status.value
    file_id = api.requests_to("POST /v1/fine-tunes")[0].body["training_file"]
    ask = delete_file(file_id, client, confirm=True)
    assert file_id in api.state.files
    ask.yes.click()
    assert file_id not in api.state.files
    assert ask.status.value == f"{file_id} deleted"


def test_a_download_damaged_on_the_way_is_refused_and_not_saved(
    api: LocalTogether, client: Any, dpo_file: Path, tmp_path: Path
) -> None:
    job = launch_dpo(dpo_file, model=MODEL, client=client, wait=True, progress=False)
    api.inject("GET /v1/finetune/download", corrupt=True)
    models = tmp_path / "models"
    models.mkdir()
    with pytest.raises(LaunchError, match=r"does not match .*checksum .*nothing was saved"):
        job.download(models, progress=False)
    assert list(models.iterdir()) == []
    assert job.download(models, progress=False).exists()  # intact the second time
