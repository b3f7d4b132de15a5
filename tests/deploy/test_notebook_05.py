"""notebooks/05_on_policy_round.ipynb runs end to end headless through ``prefnb demo --check``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prefnb.demo import SIM_KEY

pytestmark = pytest.mark.slow


def test_on_policy_round_notebook_runs_against_local_together(tmp_path: Path) -> None:
    work = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGETHER_")}
    done = subprocess.run(
        [sys.executable, "-m", "prefnb", "demo", "--check", "--dir", str(work),
         "05_on_policy_round"],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok      05_on_policy_round.ipynb" in done.stdout
    executed = work / "05_on_policy_round.ipynb"
    nb = json.loads(executed.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    text = json.dumps(outputs)
    # every step ran: SFT, deploy (price first), chat, generate, judge + route, review,
    # export, DPO, compare, stop
    assert "Started SFT job" in text
    assert text.count("$2.58/hour per replica") == 2  # both endpoints, price before creating
    assert "state='STARTED'" in text
    assert "simulated answer" in text  # prefnb.chat streamed a reply
    assert "judged 47 pairs via chat" in text
    assert "pairs reviewed by people" in text
    assert "DPO lines to out05/round1_dpo.jsonl" in text
    assert "Started DPO job" in text
    assert "CompareResult(" in text
    assert "win rate of A" in text
    assert text.count("STOPPED") >= 2
    assert "still running" not in done.stderr  # every endpoint was stopped: no exit warning
    # the key the kernel used appears nowhere in the saved notebook or the files it wrote
    assert SIM_KEY not in executed.read_text()
    for f in [*(work / ".prefnb").rglob("*"), *(work / "out05").rglob("*")]:
        if f.is_file():
            assert SIM_KEY.encode() not in f.read_bytes(), f
