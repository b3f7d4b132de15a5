"""Helpers for end-to-end tests in the real JupyterLab of the ``jupyterlab`` fixture.

Open a notebook in Lab (``?reset``: no workspace left over from another test), wait until its
session is ready, run its cells, evaluate expressions in its kernel through a second kernel
client, and delete its session afterwards so the next test starts with one kernel less.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# Resolves once the notebook that ?reset opened has a ready context and kernel session;
# ``run`` (the argument) then runs every cell, as the user's "Run All" would.
_READY = """async run => {
    const app = window.jupyterapp; await app.restored; let nb;
    while (!(nb = app.shell.currentWidget) || !nb.sessionContext)
        await new Promise(r => setTimeout(r, 50));
    await nb.context.ready; await nb.sessionContext.ready;
    if (run) await app.commands.execute('notebook:run-all-cells');
}"""


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_notebook(path: Path, cells: list[str]) -> None:
    """A Python 3 notebook at ``path`` with one code cell per source in ``cells``."""
    nb = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
             "outputs": [], "source": src}
            for i, src in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip
    path.write_text(json.dumps(nb))


def lab_api(lab: SimpleNamespace, path: str, method: str = "GET") -> Any:
    """The server's REST answer to ``method path`` (``None`` for an empty body)."""
    req = urllib.request.Request(f"{lab.url}{path}?token={lab.token}", method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read()
    return json.loads(body) if body else None


def kernel_id(lab: SimpleNamespace, name: str) -> str:
    """The id of the kernel of notebook ``name``'s session."""
    for s in lab_api(lab, "/api/sessions"):
        if s["path"].endswith(name):
            return str(s["kernel"]["id"])
    raise AssertionError(f"no session for {name}")


def kernel_eval(lab: SimpleNamespace, kid: str, expr: str) -> str:
    """``repr`` of ``expr`` evaluated in the notebook's own kernel (its namespace, its objects)."""
    from jupyter_client import BlockingKernelClient

    kc = BlockingKernelClient(connection_file=str(lab.runtime_dir / f"kernel-{kid}.json"))
    kc.load_connection_file()
    kc.start_channels()
    try:
        reply = kc.execute(
            "", silent=True, store_history=False, user_expressions={"v": expr}, reply=True,
            timeout=60,
        )  # fmt: skip
        value = reply["content"]["user_expressions"]["v"]
        assert value["status"] == "ok", value
        return str(value["data"]["text/plain"])
    finally:
        kc.stop_channels()


def wait_until(
    check: Callable[[], bool], message: str, *, timeout: float = 60, every: float = 0.2
) -> None:
    """Poll ``check`` until it holds; fail with ``message`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{message} (waited {timeout:g} s)"
        time.sleep(every)


def wait_ready(page: Any, *, run: bool) -> None:
    """Wait for the open notebook's kernel session; with ``run``, run all its cells."""
    page.evaluate(_READY, run)


def run_all(page: Any) -> None:
    wait_ready(page, run=True)


@contextmanager
def lab_notebook(
    lab: SimpleNamespace,
    browser: Any,
    name: str,
    *,
    viewport: tuple[int, int] = (1300, 1000),
    timeout: float = 90_000,
    ui: str = "lab",
) -> Iterator[Any]:
    """A page showing notebook ``name`` (already in ``lab.root``) in a fresh JupyterLab.

    ``ui="notebook"`` opens it in Notebook 7 (``/notebooks/<name>``) on the same server instead.

    Page errors collect in ``page.page_errors`` (the test asserts on them); on exit the
    notebook's session (and kernel) is deleted and the browser context closed.
    """
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(timeout)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.page_errors = errors
    try:
        if ui == "notebook":
            page.goto(f"{lab.url}/notebooks/{name}?token={lab.token}")
        else:
            page.goto(f"{lab.url}/lab/tree/{name}?reset&token={lab.token}")
        page.wait_for_function("() => !!window.jupyterapp")
        yield page
    finally:
        try:
            for s in lab_api(lab, "/api/sessions"):
                if s["path"].endswith(name):
                    lab_api(lab, f"/api/sessions/{s['id']}", method="DELETE")
        finally:
            context.close()
