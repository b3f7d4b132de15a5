"""notebooks/03_explore_metrics.ipynb runs headless, top to bottom, against LocalTogether."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03_explore_metrics.ipynb"


@pytest.mark.slow
def test_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFNB_LIVE", raising=False)
    monkeypatch.setenv("PREFNB_HOME", str(tmp_path / "home"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = {i: c.get("outputs", []) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    errors = [o for outs in outputs.values() for o in outs if o.output_type == "error"]
    assert not errors, errors
    texts = [o.get("data", {}).get("text/plain", "") for outs in outputs.values() for o in outs]
    # the sweep finished, and the final-values table has one row per job
    assert any(t.count("'completed')") == 3 for t in texts), texts
    table = next(t for t in texts if "metric" in t and "accuracy" in t and "kl_chosen" in t)
    assert table.count("ft-sim-") == 3
    widgets = [
        o for outs in outputs.values() for o in outs
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]  # fmt: skip
    assert len(widgets) >= 4  # sweep, run, explorer, TRL+Together
