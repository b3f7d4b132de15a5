"""Charts use the space they are given: measured in Chromium, not assumed.

Each figure is drawn by plotly.js in headless Chromium at output widths of 700, 1,000 and
1,600 px, for 1 to 6 panels, in light and dark themes. The test reads the bounding boxes of
every rendered SVG text (figure, panel and axis titles, tick labels, notes) and of each
legend, and asserts that none overlaps another, none covers a panel it does not belong to,
a panel's "no data" note sits inside that panel's own frame, and nothing leaves the figure.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly
import pytest

import prefnb
from prefnb.labels import LabelStore
from prefnb.pairs import pairs_frame
from prefnb.training_metrics.tidy import build_frame, series_from_wide

pytestmark = pytest.mark.browser

WIDTHS = (700, 1000, 1600)
METRICS = ("loss", "accuracy", "kl", "learning_rate", "margin", "grad_norm")
SHOTS = Path(__file__).resolve().parents[2] / "bench" / "_work" / "screenshots"

# Draws the figure into a div of the given width (as an output area would be) and returns
# the boxes, relative to the figure, of what a reader sees.
MEASURE = r"""async ([fig, width]) => {
  document.body.innerHTML = '';
  const d = document.createElement('div');
  d.style.width = width + 'px';
  document.body.appendChild(d);
  await Plotly.newPlot(d, fig.data, fig.layout, {responsive: true});
  const root = d.querySelector('.main-svg').getBoundingClientRect();
  const rel = (r) => ({x0: r.left - root.left, y0: r.top - root.top,
                       x1: r.right - root.left, y1: r.bottom - root.top});
  const items = [];
  const add = (kind, el, owner) => {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && el.textContent !== '' || kind === 'legend')
      items.push({kind, owner, text: kind === 'legend' ? 'legend' : el.textContent, ...rel(r)});
  };
  d.querySelectorAll('.g-gtitle text').forEach(e => add('title', e, null));
  const fl = d._fullLayout;
  (fl.annotations || []).forEach((a, i) => {
    const g = d.querySelector(`.annotation[data-index="${i}"]`);
    if (!g || a.visible === false || !a.text) return;
    const ref = a.xref.endsWith(' domain') ? a.xref.split(' ')[0] : null;
    add(a.name && a.name.startsWith('panel-title') ? 'panel-title' : 'note',
        g.querySelector('text') || g, ref);
  });
  d.querySelectorAll('text').forEach(e => {
    const c = e.getAttribute('class') || '';
    const m = /^([xy]\d*)title$/.exec(c);
    if (m) add('axis-title', e, m[1]);
  });
  d.querySelectorAll('g[class$="tick"]').forEach(g => {
    const m = /^([xy]\d*)tick$/.exec(g.getAttribute('class'));
    const t = g.querySelector('text');
    if (m && t && g.style.display !== 'none' && t.style.display !== 'none'
        && t.getAttribute('display') !== 'none' && t.style.opacity !== '0')
      add('tick', t, m[1]);
  });
  d.querySelectorAll('g.legend').forEach(g => add('legend', g.querySelector('rect.bg') || g, null));
  const panels = {};
  for (const k of Object.keys(fl)) {
    const m = /^xaxis(\d*)$/.exec(k);
    if (!m) continue;
    const xa = fl[k], ya = fl['yaxis' + m[1]];
    if (!ya) continue;
    panels['x' + m[1]] = {y: 'y' + m[1], x0: xa._offset, x1: xa._offset + xa._length,
                          y0: ya._offset, y1: ya._offset + ya._length};
  }
  return {width: root.width, height: root.height, items, panels};
}"""


def _overlap(a: dict[str, Any], b: dict[str, Any], tol: float = 1.0) -> bool:
    return (
        a["x0"] + tol < b["x1"]
        and b["x0"] + tol < a["x1"]
        and a["y0"] + tol < b["y1"]
        and b["y0"] + tol < a["y1"]
    )


def _axis_panel(axis: str | None, panels: dict[str, Any]) -> str | None:
    if axis is None:
        return None
    if axis.startswith("x"):
        return axis
    return next((x for x, p in panels.items() if p["y"] == axis), None)


def layout_problems(m: dict[str, Any]) -> list[str]:
    """Every overlap, intrusion or escape in a measured figure, in words."""
    out: list[str] = []
    w, h = m["width"], m["height"]
    items, panels = m["items"], m["panels"]
    for a in items:
        if a["x0"] < -0.5 or a["y0"] < -0.5 or a["x1"] > w + 0.5 or a["y1"] > h + 0.5:
            out.append(f"outside the figure: {a['kind']} {a['text']!r}")
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            same_axis = a["kind"] == b["kind"] == "tick" and a["owner"] == b["owner"]
            if not same_axis and _overlap(a, b):
                out.append(f"overlap: {a['kind']} {a['text']!r} × {b['kind']} {b['text']!r}")
    for a in items:
        own = _axis_panel(a["owner"], panels)
        for x, p in panels.items():
            inside_own = a["kind"] == "note" and x == own
            if not inside_own and _overlap(a, p):
                out.append(f"{a['kind']} {a['text']!r} covers panel {x}")
        if a["kind"] == "note" and own in panels:
            p = panels[own]
            if not (
                a["x0"] >= p["x0"]
                and a["x1"] <= p["x1"]
                and a["y0"] >= p["y0"]
                and a["y1"] <= p["y1"]
            ):
                out.append(f"note {a['text']!r} is not inside its panel {own}")
    return out


@pytest.fixture(scope="module")
def plot_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1700, "height": 1200})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_content("<!doctype html><meta charset='utf-8'><body style='margin:0'></body>")
    page.add_script_tag(path=str(Path(plotly.__file__).parent / "package_data" / "plotly.min.js"))
    yield page
    context.close()
    assert not errors, errors


def runs(jobs: int = 4, n: int = 300, kl: bool = True) -> pd.DataFrame:
    """Together-shaped metrics of ``jobs`` runs (no KL logged when ``kl`` is False)."""
    series = []
    for j in range(jobs):
        s = np.arange(1, n + 1)
        wide = {
            "train/global_step": s,
            "train/loss": 0.69 * np.exp(-s / (80 + 20 * j)),
            "train/reward/accuracy": 0.5 + 0.4 * (1 - np.exp(-s / 50)),
            "train/learning_rate": 1e-5 * np.minimum(1, s / 30),
            "train/reward/margin": s * 0.01 * (j + 1),
            "train/grad_norm": 1 + np.sin(s / 7) ** 2,
            "train/epoch": s / 100,
        }
        if kl:
            wide["train/approx. KL/chosen"] = s * 0.01
            wide["train/approx. KL/rejected"] = s * 0.02
        series.extend(series_from_wide(pd.DataFrame(wide), f"ft-run-{j:02d}"))
    return build_frame(series)


# Legend entries as long as real ones (what differs between the jobs).
LABELS = {f"ft-run-{j:02d}": f"beta={b}, lr=1e-05" for j, b in enumerate((0.05, 0.1, 0.2, 0.5))}


def check(page: Any, fig: Any, name: str) -> list[dict[str, Any]]:
    """Draw ``fig`` at every width and assert its layout; returns the measurements."""
    text = fig.to_json()
    measured = []
    for width in WIDTHS:
        m = page.evaluate(MEASURE, [json.loads(text), width])
        measured.append(m)
        assert m["width"] == pytest.approx(width, abs=1), f"{name}: does not fill {width} px"
        problems = layout_problems(m)
        if width == 1000 or problems:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.locator(".main-svg").first.screenshot(path=str(SHOTS / f"{name}-{width}.png"))
        assert not problems, f"{name} at {width} px: {problems}"
    return measured


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("n", range(1, 7))
def test_plot_metrics_layout(plot_page: Any, n: int, theme: str) -> None:
    # n == 3: a TRL-like run without KL, so the KL panel must say so in its own frame
    frame = runs(kl=n != 3)
    fig = prefnb.plot_metrics(frame, metrics=METRICS[:n], smoothing=0.6, theme=theme, labels=LABELS)
    if n == 3:
        notes = [a for a in fig.layout.annotations if (a.name or "") == "nodata-2"]
        assert notes[0].visible is not False
    check(plot_page, fig, f"plot_metrics-{n}-{theme}")


def test_plot_metrics_layout_with_many_jobs_and_time_axis(plot_page: Any) -> None:
    frame = runs(jobs=10, kl=True)
    labels = {f"ft-run-{j:02d}": f"sweep point {j}, beta={0.05 * (j + 1):.2f}" for j in range(10)}
    fig = prefnb.plot_metrics(frame, metrics=METRICS[:4], x="epoch", labels=labels)
    check(plot_page, fig, "plot_metrics-10jobs")


def test_figure_follows_the_window_width(plot_page: Any) -> None:
    fig = prefnb.plot_metrics(runs(jobs=2), metrics=METRICS[:4], labels=LABELS)
    plot_page.set_viewport_size({"width": 1200, "height": 900})
    plot_page.evaluate(
        """async (fig) => {
        document.body.innerHTML = '<div id="out" style="width:100%"></div>';
        await Plotly.newPlot('out', fig.data, fig.layout, fig.config);
    }""",
        {**json.loads(fig.to_json()), "config": fig._config},
    )
    width = "() => document.querySelector('#out .main-svg').getBoundingClientRect().width"
    assert plot_page.evaluate(width) == pytest.approx(1200, abs=2)
    plot_page.set_viewport_size({"width": 800, "height": 900})
    plot_page.wait_for_function(f"({width})() < 820")
    assert plot_page.evaluate(width) == pytest.approx(800, abs=2)
    plot_page.set_viewport_size({"width": 1700, "height": 1200})


def dataset_store(path: Path, df: pd.DataFrame) -> LabelStore:
    """Three annotators labeling within milliseconds (as a test or a script does): the time
    axis must still get readable ticks."""
    store = LabelStore(path)
    verdicts = {"ana": "abab" * 5, "bo": "abba" * 5, "cy": "aabb" * 5}
    store.record_many(
        {"pair_id": pid, "annotator": who, "kind": "label", "verdict": v,
         "shown": "ab" if i % 2 else "ba"}
        for who, vs in verdicts.items()
        for i, (pid, v) in enumerate(zip(df["pair_id"], vs, strict=False))
    )  # fmt: skip
    return store


def label_times(path: Path, start: str, span: pd.Timedelta) -> None:
    """Spread the labels of the store at ``path`` evenly over ``span`` from ``start``, as if
    they had been made then (the store is append-only: the test lifts its guard, the next
    ``LabelStore`` puts it back)."""
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER events_no_update")
        ids = [i for (i,) in db.execute("SELECT id FROM events ORDER BY id")]
        t0 = pd.Timestamp(start, tz="UTC")
        step = span / max(len(ids) - 1, 1)
        db.executemany(
            "UPDATE events SET created_at = ? WHERE id = ?",
            [((t0 + k * step).isoformat(timespec="microseconds"), i) for k, i in enumerate(ids)],
        )


#: Label time ranges whose ticks plotly would draw on two lines (a day under the first tick
#: and under every change of day or year), by start and span; None: as made, within ms.
TIME_RANGES = {
    "now": None,
    "across-midnight": ("2026-12-06 23:58", pd.Timedelta(seconds=1)),
    "hours-across-midnight": ("2026-12-06 20:00", pd.Timedelta(hours=9)),
    "three-days": ("2026-12-06 08:00", pd.Timedelta(days=3)),
    "months-across-new-year": ("2026-11-20", pd.Timedelta(days=75)),
    "years": ("2025-03-01", pd.Timedelta(days=800)),
}


@pytest.mark.parametrize(
    ("theme", "when"), [("dark", "now")] + [("light", when) for when in TIME_RANGES]
)
def test_plot_dataset_layout(plot_page: Any, tmp_path: Path, theme: str, when: str) -> None:
    df = prefnb.load_sample()
    dataset_store(tmp_path / "l.sqlite", df).close()
    if TIME_RANGES[when] is not None:
        label_times(tmp_path / "l.sqlite", *TIME_RANGES[when])
    with LabelStore(tmp_path / "l.sqlite") as store:
        fig = prefnb.plot_dataset(df, store, budget_tokens=400, theme=theme)
        name = f"plot_dataset-{theme}" + ("" if when == "now" else f"-{when}")
    for m in check(plot_page, fig, name):
        # Labels made within milliseconds still get a readable time axis: distinct ticks,
        # none finer than a second.
        ticks = [i["text"] for i in m["items"] if i["kind"] == "tick" and i["owner"] == "x3"]
        assert len(ticks) >= 2
        assert len(set(ticks)) == len(ticks), ticks
        assert not any("." in t for t in ticks), ticks
    titles = [v["title"]["text"] for k, v in fig.to_dict()["layout"].items()
              if k.startswith("xaxis") and "Time labeled" in str(v.get("title"))]  # fmt: skip
    expected = {"across-midnight": "Dec 6 – Dec 7, 2026", "years": "2025 – "}
    assert expected.get(when, "") in titles[0], titles


def test_plot_dataset_layout_without_store(plot_page: Any) -> None:
    df = pairs_frame([{"prompt": "q", "response_a": "a", "response_b": "b"}])
    check(plot_page, prefnb.plot_dataset(df), "plot_dataset-empty")
