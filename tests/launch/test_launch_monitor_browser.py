"""The JobMonitor front end in real Chromium: cards, confirm-before-cancel, hostile server text
shown as text, and a cleanup that removes every listener."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from launch_support import MODEL, ROOT

from prefnb.launch import Job, JobMonitor, launch_dpo
from prefnb.testing import LocalTogether

pytestmark = pytest.mark.browser
BUNDLE = ROOT / "prefnb" / "static" / "monitor.js"

HARNESS = """
async ([src, state]) => {
  const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
  const widget = (await import(url)).default;
  const handlers = {};
  const model = {
    state, sent: [], handlers,
    get(k) { return this.state[k]; },
    set(k, v) { this.state[k] = v; (handlers["change:" + k] || []).forEach((f) => f()); },
    on(e, f) { (handlers[e] ??= []).push(f); },
    off(e, f) { handlers[e] = (handlers[e] || []).filter((g) => g !== f); },
    send(m) { this.sent.push(m); },
  };
  const el = document.createElement("div");
  document.body.append(el);
  window.__model = model;
  window.__cleanup = widget.render({ model, el });
}
"""


def test_monitor_front_end_confirms_cancel_and_shows_server_text_as_text(
    page: Any, dpo_file: Path
) -> None:
    if not BUNDLE.exists():
        pytest.fail("prefnb/static/monitor.js is missing: run `npm --prefix js run build`")
    with LocalTogether(speed=0.5) as api:
        client = api.client()
        job = launch_dpo(dpo_file, model=MODEL, client=client, progress=False)
        monitor = JobMonitor(job, start=False)
        monitor.poll_once()
        state = monitor.get_state()
        hostile = dict(state["rows"][0])
        hostile.update(
            id="ft-hostile",
            events=['<img src=x onerror="window.__pwned=1">', "<script>window.__pwned=2</script>"],
            wandb_url="javascript:window.__pwned=3",
            status="running",
            steps_done=3,
            total_steps=10,
            eta_seconds=75,
        )
        state = {**state, "rows": [*state["rows"], hostile]}
        page.set_content("<!doctype html><html><body></body></html>")
        page.evaluate(HARNESS, [BUNDLE.read_text(), json.loads(json.dumps(state))])

        cards = page.locator(".prefnb-monitor__card")
        assert cards.count() == 2
        evil = page.locator('.prefnb-monitor__card[data-job="ft-hostile"]')
        assert "3/10 steps" in evil.inner_text()
        assert "ETA 1:15" in evil.inner_text()
        assert '<img src=x onerror="window.__pwned=1">' in evil.inner_text()
        assert page.locator(".prefnb-monitor img, .prefnb-monitor script").count() == 0
        assert evil.locator("a").count() == 0  # a javascript: URL never becomes a link
        assert page.evaluate("window.__pwned") is None

        card = page.locator(f'.prefnb-monitor__card[data-job="{job.id}"]')
        card.locator(".prefnb-monitor__cancel").click()
        card.locator(".prefnb-monitor__no").click()  # changed my mind
        assert page.evaluate("window.__model.sent") == []
        card.locator(".prefnb-monitor__cancel").click()
        assert "Cancel this job?" in card.inner_text()
        card.locator(".prefnb-monitor__yes").click()
        [request] = page.evaluate("window.__model.sent")
        assert request == {"type": "cancel", "id": job.id}

        # The kernel side handles exactly that message: the job really gets cancelled.
        replies: list[Any] = []
        monitor.send = replies.append  # type: ignore[method-assign]
        monitor._on_msg(monitor, request, [])
        assert replies[0]["type"] == "cancel_result"
        assert replies[0]["ok"] is True
        deadline = time.monotonic() + 30
        while Job(job.id, client).status() != "cancelled" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert Job(job.id, client).status() == "cancelled"
        monitor.stop()

        # The reply and a state change re-render the card.
        page.evaluate(
            "([r, rows]) => { for (const f of window.__model.handlers['msg:custom']) f(r);"
            " window.__model.set('rows', rows); }",
            [replies[0], [{**hostile, "id": job.id, "status": "cancelled"}]],
        )
        assert "cancel requested" in card.inner_text()
        assert card.locator(".prefnb-monitor__cancel").count() == 0

        page.evaluate("window.__cleanup()")
        left = page.evaluate(
            "Object.values(window.__model.handlers).reduce((n, a) => n + a.length, 0)"
        )
        assert left == 0
        assert page.locator(".prefnb-monitor").count() == 0


def test_sweep_cards_name_what_differs_and_show_the_final_event(page: Any, dpo_file: Path) -> None:
    from prefnb.launch import sweep

    with LocalTogether(speed=100) as api:
        jobs = sweep(dpo_file, model=MODEL, dpo_beta=[0.05, 0.3], client=api.client())
        monitor = JobMonitor(jobs, interval=0.05, max_interval=0.2)
        deadline = time.monotonic() + 60
        while monitor.thread is not None and monitor.thread.is_alive():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        state = monitor.get_state()
    assert [r["params"] for r in state["rows"]] == [["dpo_beta=0.05"], ["dpo_beta=0.3"]]
    for row in state["rows"]:
        assert row["status"] == "completed"
        assert row["final"] == "Job finished (simulated)"
        assert row["events"][-1] == row["final"]
    page.set_content("<!doctype html><html><body></body></html>")
    page.evaluate(HARNESS, [BUNDLE.read_text(), json.loads(json.dumps(state))])
    for job, beta in zip(jobs, ["0.05", "0.3"], strict=True):
        card = page.locator(f'.prefnb-monitor__card[data-job="{job.id}"]')
        assert card.locator(".prefnb-monitor__params").inner_text() == f"dpo_beta={beta}"
        assert card.locator(".prefnb-monitor__final").inner_text() == "Job finished (simulated)"
        # The final event is shown once, on its own line, not also in the list above it.
        assert "Job finished" not in card.locator(".prefnb-monitor__events").inner_text()
    page.set_viewport_size({"width": 1000, "height": 500})
    if shot := os.environ.get("PREFNB_SHOTS"):
        page.screenshot(path=str(Path(shot) / "monitor_sweep.png"))
