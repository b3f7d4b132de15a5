"""The API key never shows up anywhere prefnb writes or displays: a canary key is searched in
the ledger, export files, reprs, widget state, captured output and logs, and error text."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from launch_support import MODEL

from prefnb.launch import AuthenticationFailed, Job, JobMonitor, LaunchError, jobs, launch_dpo
from prefnb.testing import LocalTogether

CANARY = "tgp_v1_CANARY-7f3a9c1e-never-print-me"


def everything_under(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_canary_key_never_leaks(
    dpo_file: Path,
    prefnb_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # the SDK's and httpx's debug logs too
    seen: list[str] = []
    with LocalTogether(speed=200) as api:
        monkeypatch.setenv("TOGETHER_API_KEY", CANARY)
        monkeypatch.setenv("TOGETHER_BASE_URL", api.base_url)
        job = launch_dpo(dpo_file, model=MODEL, wait=True, progress=True)  # key from the env
        seen += [repr(job), job._repr_html_(), json.dumps(job.info(), default=str)]
        monitor = JobMonitor([job, Job(job.id)], interval=0.05)
        assert monitor.thread is not None
        monitor.thread.join(10)
        seen.append(json.dumps(monitor.get_state(), default=str))
        seen.append(repr(monitor))
        seen.append(jobs().to_csv())
        # Every kind of failure the launcher reports.
        api.inject("GET /v1/fine-tunes/models/limits", status=500, times=None)
        with pytest.raises(LaunchError) as err:
            launch_dpo(dpo_file, model=MODEL, dpo_beta=0.3, progress=False)
        seen.append(str(err.value))
        seen.append(repr(err.value))
    with LocalTogether(speed=200, rejected_keys=(CANARY,)) as strict:
        monkeypatch.setenv("TOGETHER_BASE_URL", strict.base_url)
        with pytest.raises(AuthenticationFailed) as denied:
            launch_dpo(dpo_file, model=MODEL, progress=False)
        seen += [str(denied.value), repr(denied.value)]
        with pytest.raises(LaunchError) as not_found:
            Job("ft-does-not-exist").status()
        seen.append(str(not_found.value))
    out = capsys.readouterr()
    seen += [out.out, out.err, caplog.text]
    seen += [r.getMessage() for r in caplog.records]
    assert caplog.records, "debug logging was captured"
    for text in seen:
        assert CANARY not in text
    stored = everything_under(prefnb_home)
    assert stored, "the ledger and exports exist"
    assert CANARY.encode() not in stored
