"""``prefnb demo``: JupyterLab on prefnb's notebooks with the sample data, no account needed.

Without ``TOGETHER_API_KEY`` (or with ``--local``) the demo starts LocalTogether, the
simulated Together API, as a subprocess (``python -m prefnb.testing``) and points the
notebooks' kernels at it through ``TOGETHER_BASE_URL`` (which the ``together`` SDK reads)
and a simulated key. With a real key set, the same notebooks talk to Together itself.

The notebooks and sample data are copied into a work directory (``./prefnb-demo`` unless
``--dir``; notebooks already there are kept, as they may hold the user's work); the job ledger
and exports live there too (``PREFNB_HOME``), so the demo never touches ``~/.prefnb``.
``--check`` runs every notebook headless (nbclient) and exits: 0 when all cells ran, 1
otherwise — that is what CI runs. It works in a fresh temporary folder (removed afterwards
unless a notebook failed) unless ``--dir`` is given, and then says which notebooks it
replaced with fresh copies.

Example:
    $ prefnb demo                 # JupyterLab on http://127.0.0.1:8888 (Ctrl-C stops)
    $ prefnb demo --check         # run the notebooks headless against LocalTogether
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

__all__ = ["add_demo_parser", "notebooks_dir", "prepare_workdir", "run_demo", "run_notebooks"]

SIM_KEY = "sim-local-key"
#: The demo's simulated judge is biased like real ones, so notebook 04 has pairs to route.
DEMO_JUDGE = '{"position_bias": 0.25, "length_bias": 0.1, "noise": 0.05}'
DEFAULT_DIR = "prefnb-demo"
#: ``prefnb demo --help``: plain text (the module docstring is reStructuredText for Sphinx).
HELP_DESCRIPTION = """\
JupyterLab on prefnb's notebooks with the sample data, no account needed.

Without TOGETHER_API_KEY (or with --local) the notebooks talk to LocalTogether, a simulated
Together API started on this machine; with a key set they talk to Together itself.
The notebooks and sample data are copied into ./prefnb-demo (or --dir); notebooks already
there are kept. --check runs every notebook headless in a fresh temporary folder (or in
--dir, replacing its notebooks with fresh copies and saying so) and exits 0 when all ran."""
HELP_EPILOG = """\
examples:
  prefnb demo                 JupyterLab on http://127.0.0.1:8888 (Ctrl-C stops)
  prefnb demo --check         run the notebooks headless against LocalTogether
  prefnb demo --dir work 02   JupyterLab in ./work, only notebook 02"""
_PACKAGE = Path(__file__).resolve().parent


def notebooks_dir() -> Path:
    """Where prefnb's notebooks are: packaged copies first, else the source checkout's."""
    for candidate in (_PACKAGE / "notebooks", _PACKAGE.parent / "notebooks"):
        if candidate.is_dir() and any(candidate.glob("*.ipynb")):
            return candidate
    raise FileNotFoundError(
        "prefnb's notebooks were not found (looked in prefnb/notebooks and ./notebooks of "
        "the source checkout)"
    )


def prepare_workdir(
    workdir: Path,
    *,
    overwrite: bool = False,
    replaced: list[Path] | None = None,
    kept: list[Path] | None = None,
) -> list[Path]:
    """Copy the notebooks and sample data into ``workdir``; return the notebook paths.

    Existing notebooks are kept (they may hold the user's work) unless ``overwrite``; the
    ones overwritten are appended to ``replaced`` and the kept ones that differ from
    prefnb's copies to ``kept``, so the caller can say so.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "data"
    data.mkdir(exist_ok=True)
    for sample in sorted((_PACKAGE / "data").glob("sample_*")):
        shutil.copy2(sample, data / sample.name)
    out: list[Path] = []
    for nb in sorted(notebooks_dir().glob("*.ipynb")):
        target = workdir / nb.name
        exists = target.exists()
        if overwrite or not exists:
            if exists and replaced is not None:
                replaced.append(target)
            shutil.copy2(nb, target)
        elif kept is not None and target.read_bytes() != nb.read_bytes():
            kept.append(target)
        out.append(target)
    return out


@contextmanager
def local_together(speed: float, port: int = 0) -> Iterator[str]:
    """Run LocalTogether as a subprocess; yields its base URL and stops it afterwards."""
    args = ["--port", str(port), "--speed", str(speed), "--judge", DEMO_JUDGE]
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefnb.testing", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("http"):
            raise RuntimeError(f"LocalTogether did not start (it printed {line!r})")
        yield line
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def demo_env(workdir: Path, base_url: str | None) -> dict[str, str]:
    """The environment the notebooks' kernels get."""
    env = dict(os.environ)
    env["PREFNB_HOME"] = str(workdir / ".prefnb")
    if base_url is not None:
        env["TOGETHER_BASE_URL"] = base_url
        env["TOGETHER_API_KEY"] = SIM_KEY
    return env


def run_notebooks(
    paths: Sequence[Path], env: Mapping[str, str], *, timeout: int = 600
) -> list[tuple[Path, str | None]]:
    """Execute each notebook in place (outputs saved); returns ``(path, error or None)``."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    results: list[tuple[Path, str | None]] = []
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        for path in paths:
            nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
            client = NotebookClient(
                nb,
                timeout=timeout,
                kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
            )
            error: str | None = None
            try:
                client.execute()
            except CellExecutionError as exc:
                error = str(exc)
            except Exception as exc:  # a kernel that dies is a failed check
                error = f"{type(exc).__name__}: {exc}"
            nbformat.write(nb, path)  # type: ignore[no-untyped-call]
            results.append((path, error))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return results


def run_demo(args: argparse.Namespace) -> int:
    """The ``prefnb demo`` command."""
    temporary = args.dir is None and args.check
    if temporary:
        # A check must not touch the interactive demo's folder (it may hold the user's work).
        workdir = Path(tempfile.mkdtemp(prefix="prefnb-demo-check-"))
        print(f"--check runs in a temporary folder: {workdir}")
    else:
        workdir = Path(args.dir or DEFAULT_DIR).resolve()
    code = _run_demo_in(workdir, args)
    if temporary and code != 1:
        # kept when a notebook failed: its saved outputs show where
        shutil.rmtree(workdir, ignore_errors=True)
    return code


def _run_demo_in(workdir: Path, args: argparse.Namespace) -> int:
    replaced: list[Path] = []
    kept: list[Path] = []
    notebooks = prepare_workdir(workdir, overwrite=args.check, replaced=replaced, kept=kept)
    if replaced:
        names = ", ".join(p.name for p in replaced)
        print(f"--check replaced {names} in {workdir} with fresh copies")
    if kept:
        names = ", ".join(p.name for p in kept)
        print(f"kept your edited {names} in {workdir} (delete to get fresh copies)")
    if args.notebooks:
        wanted = set(args.notebooks)
        notebooks = [p for p in notebooks if p.name in wanted or p.stem in wanted]
        if not notebooks:
            sys.stderr.write(f"prefnb demo: no notebook named {', '.join(sorted(wanted))}\n")
            return 2
    real = bool(os.environ.get("TOGETHER_API_KEY")) and not args.local and not args.check
    speed = args.speed if args.speed is not None else (200.0 if args.check else 2.0)
    if real:
        print("TOGETHER_API_KEY is set: the notebooks talk to Together (launches cost money).")
        return _serve(workdir, demo_env(workdir, None), args)
    with local_together(speed) as base_url:
        print(f"LocalTogether (simulated Together API) at {base_url}, speed ×{speed:g}")
        env = demo_env(workdir, base_url)
        if not args.check:
            return _serve(workdir, env, args)
        failed = 0
        t0 = time.monotonic()
        for path, error in run_notebooks(notebooks, env, timeout=args.timeout):
            if error is None:
                print(f"ok      {path.name}")
            else:
                failed += 1
                print(f"FAILED  {path.name}\n{error}")
        where = "temporary folder, removed" if args.dir is None and not failed else workdir
        print(f"{len(notebooks) - failed}/{len(notebooks)} notebooks ran in "
              f"{time.monotonic() - t0:.1f} s ({where})")  # fmt: skip
        if failed and args.dir is None:
            print(f"the executed notebooks, with their errors, are kept in {workdir}")
        return 1 if failed else 0


#: JupyterLab settings the demo overrides (``overrides.json`` makes them the defaults).
LAB_OVERRIDES: Final[dict[str, dict[str, Any]]] = {
    "@jupyterlab/apputils-extension:kernels-settings": {"commsOverSubshells": "disabled"},
    # The news toast covers outputs; the demo is not the place to ask.
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def _serve(workdir: Path, env: dict[str, str], args: argparse.Namespace) -> int:
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={workdir}",
        "--ip=127.0.0.1",
        f"--port={args.port}",
    ]
    settings = workdir / ".lab-app-settings"
    settings.mkdir(exist_ok=True)
    # Lab 4.4+ sends widget messages over kernel subshells by default; with ipykernel 7 a
    # message can arrive before its subshell exists and is dropped ("Unknown subshell_id"),
    # which loses a click on a loaded machine. The demo turns that off.
    (settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES))
    cmd.append(f"--LabApp.app_settings_dir={settings}")
    # No "get notified about Jupyter news?" toast over the outputs, and no calls home for it.
    never = "jupyterlab.handlers.announcements.NeverCheckForUpdate"
    cmd.append(f"--LabApp.check_for_updates_class={never}")
    if args.no_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI run as root
    print(f"JupyterLab on the notebooks in {workdir} (Ctrl-C stops)")
    proc = subprocess.Popen(cmd, env=env, cwd=workdir)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        # One Ctrl-C stops everything: SIGTERM makes the server stop without asking.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print("stopped")
        return 0


def add_demo_parser(subparsers: Any) -> None:
    """Register ``prefnb demo`` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "demo",
        help="JupyterLab on the notebooks with sample data, against LocalTogether or Together",
        description=HELP_DESCRIPTION,
        epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("notebooks", nargs="*", help="only these notebooks (name or stem)")
    dir_help = "work directory (default ./prefnb-demo; with --check a new temporary folder)"
    p.add_argument("--dir", default=None, help=dir_help)
    p.add_argument("--check", "--no-lab", action="store_true",
                   help="run the notebooks headless against LocalTogether and exit")  # fmt: skip
    p.add_argument("--local", action="store_true",
                   help="use LocalTogether even when TOGETHER_API_KEY is set")  # fmt: skip
    p.add_argument("--speed", type=float, default=None,
                   help="LocalTogether speed-up (default 2; 200 with --check)")  # fmt: skip
    p.add_argument("--port", type=int, default=8888, help="JupyterLab port")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--timeout", type=int, default=600, help="seconds per cell with --check")
    p.set_defaults(func=run_demo)
