"""notebooks/01_label.ipynb runs top to bottom headless (nbclient) and shows the widget."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from prefnb.labels import LabelStore

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01_label.ipynb"


@pytest.mark.slow
def test_label_notebook_runs_headless(tmp_path: Path) -> None:
    path = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, path)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert (tmp_path / "labels.sqlite").exists()
    assert (
        LabelStore(tmp_path / "labels.sqlite").events().empty
    )  # showing the widget records nothing
