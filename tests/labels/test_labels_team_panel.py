"""TeamPanel: team statistics, live updates (LISTEN/NOTIFY on PostgreSQL, a file watch on
SQLite), no password in its state, and its front end in real Chromium."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from prefnb.labels import LabelStore, cohen_kappa, krippendorff_alpha
from prefnb.labels.team import team_stats
from prefnb.labels.team_panel import TeamPanel

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "prefnb" / "static" / "team_panel.js"
LABELS = {
    "al": ["a", "b", "a", "tie", "a", "b"],
    "bo": ["a", "b", "b", "tie", "a", "a"],
    "cy": ["a", "a", "b", "both_bad", None, "b"],
}


def _fill(s: LabelStore) -> None:
    for who, verdicts in LABELS.items():
        for i, v in enumerate(verdicts):
            if v is not None:
                # Every label is shown with a on the left.
                s.record(pair_id=f"p{i}", annotator=who, kind="label", verdict=v, shown="ab")
    s.record(pair_id="p0", annotator="al", kind="audit", verdict="a", shown="ba")
    s.record(pair_id="p1", annotator="al", kind="audit", verdict="a", shown="ba")
    s.claim("dee", ["p0", "p9"], overlap=4)


def _wait(cond: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.05)


def test_team_stats_match_the_agreement_functions(any_store_target: str) -> None:
    with LabelStore(any_store_target) as s:
        _fill(s)
        t = team_stats(s)
    rows = {r["annotator"]: r for r in t["annotators"]}
    assert list(rows) == ["al", "bo", "cy", "dee"]
    assert rows["al"]["n_labels"] == 6
    assert rows["cy"]["n_labels"] == 5
    assert rows["al"]["rate_per_hour"] == 6 * 6  # 6 labels in the last 10 minutes
    # 5 sided labels shown a-left (3 left picks) + 2 audits of a shown right: 3 of 7.
    assert rows["al"]["left_share"] == pytest.approx(3 / 7)
    assert rows["al"]["self_consistency"] == 0.5
    assert rows["dee"]["claimed"] == 2
    assert t["n_claimed"] == 2
    kappa = {(p["a"], p["b"]): p for p in t["pairwise"]}
    assert kappa[("al", "bo")]["n_common"] == 6
    assert kappa[("al", "bo")]["kappa"] == pytest.approx(cohen_kappa(LABELS["al"], LABELS["bo"]))
    assert kappa[("al", "cy")]["n_common"] == 5
    assert kappa[("bo", "dee")] == {"a": "bo", "b": "dee", "n_common": 0, "kappa": None}
    long = [
        {"pair_id": f"p{i}", "annotator": w, "label": v}
        for w, vs in LABELS.items()
        for i, v in enumerate(vs)
        if v is not None
    ]
    import pandas as pd

    assert t["alpha"] == pytest.approx(krippendorff_alpha(pd.DataFrame(long)))
    assert t["n_disagreements"] == 4  # p1, p2, p3, p5
    assert t["n_pairs"] == 6


def test_panel_updates_on_notify_and_only_then(pg_url: str) -> None:
    with LabelStore(pg_url) as writer:
        panel = TeamPanel(LabelStore(pg_url))
        try:
            assert panel.mode == "listen"
            _wait(lambda: panel.thread is not None and panel.refreshes >= 2)  # listening
            idle = panel.refreshes
            time.sleep(1.5)
            assert panel.refreshes == idle  # no write, no recomputation: nothing polls
            writer.record(pair_id="p", annotator="al", kind="label", verdict="a")
            _wait(lambda: [r["n_labels"] for r in panel.stats["annotators"]] == [1])
            writer.claim("bo", ["q"])
            _wait(lambda: panel.stats["n_claimed"] == 1)
        finally:
            panel.close()
            panel._store.close()
        assert not panel.thread.is_alive()  # type: ignore[union-attr]


def test_panel_watches_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    panel = TeamPanel(path)
    try:
        assert panel.mode == "watch file"
        with LabelStore(path) as other:  # another connection, as another kernel would be
            other.record(pair_id="p", annotator="al", kind="label", verdict="b")
            _wait(lambda: panel.stats["n_pairs"] == 1)
    finally:
        panel.close()


def test_panel_state_and_repr_hold_no_password(pg_cluster: Any, pg_url: str) -> None:
    from prefnb.testing.pg_cluster import LABELER

    panel = TeamPanel(pg_url, live=False)
    try:
        secret = pg_cluster.passwords[LABELER]
        assert secret not in json.dumps(panel.get_state(), default=str)
        assert secret not in repr(panel)
        assert panel.source.startswith(f"postgresql://{LABELER}@127.0.0.1:")
    finally:
        panel.close()


HARNESS = """
async ([src, state]) => {
  const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
  const widget = (await import(url)).default;
  const handlers = {};
  const model = {
    state, handlers,
    get(k) { return this.state[k]; },
    set(k, v) { this.state[k] = v; (handlers["change:" + k] || []).forEach((f) => f()); },
    on(e, f) { (handlers[e] ??= []).push(f); },
    off(e, f) { handlers[e] = (handlers[e] || []).filter((g) => g !== f); },
  };
  const el = document.createElement("div");
  el.style.width = "900px";
  document.body.append(el);
  window.__model = model;
  window.__cleanup = widget.render({ model, el });
}
"""


@pytest.mark.browser
def test_panel_front_end_draws_tables_and_names_as_text(page: Any, tmp_path: Path) -> None:
    if not BUNDLE.exists():
        pytest.fail("prefnb/static/team_panel.js is missing: run `npm --prefix js run build`")
    with LabelStore(tmp_path / "l.sqlite") as s:
        _fill(s)
        s.record(
            pair_id="p0",
            annotator='<img src=x onerror="window.__pwned=1">',
            kind="label",
            verdict="a",
        )
        panel = TeamPanel(s, live=False)
        state = json.loads(json.dumps(panel.get_state(), default=str))
        panel.close()
    page.set_viewport_size({"width": 1000, "height": 700})
    page.set_content("<!doctype html><html><body style='margin:16px'></body></html>")
    page.evaluate(HARNESS, [BUNDLE.read_text(), state])
    rows = page.locator(".prefnb-team__annotators tr[data-annotator]")
    assert rows.count() == 5
    assert page.locator(".prefnb-team img").count() == 0
    assert page.evaluate("window.__pwned") is None
    al = page.locator('tr[data-annotator="al"]')
    assert "43%" in al.inner_text()
    assert al.locator(".prefnb-team__warn").count() == 0  # 7 sided picks: too few to flag
    assert "Krippendorff's α" in page.locator(".prefnb-team__chips").inner_text()
    assert page.locator(".prefnb-team__kappa td.k[title]").count() == 10  # upper triangle of 5
    box = page.locator(".prefnb-team").bounding_box()
    assert box is not None
    assert box["width"] <= 900
    page.screenshot(path=str(tmp_path / "team_panel.png"), full_page=True)
    # Updates redraw; cleanup removes every listener.
    page.evaluate("window.__model.set('error', 'server gone')")
    assert page.locator(".prefnb-team__error").inner_text() == "server gone"
    page.evaluate("window.__cleanup()")
    assert page.evaluate("Object.values(window.__model.handlers).flat().length") == 0
    assert page.locator(".prefnb-team").count() == 0


def test_panel_listens_again_after_a_server_restart(own_cluster: Any) -> None:
    url = own_cluster.label_store_url("prefs")
    panel = TeamPanel(url)
    try:
        _wait(lambda: panel.refreshes >= 2)  # listening
        own_cluster.stop()
        _wait(lambda: "reconnecting" in panel.error)
        own_cluster.start()
        with LabelStore(url) as writer:
            _wait(lambda: panel.error == "", timeout=20)  # listening again
            writer.record(pair_id="p", annotator="al", kind="label", verdict="a")
            _wait(lambda: panel.stats["n_pairs"] == 1)
    finally:
        panel.close()
