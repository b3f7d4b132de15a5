"""Labeler speed in real headless Chromium, printed beside its budgets and a same-run floor.

Run: ``.venv/bin/python bench/labeler.py`` (about a minute; ``--labels N``, ``--rows N``).
Team mode: ``.venv/bin/python bench/labeler.py --team`` runs only 1. and 2. for the solo
Labeler beside team Labelers (overlap 2, claims prefetched) on SQLite and on a throwaway
PostgreSQL cluster over loopback (:mod:`prefnb.testing.pg_cluster`), in one run.
Mixed mode: ``.venv/bin/python bench/labeler.py --lab-mixed 20`` puts the floor and the
Labeler in one JupyterLab notebook and alternates the keys between them in blocks of 20, so
both share the page, kernel, server and the machine's load at every moment (3. runs them one
after the other, in two pages, and the load moves in between). In one page, though, the
Labeler's composited layers also weigh on the floor's frames. Solo mode:
``.venv/bin/python bench/labeler.py --lab-solo 20`` gives each widget its own notebook page
in one JupyterLab and alternates the keys between the pages in blocks of 20: each widget is
alone in its page, as in a user's, and both see the same load. ``--against BUNDLE`` adds a
third page with the Labeler running another build of ``labeler.js`` (say, the last commit's),
for a before/after in the same run; run it both ways round (see ``block_page``).
``--pair-floor`` adds a page with a second floor that swaps in all the plain text the Labeler
shows for a pair (the prompt and both responses side by side), where the floor swaps in one
response: the least any widget showing the whole pair must lay out and paint on a key.
``--lab-cpu`` prints the CPU each key costs, by process (Chromium's renderer and compositor,
the Jupyter server, the kernel), for the floor and then the Labeler, each alone in a page.
``--lab-trace`` records a Chromium trace of the floor and then the Labeler, each alone in a
page, and prints each key's EventLatency stages (input, main thread, commit, raster,
compositor draw, presentation) and the compositor's draws and tiles per key.
``--gap-ms`` sets the pause after each paint (30 ms, a hard case: a person reads for seconds).

1. keypress → next pair painted, over 200 labels of ~4 KB markdown responses. Measured in the
   page: from the keydown event's ``timeStamp`` until a MutationObserver has seen the next
   pair and the frame showing it has been painted (a task posted from the next
   ``requestAnimationFrame`` callback). Printed beside it: the anchors' literal end point
   (``requestAnimationFrame`` twice: one whole frame later at 60 Hz) and the time spent waiting
   for the frame clock. Keys land at a random phase of the 60 Hz frame clock (``--phase``;
   the old ``fixed`` method put every key just after a frame began, the worst phase).
   Also keypress → next pair in the DOM (the widget's
   own work). Baseline in the same browser and run: the "floor", a minimal widget that
   swaps in prefetched plain text of the same size (what ``labeling-latency-anchors.md``
   calls the floor). Headless Chromium paints at 60 Hz, so up to one frame of the figure
   is waiting for vsync: on a loaded machine the floor itself can exceed 16 ms at p95, so
   the Labeler/floor ratio is printed too. Cross-check: the browser's own Event Timing
   (keydown → next frame presented, in 8 ms steps, reported from 16 ms up) for every key,
   Labeler beside floor.
2. keypress → label committed in SQLite: keydown time (``performance.timeOrigin`` +
   ``timeStamp``) to the moment ``LabelStore.record`` returned (after COMMIT) in Python;
   beside it the kernel's whole handler for a label and ``LabelStore.record`` inside it,
   and ``LabelStore.record`` alone. The page talks to Python through Playwright's
   ``expose_function`` instead of a Jupyter websocket (see ``tests/labeler_host.py``).
3. both latencies again inside a real JupyterLab server and ipykernel (skip: ``--no-lab``),
   with prefnb's server extension on (``--lab-nagle``: off, as jupyter_server leaves it).
4. a 1,000,000-row DataFrame: Labeler construction → first pair painted, and kernel memory
   added by the Labeler relative to the DataFrame's own memory (process RSS).

The 1-minute load average is printed beside each figure: other jobs on the machine move
these latencies more than anything in the widget does.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from prefnb.labeler import Labeler
from prefnb.labels import LabelStore
from prefnb.pairs import pairs_frame

# The static-page harness is a test fixture, not part of the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from labeler_host import HARNESS_HTML, ORIGIN, host, open_harness

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]

MEASURE_JS = """() => {
  window.__lat = []; window.__lat2 = []; window.__wait = []; window.__dom = []; window.__keys = [];
  window.__t0 = null; window.__slow = []; window.__phases = [];
  // Cross-check from the browser itself: Event Timing reports keydowns whose next paint came
  // 16 ms or more after the key (its smallest threshold), measured by the compositor.
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.name !== 'keydown') continue;
      window.__slow.push(e.duration);
      // Where a slow key's time went: waiting for the main thread (input delay), the
      // handlers, and from the handlers' end until the frame was presented.
      if (e.duration >= 32) window.__phases.push([e.processingStart - e.startTime,
        e.processingEnd - e.processingStart, e.startTime + e.duration - e.processingEnd]);
    }
  }).observe({ type: 'event', durationThreshold: 16 });
  window.addEventListener('keydown', (e) => {
    window.__t0 = e.timeStamp; window.__keys.push(performance.timeOrigin + e.timeStamp);
  }, true);
  const root = document.querySelector('.prefnb-labeler');
  new MutationObserver(() => {
    const t0 = window.__t0; if (t0 === null) return; window.__t0 = null;
    window.__dom.push(performance.now() - t0);
    requestAnimationFrame((frameStart) => {
      // Time spent waiting for the frame clock before the frame showing the pair began.
      window.__wait.push(Math.max(0, frameStart - t0));
      // rAF runs just before the frame is drawn; a task posted from it runs right after that
      // frame's paint: the time the next pair is on screen.
      const ch = new MessageChannel();
      ch.port1.onmessage = () => window.__lat.push(performance.now() - t0);
      ch.port2.postMessage(null);
      // The anchors' own end point, literally: requestAnimationFrame twice.
      requestAnimationFrame(() => window.__lat2.push(performance.now() - t0));
    });
  }).observe(root, { attributes: true, attributeFilter: ['data-pos', 'data-pair-id'] });
}"""

# The floor: swap in prefetched text of the same size as the Labeler's markdown, no parsing.
FLOOR_ESM = """export default { render({ model, el }) {
  const root = document.createElement('div'); root.className = 'prefnb-labeler'; root.tabIndex = 0;
  root.dataset.lmSuppressShortcuts = 'true';  // in JupyterLab: keys are the widget's
  const items = model.get('items'); let i = 0;
  const show = () => { root.dataset.pos = String(i); root.textContent = items[i % items.length]; };
  const onKey = () => { i += 1; show(); model.send({ type: 'label', i }); };
  root.addEventListener('keydown', onKey); show(); el.append(root);
  return () => root.remove();
} };"""

# The pair floor: the same, with all the text the Labeler shows for a pair (the prompt, both
# responses side by side) instead of one response: the least any widget showing the pair
# must lay out and paint on a key.
PAIR_FLOOR_ESM = """export default { render({ model, el }) {
  const root = document.createElement('div'); root.className = 'prefnb-labeler'; root.tabIndex = 0;
  root.dataset.lmSuppressShortcuts = 'true';
  const prompt = document.createElement('div'); const cols = document.createElement('div');
  cols.style.cssText = 'display: grid; grid-template-columns: 1fr 1fr; gap: 8px;'
    + 'white-space: pre-wrap';
  const left = document.createElement('div'); const right = document.createElement('div');
  cols.append(left, right); root.append(prompt, cols);
  const items = model.get('items'); let i = 0;
  const show = () => {
    const [p, a, b] = items[i % items.length]; root.dataset.pos = String(i);
    prompt.textContent = p; left.textContent = a; right.textContent = b;
  };
  const onKey = () => { i += 1; show(); model.send({ type: 'label', i }); };
  root.addEventListener('keydown', onKey); show(); el.append(root);
  return () => root.remove();
} };"""


def markdown_response(i: int, side: str) -> str:
    """About 4 KB of markdown with headings, lists, a table and a fenced code block."""
    parts = [f"## Answer {side}{i}\n", f"Here is a **careful** answer to question {i}.\n"]
    for k in range(12):
        parts.append(f"- point {k}: the value of `x{k}` depends on *context* {i * k}")
    table = "\n".join(f"| {n} | {n * n} |" for n in range(8))
    parts.append("\n| n | square |\n|---|---|\n" + table)
    code = "\n".join(f"def f{n}(x):\n    return x * {n} + {i}  # step {n}" for n in range(30))
    parts.append(f"\n```python\n{code}\n```\n")
    parts.append(
        " ".join(f"Sentence {s} explains the trade-off in option {side}." for s in range(40))
    )
    return "\n".join(parts)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


#: keypress → painted of the floor widget inside the same JupyterLab.
LAB_FLOOR: list[float] = []
#: JupyterLab runs with prefnb.server_extension (kernel websockets without Nagle's delay);
#: ``--lab-nagle`` turns it off in the bench's server, to compare.
LAB_NODELAY = [True]
#: Pause between a pair being painted and the next key (``--gap-ms``).
GAP_MS = [30]
#: ``random``: each pause gets 0–1 frame (16.7 ms) of seeded jitter so keys land at a random
#: point of the 60 Hz frame clock, as a person's do. ``fixed`` (the old method): the wait below
#: polls with rAF, so a fixed pause after it lands every key at the same phase, just after a
#: frame began: nearly every key then waits ~15 ms for the next frame, floor included.
PHASE = ["random"]
#: Per run: ``requestAnimationFrame`` twice (anchors' literal end point) and frame-clock wait.
EXTRA: dict[str, dict[str, list[float]]] = {}
#: Per run: Event Timing durations (keydown → next frame presented, 8 ms steps) of the keys
#: that took ≥ 16 ms, and the number of presses.
SLOW_KEYS: dict[str, tuple[list[float], int]] = {}
#: Per run, for each key ≥ 32 ms by Event Timing: input delay, handlers, and handlers' end →
#: frame presented (ms). A slow key with a short input delay did not wait for a task.
PHASES: dict[str, list[list[float]]] = {}


def press_and_measure(page: Any, n: int, name: str) -> tuple[list[float], list[float]]:
    """Press ``1`` n times; return keypress→painted and keypress→in-DOM latencies (ms)."""
    import random

    jitter = random.Random(1)
    page.evaluate(MEASURE_JS)
    page.locator(".prefnb-labeler").focus()
    for i in range(n):
        page.keyboard.press("1")
        page.wait_for_function("n => window.__lat2.length >= n", arg=i + 1)
        # An annotator reads for seconds: 30 ms is a hard case.
        extra = jitter.uniform(0, 1000 / 60) if PHASE[0] == "random" else 0.0
        page.wait_for_timeout(GAP_MS[0] + extra)
    page.wait_for_timeout(200)  # Event Timing entries are delivered after the frame
    SLOW_KEYS[name] = (page.evaluate("() => window.__slow"), n)
    PHASES[name] = page.evaluate("() => window.__phases")
    lat: list[float] = page.evaluate("() => window.__lat")
    dom: list[float] = page.evaluate("() => window.__dom")
    EXTRA[name] = {
        "raf2": page.evaluate("() => window.__lat2"),
        "wait": page.evaluate("() => window.__wait"),
    }
    return lat, dom


def bench_floor(browser: Any, n: int) -> tuple[list[float], list[float]]:
    page = browser.new_page()
    page.route(ORIGIN, lambda r: r.fulfill(status=200, content_type="text/html", body=HARNESS_HTML))
    page.expose_function("pyKernel", lambda msg: [])
    page.goto(ORIGIN)
    items = [markdown_response(i, "A") for i in range(n + 5)]
    page.evaluate("([esm, state]) => mountWidget(esm, state)", [FLOOR_ESM, {"items": items}])
    result = press_and_measure(page, n, "floor")
    page.close()
    return result


def bench_labeler(
    browser: Any,
    n: int,
    workdir: Path,
    *,
    store: Any = None,
    name: str = "labeler",
    **team: Any,
) -> tuple[list[float], list[float], list[float], list[float], list[float]]:
    """The Labeler in Chromium on ``store`` (default: a new SQLite file); ``team``: the
    Labeler's team options (``overlap``, ``lease_s``)."""
    df = pairs_frame(
        [
            {
                "prompt": [{"role": "user", "content": f"Question {i}: explain option A vs B."}],
                "response_a": markdown_response(i, "A"),
                "response_b": markdown_response(i, "B"),
            }
            for i in range(n + 40)
        ]
    )
    target = workdir / f"{name}.sqlite" if store is None else store
    lab = Labeler(df, store=target, annotator="bench", seed=1, **team)
    commits: list[float] = []
    record = lab.store.record

    def timed_record(**kw: Any) -> int:
        event_id = record(**kw)
        if kw.get("kind") in ("label", "audit"):
            commits.append(time.time() * 1000)
        return event_id

    lab.store.record = timed_record  # type: ignore[method-assign]
    # The kernel's whole handler for a label (checks, store, window, reply) vs the store alone.
    handler: list[float] = []
    stored: list[float] = []
    on_msg = lab._on_msg

    def timed_on_msg(widget: Any, msg: dict[str, Any], buffers: Any) -> None:
        t = time.perf_counter()
        before = len(commits)
        on_msg(widget, msg, buffers)
        if msg.get("type") == "label" and len(commits) > before:
            handler.append((time.perf_counter() - t) * 1000)
            stored.append(record_ms[-1])

    record_ms: list[float] = []

    def timed_store(**kw: Any) -> int:
        t = time.perf_counter()
        try:
            return timed_record(**kw)
        finally:
            record_ms.append((time.perf_counter() - t) * 1000)

    lab.store.record = timed_store  # type: ignore[method-assign]
    lab._on_msg = timed_on_msg  # type: ignore[method-assign,assignment]
    page = browser.new_page()
    host(page, lab)
    page.locator(".prefnb-labeler[data-pos='0']").wait_for()
    page.wait_for_timeout(500)
    lat, dom = press_and_measure(page, n, name)
    page.wait_for_function(
        "() => document.querySelector('.pl-saved').dataset.state === 'saved'", timeout=60_000
    )
    keys: list[float] = page.evaluate("() => window.__keys")
    page.close()
    commit_lat = [c - k for k, c in zip(keys, commits, strict=False)]
    return lat, dom, commit_lat, handler, stored


def bench_store_alone(workdir: Path, n: int) -> list[float]:
    store = LabelStore(workdir / "alone.sqlite")
    out = []
    for i in range(n):
        t = time.perf_counter()
        store.record(pair_id=f"p{i}", annotator="bench", kind="label", verdict="a", shown="ab")
        out.append((time.perf_counter() - t) * 1000)
    return out


def bench_million(browser: Any, rows: int, workdir: Path) -> dict[str, float]:
    gc.collect()
    rss0 = rss_bytes()
    idx = pd.Series(range(rows)).astype(str)
    prompt = [{"role": "user", "content": "Which answer is better?"}]
    df = pd.DataFrame(
        {
            "pair_id": idx.str.zfill(16),
            "prompt": pd.Series([prompt] * rows, dtype=object),
            "response_a": "Answer A for row " + idx + ": " + "a" * 200,
            "response_b": "Answer B for row " + idx + ": " + "b" * 200,
            "label": pd.Series([None] * rows, dtype=object),
        }
    )
    gc.collect()
    rss1 = rss_bytes()
    page = browser.new_page()
    open_harness(page)  # a notebook page is already open when the cell runs
    t0 = time.perf_counter()
    lab = Labeler(df, store=workdir / "million.sqlite", annotator="bench")
    t_construct = time.perf_counter() - t0
    host(page, lab, navigate=False)
    page.locator(".prefnb-labeler[data-pos='0']").wait_for()
    t_paint = time.perf_counter() - t0
    page.wait_for_timeout(300)
    received = page.evaluate(
        "() => model.received.filter(m => m.type === 'items' || m.type === 'init')"
        ".reduce((n, m) => n + m.items.length, 0)"
    )
    gc.collect()
    rss2 = rss_bytes()
    page.close()
    # Reopening after a fifth of the frame is labeled (seeded untimed, in one transaction):
    # the widget must find this annotator's labels among the rows and resume after them.
    done = rows // 5
    store = LabelStore(workdir / "million.sqlite")
    ids = df["pair_id"].tolist()
    for start in range(0, done, 50_000):
        store.record_many(
            {"pair_id": pid, "annotator": "bench", "kind": "label", "verdict": "a", "shown": "ab"}
            for pid in ids[start : min(start + 50_000, done)]
        )
    store.close()
    page = browser.new_page()
    open_harness(page)
    t0 = time.perf_counter()
    lab = Labeler(df, store=workdir / "million.sqlite", annotator="bench", shuffle=False)
    t_resume_construct = time.perf_counter() - t0
    host(page, lab, navigate=False)
    page.locator(f".prefnb-labeler[data-pos='{done}']").wait_for()
    t_resume_paint = time.perf_counter() - t0
    page.close()
    return {
        "construct_s": t_construct,
        "first_paint_s": t_paint,
        "df_mb": (rss1 - rss0) / 2**20,
        "labeler_mb": (rss2 - rss1) / 2**20,
        "overhead": (rss2 - rss1) / max(rss1 - rss0, 1),
        "items_in_browser": float(received),
        "resume_labels": float(done),
        "resume_construct_s": t_resume_construct,
        "resume_paint_s": t_resume_paint,
    }


LAB_CELL = """\
import json, time, pandas as pd, prefnb
df = pd.read_pickle("pairs.pkl")
lab = prefnb.Labeler(df, store="labels.sqlite", annotator="bench", seed=1)
commits = []
_record = lab.store.record
def _timed(**kw):
    event_id = _record(**kw)
    commits.append(time.time() * 1000)
    return event_id
lab.store.record = _timed
lab"""


# ``--against``: the Labeler with another build of its front end (anywidget reads a Path).
AGAINST_CLASS = """\
from pathlib import Path
import prefnb
class Against(prefnb.Labeler):
    _esm = Path({bundle!r})
"""


FLOOR_CELL = """\
import anywidget, traitlets, pandas as pd
class Floor(anywidget.AnyWidget):
    _esm = {esm!r}
    items = traitlets.List().tag(sync=True)
df = pd.read_pickle("pairs.pkl")
Floor(items=df["response_a"].tolist()[:{count}])"""

PAIR_FLOOR_CELL = """\
import anywidget, traitlets, pandas as pd
class PairFloor(anywidget.AnyWidget):
    _esm = {esm!r}
    items = traitlets.List().tag(sync=True)
df = pd.read_pickle("pairs.pkl")
rows = zip(df["prompt"], df["response_a"], df["response_b"], strict=True)
PairFloor(items=[[p[-1]["content"], a, b] for p, a, b in rows][:{count}])"""


def start_lab(base: Path) -> tuple[Any, str, str, Path]:
    """A JupyterLab server isolated in ``base`` (as in tests/conftest.py)."""
    import json
    import socket
    import subprocess
    import sys
    import urllib.request

    dirs = {k: base / k for k in ("root", "config", "runtime", "data", "settings", "ws", "app")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    (dirs["app"] / "overrides.json").write_text(
        json.dumps({"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}})
    )
    if not LAB_NODELAY[0]:
        (dirs["config"] / "jupyter_server_config.json").write_text(
            json.dumps({"ServerApp": {"jpserver_extensions": {"prefnb.server_extension": False}}})
        )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["ws"]),
        IPYTHONDIR=str(base / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        HOME=str(base),
    )
    token = "bench"
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", "--port-retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={dirs['root']}", "--LabApp.expose_app_in_browser=True",
         f"--LabApp.app_settings_dir={dirs['app']}"],
        env=env, cwd=dirs["root"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("JupyterLab did not start") from None
            time.sleep(0.2)
    return proc, url, token, dirs["root"]


def write_pairs(root: Path, n: int) -> None:
    """The bench's pairs, pickled where a notebook in ``root`` reads them."""
    rows = [
        {
            "prompt": [{"role": "user", "content": f"Question {i}: compare A and B."}],
            "response_a": markdown_response(i, "A"),
            "response_b": markdown_response(i, "B"),
        }
        for i in range(n + 40)
    ]
    pairs_frame(rows).to_pickle(root / "pairs.pkl")


def write_notebook(path: Path, cells: list[str]) -> None:
    import json

    nb = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
                   "outputs": [], "source": c} for i, c in enumerate(cells)],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip
    path.write_text(json.dumps(nb))


def write_widget_notebooks(root: Path, n: int) -> None:
    """``floor.ipynb`` (the floor over ``n`` + 5 responses) and ``bench.ipynb`` (the Labeler)
    in ``root``, beside the pairs they read."""
    write_pairs(root, n)
    write_notebook(root / "floor.ipynb", [FLOOR_CELL.format(esm=FLOOR_ESM, count=n + 5)])
    write_notebook(root / "bench.ipynb", [LAB_CELL])
    cell = PAIR_FLOOR_CELL.format(esm=PAIR_FLOOR_ESM, count=n + 5)
    write_notebook(root / "pairfloor.ipynb", [cell])


def open_notebook(browser: Any, url: str, token: str, name: str, height: int = 1000) -> Any:
    """A page with notebook ``name`` open in JupyterLab and all its cells run."""
    page = browser.new_page(viewport={"width": 1400, "height": height})
    page.set_default_timeout(120_000)
    page.goto(f"{url}/lab/tree/{name}?reset&token={token}")
    page.wait_for_function("() => !!window.jupyterapp")
    page.evaluate(
        """async () => { const app = window.jupyterapp; await app.restored; let nb;
        while (!(nb = app.shell.currentWidget) || !nb.sessionContext)
            await new Promise(r => setTimeout(r, 50));
        await nb.context.ready; await nb.sessionContext.ready;
        await app.commands.execute('notebook:run-all-cells'); }"""
    )
    return page


def stop_lab(proc: Any, url: str, token: str) -> None:
    import signal
    import urllib.request

    try:
        req = urllib.request.Request(f"{url}/api/shutdown?token={token}", method="POST", data=b"")
        urllib.request.urlopen(req, timeout=10).close()
        proc.wait(15)
    except Exception:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


def bench_lab(browser: Any, n: int, workdir: Path) -> tuple[list[float], list[float]]:
    """Keypress → painted and keypress → committed inside a real JupyterLab and kernel."""
    import json
    import urllib.request

    from jupyter_client.blocking.client import BlockingKernelClient

    proc, url, token, root = start_lab(workdir / "lab")
    try:
        write_widget_notebooks(root, n)

        def open_and_run(name: str) -> Any:
            page = open_notebook(browser, url, token, name)
            page.locator(".prefnb-labeler[data-pos='0']").wait_for()
            page.wait_for_timeout(1000)
            return page

        # The anchors' floor ran in JupyterLab: measure it there too, in the same server.
        floor_page = open_and_run("floor.ipynb")
        LAB_FLOOR[:] = press_and_measure(floor_page, n, "labfloor")[0]
        floor_page.close()
        page = open_and_run("bench.ipynb")
        lat, _ = press_and_measure(page, n, "lab")
        page.wait_for_function(
            "() => document.querySelector('.pl-saved').dataset.state === 'saved'"
        )
        keys: list[float] = page.evaluate("() => window.__keys")
        with urllib.request.urlopen(f"{url}/api/sessions?token={token}") as r:
            kid = next(x["kernel"]["id"] for x in json.load(r) if x["path"] == "bench.ipynb")
        kc = BlockingKernelClient(
            connection_file=str(workdir / "lab" / "runtime" / f"kernel-{kid}.json")
        )
        kc.load_connection_file()
        kc.start_channels()
        reply = kc.execute(
            "", silent=True, user_expressions={"c": "json.dumps(commits)"}, reply=True, timeout=30
        )
        kc.stop_channels()
        commits = json.loads(reply["content"]["user_expressions"]["c"]["data"]["text/plain"][1:-1])
        page.close()
        return lat, [c - k for k, c in zip(keys, commits, strict=False)]
    finally:
        stop_lab(proc, url, token)


MIXED_JS = """() => {
  window.__lat = []; window.__kt = []; window.__et = []; window.__t0 = null;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.name === 'keydown') window.__et.push([e.startTime, e.duration]);
    }
  }).observe({ type: 'event', durationThreshold: 16 });
  window.addEventListener('keydown', (e) => {
    window.__t0 = e.timeStamp; window.__kt.push(e.timeStamp);
  }, true);
  for (const root of document.querySelectorAll('.prefnb-labeler')) new MutationObserver(() => {
    const t0 = window.__t0; if (t0 === null) return; window.__t0 = null;
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => window.__lat.push(performance.now() - t0);
      ch.port2.postMessage(null);
    });
  }).observe(root, { attributes: true, attributeFilter: ['data-pos', 'data-pair-id'] });
}"""


def counted_keys(page: Any, idx: list[int]) -> dict[str, list[float]]:
    """Of the keys MIXED_JS recorded in ``page``, those at ``idx``: keypress → painted
    (``lat``) and Event Timing's keydown → presented (``event``, 0 when under 16 ms)."""
    page.wait_for_timeout(300)  # Event Timing entries are delivered after the frame
    lat: list[float] = page.evaluate("() => window.__lat")
    keys: list[float] = page.evaluate("() => window.__kt")
    timing = {round(s, 1): d for s, d in page.evaluate("() => window.__et")}
    return {
        "lat": [lat[i] for i in idx],
        "event": [timing.get(round(keys[i], 1), 0.0) for i in idx],
    }


def bench_lab_mixed(browser: Any, n: int, workdir: Path, block: int) -> dict[str, Any]:
    """The floor and the Labeler in one notebook, keys alternating between them in blocks.

    Both widgets share the page, the kernel, the server and the machine's load at every
    moment, so their difference is the widgets' own. The first key of each block is not
    counted (it follows a focus change).
    """
    import random

    proc, url, token, root = start_lab(workdir / "lab")
    try:
        write_pairs(root, n)
        cells = [FLOOR_CELL.format(esm=FLOOR_ESM, count=n + 5), LAB_CELL]
        write_notebook(root / "mixed.ipynb", cells)
        # Tall enough that both widgets are on screen: an offscreen one is never painted.
        page = open_notebook(browser, url, token, "mixed.ipynb", height=1600)
        page.wait_for_function(
            "() => document.querySelectorAll('.prefnb-labeler[data-pos]').length === 2"
        )
        page.wait_for_timeout(1500)
        page.evaluate(MIXED_JS)
        jitter = random.Random(1)
        which: list[int] = []
        for i in range(2 * n):
            w = (i // block) % 2  # 0: floor, 1: Labeler
            if i % block == 0:
                page.evaluate(
                    "w => document.querySelectorAll('.prefnb-labeler')[w]"
                    ".focus({ preventScroll: true })",
                    w,
                )
                page.wait_for_timeout(100)
            which.append(w)
            page.keyboard.press("1")
            page.wait_for_function("k => window.__lat.length >= k", arg=i + 1)
            extra = jitter.uniform(0, 1000 / 60) if PHASE[0] == "random" else 0.0
            page.wait_for_timeout(GAP_MS[0] + extra)
        out: dict[str, Any] = {"load": load(), "block": block}
        for w, name in ((0, "floor"), (1, "labeler")):
            idx = [i for i in range(2 * n) if which[i] == w and i % block]
            out[name] = counted_keys(page, idx)
        page.close()
        return out
    finally:
        stop_lab(proc, url, token)


def block_page(b: int, pages: int) -> int:
    """The page that key block ``b`` goes to: cycles through the pages, every other cycle
    in reverse after the floor, so each page follows each other page equally often and no
    page always inherits the same neighbour's trailing work. Page 2 still tends to do
    worse than page 3: the same bundle in both gave 13-32 keys ≥ 32 ms in page 2 against
    7-20 in page 3 over five runs (2026-12-07), so compare two bundles with ``--against``
    both ways round, over several runs. With two pages (floor, Labeler), putting the
    Labeler first moved nothing beyond the noise.

    >>> [block_page(b, 3) for b in range(6)]
    [0, 1, 2, 0, 2, 1]
    """
    cycle, k = divmod(b, pages)
    return k if k == 0 or cycle % 2 == 0 else pages - k


def bench_lab_solo(
    browser: Any,
    n: int,
    workdir: Path,
    block: int,
    against: Path | None = None,
    pair_floor: bool = False,
) -> dict[str, Any]:
    """The floor and the Labeler each alone in its own notebook page, keys alternating
    between the pages in blocks.

    ``--lab-mixed`` puts both in one page, where the Labeler's composited layers also
    weigh on the floor's frames. Here each page holds one widget, as a user's does, while
    the machine's load is still shared block by block. The first key of each block is not
    counted (it follows a focus change). ``against``: a third page runs the Labeler with
    that front-end bundle (a build of another commit), for a before/after in one run.
    ``pair_floor``: another page runs the pair floor (PAIR_FLOOR_ESM).
    """
    import random

    proc, url, token, root = start_lab(workdir / "lab")
    try:
        write_widget_notebooks(root, n)
        widgets = [("floor", "floor.ipynb"), ("labeler", "bench.ipynb")]
        if pair_floor:
            widgets.insert(1, ("pair floor", "pairfloor.ipynb"))
        if against is not None:
            # Its own store: two Labelers on one file see each other's labels as outside
            # writes.
            cell = LAB_CELL.replace("prefnb.Labeler(", "Against(").replace(
                '"labels.sqlite"', '"against.sqlite"'
            )
            cell = AGAINST_CLASS.format(bundle=str(against.resolve())) + cell
            write_notebook(root / "against.ipynb", [cell])
            widgets.append(("against", "against.ipynb"))
        pages = [open_notebook(browser, url, token, nb) for _, nb in widgets]
        for page in pages:
            page.locator(".prefnb-labeler[data-pos='0']").wait_for()
        for page in pages:
            page.wait_for_timeout(1000)
            page.evaluate(MIXED_JS)
        jitter = random.Random(1)
        counted: list[list[int]] = [[] for _ in pages]
        pressed = [0 for _ in pages]
        for i in range(len(pages) * n):
            w = block_page(i // block, len(pages))  # an index in widgets
            page = pages[w]
            if i % block == 0:
                page.bring_to_front()
                page.locator(".prefnb-labeler").focus()
                page.wait_for_timeout(100)
            else:
                counted[w].append(pressed[w])
            page.keyboard.press("1")
            pressed[w] += 1
            page.wait_for_function("k => window.__lat.length >= k", arg=pressed[w])
            extra = jitter.uniform(0, 1000 / 60) if PHASE[0] == "random" else 0.0
            page.wait_for_timeout(GAP_MS[0] + extra)
        out: dict[str, Any] = {"load": load(), "block": block, "where": "each in its own page"}
        if against is not None:
            out["against_bundle"] = str(against)
        for w, (name, _) in enumerate(widgets):
            out[name] = counted_keys(pages[w], counted[w])
            pages[w].close()
        return out
    finally:
        stop_lab(proc, url, token)


#: Chromium's process kinds, by the ``--type`` flag of their command line.
CHROMIUM_KINDS = (
    ("--type=renderer", "Chromium renderer"),
    ("--type=gpu-process", "Chromium compositor (viz)"),
    ("--type=utility", "Chromium utility"),
    ("--type=", "Chromium other"),
)


def cpu_by_process(server_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the browser's processes, by kind, and by
    the JupyterLab server and its kernels."""
    import psutil

    out: dict[str, float] = {}
    lab = {server_pid} | {c.pid for c in psutil.Process(server_pid).children(recursive=True)}
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if proc.info["pid"] in lab:
            kind = "kernel" if "ipykernel" in cmd else "Jupyter server"
        elif "chromium" in cmd:
            kind = next((name for flag, name in CHROMIUM_KINDS if flag in cmd), "Chromium browser")
        else:
            continue
        try:
            times = proc.cpu_times()
        except psutil.Error:  # ended since it was listed
            continue
        out[kind] = out.get(kind, 0.0) + times.user + times.system
    return out


def ready_page(browser: Any, url: str, token: str, nb: str) -> Any:
    """Notebook ``nb`` open and run, its widget showing its first item, settled, measured
    (MIXED_JS) and focused: ready for ``press_keys``."""
    page = open_notebook(browser, url, token, nb)
    page.locator(".prefnb-labeler[data-pos='0']").wait_for()
    page.wait_for_timeout(1500)
    page.evaluate(MIXED_JS)
    page.locator(".prefnb-labeler").focus()
    page.wait_for_timeout(1000)
    return page


def press_keys(page: Any, n: int, jitter: Any) -> None:
    """``n`` keys, each ``--gap-ms`` after the last one's paint (plus up to a frame of
    ``jitter``, a ``random.Random``, when given), then time for the last key's upkeep and
    its label's reply."""
    for i in range(n):
        page.keyboard.press("1")
        page.wait_for_function("k => window.__lat.length >= k", arg=i + 1)
        extra = jitter.uniform(0, 1000 / 60) if jitter is not None else 0.0
        page.wait_for_timeout(GAP_MS[0] + extra)
    page.wait_for_timeout(500)


#: Trace categories with Chromium's per-input EventLatency stages and the compositor's draws.
TRACE_CATEGORIES = ["cc", "benchmark", "input", "viz", "devtools.timeline"]


def trace_events(path: Path) -> list[dict[str, Any]]:
    import json

    data = json.loads(path.read_text())
    return data["traceEvents"] if isinstance(data, dict) else data


def key_stages(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chromium's EventLatency breakdown of each keydown: its total (input to presentation)
    and the duration of each stage (async trace events nested under it, same id)."""
    import json

    spans = sorted(
        (e for e in events if e.get("ph") in ("b", "e") and "id2" in e), key=lambda e: e["ts"]
    )
    open_keys: dict[tuple[int, str], dict[str, Any]] = {}
    starts: dict[tuple[tuple[int, str], str], float] = {}
    out = []
    for e in spans:
        k = (e["pid"], json.dumps(e["id2"]))
        if e["name"] == "EventLatency":
            if e["ph"] == "b":
                kind = e.get("args", {}).get("event_latency", {}).get("event_type")
                open_keys[k] = {"kind": kind, "ts": e["ts"], "stages": {}}
            elif k in open_keys:
                key = open_keys.pop(k)
                key["total"] = (e["ts"] - key["ts"]) / 1000
                out.append(key)
        elif k in open_keys:
            if e["ph"] == "b":
                starts[(k, e["name"])] = e["ts"]
            elif (k, e["name"]) in starts:
                begun = starts.pop((k, e["name"]))
                open_keys[k]["stages"][e["name"]] = (e["ts"] - begun) / 1000
    return [k for k in out if k["kind"] == "KEY_PRESSED"]


def compositor_draws(events: list[dict[str, Any]]) -> dict[str, float]:
    """The compositor's frames: how many it drew, their tiles (quads) and thread time."""
    draws = [e for e in events if e.get("ph") == "X" and e["name"] == "Display::DrawAndSwap"]
    tiles = sum(
        1 for e in events if e.get("ph") == "X" and e["name"] == "SoftwareRenderer::DoDrawQuad"
    )
    return {
        "draws": len(draws),
        "tiles": tiles,
        "ms": sum(e.get("tdur", e["dur"]) for e in draws) / 1000,
    }


def each_widget_alone(
    browser: Any, n: int, workdir: Path, measure: Any
) -> dict[str, dict[str, Any]]:
    """The floor and then the Labeler, each alone in a JupyterLab notebook page, ready for
    keys: ``measure(name, page, server_pid)`` presses them and returns what it measured,
    which comes back under the widget's name with the load after it."""
    proc, url, token, root = start_lab(workdir / "lab")
    out: dict[str, dict[str, Any]] = {}
    try:
        write_widget_notebooks(root, n)
        for name, nb in (("floor", "floor.ipynb"), ("labeler", "bench.ipynb")):
            page = ready_page(browser, url, token, nb)
            out[name] = {**measure(name, page, proc.pid), "load": load()}
            page.close()
        return out
    finally:
        stop_lab(proc, url, token)


def bench_lab_trace(browser: Any, n: int, workdir: Path) -> dict[str, Any]:
    """A Chromium trace of ``n`` keys for the floor and then the Labeler, each alone in a
    JupyterLab page: each key's EventLatency stages (where its time to the screen goes) and
    the compositor's draws per key."""
    import random

    def measure(name: str, page: Any, _server: int) -> dict[str, Any]:
        path = workdir / f"{name}.trace.json"
        browser.start_tracing(page=page, path=str(path), categories=TRACE_CATEGORIES)
        press_keys(page, n, jitter=random.Random(1))
        browser.stop_tracing()
        events = trace_events(path)
        return {"keys": key_stages(events), "draws": compositor_draws(events)}

    return each_widget_alone(browser, n, workdir, measure)


def print_lab_trace(run: dict[str, Any], n: int) -> None:
    floor, lab = run["floor"], run["labeler"]
    print(
        f"Chromium trace of {n} keys, each widget alone in a JupyterLab page, next key "
        f"{GAP_MS[0]} ms (+ up to a frame) after each paint; load {floor['load']} and "
        f"{lab['load']} after. EventLatency stages, p50 ms (slow: keys >= 32 ms)"
    )
    slow = {k: [x for x in run[k]["keys"] if x["total"] >= 32] for k in ("floor", "labeler")}
    print(f"{'stage':52} {'floor':>6} {'Labeler':>8} {'slow floor':>11} {'slow Labeler':>13}")
    names = sorted({s for k in ("floor", "labeler") for x in run[k]["keys"] for s in x["stages"]})
    rows = [("keydown → presented (EventLatency)", lambda x: x["total"])] + [
        (s, lambda x, s=s: x["stages"].get(s)) for s in names
    ]
    for label, get in rows:
        cols = []
        for keys in (floor["keys"], lab["keys"], slow["floor"], slow["labeler"]):
            values = [v for v in map(get, keys) if v is not None]
            cols.append(f"{pct(values, 50):.1f}" if len(values) > 1 else "-")
        if all(c in ("-", "0.0") for c in cols):
            continue
        print(f"{label[:52]:52} {cols[0]:>6} {cols[1]:>8} {cols[2]:>11} {cols[3]:>13}")
    print(f"{'keys >= 32 ms':52} {len(slow['floor']):>6} {len(slow['labeler']):>8}")
    for what, key in (("compositor draws", "draws"), ("tiles drawn", "tiles")):
        f, v = floor["draws"][key] / n, lab["draws"][key] / n
        print(f"{what + ' per key':52} {f:6.2f} {v:8.2f}")
    f, v = floor["draws"]["ms"] / n, lab["draws"]["ms"] / n
    print(f"{'compositor draw, ms of thread time per key':52} {f:6.2f} {v:8.2f}")


def bench_lab_cpu(browser: Any, n: int, workdir: Path) -> dict[str, Any]:
    """CPU per key, by process, for the floor and then the Labeler, each alone in a
    JupyterLab notebook page: where a key's work goes (renderer, compositor, server,
    kernel), which latency alone does not say. Keys at the usual pause (``--gap-ms``)."""

    def measure(_name: str, page: Any, server: int) -> dict[str, Any]:
        before, start = cpu_by_process(server), time.perf_counter()
        press_keys(page, n, jitter=None)
        after, wall = cpu_by_process(server), time.perf_counter() - start
        used = {k: (v - before.get(k, 0.0)) * 1000 / n for k, v in after.items()}
        return {"cpu": used, "wall": wall * 1000 / n}

    return each_widget_alone(browser, n, workdir, measure)


def print_lab_cpu(run: dict[str, Any], n: int) -> None:
    floor, lab = run["floor"], run["labeler"]
    print(
        f"CPU per key by process, each widget alone in a JupyterLab page, {n} keys, next key "
        f"{GAP_MS[0]} ms after each paint (a key every {floor['wall']:.0f} ms for the floor, "
        f"{lab['wall']:.0f} for the Labeler; load {floor['load']} and {lab['load']} after)"
    )
    print(f"{'process':28} {'floor':>7} {'Labeler':>8} {'added':>7}")
    kinds = sorted(set(floor["cpu"]) | set(lab["cpu"]), key=lambda k: -lab["cpu"].get(k, 0))
    for kind in kinds:
        f, v = floor["cpu"].get(kind, 0.0), lab["cpu"].get(kind, 0.0)
        if max(f, v) < 0.05:
            continue
        print(f"{kind:28} {f:7.1f} {v:8.1f} {v - f:+7.1f}")
    f, v = sum(floor["cpu"].values()), sum(lab["cpu"].values())
    total = f"{'all (ms of CPU per key)':28} {f:7.1f} {v:8.1f} {v - f:+7.1f}"
    print(f"{total}   Labeler/floor {v / f:.2f}×")


def print_lab_mixed(run: dict[str, Any], start_load: str) -> None:
    where = run.get("where", "in one JupyterLab notebook")
    print(
        f"Floor and Labeler {where}, keys alternating in blocks of "
        f"{run['block']} ({len(run['labeler']['lat'])} keys each counted); next key "
        f"{GAP_MS[0]} ms after each paint; load {start_load} at the start, {run['load']} at the end"
    )
    print(f"{'widget':10} {'p50':>6} {'p95':>6}   Event Timing keydown → presented")
    for name in ("floor", "pair floor", "labeler", "against"):
        if name not in run:
            continue
        r = run[name]
        ev = r["event"]
        counts = (
            f"< 16 ms: {sum(e < 16 for e in ev)}, 16 ms: {sum(16 <= e < 24 for e in ev)}, "
            f"24 ms: {sum(24 <= e < 32 for e in ev)}, ≥ 32 ms: {sum(e >= 32 for e in ev)}"
        )
        print(f"{name:10} {pct(r['lat'], 50):6.1f} {pct(r['lat'], 95):6.1f}   {counts}")
    f, lab = run["floor"]["lat"], run["labeler"]["lat"]
    print(
        f"Labeler/floor p50 {pct(lab, 50) / pct(f, 50):.2f}×, p95 {pct(lab, 95) / pct(f, 95):.2f}×"
    )
    if "pair floor" in run:
        pf = run["pair floor"]["lat"]
        print(
            f"Labeler/pair floor p50 {pct(lab, 50) / pct(pf, 50):.2f}×, "
            f"p95 {pct(lab, 95) / pct(pf, 95):.2f}×"
        )
    if "against" in run:
        a = run["against"]["lat"]
        print(
            f"against/floor p50 {pct(a, 50) / pct(f, 50):.2f}×, "
            f"p95 {pct(a, 95) / pct(f, 95):.2f}× (against: {run['against_bundle']})"
        )


def bench_team(browser: Any, n: int, workdir: Path) -> dict[str, Any]:
    """Solo Labeler, then team Labelers (overlap 2, claims prefetched) on SQLite and on a
    throwaway PostgreSQL cluster over loopback, in the same browser: one row each."""
    from prefnb.testing.pg_cluster import INSTALL_HINT, PgCluster, find_pg_bin

    runs: dict[str, Any] = {}
    runs["solo"] = bench_labeler(browser, n, workdir, name="solo")
    runs["solo_load"] = load()
    runs["team-sqlite"] = bench_labeler(
        browser, n, workdir, name="team-sqlite", overlap=2, lease_s=1800
    )
    runs["team-sqlite_load"] = load()
    if find_pg_bin() is None:
        print(f"PostgreSQL skipped: {INSTALL_HINT}")
        return runs
    with PgCluster() as pg:
        url = pg.label_store_url("bench_labeler")
        with LabelStore(url) as store:
            runs["team-postgresql"] = bench_labeler(
                browser, n, workdir, store=store, name="team-postgresql", overlap=2, lease_s=1800
            )
            runs["team-postgresql_load"] = load()
    return runs


def print_team(runs: dict[str, Any], n: int, gap_ms: int) -> None:
    print(
        f"Labeler bench, team mode: {n} labels, ~4 KB markdown responses, headless Chromium, "
        f"next key {gap_ms} ms (+ 0-16.7 ms jitter) after each paint; overlap 2, claims "
        "prefetched with the browser's look-ahead"
    )
    print(f"load average (1 min) on {os.cpu_count()} cores: {runs['start_load']} at the start")
    print(f"{'measure (ms)':40} {'p50':>6} {'p95':>6} {'max':>6} {'load':>5}  vs solo")
    solo_paint, _, solo_commit, solo_handler, _ = runs["solo"]
    for key, what in (
        ("solo", "solo Labeler, SQLite"),
        ("team-sqlite", "team Labeler (overlap 2), SQLite"),
        ("team-postgresql", "team Labeler (overlap 2), PostgreSQL over loopback"),
    ):
        if key not in runs:
            continue
        print(what)
        paint, _dom, commit, handler, stored = runs[key]
        for label, values, base in (
            ("keypress → next pair painted", paint, solo_paint),
            ("keypress → label committed", commit, solo_commit),
            ("kernel handler for one label", handler, solo_handler),
            ("  of which LabelStore.record", stored, None),
        ):
            ratio = (
                ""
                if base is None or key == "solo"
                else f"p50 {pct(values, 50) / pct(base, 50):.2f}×, "
                f"p95 {pct(values, 95) / pct(base, 95):.2f}×"
            )
            print(
                f"  {label:38} {pct(values, 50):6.1f} {pct(values, 95):6.1f} "
                f"{max(values):6.1f} {runs[key + '_load']:>5}  {ratio}"
            )


def load() -> str:
    """The 1-minute load average, to print beside every figure it may have moved."""
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--no-lab", action="store_true", help="skip the run inside a real JupyterLab"
    )
    parser.add_argument(
        "--gap-ms",
        type=int,
        default=30,
        help="pause after each paint before the next key (30: a hard case; people read for s)",
    )
    parser.add_argument(
        "--phase",
        choices=["random", "fixed"],
        default="random",
        help="key timing vs the 60 Hz frame clock (fixed: the old, worst-phase method)",
    )
    parser.add_argument(
        "--lab-nagle",
        action="store_true",
        help="run JupyterLab without prefnb.server_extension (Nagle's algorithm on the kernel "
        "websocket, as jupyter_server leaves it), to compare",
    )
    parser.add_argument(
        "--lab-mixed",
        type=int,
        metavar="BLOCK",
        help="only the floor and the Labeler in one JupyterLab notebook, keys alternating "
        "in blocks of BLOCK (same page, kernel and load for both)",
    )
    parser.add_argument(
        "--lab-solo",
        type=int,
        metavar="BLOCK",
        help="only the floor and the Labeler, each alone in its own JupyterLab notebook page, "
        "keys alternating between the pages in blocks of BLOCK (same server and load)",
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="BUNDLE",
        help="with --lab-solo: a third page runs the Labeler with this labeler.js (a build of "
        "another commit), so before and after share one run",
    )
    parser.add_argument(
        "--pair-floor",
        action="store_true",
        help="with --lab-solo: another page runs a floor that swaps in all the text the "
        "Labeler shows for a pair (prompt, both responses side by side), not one response",
    )
    parser.add_argument(
        "--lab-cpu",
        action="store_true",
        help="only CPU per key by process (Chromium renderer, compositor, Jupyter server, "
        "kernel) for the floor and the Labeler, each alone in a JupyterLab page",
    )
    parser.add_argument(
        "--lab-trace",
        action="store_true",
        help="only a Chromium trace of the floor and the Labeler, each alone in a JupyterLab "
        "page: each key's EventLatency stages, and the compositor's draws per key",
    )
    parser.add_argument(
        "--team",
        action="store_true",
        help="only keypress latencies of the solo Labeler beside team Labelers (SQLite, "
        "PostgreSQL) in one run",
    )
    args = parser.parse_args()
    GAP_MS[0] = args.gap_ms
    LAB_NODELAY[0] = not args.lab_nagle
    PHASE[0] = args.phase
    from playwright.sync_api import sync_playwright

    loads: dict[str, str] = {"start": load()}

    def in_browser(run: Any) -> Any:
        """``run(browser, workdir)`` in a fresh headless Chromium and temporary folder."""
        with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                return run(browser, Path(tmp))
            finally:
                browser.close()

    n = args.labels
    if args.lab_solo:
        solo = in_browser(
            lambda b, w: bench_lab_solo(b, n, w, args.lab_solo, args.against, args.pair_floor)
        )
        print_lab_mixed(solo, loads["start"])
        return
    if args.lab_mixed:
        print_lab_mixed(
            in_browser(lambda b, w: bench_lab_mixed(b, n, w, args.lab_mixed)), loads["start"]
        )
        return
    if args.lab_cpu:
        print_lab_cpu(in_browser(lambda b, w: bench_lab_cpu(b, n, w)), n)
        return
    if args.lab_trace:
        print_lab_trace(in_browser(lambda b, w: bench_lab_trace(b, n, w)), n)
        return
    if args.team:
        runs = {"start_load": loads["start"], **in_browser(lambda b, w: bench_team(b, n, w))}
        print_team(runs, n, args.gap_ms)
        return
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        workdir = Path(tmp)
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        floor, floor_dom = bench_floor(browser, args.labels)
        loads["floor"] = load()
        paint, dom, commit, handler, stored = bench_labeler(browser, args.labels, workdir)
        loads["labeler"] = load()
        alone = bench_store_alone(workdir, args.labels)
        loads["store"] = load()
        million = bench_million(browser, args.rows, workdir)
        loads["million"] = load()
        in_lab = None if args.no_lab else bench_lab(browser, args.labels, workdir)
        loads["lab"] = load()
        browser.close()

    def row(name: str, values: list[float], note: str, when: str) -> None:
        p50, p95 = pct(values, 50), pct(values, 95)
        print(f"{name:42} {p50:6.1f} {p95:6.1f} {max(values):6.1f} {loads[when]:>5}  {note}")

    def verdict(ok: bool) -> str:
        return "OK" if ok else "OVER"

    cores = os.cpu_count()
    print(
        f"Labeler bench: {args.labels} labels, ~4 KB markdown responses, headless Chromium, "
        f"next key {args.gap_ms} ms after each paint"
        + (" + 0-16.7 ms jitter (random frame phase)" if args.phase == "random" else
           " (fixed frame phase: the old method)")
    )  # fmt: skip
    print(f"load average (1 min) on {cores} cores: {loads['start']} at the start; 'load' below")
    print("is the load average right after each measurement")
    print(f"{'measure (ms)':42} {'p50':>6} {'p95':>6} {'max':>6} {'load':>5}  budget / baseline")
    p95, f95 = pct(paint, 95), pct(floor, 95)
    p50, f50 = pct(paint, 50), pct(floor, 50)
    row("keypress → next pair painted", paint, f"p95 ≤ 16: {verdict(p95 <= 16)}", "labeler")
    row(
        "  floor: swap prefetched plain text",
        floor,
        f"floor p95 ≤ 16: {verdict(f95 <= 16)}; Labeler/floor "
        f"p50 {p50 / f50:.2f}×, p95 {p95 / f95:.2f}×",
        "floor",
    )
    for name, what in (("labeler", "Labeler"), ("floor", "floor")):
        row(f"  {what}: rAF twice (anchors' end point)", EXTRA[name]["raf2"], "", name)
        row(f"  {what}: waiting for the frame clock", EXTRA[name]["wait"], "key → frame", name)
    print(
        "  Event Timing, the browser's own keydown → next frame presented (8 ms steps; it only"
        " reports ≥ 16):"
    )
    for name, what in (
        ("floor", "floor"),
        ("labeler", "Labeler"),
        ("labfloor", "floor in Lab"),
        ("lab", "Labeler in Lab"),
    ):
        if name in SLOW_KEYS:
            slow, total = SLOW_KEYS[name]
            bins = {"< 16": total - len(slow)}
            for lo, hi in ((16, 24), (24, 32), (32, 10**9)):
                label = f"{lo}" if hi - lo == 8 else f"≥ {lo}"
                bins[label] = sum(lo <= d < hi for d in slow)
            shown = ", ".join(f"{k} ms: {v}" for k, v in bins.items())
            print(f"    {what:15} {shown}   (of {total} keys)")
    for name, what in (("labfloor", "floor in Lab"), ("lab", "Labeler in Lab")):
        if phases := PHASES.get(name):
            delay, handlers, after = (statistics.median(p[i] for p in phases) for i in range(3))
            print(
                f"    {what}, keys ≥ 32 ms (median): input delay {delay:.1f}, handlers "
                f"{handlers:.1f}, handlers' end → frame presented {after:.1f}"
            )
    row("keypress → next pair in the DOM (JS only)", dom, "input delay + handler", "labeler")
    row("  floor: keypress → text in the DOM", floor_dom, "", "floor")
    c95 = pct(commit, 95)
    row(
        "keypress → label committed in SQLite", commit, f"p95 ≤ 50: {verdict(c95 <= 50)}", "labeler"
    )
    row("  kernel handler for one label", handler, "checks + store + reply", "labeler")
    row("    of which LabelStore.record", stored, "synchronous=FULL: one fsync", "labeler")
    added = pct(commit, 50) - pct(alone, 50)
    row(
        "  baseline: LabelStore.record alone",
        alone,
        f"browser path adds {added:.1f} at p50",
        "store",
    )
    print("  (static page: the page reaches Python through Playwright's expose_function)")
    if in_lab is not None:
        lab_paint, lab_commit = in_lab
        lp95, lc95 = pct(lab_paint, 95), pct(lab_commit, 95)
        ws = (
            "TCP_NODELAY (prefnb.server_extension)"
            if LAB_NODELAY[0]
            else "Nagle's algorithm on (--lab-nagle)"
        )
        print(f"inside a real JupyterLab (websocket comm, ipykernel; kernel websocket: {ws}):")
        lf95, lf50 = pct(LAB_FLOOR, 95), pct(LAB_FLOOR, 50)
        row(
            "  keypress → next pair painted",
            lab_paint,
            f"p95 ≤ 16: {verdict(lp95 <= 16)}; Labeler/floor in Lab p50 "
            f"{pct(lab_paint, 50) / lf50:.2f}×, p95 {lp95 / lf95:.2f}×",
            "lab",
        )
        row(
            "  floor in the same Lab",
            LAB_FLOOR,
            f"floor p95 ≤ 16: {verdict(lf95 <= 16)}; /static floor p95 {lf95 / f95:.2f}×",
            "lab",
        )
        row("    rAF twice (anchors' end point)", EXTRA["lab"]["raf2"], "", "lab")
        row("    waiting for the frame clock", EXTRA["lab"]["wait"], "key → frame", "lab")
        row(
            "  keypress → label committed in SQLite",
            lab_commit,
            f"p95 ≤ 50: {verdict(lc95 <= 50)}",
            "lab",
        )
    m = million
    paint_ok = verdict(m["first_paint_s"] <= 1)
    mem_ok = verdict(m["overhead"] <= 0.2)
    print(f"{args.rows:,}-row DataFrame (load {loads['million']}):")
    print(f"  Labeler() {m['construct_s']:.2f} s; first pair painted {m['first_paint_s']:.2f} s")
    print(f"    after the cell started (budget ≤ 1 s: {paint_ok})")
    print(f"  DataFrame {m['df_mb']:.0f} MB RSS; the Labeler adds {m['labeler_mb']:.1f} MB")
    print(f"    = {m['overhead']:.1%} (budget ≤ 20%: {mem_ok})")
    print(f"  pairs sent to the browser: {m['items_in_browser']:.0f} of {args.rows:,}")
    print(
        f"  reopened with {m['resume_labels']:,.0f} labels: Labeler() {m['resume_construct_s']:.2f}"
        f" s; pair {m['resume_labels']:,.0f} (the first unlabeled) painted "
        f"{m['resume_paint_s']:.2f} s after the cell started"
    )


if __name__ == "__main__":
    main()
