"""launch_dpo end to end: the real ``together`` client over HTTP against LocalTogether."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from launch_support import MODEL, write_dpo

import prefnb
from prefnb.launch import Job, jobs, launch_dpo, launch_sft_then_dpo, sweep
from prefnb.testing import LocalTogether


def created(api: LocalTogether) -> list[dict[str, Any]]:
    return [r.body for r in api.requests_to("POST /v1/fine-tunes")]


def test_every_dpo_hyperparameter_reaches_the_request_and_the_job_completes(
    api: LocalTogether, client: Any, dpo_file: Path, tmp_path: Path
) -> None:
    val = write_dpo(tmp_path / "val.jsonl", 4, tag="v")
    job = launch_dpo(
        dpo_file,
        model=MODEL,
        dpo_beta=0.25,
        dpo_normalize_logratios_by_length=True,
        rpo_alpha=0.5,
        lora=True,
        lora_r=16,
        lora_alpha=48,
        lora_dropout=0.05,
        n_epochs=2,
        learning_rate=2e-5,
        batch_size=8,
        max_seq_length=4096,
        validation=val,
        n_evals=2,
        n_checkpoints=2,
        suffix="prefnb-test",
        wandb_api_key="wandb-secret-0123456789",
        wandb_project_name="proj",
        wandb_name="run-1",
        client=client,
        wait=True,
        progress=False,
    )
    assert job.last_status == "completed"
    assert job.model_output_name
    assert "simulated" in job.model_output_name
    [body] = created(api)
    assert body["model"] == MODEL
    assert body["training_method"] == {
        "method": "dpo",
        "dpo_beta": 0.25,
        "dpo_normalize_logratios_by_length": True,
        "dpo_reference_free": False,
        "rpo_alpha": 0.5,
    }  # simpo_gamma was left out, so (as with the SDK) it is not sent
    assert body["training_type"] == {
        "type": "Lora",
        "lora_r": 16,
        "lora_alpha": 48,
        "lora_dropout": 0.05,
        "lora_trainable_modules": "all-linear",
    }
    expected = {
        "n_epochs": 2,
        "learning_rate": 2e-5,
        "batch_size": 8,
        "max_seq_length": 4096,
        "n_evals": 2,
        "n_checkpoints": 2,
        "suffix": "prefnb-test",
        "wandb_key": "wandb-secret-0123456789",
        "wandb_project_name": "proj",
        "wandb_name": "run-1",
    }
    assert {k: body[k] for k in expected} == expected
    assert body["training_file"].startswith("file-")
    assert body["validation_file"].startswith("file-")
    assert body["training_file"] != body["validation_file"]
    # Everything a finished job offers is readable through the Job.
    assert [c["step"] for c in job.checkpoints()]
    rows = job.metric_rows()
    assert rows
    assert "train/loss" in rows[0]
    # metrics() is the tidy frame, the same as prefnb.metrics(job).
    tidy = job.metrics()
    assert list(tidy.columns[:4]) == ["job_id", "step", "split", "metric"]
    assert set(tidy["metric"]) >= {"loss"}
    assert tidy.equals(prefnb.metrics(job))
    assert any(e["type"] == "job_complete" for e in job.events())
    # The W&B key went to Together but not into the ledger.
    ledger = (Path(prefnb.launch.ledger.default_path())).read_bytes()
    assert b"wandb-secret-0123456789" not in ledger


def test_simpo_gamma_drops_the_reference_model_and_says_so(
    api: LocalTogether, client: Any, dpo_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    launch_dpo(dpo_file, model=MODEL, simpo_gamma=0.5, client=client, progress=False)
    [body] = created(api)
    method = body["training_method"]
    assert method["simpo_gamma"] == 0.5
    assert method["dpo_reference_free"] is True
    assert method["dpo_normalize_logratios_by_length"] is True
    out = capsys.readouterr().out
    assert "SimPO" in out
    assert "reference model is dropped" in out


def test_lora_settings_without_lora_warn_that_the_sdk_drops_them(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    from prefnb.launch import LaunchWarning

    with pytest.warns(LaunchWarning, match="lora_r without lora=True is not sent"):
        launch_dpo(dpo_file, model=MODEL, lora_r=16, client=client, progress=False)
    assert "training_type" not in created(api)[0]


def test_full_training_sends_full_type(api: LocalTogether, client: Any, dpo_file: Path) -> None:
    launch_dpo(dpo_file, model=MODEL, lora=False, batch_size=8, client=client, progress=False)
    assert created(api)[0]["training_type"] == {"type": "Full"}


def test_same_launch_twice_returns_the_existing_job_unless_forced(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    first = launch_dpo(dpo_file, model=MODEL, dpo_beta=0.2, client=client, progress=False)
    again = launch_dpo(dpo_file, model=MODEL, dpo_beta=0.2, client=client, progress=False)
    assert again.id == first.id
    assert len(created(api)) == 1
    assert len(api.requests_to("POST /v1/files")) == 1
    other = launch_dpo(dpo_file, model=MODEL, dpo_beta=0.3, client=client, progress=False)
    assert other.id != first.id
    forced = launch_dpo(
        dpo_file, model=MODEL, dpo_beta=0.2, client=client, progress=False, force=True
    )
    assert forced.id not in (first.id, other.id)
    assert len(created(api)) == 3
    # Same bytes are never uploaded twice: the ledger remembers the file.
    assert len(api.requests_to("POST /v1/files")) == 1
    frame = jobs()
    assert set(frame["job_id"]) == {first.id, other.id, forced.id}
    assert set(frame["method"]) == {"dpo"}


def test_a_file_together_already_has_is_reused_after_409(
    api: LocalTogether, client: Any, dpo_file: Path, prefnb_home: Path
) -> None:
    launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
    # A new machine (empty ledger) uploading the same bytes gets 409 → the existing file.
    with sqlite3.connect(prefnb_home / "jobs.sqlite") as con:
        con.execute("DELETE FROM files")
    launch_dpo(dpo_file, model=MODEL, dpo_beta=0.3, client=client, progress=False)
    posts = api.requests_to("POST /v1/files")
    assert [r.status for r in posts] == [302, 409]
    assert len(api.requests_to("PUT *")) == 1
    a, b = created(api)
    assert a["training_file"] == b["training_file"]


def test_resume_after_kernel_restart_finds_the_job_in_a_new_process(
    api: LocalTogether, dpo_file: Path, prefnb_home: Path
) -> None:
    script = textwrap.dedent(
        f"""
        import together, prefnb
        client = together.Together(api_key="sim-local-key", base_url={api.base_url!r})
        job = prefnb.launch_dpo({str(dpo_file)!r}, model={MODEL!r}, dpo_beta=0.15,
                                client=client, progress=False)
        print("JOB", job.id)
        """
    )
    env = {**__import__("os").environ, "PREFNB_HOME": str(prefnb_home)}

    def run() -> str:
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        return next(line.split()[1] for line in out.stdout.splitlines() if line.startswith("JOB"))

    first, second = run(), run()
    assert first == second
    assert len(created(api)) == 1


def test_job_rebuilt_from_its_id_reads_the_same_job(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    job = launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
    again = Job(job.id, client)
    assert again.wait(progress=False, poll=0.05).last_status == "completed"
    assert again.model_output_name == job.model_output_name
    assert "completed" in repr(again)
    assert job.id in again._repr_html_()


def test_sft_then_dpo_continues_from_the_sft_job_and_resumes(
    api: LocalTogether, client: Any
) -> None:
    df = prefnb.load_sample()
    sft_job, dpo_job = launch_sft_then_dpo(
        df,
        model=MODEL,
        sft={"n_epochs": 1, "learning_rate": 2e-5},
        dpo={"dpo_beta": 0.2},
        client=client,
        progress=False,
    )
    assert sft_job.last_status == "completed"
    sft_body, dpo_body = created(api)
    assert sft_body["training_method"]["method"] == "sft"
    assert sft_body["model"] == MODEL
    assert sft_body["learning_rate"] == 2e-5
    assert dpo_body["from_checkpoint"] == sft_job.id
    assert "model" not in dpo_body
    assert dpo_body["training_method"]["dpo_beta"] == 0.2
    # The SFT file holds prompt + preferred answer conversations.
    sft_upload = next(iter(api.requests_to("POST /v1/files")))
    assert sft_upload.body["file_name"].startswith("sft-")
    # Re-running the cell (e.g. after a restart) returns the same two jobs.
    again = launch_sft_then_dpo(
        df, model=MODEL, sft={"n_epochs": 1, "learning_rate": 2e-5}, dpo={"dpo_beta": 0.2},
        client=client, progress=False,
    )  # fmt: skip
    assert (again[0].id, again[1].id) == (sft_job.id, dpo_job.id)
    assert len(created(api)) == 2


def test_sweep_launches_one_job_per_combination_from_one_upload(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    grid = sweep(
        dpo_file, model=MODEL, dpo_beta=[0.05, 0.1, 0.3], rpo_alpha=[0.0, 1.0], client=client,
        progress=False,
    )  # fmt: skip
    assert len(grid) == 6
    assert len({j.id for j in grid}) == 6
    combos = {
        (b["training_method"]["dpo_beta"], b["training_method"]["rpo_alpha"]) for b in created(api)
    }
    assert combos == {(b, r) for b in (0.05, 0.1, 0.3) for r in (0.0, 1.0)}
    assert len(api.requests_to("POST /v1/files")) == 1
    # A sweep re-run launches nothing new.
    assert [j.id for j in sweep(dpo_file, model=MODEL, dpo_beta=[0.05, 0.1, 0.3],
                                rpo_alpha=[0.0, 1.0], client=client, progress=False)] == [
        j.id for j in grid
    ]  # fmt: skip


def test_dataframe_is_exported_validated_and_launched(
    api: LocalTogether, client: Any, prefnb_home: Path
) -> None:
    df = prefnb.load_sample()
    job = launch_dpo(df, model=MODEL, validation=0.2, n_evals=1, client=client, progress=False)
    [body] = created(api)
    assert body["validation_file"]
    assert body["n_evals"] == 1
    names = [r.body["file_name"] for r in api.requests_to("POST /v1/files")]
    assert len(names) == 2
    assert all(n.startswith("dpo-") for n in names)
    # Every a/b row became one line, split between the training and validation files.
    labeled = int(df["label"].isin(["a", "b"]).sum())
    exported = sorted((prefnb_home / "exports").glob("dpo-*.jsonl"))
    lines = [json.loads(x) for p in exported for x in p.read_text().splitlines()]
    assert len(exported) == 2
    assert len(lines) == labeled
    assert job.id.startswith("ft-")


def test_pairs_too_long_for_half_the_context_are_reported(
    api: LocalTogether, client: Any, tmp_path: Path
) -> None:
    from prefnb.launch import LaunchWarning

    path = write_dpo(tmp_path / "long.jsonl", 4)
    lines = path.read_text().splitlines()
    rec = json.loads(lines[2])
    rec["preferred_output"][0]["content"] = "word " * 1000  # ≈1,250 tokens > 1,024
    lines[2] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n")
    with pytest.warns(LaunchWarning, match=r"1 pair\(s\) in long\.jsonl \(lines 3\)") as rec_w:
        launch_dpo(path, model=MODEL, max_seq_length=2048, client=client, progress=False)
    assert "half of the 2048-token context" in str(rec_w[0].message)
    assert rec_w[0].filename == __file__


def test_a_cancelled_launch_is_not_reused(
    dpo_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # At the fixture's speed=200 a job completes in ~0.15 s, before the cancel on a loaded
    # machine; at speed=2 it runs ~15 s while the cancel takes 0.5 s.
    with LocalTogether(speed=2, strict_spec=True) as slow:
        client = slow.client()
        first = launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
        first.cancel()
        assert first.wait(progress=False, poll=0.05).last_status == "cancelled"
        second = launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
    assert second.id != first.id
    assert f"The earlier launch {first.id} ended cancelled" in capsys.readouterr().out


def test_continuing_a_job_of_this_machine_checks_its_base_models_limits(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    first = launch_dpo(dpo_file, model=MODEL, client=client, wait=True, progress=False)
    launch_dpo(dpo_file, from_checkpoint=f"{first.id}:5", dpo_beta=0.3, client=client,
               progress=False)  # fmt: skip
    asked = [r.query.get("model_name") for r in api.requests_to("GET /v1/fine-tunes/models/limits")]
    assert asked == [MODEL, MODEL]
    assert created(api)[1]["from_checkpoint"] == f"{first.id}:5"


def test_an_export_result_launches_with_its_validation_file(
    api: LocalTogether, client: Any, tmp_path: Path
) -> None:
    from prefnb.launch import ParameterError

    df = prefnb.load_sample()
    result = prefnb.export_dpo(
        df, tmp_path / "t.jsonl", validation_path=tmp_path / "v.jsonl", val_fraction=0.2
    )
    launch_dpo(result, model=MODEL, n_evals=1, client=client, progress=False)
    names = [r.body["file_name"] for r in api.requests_to("POST /v1/files")]
    assert names == ["t.jsonl", "v.jsonl"]
    with pytest.raises(ParameterError, match="This is a SFT export"):
        launch_dpo(prefnb.export_sft(df, tmp_path / "s.jsonl"), model=MODEL, client=client)
