"""JobMonitor: background polling that never blocks, backs off, stops at terminal status."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

from launch_support import MODEL

from prefnb.launch import Job, JobMonitor, launch_dpo
from prefnb.testing import LocalTogether


def test_monitor_polls_in_the_background_and_stops_when_jobs_finish(dpo_file: Path) -> None:
    with LocalTogether(speed=15) as api:
        job = launch_dpo(dpo_file, model=MODEL, client=api.client(), progress=False)
        seen: list[dict[str, Any]] = []
        threads: set[str] = set()
        t0 = time.monotonic()
        monitor = JobMonitor(job, interval=0.05, max_interval=0.2, start=False)
        monitor.observe(
            lambda ch: (seen.extend(ch["new"]), threads.add(threading.current_thread().name)),
            "rows",
        )
        monitor.start()
        assert time.monotonic() - t0 < 0.5  # constructing and starting does not wait on the job
        assert monitor.polling
        # The caller's thread is free while the monitor polls.
        ticks = 0
        while monitor.thread is not None and monitor.thread.is_alive() and ticks < 400:
            time.sleep(0.05)
            ticks += 1
        assert monitor.thread is not None
        assert not monitor.thread.is_alive()
        assert ticks > 3
        state = monitor.get_state()
        assert state["polling"] is False
        [row] = state["rows"]
        assert row["status"] == "completed"
        assert row["steps_done"] == row["total_steps"]
        assert row["total_steps"] > 0
        assert row["events"]
        assert all(isinstance(e, str) for e in row["events"])
        assert threads == {"prefnb-job-monitor"}
        running = [r for r in seen if r["status"] == "running"]
        assert running, "a running state was shown"
        assert any(r["eta_seconds"] is not None for r in running)
        rounds = monitor.rounds
        time.sleep(0.3)
        assert monitor.rounds == rounds  # no polling after the terminal status


def test_monitor_backs_off_while_nothing_changes(dpo_file: Path) -> None:
    with LocalTogether(speed=1) as api:  # the job sits pending/queued for several seconds
        job = launch_dpo(dpo_file, model=MODEL, client=api.client(), progress=False)
        monitor = JobMonitor([job], interval=0.02, max_interval=0.1)
        time.sleep(1.0)
        monitor.stop()
        assert monitor.thread is not None
        assert not monitor.thread.is_alive()
        gaps = monitor.intervals
        assert max(gaps) == 0.1  # grew to the cap...
        assert min(gaps) < 0.05  # ...from the starting interval
        growing = [b > a for a, b in itertools.pairwise(gaps)]
        assert sum(growing) >= 3
        assert len(gaps) < 1.0 / 0.02  # fewer polls than a fixed interval would make


def test_cancel_from_the_monitor_ends_the_job_cancelled(dpo_file: Path) -> None:
    with LocalTogether(speed=1) as api:
        client = api.client()
        job = launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
        other = launch_dpo(dpo_file, model=MODEL, dpo_beta=0.3, client=client, progress=False)
        monitor = JobMonitor((job, [other]), interval=0.05, max_interval=0.1)
        result = monitor.cancel(job.id)
        assert result["ok"] is True
        assert api.requests_to(f"POST /v1/fine-tunes/{job.id}/cancel")
        deadline = time.monotonic() + 20
        while Job(job.id, client).status() != "cancelled" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert Job(job.id, client).status() == "cancelled"
        assert not api.requests_to(f"POST /v1/fine-tunes/{other.id}/cancel")
        unknown = monitor.cancel("ft-unknown")
        assert unknown["ok"] is False
        monitor.stop()


def test_monitor_shows_api_failures_and_keeps_polling(dpo_file: Path) -> None:
    with LocalTogether(speed=200) as api:
        client = api.client(max_retries=0)
        job = launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
        api.inject("GET /v1/fine-tunes/ft-*", status=503, times=2)
        monitor = JobMonitor(job, interval=0.05, start=False)
        monitor.poll_once()
        assert "HTTP 503" in (monitor.rows[0]["error"] or "")
        monitor.start()
        assert monitor.thread is not None
        monitor.thread.join(10)
        assert monitor.rows[0]["status"] == "completed"
        assert monitor.rows[0]["error"] is None
