"""End to end in a real JupyterLab: label 10 pairs by keyboard, SIGKILL the kernel, resume.

The ground truth is read twice: in the notebook's kernel (a second kernel client attached
to its connection file) and in the SQLite file on disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from types import SimpleNamespace
from typing import Any

import pytest
from lab_support import kernel_eval, kernel_id, lab_notebook, run_all, wait_until, write_notebook

from prefnb.labels import LabelStore

pytestmark = [pytest.mark.jupyterlab, pytest.mark.browser, pytest.mark.slow]

CELL = """\
import prefnb
lab = prefnb.Labeler(prefnb.load_sample(), store="labels.sqlite", annotator="alice",
                     seed=0, audit_rate=0.0)
lab"""
KEYS = ["1", "2", "t", "b", "s", "ArrowLeft", "ArrowRight", "1", " ", "2"]


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
    write_notebook(jupyterlab.root / name, [CELL])
    with lab_notebook(jupyterlab, browser, name, viewport=(1400, 1000), timeout=60_000) as page:
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
        wait_until(
            lambda: kernel_eval(jupyterlab, kid, "len(lab.labels)") == "10",
            "kernel never saw 10 labels",
        )
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

        def restarted() -> bool:
            try:
                return int(kernel_eval(jupyterlab, kid, "__import__('os').getpid()")) != pid
            except Exception:
                return False

        # The server restarts a dead kernel by itself (same id); wait until it answers again.
        wait_until(restarted, "kernel did not come back", timeout=120, every=0.5)
        dialog = page.locator(".jp-Dialog .jp-mod-accept")
        with contextlib.suppress(Exception):
            dialog.click(timeout=5_000)  # "kernel restarting" notice, if shown
        run_all(page)
        wait_pos(page, 10)  # resumes at the 11th pair
        assert page.locator(".pl-progress").inner_text().startswith("10 / ")
        assert kernel_eval(jupyterlab, kid, "len(lab.labels)") == "10"
        assert len(LabelStore(jupyterlab.root / "labels.sqlite").current(annotator="alice")) == 10
        assert not page.page_errors, page.page_errors
