"""Deleting a job from a notebook in a real JupyterLab: nothing happens until Delete is clicked."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest
from lab_support import kernel_eval, kernel_id, lab_notebook, run_all, wait_until, write_notebook
from launch_support import MODEL, write_dpo

pytestmark = [pytest.mark.jupyterlab, pytest.mark.browser, pytest.mark.slow]

CELL = f"""\
import os, prefnb
os.environ["PREFNB_HOME"] = os.path.abspath("confirm-home")
from prefnb.testing import LocalTogether
api = LocalTogether(speed=200).start()
job = prefnb.launch_dpo("confirm_train.jsonl", model={MODEL!r}, client=api.client(),
                        wait=True, progress=False)
job.confirm_delete()"""


def test_delete_job_asks_in_jupyterlab_and_deletes_on_click(
    jupyterlab: SimpleNamespace, browser: Any
) -> None:
    name = "confirm_e2e.ipynb"
    write_dpo(jupyterlab.root / "confirm_train.jsonl", 8, tag="confirm")
    write_notebook(jupyterlab.root / name, [CELL])
    with lab_notebook(jupyterlab, browser, name, viewport=(1100, 700)) as page:
        run_all(page)
        button = page.get_by_role("button", name="Delete job")
        button.wait_for()
        kid = kernel_id(jupyterlab, name)
        assert kernel_eval(jupyterlab, kid, "job.id in api.state.jobs") == "True"
        text = page.locator(".jp-OutputArea-output").last.inner_text()
        assert "from LocalTogether (simulated)? Its checkpoints and model go too" in text
        shots = os.environ.get("PREFNB_SCREENSHOTS")
        if shots:
            page.screenshot(path=os.path.join(shots, "confirm_delete_before.png"))
        button.click()
        wait_until(
            lambda: kernel_eval(jupyterlab, kid, "job.id in api.state.jobs") == "False",
            "the click did not delete the job",
        )
        page.get_by_text("deleted (simulated)").wait_for()
        assert page.get_by_role("button", name="Delete job").is_disabled()
        if shots:
            page.screenshot(path=os.path.join(shots, "confirm_delete_after.png"))
        kernel_eval(jupyterlab, kid, "api.stop()")
        assert not page.page_errors, page.page_errors
