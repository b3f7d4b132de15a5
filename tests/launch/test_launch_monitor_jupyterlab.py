"""JobMonitor in a real JupyterLab: updates made on the polling thread reach the page through
the real kernel comm, the kernel answers while the monitor polls, and the key stays out."""

from __future__ import annotations

import json
import time
import urllib.request
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import MODEL, write_dpo

pytestmark = [pytest.mark.jupyterlab, pytest.mark.browser, pytest.mark.slow]

CANARY = "tgp_v1_CANARY-lab-5d1e0b7a-never-print-me"
CELL = f"""\
import os, prefnb
os.environ["PREFNB_HOME"] = os.path.abspath("monitor-home")
from prefnb.testing import LocalTogether
api = LocalTogether(speed=3).start()
client = api.client(api_key=open("monitor_key.txt").read().strip())
job = prefnb.launch_dpo("monitor_train.jsonl", model={MODEL!r}, client=client, progress=False)
doomed = prefnb.launch_dpo("monitor_train.jsonl", model={MODEL!r}, dpo_beta=0.3, client=client,
                           progress=False)
monitor = prefnb.JobMonitor([job, doomed], interval=0.3, max_interval=1.0)
monitor"""


def lab_api(lab: SimpleNamespace, path: str) -> Any:
    with urllib.request.urlopen(f"{lab.url}{path}?token={lab.token}", timeout=10) as r:
        return json.load(r)


def kernel_eval(lab: SimpleNamespace, kid: str, expr: str) -> str:
    from jupyter_client import BlockingKernelClient

    kc = BlockingKernelClient(connection_file=str(lab.runtime_dir / f"kernel-{kid}.json"))
    kc.load_connection_file()
    kc.start_channels()
    try:
        reply = kc.execute(
            "", silent=True, store_history=False, user_expressions={"v": expr}, reply=True,
            timeout=30,
        )  # fmt: skip
        value = reply["content"]["user_expressions"]["v"]
        assert value["status"] == "ok", value
        return str(value["data"]["text/plain"])
    finally:
        kc.stop_channels()


def test_monitor_updates_live_in_jupyterlab_from_its_thread(
    jupyterlab: SimpleNamespace, browser: Any
) -> None:
    name = "monitor_e2e.ipynb"
    write_dpo(jupyterlab.root / "monitor_train.jsonl", 8, tag="lab")
    # The key comes from a file, as from a secret store: it is in no cell and no output.
    (jupyterlab.root / "monitor_key.txt").write_text(CANARY)
    nb = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "monitor",
                   "metadata": {}, "outputs": [], "source": CELL}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip
    (jupyterlab.root / name).write_text(json.dumps(nb))
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{jupyterlab.url}/lab/tree/{name}?reset&token={jupyterlab.token}")
        page.wait_for_function("() => !!window.jupyterapp")
        page.evaluate(
            """async () => {
                const app = window.jupyterapp; await app.restored; let nb;
                while (!(nb = app.shell.currentWidget) || !nb.sessionContext)
                    await new Promise(r => setTimeout(r, 50));
                await nb.context.ready; await nb.sessionContext.ready;
                await app.commands.execute('notebook:run-all-cells');
            }"""
        )
        card = page.locator(".prefnb-monitor__card").first
        card.wait_for()
        # Cancel the second job from the page: confirm, then the kernel cancels it for real.
        doomed = page.locator(".prefnb-monitor__card").nth(1)
        doomed.locator(".prefnb-monitor__cancel").click()
        doomed.locator(".prefnb-monitor__yes").click()
        page.wait_for_function(
            "() => document.querySelectorAll('.prefnb-monitor__card')[1]?.dataset.status"
            " === 'cancelled'",
            timeout=60_000,
        )
        assert "cancel requested" in doomed.inner_text()
        # Steps advance on the page while the cell has long finished: pushed from the thread.
        page.wait_for_function(
            "() => /[1-9]\\d*\\/\\d+ steps/.test("
            "document.querySelector('.prefnb-monitor__steps')?.textContent ?? '')",
            timeout=60_000,
        )
        kid = next(
            s["kernel"]["id"] for s in lab_api(jupyterlab, "/api/sessions")
            if s["path"].endswith(name)
        )  # fmt: skip
        t0 = time.monotonic()
        assert kernel_eval(jupyterlab, kid, "monitor.polling") == "True"
        assert time.monotonic() - t0 < 5  # the kernel answers while the monitor polls
        page.wait_for_function(
            "() => document.querySelector('.prefnb-monitor__card')?.dataset.status === 'completed'",
            timeout=90_000,
        )
        assert "completed" in card.inner_text()
        deadline = time.monotonic() + 10
        while kernel_eval(jupyterlab, kid, "monitor.polling") != "False":
            assert time.monotonic() < deadline, "polling did not stop at the terminal status"
            time.sleep(0.2)
        assert kernel_eval(jupyterlab, kid, "doomed.status()") == "'cancelled'"
        assert kernel_eval(jupyterlab, kid, "job.status()") == "'completed'"
        state = kernel_eval(jupyterlab, kid, "__import__('json').dumps(monitor.get_state())")
        assert CANARY not in state
        assert CANARY not in page.content()
        page.keyboard.press("Control+s")
        time.sleep(1)
        assert CANARY not in (jupyterlab.root / name).read_text()
        assert not errors, errors
    finally:
        try:
            for s in lab_api(jupyterlab, "/api/sessions"):
                if s["path"].endswith(name):
                    req = urllib.request.Request(
                        f"{jupyterlab.url}/api/sessions/{s['id']}?token={jupyterlab.token}",
                        method="DELETE",
                    )
                    urllib.request.urlopen(req, timeout=10).close()
        finally:
            context.close()
