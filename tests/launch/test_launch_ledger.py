"""The job ledger is a real SQLite file shared by processes and kernel restarts."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from prefnb.launch.ledger import Ledger, job_key, jobs


def test_key_depends_on_server_method_data_and_params() -> None:
    base = job_key("http://a", "dpo", "c" * 64, None, "{}")
    assert base == job_key("http://a/", "dpo", "c" * 64, None, "{}")
    variants = {
        job_key("http://b", "dpo", "c" * 64, None, "{}"),
        job_key("http://a", "sft", "c" * 64, None, "{}"),
        job_key("http://a", "dpo", "d" * 64, None, "{}"),
        job_key("http://a", "dpo", "c" * 64, "e" * 64, "{}"),
        job_key("http://a", "dpo", "c" * 64, None, '{"dpo_beta":0.2}'),
    }
    assert base not in variants
    assert len(variants) == 5


def record(ledger: Ledger, job_id: str, key: str) -> None:
    ledger.record_job(
        job_id, key=key, base_url="http://a", method="dpo", model="m",
        training_checksum="c" * 64, params="{}", status="pending",
    )  # fmt: skip


def test_newest_job_for_a_key_wins_and_updates_stick(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    ledger = Ledger(path)
    record(ledger, "ft-1", "k")
    record(ledger, "ft-2", "k")
    row = Ledger(path).find_job("k")
    assert row is not None
    assert row["job_id"] == "ft-2"
    ledger.update_job("ft-2", status="completed", model_output_name="out/model")
    frame = jobs(path)
    assert list(frame["job_id"]) == ["ft-2", "ft-1"]
    assert frame.loc[0, "status"] == "completed"
    assert frame.loc[0, "model_output_name"] == "out/model"
    assert Ledger(path).find_job("other") is None


def test_files_are_remembered_per_server(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "jobs.sqlite")
    ledger.record_file("http://a", "c" * 64, "file-1", "train.jsonl")
    assert ledger.find_file("http://a/", "c" * 64) == "file-1"
    assert ledger.find_file("http://b", "c" * 64) is None
    ledger.forget_file("http://a", "c" * 64)
    assert ledger.find_file("http://a", "c" * 64) is None


def test_another_process_sees_what_this_one_wrote(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    code = (
        "from prefnb.launch.ledger import Ledger; import sys; "
        "Ledger(sys.argv[1]).record_job('ft-child', key='k', base_url='http://a', method='dpo',"
        " model='m', training_checksum='c'*64, params='{}')"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=60)
    row = Ledger(path).find_job("k")
    assert row is not None
    assert row["job_id"] == "ft-child"
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
