"""notebooks/02_export_and_launch.ipynb runs headless through ``prefnb demo --check``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prefnb.demo import SIM_KEY

pytestmark = pytest.mark.slow


def test_demo_check_runs_the_launch_notebook_against_local_together(tmp_path: Path) -> None:
    work = tmp_path / "demo"
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("TOGETHER_")}
    done = subprocess.run(
        [sys.executable, "-m", "prefnb", "demo", "--check", "--dir", str(work),
         "02_export_and_launch"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok      02_export_and_launch.ipynb" in done.stdout
    executed = work / "02_export_and_launch.ipynb"
    nb = json.loads(executed.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    text = json.dumps(outputs)
    # Every step ran: validation found then fixed the error, files exported, jobs launched,
    # the sweep monitored and plotted, the ledger listed.
    assert "together.last_input_assistant" in text
    assert "ValidationReport: OK" in text
    assert "wrote 39 DPO lines" in text or "DPO lines to out/train_dpo.jsonl" in text
    assert "Started SFT job" in text
    assert text.count("Started DPO job") == 5  # one DPO, one after SFT, a sweep of three
    assert "JobMonitor(3 job(s)" in text
    assert "MetricsFigure" in text
    assert (work / "out" / "train_dpo.jsonl").is_file()
    assert (work / ".prefnb" / "jobs.sqlite").is_file()
    # The key the kernels used appears nowhere in the saved notebook or the demo's files.
    assert SIM_KEY not in executed.read_text()
    for f in (work / ".prefnb").rglob("*"):
        if f.is_file():
            assert SIM_KEY.encode() not in f.read_bytes()
