"""The widgets' front ends (Labeler, JobMonitor) type-check: JSDoc types under strict TypeScript."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_labeler_js_typechecks_strict() -> None:
    tsc = ROOT / "js" / "node_modules" / ".bin" / "tsc"
    if not tsc.exists() or shutil.which("node") is None:
        pytest.skip("TypeScript is not installed: run `npm --prefix js install`")
    proc = subprocess.run(
        [str(tsc), "-p", "js/labeler.tsconfig.json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
