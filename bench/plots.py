"""Metrics charts at scale: 10 jobs × 100,000 steps × 4 metrics, beside naive baselines.

Measures, in one run:
  1. tidy frame from API-shaped metric rows (dicts, as ``list_metrics`` returns them):
     prefnb (rows grouped by key set → float arrays → vectorised tidy) vs a per-row Python loop;
  2. the figure: built in Python, serialised, then parsed and drawn by Plotly.js in headless
     Chromium (M4-downsampled, SVG as render="auto" picks) vs the same figure forced to WebGL,
     a 3-point WebGL chart (WebGL's set-up floor) and the figure without downsampling;
  3. a live refresh adding 100 steps to every job, timed INSIDE a real IPython kernel with the
     FigureWidget displayed (so widget messages are really serialised and sent): prefnb's
     incremental update vs rebuilding the tidy frame and figure from scratch.

Run:
    .venv/bin/python bench/plots.py                 # full size
    .venv/bin/python bench/plots.py --steps 20000   # quicker
Options: --no-browser, --no-kernel, --skip-naive-render (the no-downsampling render is slow).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prefnb.plots.curves import MetricsFigure  # noqa: E402
from prefnb.training_metrics import MetricsStore, Refresher, classify  # noqa: E402
from prefnb.training_metrics.tidy import (  # noqa: E402
    TIDY_COLUMNS,
    rows_columns,
    series_from_wide,
)

METRICS = ("loss", "accuracy", "kl")  # kl = chosen + rejected → 4 logged metrics


def make_rows(job: int, start: int, stop: int, eval_every: int = 500) -> list[dict[str, float]]:
    """Together-shaped rows for steps [start, stop): 4 train metrics, eval rows every N steps."""
    rng = np.random.default_rng(job * 1_000_003 + start)
    steps = np.arange(start, stop)
    beta = 0.05 * (job + 1)
    prog = steps / 100_000
    loss = 0.69 * np.exp(-3 * beta * prog) + 0.02 * rng.normal(size=len(steps))
    acc = np.clip(0.5 + 0.4 * (1 - np.exp(-4 * prog)) + 0.03 * rng.normal(size=len(steps)), 0, 1)
    klc = 50 * prog / beta * (1 + 0.05 * rng.normal(size=len(steps)))
    klr = 90 * prog / beta * (1 + 0.05 * rng.normal(size=len(steps)))
    ts = 1.75e9 + steps * 0.5
    rows: list[dict[str, float]] = []
    for i, s in enumerate(steps.tolist()):
        rows.append(
            {
                "train/loss": float(loss[i]),
                "train/reward/accuracy": float(acc[i]),
                "train/approx. KL/chosen": float(klc[i]),
                "train/approx. KL/rejected": float(klr[i]),
                "train/global_step": float(s),
                "timestamp": float(ts[i]),
            }
        )
        if s % eval_every == 0:
            rows.append(
                {
                    "eval/loss": float(loss[i]) + 0.01,
                    "train/global_step": float(s),
                    "timestamp": ts[i],
                }
            )
    return rows


def api_like_series(rows: list[dict[str, float]], job: str) -> Any:
    """What prefnb does with one job's API rows (see prefnb.training_metrics.sources)."""
    has: dict[str, Any] = {}
    return series_from_wide(rows_columns(rows, has), job, present=has, owned=True)


def tidy_prefnb(all_rows: dict[str, list[dict[str, float]]]) -> tuple[MetricsStore, pd.DataFrame]:
    store = MetricsStore()
    for job, rows in all_rows.items():
        store.add(api_like_series(rows, job))
    return store, store.frame()


def tidy_stages(all_rows: dict[str, list[dict[str, float]]]) -> tuple[MetricsStore, pd.DataFrame]:
    """tidy_prefnb with each stage timed: rows → columns (per-row dict reads), columns →
    store (vectorised), store → tidy frame (vectorised)."""
    with Timer() as t_cols:
        cols = {}
        for job, rows in all_rows.items():
            has: dict[str, Any] = {}
            cols[job] = (rows_columns(rows, has), has)
    with Timer() as t_store:
        store = MetricsStore()
        for job, c in cols.items():
            store.add(series_from_wide(c[0], job, present=c[1], owned=True))
    with Timer() as t_frame:
        df = store.frame()
    print(f"    rows → float columns  {t_cols}   (reads every dict: per-row by nature)")
    print(f"    columns → store       {t_store}   (numpy)")
    print(f"    store → tidy frame    {t_frame}   (numpy, categoricals; prefnb.metrics() only)")
    STAGES.update(cols=t_cols.cpu, store=t_store.cpu, frame=t_frame.cpu)
    WALL.update(cols=t_cols.wall, store=t_store.wall, frame=t_frame.wall)
    return store, df


STAGES: dict[str, float] = {}
WALL: dict[str, float] = {}


def tidy_naive(all_rows: dict[str, list[dict[str, float]]]) -> pd.DataFrame:
    """The obvious loop: one dict per (row, key)."""
    out: list[dict[str, Any]] = []
    for job, rows in all_rows.items():
        for r in rows:
            step = int(r["train/global_step"])
            t = pd.Timestamp(r["timestamp"], unit="s", tz="UTC")
            for k, v in r.items():
                info = classify(k)
                if info.role != "value":
                    continue
                out.append(
                    {
                        "job_id": job,
                        "step": step,
                        "split": info.split,
                        "metric": info.metric,
                        "raw_key": k,
                        "value": v,
                        "logged_at": t,
                    }
                )
    return pd.DataFrame(out, columns=list(TIDY_COLUMNS))


def refresher_for(store: MetricsStore) -> Refresher:
    return Refresher([], store=store)


def build_figure(
    store: MetricsStore, jobs: list[str], max_points: int | None = None, render: Any = "auto"
) -> MetricsFigure:
    return MetricsFigure(
        refresher_for(store),
        METRICS,
        smoothing=0.6,
        theme="light",
        max_points=max_points,
        labels={j: j for j in jobs},
        render=render,
    )


PAGE = """<!doctype html><meta charset="utf-8">
<script src="plotly.min.js"></script>
<script>window.plotlyReadyAt = performance.now();</script>
<body style="margin:0"></body>"""

# Handing the figure to the page → painted: JSON.parse of the figure text (typed arrays stay
# base64 until Plotly decodes them), Plotly.newPlot into a fresh div (as a new notebook output
# would get), then two animation frames so the frame holding the chart has been produced.
RENDER_JS = """async ([name, config]) => {
  const text = window.payloads[name];
  const d = document.createElement('div');
  d.style.cssText = 'width:1200px;height:900px';
  document.body.appendChild(d);
  const t0 = performance.now();
  const fig = JSON.parse(text);
  const t1 = performance.now();
  await Plotly.newPlot(d, fig.data, fig.layout, config);
  const t2 = performance.now();
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const t3 = performance.now();
  window.lastDiv = d;
  return {parse: t1 - t0, newplot: t2 - t1, frames: t3 - t2, total: t3 - t0};
}"""
# Untimed: the figure text is fetched into the page first (transport is not the browser's cost).
LOAD_JS = """async (names) => {
  window.payloads = {};
  for (const n of names) window.payloads[n] = await (await fetch(n + '.json')).text();
}"""
# Release the chart's WebGL contexts now rather than at some later GC, so one timed round does
# not pay for the previous round's GPU memory.
PURGE_JS = """() => {
  for (const c of window.lastDiv.querySelectorAll('canvas')) {
    const gl = c.getContext('webgl');
    if (gl) gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
  Plotly.purge(window.lastDiv); window.lastDiv.remove();
}"""


def _tree_cpu_ms() -> float:
    """CPU time (user + system) used so far by this process's descendants: the Playwright
    driver and every Chromium process (browser, renderer, GPU/SwiftShader). On a loaded machine
    wall time includes waiting for a core; CPU time does not."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    kids: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        f = stat.rsplit(")", 1)[1].split()
        kids.setdefault(int(f[1]), []).append(int(d))
        cpu[int(d)] = (int(f[11]) + int(f[12])) * 1000 / tick
    total, todo = 0.0, list(kids.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo += kids.get(pid, [])
    return total


def _timed(page: Any, script: str, arg: Any) -> dict[str, float]:
    c0 = _tree_cpu_ms()
    r: dict[str, float] = page.evaluate(script, arg)
    r["cpu"] = _tree_cpu_ms() - c0
    return r


def render_in_chromium(
    payloads: dict[str, str],
    config: dict[str, Any],
    rounds: int = 3,
    heavy: frozenset[str] = frozenset({"naive"}),
    timeout_s: float = 180,
) -> dict[str, Any]:
    """Cold and warm render times per payload (medians over ``rounds``).

    cold: a fresh browser context (empty HTTP and code caches) loads the page; the figure is the
    page's first. Reported as plotly.js ready (navigation start → script executed) + the first
    render. warm: plotly.js loaded and another chart already drawn in the page, as in a notebook
    after its first chart; each round renders into a new div, purged after timing. ``heavy``
    payloads (the undownsampled baseline) are rendered once, warm only.
    """
    import plotly
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="prefnb-bench-"))
    (tmp / "index.html").write_text(PAGE)
    js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    (tmp / "plotly.min.js").write_bytes(js.read_bytes())
    for name, text in payloads.items():
        (tmp / f"{name}.json").write_text(text)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: Any, **k: Any) -> None:
            super().__init__(*a, directory=str(tmp), **k)

        def log_message(self, *a: Any) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    names = list(payloads)
    cold: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    warm: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    errors: dict[str, str] = {}

    def open_page(ctx: Any, load: list[str]) -> Any:
        page = ctx.new_page()
        page.set_default_timeout(timeout_s * 1000)
        page.goto(f"{url}/index.html")
        page.wait_for_function("window.Plotly !== undefined")
        page.evaluate(LOAD_JS, load)
        return page

    try:
        with sync_playwright() as p:
            b = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=["--no-sandbox", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"],
            )
            vp = {"width": 1280, "height": 1000}
            # Untimed: start the GPU process once (a user's browser has it running already).
            ctx = b.new_context(viewport=vp)
            page = open_page(ctx, names[:1])
            page.evaluate(RENDER_JS, [names[0], config])
            ctx.close()
            for name in names:
                for _ in range(0 if name in heavy else rounds):
                    ctx = b.new_context(viewport=vp)
                    try:
                        page = open_page(ctx, [name])
                        ready = page.evaluate("window.plotlyReadyAt")
                        r = _timed(page, RENDER_JS, [name, config])
                        cold[name].append({**r, "plotly_ready": ready, "total": ready + r["total"]})
                    except Exception as e:  # a baseline may not finish; report, don't abort
                        errors[name] = str(e).splitlines()[0]
                        break
                    finally:
                        ctx.close()
            ctx = b.new_context(viewport=vp)
            page = open_page(ctx, names)
            page.evaluate(RENDER_JS, [names[0], config])  # the page's first chart
            page.evaluate(PURGE_JS)
            for i in range(rounds):
                for name in names:
                    if name in errors or (name in heavy and i):
                        continue
                    try:
                        warm[name].append(_timed(page, RENDER_JS, [name, config]))
                        page.evaluate(PURGE_JS)
                    except Exception as e:
                        errors[name] = str(e).splitlines()[0]
            ctx.close()
            b.close()
    finally:
        srv.shutdown()

    def med(runs: list[dict[str, float]]) -> dict[str, float]:
        return {k: statistics.median(r[k] for r in runs) for k in runs[0]} if runs else {}

    return {n: {"cold": med(cold[n]), "warm": med(warm[n]), "error": errors.get(n)} for n in names}


KERNEL_CODE = r"""
import sys, time, statistics, json
sys.path.insert(0, {bench!r}); sys.path.insert(0, {root!r})
from plots import make_rows, tidy_prefnb, build_figure
from plots import api_like_series
from IPython.display import display
J, N = {jobs}, {steps}
jobs = [f"ft-bench-{{i:02d}}" for i in range(J)]
rows = {{j: make_rows(i, 0, N) for i, j in enumerate(jobs)}}
store, _ = tidy_prefnb(rows)
fig = build_figure(store, jobs)
display(fig)
inc, inc_cpu = [], []
for k in range({rounds}):
    start = N + k * 100
    new = {{j: make_rows(i, start, start + 100) for i, j in enumerate(jobs)}}  # not timed
    t, c = time.perf_counter(), time.process_time()
    for j, r in new.items():
        store.add(api_like_series(r, j))
    fig.update_data()
    inc.append((time.perf_counter() - t) * 1000)
    inc_cpu.append((time.process_time() - c) * 1000)
naive, naive_cpu = [], []
for k in range({naive_rounds}):
    start = N + ({rounds} + k) * 100
    new = {{j: make_rows(i, start, start + 100) for i, j in enumerate(jobs)}}
    t, c = time.perf_counter(), time.process_time()
    for j, r in new.items():
        rows[j] = rows[j] + r
    st2, _ = tidy_prefnb(rows)          # rebuild the tidy data from every row
    f2 = build_figure(st2, jobs)  # and the figure from scratch (full EMA + M4)
    display(f2)
    naive.append((time.perf_counter() - t) * 1000)
    naive_cpu.append((time.process_time() - c) * 1000)
    f2.close()
print("RESULT " + json.dumps({{"incremental_ms": inc, "incremental_cpu_ms": inc_cpu,
                              "naive_ms": naive, "naive_cpu_ms": naive_cpu}}))
"""


def live_refresh_in_kernel(jobs: int, steps: int, rounds: int = 20, naive_rounds: int = 3) -> Any:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        code = KERNEL_CODE.format(
            bench=str(Path(__file__).parent),
            root=str(ROOT),
            jobs=jobs,
            steps=steps,
            rounds=rounds,
            naive_rounds=naive_rounds,
        )
        lines: list[str] = []
        errors: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream":
                lines.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                errors.append("\n".join(msg["content"]["traceback"]))

        kc.execute_interactive(code, output_hook=hook, timeout=900)
        if errors:
            raise RuntimeError(errors[0])
        text = "".join(lines)
        return json.loads(text.split("RESULT ", 1)[1].splitlines()[0])
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


class Timer:
    """Wall and CPU time of a block; CPU time is what this process used (the machine may be
    shared, so wall time can include waiting for a core)."""

    def __enter__(self) -> Timer:
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.w0
        self.cpu = time.process_time() - self.c0

    def __str__(self) -> str:
        return f"{self.wall * 1000:8.0f} ms wall {self.cpu * 1000:8.0f} ms cpu"


def huge_pages() -> str:
    """The machine's transparent-huge-page policy. numpy asks for huge pages for large arrays;
    with ``defrag`` on ``madvise`` the kernel may compact memory on first touch, which can
    triple the cost of building a fresh multi-million-row frame on a long-running machine."""
    import os

    try:
        mode = Path("/sys/kernel/mm/transparent_hugepage/defrag").read_text().split()
        chosen = next(m.strip("[]") for m in mode if m.startswith("["))
    except (OSError, StopIteration):
        return "transparent huge pages: unknown"
    env = os.environ.get("NUMPY_MADVISE_HUGEPAGE", "numpy default")
    return (
        f"transparent huge pages: defrag={chosen}; NUMPY_MADVISE_HUGEPAGE={env} "
        "(run with NUMPY_MADVISE_HUGEPAGE=0 to see the frame without compaction stalls)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--jobs", type=int, default=10)
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--no-kernel", action="store_true")
    ap.add_argument("--skip-naive-render", action="store_true")
    args = ap.parse_args()
    n_jobs, n_steps = args.jobs, args.steps
    jobs = [f"ft-bench-{i:02d}" for i in range(n_jobs)]
    print(f"{n_jobs} jobs × {n_steps:,} steps × 4 metrics (+ eval every 500 steps)")
    print(f"  {huge_pages()}")
    rows = {j: make_rows(i, 0, n_steps) for i, j in enumerate(jobs)}
    print(f"  {sum(map(len, rows.values())):,} API rows (dicts) generated, not timed")

    print("\n1. tidy frame from API rows")
    with Timer() as t_tidy:
        store, df = tidy_stages(rows)
    print(f"  prefnb         {t_tidy}   {len(df):,} tidy rows")
    with Timer() as t_naive:
        naive_df = tidy_naive({jobs[0]: rows[jobs[0]]})
    assert len(naive_df) * n_jobs == len(df), (len(naive_df), len(df))
    print(
        f"  naive loop     {t_naive.wall * n_jobs * 1000:8.0f} ms wall "
        f"{t_naive.cpu * n_jobs * 1000:8.0f} ms cpu   (1 job measured, ×{n_jobs})"
        f"   ratio {t_naive.cpu * n_jobs / t_tidy.cpu:.1f}× (cpu)"
    )
    del naive_df

    print("\n2. figure: loss, reward accuracy, KL chosen+rejected; EMA 0.6; raw faint + smoothed")
    build_figure(store, jobs[:1])  # plotly loads its validators once per process
    with Timer() as t_build:
        fig = build_figure(store, jobs)
    with Timer() as t_json:
        payload = fig.to_json()
    npts = sum(len(tr.x) for tr in fig.data)
    kind = "WebGL" if fig.data[0].type == "scattergl" else "SVG"
    print(
        f"  prefnb build   {t_build}   {len(fig.data)} {kind} traces, {npts:,} points "
        f"(M4, ≤ {fig._max_points} per trace)"
    )
    print(
        f"  prefnb to_json {t_json}   {len(payload) / 1e6:.2f} MB (arrays as base64 typed arrays)"
    )
    tiny = go.Figure(go.Scattergl(x=[1, 2, 3], y=[1, 3, 2])).to_json()
    payloads = {"prefnb": payload, "webgl": build_figure(store, jobs, render="webgl").to_json()}
    payloads["floor"] = tiny
    if not args.skip_naive_render:
        with Timer() as t_build_n:
            fig_n = build_figure(store, jobs, 10**9)
        with Timer() as t_json_n:
            payloads["naive"] = fig_n.to_json()
        npts_n = sum(len(tr.x) for tr in fig_n.data)
        print(f"  naive build    {t_build_n}   no downsampling, {npts_n:,} points")
        print(f"  naive to_json  {t_json_n}   {len(payloads['naive']) / 1e6:.1f} MB")
        del fig_n
    kernel_ms = (t_tidy.cpu + t_build.cpu + t_json.cpu) * 1000
    kernel_cols_ms = kernel_ms - STAGES["cols"] * 1000
    print(
        f"  kernel total   {kernel_ms:8.0f} ms cpu  (tidy from API rows + build + to_json); "
        f"{kernel_cols_ms:.0f} ms cpu from float columns"
    )
    # What plot_metrics(job_ids) does: API rows → float columns → store → figure → JSON. It
    # never builds the tidy frame (only prefnb.metrics() and fig.frame() do).
    chart = {
        "cpu": (STAGES["cols"] + STAGES["store"] + t_build.cpu + t_json.cpu) * 1000,
        "total": (WALL["cols"] + WALL["store"] + t_build.wall + t_json.wall) * 1000,
    }
    if not args.no_browser:
        print("  Chromium (headless, SwiftShader software WebGL), medians of 3 (naive: 1 warm):")
        res = render_in_chromium(payloads, dict(fig._config))
        for name, r in res.items():
            if r["error"]:
                print(f"  {name:6} did not finish ({r['error']})")
            what = {
                "floor": "3-point Scattergl: WebGL setup floor",
                "naive": "no downsampling",
                "webgl": "the same figure, render='webgl'",
            }
            for kind in ("warm", "cold"):
                m = r[kind]
                if not m:
                    continue
                ready = f"plotly.js ready {m['plotly_ready']:5.0f} + " if kind == "cold" else ""
                print(
                    f"  {name:6} {kind}: {ready}parse {m['parse']:4.0f} + newPlot "
                    f"{m['newplot']:5.0f} + 2 frames {m['frames']:4.0f} = {m['total']:5.0f} ms wall"
                    f", Chromium cpu {m['cpu']:5.0f} ms"
                    + (f"   ({what[name]})" if name in what else "")
                )
        warm_m, cold_m = res["prefnb"]["warm"], res["prefnb"]["cold"]
        if warm_m and cold_m:
            # Compared with the goal: kernel CPU + the WARM render. A notebook loads plotly.js
            # once per page, so the per-figure cost is the warm one; cold is printed beside it.
            # Chromium CPU (all its processes, incl. software GL) is the load-independent figure;
            # wall time on this shared 2-core machine includes waiting for a core.
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"  load average (1, 5, 15 min) on {os.cpu_count()} cores: {load}")
            for label, key in (("cpu", "cpu"), ("wall", "total")):
                w, c, k = warm_m[key], cold_m[key], chart[key]
                print(
                    f"  GOAL ≤ 1000 ms [{label}] API rows → chart painted (plot_metrics' path: "
                    f"rows → store → figure → JSON, then warm render): {k:.0f} + {w:.0f} = "
                    f"{k + w:.0f} ms; first chart of a page (cold): {k + c:.0f} ms"
                )
            print(
                f"  with the tidy frame too (prefnb.metrics(), not needed by the chart) [cpu]: "
                f"{kernel_ms:.0f} + {warm_m['cpu']:.0f} = {kernel_ms + warm_m['cpu']:.0f} ms"
            )
            base = res.get("naive", {}).get("warm", {})
            if base:
                nk = (t_naive.cpu * n_jobs + t_build_n.cpu + t_json_n.cpu) * 1000
                print(
                    f"  naive (loop tidy, no downsampling) + warm render [cpu]: {nk:.0f} + "
                    f"{base['cpu']:.0f} = {nk + base['cpu']:.0f} ms   ratio "
                    f"{(nk + base['cpu']) / (kernel_ms + warm_m['cpu']):.1f}×"
                )

    if not args.no_kernel:
        print("\n3. live refresh (+100 steps per job) inside an IPython kernel, widget displayed")
        r = live_refresh_in_kernel(n_jobs, n_steps)
        for name, key in (("prefnb incremental", "incremental"), ("naive full rebuild", "naive")):
            wall, cpu = r[f"{key}_ms"], r[f"{key}_cpu_ms"]
            print(
                f"  {name}  median {statistics.median(wall):7.1f} ms wall "
                f"{statistics.median(cpu):7.1f} ms cpu   (n={len(wall)})"
            )
        ratio = statistics.median(r["naive_cpu_ms"]) / statistics.median(r["incremental_cpu_ms"])
        print(f"  ratio {ratio:.0f}× (cpu)")


if __name__ == "__main__":
    main()
