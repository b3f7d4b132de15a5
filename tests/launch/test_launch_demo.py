"""``prefnb demo`` serves JupyterLab on the notebooks against LocalTogether; Ctrl-C stops both."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

from prefnb.demo import SIM_KEY

pytestmark = pytest.mark.slow


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefnb", "demo", "--dir", str(work), "--no-browser",
         "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, Path(log.name).read_text()
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
        assert (work / "data" / "sample_pairs.jsonl").is_file()
        text = Path(log.name).read_text()
        local = next(line for line in text.splitlines() if line.startswith("LocalTogether"))
        base_url = local.split(" at ")[1].split(",")[0]
        limits = f"{base_url}/v1/fine-tunes/models/limits?model_name="
        assert status_of(limits + "acme/nope", SIM_KEY) == 404
        assert status_of(limits + "Qwen/Qwen2.5-0.5B-Instruct", SIM_KEY) == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        # Both servers are gone.
        assert status_of(base_url) is None
        assert status_of(f"http://127.0.0.1:{port}/api/status") is None
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
