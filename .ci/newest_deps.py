"""Fail unless every runtime dependency is installed at the newest version pyproject allows.

CI runs the test suite against what a user installing today gets; a bound that lags a
release (``plotly<7`` when plotly 7 was current) or a dev tool holding a runtime dependency
back shows up here instead of in a user's downgraded environment.

Run: .venv/bin/python .ci/newest_deps.py   (asks PyPI through pip, as the install did)
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def newest_allowed(req: Requirement) -> Version | None:
    out = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", req.name],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        return None
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("Available versions:")), "")
    versions = [Version(v.strip()) for v in line.split(":", 1)[-1].split(",") if v.strip()]
    allowed = [v for v in versions if not v.is_prerelease and req.specifier.contains(v)]
    return max(allowed, default=None)


def main() -> int:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    behind = 0
    for spec in deps:
        req = Requirement(spec)
        have = Version(version(req.name))
        best = newest_allowed(req)
        if best is None:
            print(f"?  {req.name}: PyPI did not answer; installed {have}")
        elif have < best:
            behind += 1
            print(f"OLD {req.name} {have} installed, {best} allowed by {req.specifier}")
        else:
            print(f"ok  {req.name} {have} (newest allowed by {req.specifier or 'any'})")
    return 1 if behind else 0


if __name__ == "__main__":
    sys.exit(main())
