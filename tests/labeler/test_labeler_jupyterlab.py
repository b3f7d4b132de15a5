"""End to end in a real JupyterLab: label 10 pairs by keyboard, SIGKILL the kernel, resume.

The ground truth is read twice: in the notebook's kernel (a second kernel client attached
to its connection file) and in the SQLite file on disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from prefnb.labels import LabelStore

pytestmark = [pytest.mark.jupyterlab, pytest.mark.browser, pytest.mark.slow]

CELL = """\
import prefnb
lab = prefnb.Labeler(prefnb.load_sample(), store="labels.sqlite", annotator="alice",
                     seed=0, audit_rate=0.0)
lab"""
KEYS = ["1", "2", "t", "b", "s", "ArrowLeft", "ArrowRight", "1", " ", "2"]


def write_notebook(path: Path) -> None:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "labeler",
                "metadata": {},
                "outputs": [],
                "source": CELL,
            }
        ],
        "metadata": {
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
            }
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))


def api(lab: SimpleNamespace, path: str) -> Any:
    with urllib.request.urlopen(f"{lab.url}{path}?token={lab.token}", timeout=10) as r:
        return json.load(r)


def kernel_id(lab: SimpleNamespace, name: str) -> str:
    for s in api(lab, "/api/sessions"):
        if s["path"].endswith(name):
            return str(s["kernel"]["id"])
    raise AssertionError(f"no session for {name}")


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


def run_all(page: Any) -> None:
    page.evaluate(
        """async () => {
            const app = window.jupyterapp; await app.restored; let nb;
            while (!(nb = app.shell.currentWidget) || !nb.sessionContext)
                await new Promise(r => setTimeout(r, 50));
            await nb.context.ready; await nb.sessionContext.ready;
            await app.commands.execute('notebook:run-all-cells');
        }"""
    )


def wait_pos(page: Any, pos: int) -> None:
    page.wait_for_function(
        "p => { const r = document.querySelector('.prefnb-labeler');"
        " return r && r.dataset.pos === String(p); }",
        arg=pos,
        timeout=60_000,
    )


def test_label_ten_by_keyboard_survive_sigkill_and_resume(
    jupyterlab: SimpleNamespace, browser: Any
) -> None:
    name = "label_e2e.ipynb"
    write_notebook(jupyterlab.root / name)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{jupyterlab.url}/lab/tree/{name}?reset&token={jupyterlab.token}")
        page.wait_for_function("() => !!window.jupyterapp")
        run_all(page)
        wait_pos(page, 0)
        root = page.locator(".prefnb-labeler")
        root.focus()
        for i, key in enumerate(KEYS):
            wait_pos(page, i)
            page.keyboard.press(key)
        wait_pos(page, 10)
        page.wait_for_function(
            "() => document.querySelector('.pl-saved').dataset.state === 'saved'"
        )
        # JupyterLab's command-mode shortcuts (1 = heading, b = insert cell, …) did not fire.
        cells = page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.content.widgets.map(c => c.model.type)"
        )
        assert cells == ["code"]

        kid = kernel_id(jupyterlab, name)
        deadline = time.monotonic() + 15
        while kernel_eval(jupyterlab, kid, "len(lab.labels)") != "10":
            assert time.monotonic() < deadline, "kernel never saw 10 labels"
            time.sleep(0.2)
        store = LabelStore(jupyterlab.root / "labels.sqlite")
        current = store.current(annotator="alice")
        assert len(current) == 10
        sample_ids = json.loads(
            kernel_eval(
                jupyterlab, kid, "__import__('json').dumps(list(lab._df.pair_id[:10]))"
            ).strip("'")
        )
        assert set(current["pair_id"]) == set(sample_ids)

        pid = int(kernel_eval(jupyterlab, kid, "__import__('os').getpid()"))
        os.kill(pid, signal.SIGKILL)
        # The server restarts a dead kernel by itself (same id); wait until it answers again.
        deadline = time.monotonic() + 60
        while True:
            try:
                new_pid = int(kernel_eval(jupyterlab, kid, "__import__('os').getpid()"))
                if new_pid != pid:
                    break
            except Exception:
                pass
            assert time.monotonic() < deadline, "kernel did not come back"
            time.sleep(0.5)
        dialog = page.locator(".jp-Dialog .jp-mod-accept")
        with contextlib.suppress(Exception):
            dialog.click(timeout=5_000)  # "kernel restarting" notice, if shown
        run_all(page)
        wait_pos(page, 10)  # resumes at the 11th pair
        assert page.locator(".pl-progress").inner_text().startswith("10 / ")
        assert kernel_eval(jupyterlab, kid, "len(lab.labels)") == "10"
        assert len(LabelStore(jupyterlab.root / "labels.sqlite").current(annotator="alice")) == 10
        assert not errors, errors
    finally:
        try:
            for s in api(jupyterlab, "/api/sessions"):
                if s["path"].endswith(name):
                    req = urllib.request.Request(
                        f"{jupyterlab.url}/api/sessions/{s['id']}?token={jupyterlab.token}",
                        method="DELETE",
                    )
                    urllib.request.urlopen(req, timeout=10).close()
        finally:
            context.close()
