"""End to end in marimo: the Labeler as an anywidget in a real marimo server, labeled by keyboard.

marimo hosts anywidgets itself (no Jupyter kernel, no ipywidgets manager): its front end
implements the model (``get``/``on``/``off``/``send``, ``msg:custom`` both ways) and calls the
cleanup ``render`` returns when a view unmounts. Two shapes are tested: ``marimo run`` (an app)
showing ``mo.ui.anywidget(lab)``, and ``marimo edit`` (a notebook, with its own command-mode
keys) showing the widget directly. The ground truth is the SQLite file the kernel wrote.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from lab_support import free_port, wait_until

from prefnb.labels import LabelStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KEYS = ["1", "2", "t", "b", "s"]
APP = """\
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    import prefnb

    lab = prefnb.Labeler(
        prefnb.load_sample(), store={store!r}, annotator="mara", seed=0, audit_rate=0.0
    )
    {shown}
    return


if __name__ == "__main__":
    app.run()
"""


@pytest.fixture
def marimo_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SimpleNamespace]:
    """A marimo server (``request.param``: ``"run"`` or ``"edit"``) on a free port.

    Everything it writes stays in ``tmp_path`` (HOME and XDG dirs point there); on teardown
    its whole process group is stopped, killed if it does not stop within 10 s.
    """
    mode = request.param
    home = tmp_path / "home"
    home.mkdir()
    store = tmp_path / "labels.sqlite"
    shown = "mo.ui.anywidget(lab)" if mode == "run" else "lab"
    app = tmp_path / "labeler_app.py"
    app.write_text(APP.format(store=str(store), shown=shown))
    env = dict(
        os.environ,
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        MARIMO_SKIP_UPDATE_CHECK="1",  # no call to PyPI from the server
    )
    port = free_port()
    cmd = [sys.executable, "-m", "marimo", mode, str(app), "--headless",
           "--host=127.0.0.1", f"--port={port}", "--no-token"]  # fmt: skip
    log_path = tmp_path / "marimo.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def server_log() -> str:
        return log_path.read_text(errors="replace")

    def stop() -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"marimo {mode} exited with {proc.returncode}:\n{server_log()}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"marimo {mode} did not answer {url}/health in 60 s:\n{server_log()}")
            time.sleep(0.2)
        yield SimpleNamespace(url=url, mode=mode, store=store, log=server_log, stop=stop)
    finally:
        stop()


def wait_pos(page: Any, pos: int) -> None:
    root = page.locator(".prefnb-labeler")
    page.wait_for_function(
        "([r, p]) => r.dataset.pos === String(p)", arg=[root.element_handle(), pos]
    )


def run_stale_cells(page: Any, root: Any) -> None:
    """Run an edited notebook's cells (they open stale) with marimo's own run button.

    A click before the page's kernel connection is up is lost, and nothing on the page says
    when it is, so click again until the Labeler shows (running it twice is harmless: the
    second Labeler resumes from the same store).
    """
    button = page.locator("[data-testid=chrome-controls-bottom-right] [data-testid=run-button]")
    deadline = time.monotonic() + 45
    while True:
        button.click()
        try:
            root.wait_for(timeout=5_000)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise


@pytest.mark.parametrize("marimo_app", ["run", "edit"], indirect=True)
def test_marimo_label_by_keyboard_and_save(marimo_app: SimpleNamespace, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(marimo_app.url)
        root = page.locator(".prefnb-labeler")
        try:
            if marimo_app.mode == "edit":
                run_stale_cells(page, root)
            root.wait_for()
        except Exception as exc:
            raise AssertionError(
                f"the Labeler never rendered; server log:\n{marimo_app.log()}"
            ) from exc
        wait_pos(page, 0)
        root.focus()
        for i, key in enumerate(KEYS):
            wait_pos(page, i)
            page.keyboard.press(key)
        wait_pos(page, len(KEYS))
        page.locator(".pl-saved[data-state=saved]").wait_for()
        if marimo_app.mode == "edit":
            # marimo's command-mode keys (b = new cell below, …) did not fire.
            assert page.locator("[data-testid=cell-editor]").count() == 1
        wait_until(
            lambda: (
                marimo_app.store.exists()
                and len(LabelStore(marimo_app.store).current(annotator="mara")) == len(KEYS)
            ),
            f"{marimo_app.store} never held {len(KEYS)} labels by mara",
        )
        current = LabelStore(marimo_app.store).current(annotator="mara")
        assert current["pair_id"].nunique() == len(KEYS)
        # 1 and 2 store "a" or "b" by the pair's shown order; t, b and s are fixed.
        assert {"tie", "both_bad", "skip"} <= set(current["label"]) <= {
            "a", "b", "tie", "both_bad", "skip",
        }, list(current["label"])  # fmt: skip
        if marimo_app.mode == "edit":
            # Re-running the cell unmounts the old view (marimo calls render's cleanup) and
            # shows a new Labeler on the same store, which resumes after the saved labels.
            old = root.element_handle()
            page.locator(".cm-content").first.click()
            page.keyboard.press("Control+Enter")
            page.wait_for_function("el => !el.isConnected", arg=old)
            wait_pos(page, len(KEYS))
            assert root.count() == 1
            assert page.locator(".pl-progress").inner_text().startswith(f"{len(KEYS)} / ")
        assert not errors, errors
        if marimo_app.mode == "run":
            # With the server gone marimo's model.send rejects: the label is "not saved" (with
            # Retry) at once, well before the 10 s reply timeout, and nothing goes unhandled.
            marimo_app.stop()
            page.keyboard.press("1")
            page.locator(".pl-saved[data-state=error]").wait_for(timeout=5_000)
            assert page.locator("button[data-action=retry]").is_visible()
            assert "Could not reach the kernel" in page.locator(".pl-status").inner_text()
            # marimo's own service worker fails to update once its server is gone.
            ours = [e for e in errors if "ServiceWorker" not in e]
            assert not ours, ours
    finally:
        context.close()
