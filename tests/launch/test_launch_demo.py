"""``prefnb demo`` serves JupyterLab on the notebooks against LocalTogether; Ctrl-C stops both."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from lab_support import free_port
from launch_support import ROOT

from prefnb.demo import SIM_KEY

pytestmark = pytest.mark.slow


def status_of(url: str, key: str = "") -> int | None:
    """The HTTP status of ``url``, or None when nothing answers."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2) as r:
            return int(r.status)
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


def test_demo_serves_lab_with_local_together_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    jdirs = {k: tmp_path / k for k in ("config", "runtime", "data", "home")}
    for d in jdirs.values():
        d.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGETHER_")}
    env.update(
        JUPYTER_CONFIG_DIR=str(jdirs["config"]),
        JUPYTER_RUNTIME_DIR=str(jdirs["runtime"]),
        JUPYTER_DATA_DIR=str(jdirs["data"]),
        HOME=str(jdirs["home"]),
        JUPYTER_TOKEN="demo-test-token",
    )
    work = tmp_path / "demo"
    log = (tmp_path / "demo.log").open("w+")
    err = (tmp_path / "demo.err").open("w+")
    # Started from the checkout with its .venv (as README does), so a package.json of the
    # checkout could reach JupyterLab's Node scripts in the venv.
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefnb", "demo", "--dir", str(work), "--no-browser",
         "--port", str(port)],
        env=env, stdout=log, stderr=err, cwd=ROOT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, Path(log.name).read_text() + Path(err.name).read_text()
            try:
                url = f"http://127.0.0.1:{port}/api/contents?token=demo-test-token"
                with urllib.request.urlopen(url, timeout=2) as r:
                    listing = r.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, Path(log.name).read_text()
                time.sleep(0.5)
        assert "02_export_and_launch.ipynb" in listing
        # Widget comms must not go over kernel subshells (they drop early messages).
        setting = "@jupyterlab/apputils-extension:kernels-settings"
        url = f"http://127.0.0.1:{port}/lab/api/settings/{setting}?token=demo-test-token"
        with urllib.request.urlopen(url, timeout=10) as r:
            schema = json.loads(r.read())["schema"]
        # Lab applies overrides.json as the schema default.
        assert schema["properties"]["commsOverSubshells"]["default"] == "disabled"
        # No "get notified about Jupyter news?" toast.
        setting = "@jupyterlab/apputils-extension:notification"
        url = f"http://127.0.0.1:{port}/lab/api/settings/{setting}?token=demo-test-token"
        with urllib.request.urlopen(url, timeout=10) as r:
            props = json.loads(r.read())["schema"]["properties"]
        assert props["fetchNews"]["default"] == "false"
        assert props["checkForUpdates"]["default"] is False
        # The page and its build check run JupyterLab's Node scripts too.
        for path in ("/lab", "/lab/api/build"):
            assert status_of(f"http://127.0.0.1:{port}{path}?token=demo-test-token") == 200
        assert (work / "data" / "sample_pairs.jsonl").is_file()
        text = Path(log.name).read_text()
        local = next(line for line in text.splitlines() if line.startswith("LocalTogether"))
        base_url = local.split(" at ")[1].split(",")[0]
        limits = f"{base_url}/v1/fine-tunes/models/limits?model_name="
        assert status_of(limits + "acme/nope", SIM_KEY) == 404
        assert status_of(limits + "Qwen/Qwen2.5-0.5B-Instruct", SIM_KEY) == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        stderr = Path(err.name).read_text()
        # Node must not read JupyterLab's CommonJS scripts as ES modules (a "type": "module"
        # package.json above the venv did that on every start).
        assert "require is not defined" not in stderr, stderr
        assert "Dynamic require" not in stderr, stderr
        # Both servers are gone.
        assert status_of(base_url) is None
        assert status_of(f"http://127.0.0.1:{port}/api/status") is None
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
        err.close()


def run_cli(args: list[str]) -> tuple[int, str]:
    import contextlib
    import io

    from prefnb.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(args)
    return code, out.getvalue()


def test_check_uses_its_own_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prefnb-demo").mkdir()
    mine = tmp_path / "prefnb-demo" / "01_label.ipynb"
    mine.write_text("my work")
    # An unknown notebook name stops right after the folder is prepared: no kernel runs.
    code, out = run_cli(["demo", "--check", "no-such-notebook"])
    assert code == 2, out
    assert mine.read_text() == "my work"  # the interactive demo's folder is untouched
    assert "replaced" not in out
    line = next(ln for ln in out.splitlines() if ln.startswith("--check runs in a temporary"))
    used = Path(line.split(": ", 1)[1])
    assert used.parent == Path(tempfile.gettempdir())
    assert used.name.startswith("prefnb-demo-check-")
    assert not used.exists()  # removed afterwards


def test_check_in_a_given_folder_says_what_it_replaced(tmp_path: Path) -> None:
    work = tmp_path / "w"
    work.mkdir()
    (work / "01_label.ipynb").write_text("my work")
    code, out = run_cli(["demo", "--check", "--dir", str(work), "no-such-notebook"])
    assert code == 2
    assert f"--check replaced 01_label.ipynb in {work} with fresh copies" in out
    assert (work / "01_label.ipynb").read_text() != "my work"


def test_interactive_demo_keeps_existing_notebooks(tmp_path: Path) -> None:
    from prefnb.demo import prepare_workdir

    (tmp_path / "01_label.ipynb").write_text("my work")
    replaced: list[Path] = []
    kept: list[Path] = []
    paths = prepare_workdir(tmp_path, replaced=replaced, kept=kept)
    assert (tmp_path / "01_label.ipynb").read_text() == "my work"
    assert not replaced
    assert kept == [tmp_path / "01_label.ipynb"]  # the caller says it kept the user's edit
    kept.clear()
    prepare_workdir(tmp_path, kept=kept)  # unchanged copies from a last run are not news
    assert kept == [tmp_path / "01_label.ipynb"]
    assert {p.name for p in paths} >= {"01_label.ipynb", "02_export_and_launch.ipynb"}


def test_help_is_plain_text() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "prefnb", "demo", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert "``" not in proc.stdout
    assert ":func:" not in proc.stdout
    assert "prefnb demo --check" in proc.stdout


def test_notebooks_compute_their_numbers() -> None:
    """Counts of the data are printed by code cells, not typed into markdown (they go stale:
    notebook 02 once said 62 pairs of a 68-pair sample)."""
    import re

    pattern = re.compile(r"\b\d[\d,.]*\s*(%|pairs|prompts|rows|labels|jobs|annotators)\b")
    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(nb_path.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                text = "".join(cell["source"])
                assert not pattern.search(text), f"{nb_path.name}: {pattern.search(text)}"
