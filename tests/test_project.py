"""Project-level checks: README's two commands are what CI runs; version is single-sourced."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import prefnb

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "README must open with a ```bash block holding the two set-up commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_has_two_setup_commands_and_ci_runs_them() -> None:
    install, test = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    install_part = install.split(" && .venv/bin/prefnb")[0]
    assert install_part in ci, "CI must install exactly as README says"
    assert test in ci.splitlines(), "CI must run README's test command verbatim"


def test_version_is_single_sourced() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["version"] == prefnb.__version__


def test_widget_bundle_was_built() -> None:
    assert (ROOT / "prefnb" / "static" / "labeler.js").stat().st_size > 0


def test_every_public_name_resolves() -> None:
    for name in prefnb.__all__:
        assert getattr(prefnb, name) is not None, name
    assert callable(prefnb.stats)


def test_import_is_light() -> None:
    # The CLI and worker processes import prefnb; heavy UI and SDK stacks load on first use.
    import subprocess
    import sys

    code = (
        "import sys, prefnb; heavy = [m for m in ('plotly', 'together', 'anywidget', 'pandas')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
