"""JobMonitor in a real JupyterLab: updates made on the polling thread reach the page through
the real kernel comm, the kernel answers while the monitor polls, and the key stays out."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
from lab_support import kernel_eval, kernel_id, lab_notebook, run_all, wait_until, write_notebook
from launch_support import MODEL, write_dpo

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
# Hold both jobs in flight until the test has cancelled one: on a loaded machine speed=3
# alone could finish them before the page even shows the cancel button.
api.hold()
monitor = prefnb.JobMonitor([job, doomed], interval=0.3, max_interval=1.0)
monitor"""


def test_monitor_updates_live_in_jupyterlab_from_its_thread(
    jupyterlab: SimpleNamespace, browser: Any
) -> None:
    name = "monitor_e2e.ipynb"
    write_dpo(jupyterlab.root / "monitor_train.jsonl", 8, tag="lab")
    # The key comes from a file, as from a secret store: it is in no cell and no output.
    (jupyterlab.root / "monitor_key.txt").write_text(CANARY)
    write_notebook(jupyterlab.root / name, [CELL])
    with lab_notebook(jupyterlab, browser, name, viewport=(1300, 900)) as page:
        run_all(page)
        card = page.locator(".prefnb-monitor__card").first
        card.wait_for()
        kid = kernel_id(jupyterlab, name)
        # This also waits for the cell to finish: the page can show the widget well before.
        t0 = time.monotonic()
        assert kernel_eval(jupyterlab, kid, "monitor.polling") == "True"
        assert time.monotonic() - t0 < 5  # the kernel answers while the monitor polls
        # Cancel the second job from the page: confirm, then the kernel cancels it for real.
        doomed = page.locator(".prefnb-monitor__card").nth(1)
        doomed.locator(".prefnb-monitor__cancel").click()
        doomed.locator(".prefnb-monitor__yes").click()
        try:
            page.wait_for_function(
                "() => document.querySelectorAll('.prefnb-monitor__card')[1]?.dataset.status"
                " === 'cancel_requested'"
            )
        except Exception as exc:
            seen = kernel_eval(
                jupyterlab, kid,
                "([r.method + ' ' + r.path for r in api.requests if 'cancel' in r.path],"
                " [r['status'] for r in monitor.rows], monitor.rounds)",
            )  # fmt: skip
            shown = page.locator(".prefnb-monitor").inner_text()
            raise AssertionError(
                f"the cancel did not reach the job; page: {shown!r};"
                f" kernel (cancel requests, statuses, polls): {seen}"
            ) from exc
        kernel_eval(jupyterlab, kid, "api.release()")
        page.wait_for_function(
            "() => document.querySelectorAll('.prefnb-monitor__card')[1]?.dataset.status"
            " === 'cancelled'"
        )
        assert "cancel requested" in doomed.inner_text()
        # Steps advance on the page while the cell has long finished: pushed from the thread.
        page.wait_for_function(
            "() => /[1-9]\\d*\\/\\d+ steps/.test("
            "document.querySelector('.prefnb-monitor__steps')?.textContent ?? '')"
        )
        page.wait_for_function(
            "() => document.querySelector('.prefnb-monitor__card')?.dataset.status === 'completed'",
            timeout=120_000,
        )
        assert "completed" in card.inner_text()
        wait_until(
            lambda: kernel_eval(jupyterlab, kid, "monitor.polling") == "False",
            "polling did not stop at the terminal status",
        )
        assert kernel_eval(jupyterlab, kid, "doomed.status()") == "'cancelled'"
        assert kernel_eval(jupyterlab, kid, "job.status()") == "'completed'"
        state = kernel_eval(jupyterlab, kid, "__import__('json').dumps(monitor.get_state())")
        assert CANARY not in state
        assert CANARY not in page.content()
        page.keyboard.press("Control+s")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
        saved = (jupyterlab.root / name).read_text()
        assert "widget-view" in saved  # saved after the run: the outputs are in the file
        assert CANARY not in saved
        assert not page.page_errors, page.page_errors
