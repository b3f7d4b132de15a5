"""Metrics charts at scale: 10 jobs × 100,000 steps × 4 metrics, beside naive baselines.

Measures, in one run:
  1. tidy frame from API-shaped metric rows (dicts, as ``list_metrics`` returns them):
     prefnb (rows grouped by key set → float arrays → vectorised tidy) vs a per-row Python loop;
  2. the figure: built in Python, serialised, then parsed and drawn by Plotly.js in headless
     Chromium (WebGL, M4-downsampled) vs the same figure without downsampling;
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


def tidy_prefnb(all_rows: dict[str, list[dict[str, float]]]) -> tuple[MetricsStore, pd.DataFrame]:
    store = MetricsStore()
    for job, rows in all_rows.items():
        store.add(series_from_wide(rows_columns(rows), job))
    return store, store.frame()


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


def build_figure(store: MetricsStore, jobs: list[str], max_points: int) -> MetricsFigure:
    return MetricsFigure(
        refresher_for(store),
        METRICS,
        smoothing=0.6,
        theme="light",
        max_points=max_points,
        labels={j: j for j in jobs},
    )


PAGE = """<!doctype html><meta charset="utf-8"><script src="plotly.min.js"></script>
<div id="g" style="width:1200px;height:900px"></div>"""

RENDER_JS = """async (url) => {
  const t0 = performance.now();
  const fig = await (await fetch(url)).json();
  const t1 = performance.now();
  await Plotly.newPlot('g', fig.data, fig.layout);
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const t2 = performance.now();
  Plotly.purge('g');
  return {fetch_parse: t1 - t0, plot: t2 - t1, total: t2 - t0};
}"""


def render_in_chromium(payloads: dict[str, str], timeout_s: float = 180) -> dict[str, Any]:
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
    out: dict[str, Any] = {}
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=["--no-sandbox", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"],
            )
            page = b.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(timeout_s * 1000)
            page.goto(f"{url}/index.html")
            page.wait_for_function("window.Plotly !== undefined")
            page.evaluate(RENDER_JS, f"{url}/{next(iter(payloads))}.json")  # warm-up (JIT, GL)
            for name in payloads:
                try:
                    out[name] = page.evaluate(RENDER_JS, f"{url}/{name}.json")
                except Exception as e:  # a baseline may not finish; report rather than abort
                    out[name] = {"error": str(e).splitlines()[0]}
            b.close()
    finally:
        srv.shutdown()
    return out


KERNEL_CODE = r"""
import sys, time, statistics, json
sys.path.insert(0, {bench!r}); sys.path.insert(0, {root!r})
from plots import make_rows, tidy_prefnb, build_figure
from prefnb.training_metrics.tidy import rows_columns
from prefnb.training_metrics.tidy import series_from_wide
from IPython.display import display
J, N = {jobs}, {steps}
jobs = [f"ft-bench-{{i:02d}}" for i in range(J)]
rows = {{j: make_rows(i, 0, N) for i, j in enumerate(jobs)}}
store, _ = tidy_prefnb(rows)
fig = build_figure(store, jobs, 2000)
display(fig)
inc, inc_cpu = [], []
for k in range({rounds}):
    start = N + k * 100
    new = {{j: make_rows(i, start, start + 100) for i, j in enumerate(jobs)}}  # not timed
    t, c = time.perf_counter(), time.process_time()
    for j, r in new.items():
        store.add(series_from_wide(rows_columns(r), j))
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
    f2 = build_figure(st2, jobs, 2000)  # and the figure from scratch (full EMA + M4)
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
    rows = {j: make_rows(i, 0, n_steps) for i, j in enumerate(jobs)}
    print(f"  {sum(map(len, rows.values())):,} API rows (dicts) generated, not timed")

    print("\n1. tidy frame from API rows")
    with Timer() as t_tidy:
        store, df = tidy_prefnb(rows)
    print(f"  prefnb         {t_tidy}   {len(df):,} tidy rows")
    with Timer() as t_naive:
        naive_df = tidy_naive({jobs[0]: rows[jobs[0]]})
    assert len(naive_df) * n_jobs == len(df), (len(naive_df), len(df))
    print(
        f"  naive loop     {t_naive.wall * n_jobs * 1000:8.0f} ms wall "
        f"{t_naive.cpu * n_jobs * 1000:8.0f} ms cpu   (1 job measured, ×{n_jobs})"
        f"   ratio {t_naive.cpu * n_jobs / t_tidy.cpu:.1f}× (cpu)"
    )

    print("\n2. figure: loss, reward accuracy, KL chosen+rejected; EMA 0.6; raw faint + smoothed")
    build_figure(store, jobs[:1], 2000)  # plotly loads its validators once per process
    with Timer() as t_build:
        fig = build_figure(store, jobs, 2000)
    with Timer() as t_json:
        payload = fig.to_json()
    npts = sum(len(tr.x) for tr in fig.data)
    print(f"  prefnb build   {t_build}   {len(fig.data)} WebGL traces, {npts:,} points (M4)")
    print(f"  prefnb to_json {t_json}   {len(payload) / 1e6:.1f} MB")
    tiny = go.Figure(go.Scattergl(x=[1, 2, 3], y=[1, 3, 2])).to_json()
    payloads = {"floor": tiny, "prefnb": payload}
    if not args.skip_naive_render:
        with Timer() as t_build_n:
            fig_n = build_figure(store, jobs, 10**9)
        with Timer() as t_json_n:
            payloads["naive"] = fig_n.to_json()
        npts_n = sum(len(tr.x) for tr in fig_n.data)
        print(f"  naive build    {t_build_n}   no downsampling, {npts_n:,} points")
        print(f"  naive to_json  {t_json_n}   {len(payloads['naive']) / 1e6:.1f} MB")
        del fig_n
    if not args.no_browser:
        res = render_in_chromium(payloads)
        for name, r in res.items():
            if "error" in r:
                print(f"  {name:6} Chromium: did not finish ({r['error']})")
                continue
            what = " (a 3-point figure: page + Plotly overhead)" if name == "floor" else ""
            print(
                f"  {name:6} Chromium: fetch+parse {r['fetch_parse']:6.0f} ms, "
                f"newPlot+2 frames {r['plot']:6.0f} ms, total {r['total']:6.0f} ms{what}"
            )
        ours = res.get("prefnb", {})
        if "total" in ours:
            kernel = t_tidy.cpu + t_build.cpu + t_json.cpu
            print(
                f"  prefnb end to end: kernel {kernel * 1000:.0f} ms cpu "
                f"+ Chromium {ours['total']:.0f} ms = {kernel * 1000 + ours['total']:.0f} ms"
            )
            base = res.get("naive", {})
            if "total" in base:
                nk = t_naive.cpu * n_jobs + t_build_n.cpu + t_json_n.cpu
                print(
                    f"  naive  end to end: kernel {nk * 1000:.0f} ms cpu "
                    f"+ Chromium {base['total']:.0f} ms = {nk * 1000 + base['total']:.0f} ms"
                    f"   ratio {(nk * 1000 + base['total']) / (kernel * 1000 + ours['total']):.1f}×"
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
