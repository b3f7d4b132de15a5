"""Progress and ETA computed as together 3.1.1's CLI computes them."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from together.lib.cli.api._utils import _human_readable_time, generate_progress_text

from prefnb.launch import Job, launch_dpo
from prefnb.launch.job import cli_eta, cli_progress, step_text
from prefnb.testing import LocalTogether

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"


def test_eta_matches_the_clis_text_on_a_running_job(dpo_file: Path) -> None:
    with LocalTogether(speed=4) as api:
        client = api.client()
        job = launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
        deadline = time.monotonic() + 30
        while job.status() != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        api.hold()
        sdk_job = client.fine_tuning.retrieve(job.id)
        info = sdk_job.to_dict()
        now = datetime.now().astimezone()
        cli = generate_progress_text(sdk_job, now)
        ours = cli_eta(info, now.timestamp())
        api.release()
    assert info["status"] == "running"
    assert ours is not None
    assert cli == f"{_human_readable_time(ours)} left"
    fraction, left = cli_progress(info, now.timestamp()) or (None, None)
    assert fraction is not None
    assert 0 < fraction < 1
    assert left == ours


def test_steps_fall_back_to_events_then_say_step_n_a() -> None:
    client = object()
    bare = Job("ft-1", client, info={"status": "running", "events": [{"message": "started"}]})
    assert step_text(bare.snapshot()) == "step n/a"
    evented = Job("ft-1", client, info={"status": "running", "events": [
        {"message": "ckpt", "step": 4, "total_steps": 10}, {"message": "later"}]})  # fmt: skip
    snap = evented.snapshot()
    assert (snap["steps_done"], snap["total_steps"]) == (4, 10)
    assert step_text(snap) == "step 4/10"
    # The CLI's rule: seconds_remaining counts from started_at.
    info = {"started_at": "2030-01-01T00:00:00Z", "progress": {
        "estimate_available": True, "seconds_remaining": 100}}  # fmt: skip
    start = datetime.fromisoformat("2030-01-01T00:00:00+00:00").timestamp()
    assert cli_eta(info, start + 30) == 70
    assert cli_eta(info, start + 130) is None  # overrun: the CLI shows N/A
