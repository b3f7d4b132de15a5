"""Build hook: compile prefnb/_scan.c, the validator's one-pass byte counter, when possible.

The module is an accelerator, not a requirement: without a C compiler or Python's headers
(or with ``PREFNB_PURE_PYTHON=1``) the build goes on, the wheel stays pure Python and
:mod:`prefnb.validation.scan` counts with numpy. When it compiles, the extension is written
next to its source (an editable install imports it from there) and the wheel is tagged for
this platform.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def compile_scan(root: Path) -> Path:
    """Compile ``prefnb/_scan.c`` next to itself; returns the extension's path."""
    source = root / "prefnb" / "_scan.c"
    target = source.with_name("_scan" + str(sysconfig.get_config_var("EXT_SUFFIX")))
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    compiler = shlex.split(str(sysconfig.get_config_var("CC") or "cc"))
    include = sysconfig.get_paths()["include"]
    if not (Path(include) / "Python.h").exists():
        raise RuntimeError(f"no Python.h in {include}")
    command = [*compiler, "-O3", "-fPIC", "-shared", f"-I{include}", str(source), "-o", str(target)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return target


class ScanBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or os.environ.get("PREFNB_PURE_PYTHON"):
            return
        try:
            built = compile_scan(Path(self.root))
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            self.app.display_warning(
                f"prefnb: the C byte counter was not built ({exc} {detail[-500:]!r}); "
                "validation uses numpy instead"
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        build_data["artifacts"].append(str(built.relative_to(self.root)))
