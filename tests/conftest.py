"""Shared fixtures: a headless Debian Chromium and a real JupyterLab server.

Browser fixtures never download a browser: they drive /usr/bin/chromium through Playwright's
``executable_path``. Every server and browser keeps its files in pytest's temp dirs, never $HOME.
"""

from __future__ import annotations

import json
import os
import shutil
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
from lab_support import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROME_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def prefnb_home_for_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Billable creates write intents to the job ledger in ``$PREFNB_HOME``: never the real
    ``~/.prefnb`` from a test (tests that check the ledger set their own per test)."""
    old = os.environ.get("PREFNB_HOME")
    os.environ["PREFNB_HOME"] = str(tmp_path_factory.mktemp("prefnb-home"))
    yield
    if old is None:
        os.environ.pop("PREFNB_HOME", None)
    else:
        os.environ["PREFNB_HOME"] = old


@pytest.fixture
def prefnb_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own ``$PREFNB_HOME`` (job ledger, export cache), with no real Together key
    or URL leaking in from the environment. Folders that launch jobs use it for every test."""
    home = tmp_path / "prefnb-home"
    monkeypatch.setenv("PREFNB_HOME", str(home))
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    monkeypatch.delenv("TOGETHER_BASE_URL", raising=False)
    return home


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A session-wide headless Chromium (Playwright ``Browser``)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is required for browser tests: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("chromium-home")
    env = dict(
        os.environ,
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
    )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS, env=env)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page per test; page errors fail the test."""
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.page_errors = errors
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A real JupyterLab server on a free port, isolated from $HOME; shut down at the end.

    Yields ``url``, ``token``, ``root`` (the server's root dir, where tests put notebooks)
    and ``runtime_dir`` (kernel connection files, for attaching a kernel client).
    """
    base = tmp_path_factory.mktemp("jlab")
    root = base / "root"
    root.mkdir()
    dirs = {
        k: base / k
        for k in ("config", "runtime", "data", "settings", "workspaces", "ipython", "app")
    }
    for d in dirs.values():
        d.mkdir()
    (dirs["app"] / "overrides.json").write_text(
        json.dumps(
            {
                "@jupyterlab/apputils-extension:notification": {
                    "fetchNews": "false",
                    "checkForUpdates": False,
                },
                "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
                # Comms over per-target kernel subshells (Lab 4.4+ default) race with
                # ipykernel 7 on a loaded machine: a widget message can reach the kernel before
                # its subshell exists and is dropped ("Unknown subshell_id"; cf.
                # jupyterlab/jupyterlab#17633), losing e.g. a cancel click in the monitor test.
                "@jupyterlab/apputils-extension:kernels-settings": {
                    "commsOverSubshells": "disabled"
                },
            }
        )
    )
    (dirs["config"] / "jupyter_server_config.py").write_text(
        "c.LabApp.news_url = None\n"
        "c.LabApp.check_for_updates_class = "
        "'jupyterlab.handlers.announcements.NeverCheckForUpdate'\n"
        # Notebook 7 (if installed) is an extension of this same server, served at
        # /notebooks/<path>: give it the same settings overrides and a window.jupyterapp.
        f"c.JupyterNotebookApp.app_settings_dir = {str(dirs['app'])!r}\n"
        "c.JupyterNotebookApp.expose_app_in_browser = True\n"
    )
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
        IPYTHONDIR=str(dirs["ipython"]),
        JUPYTER_PLATFORM_DIRS="1",
        HOME=str(base),
    )
    token = "prefnb-test-token"
    port = free_port()
    log = (base / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--port-retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.app_settings_dir={dirs['app']}",
        ],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                "JupyterLab exited early:\n" + (base / "server.log").read_text(errors="replace")
            )
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("JupyterLab did not answer within 90 s")
        time.sleep(0.2)
    yield SimpleNamespace(
        url=url, token=token, root=root, runtime_dir=dirs["runtime"], env=env, pid=proc.pid
    )
    try:
        req = urllib.request.Request(f"{url}/api/shutdown?token={token}", method="POST", data=b"")
        urllib.request.urlopen(req, timeout=10).close()
        proc.wait(15)
    except Exception:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    log.close()


# A throwaway PostgreSQL cluster for the team label-store tests (pg_cluster, pg_url, ...).
from pg_fixtures import any_store_target, own_cluster, pg_cluster, pg_url  # noqa: E402, F401
