"""The front end's unit tests (``js/tests/*.test.js``: window, keys, progress, the
interaction state machine, delivery, cursor, vocabulary) under Node's built-in test runner,
so README's single test command runs them too."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = sorted((ROOT / "js" / "tests").glob("*.test.js"))


def test_there_are_js_unit_tests() -> None:
    names = {p.name.split(".")[0] for p in TESTS}
    assert {"window", "keys", "progress", "interaction", "writes", "cursor"} <= names


def test_js_unit_tests_pass_under_node_test() -> None:
    if shutil.which("node") is None:
        pytest.fail("node is required (README: Node ≥ 18 builds the widget bundle)")
    if not (ROOT / "js" / "node_modules" / "diff").exists():
        # README's install builds the bundle, which installs them: never skip silently
        pytest.fail("front-end packages are not installed: run `npm --prefix js install`")
    proc = subprocess.run(
        ["node", "--test", *map(str, TESTS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    summary: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        name, _, value = line.removeprefix("# ").partition(" ")
        if line.startswith("# ") and name in {"tests", "pass", "fail"}:
            summary[name] = value
    assert int(summary["fail"]) == 0
    assert int(summary["pass"]) == int(summary["tests"]) >= 20
