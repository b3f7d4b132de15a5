"""TeamPanel in a real JupyterLab: one panel on a SQLite file (polled) and one on PostgreSQL
(LISTEN/NOTIFY) update while another process labels, and the database password reaches
neither the page nor the saved notebook."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from lab_support import (
    kernel_eval,
    kernel_id,
    lab_notebook,
    run_all,
    wait_until,
    write_notebook,
)

from prefnb.labels import LabelStore
from prefnb.testing.pg_cluster import LABELER, PgCluster

pytestmark = [pytest.mark.jupyterlab, pytest.mark.browser, pytest.mark.slow]

NAME = "team_panel.ipynb"
# The password travels as a team's would: in PGPASSWORD, never in the URL or the notebook.
CELLS = [
    """\
import os, json
cfg = json.load(open("team_panel.json"))
os.environ["PGPASSWORD"] = cfg["password"]
del cfg["password"]
import prefnb""",
    'sq = prefnb.TeamPanel("team.sqlite")\nsq',
    'pg = prefnb.TeamPanel(cfg["url"])\npg',
]

ROWS = ".prefnb-team__annotators tr[data-annotator]"


def test_team_panels_update_live_in_jupyterlab(
    jupyterlab: SimpleNamespace, browser: Any, pg_cluster: PgCluster, pg_url: str
) -> None:
    database = pg_url.rsplit("/", 1)[1]
    password = pg_cluster.passwords[LABELER]
    url = pg_cluster.url(LABELER, database, password=False)
    sqlite = jupyterlab.root / "team.sqlite"
    stores = [LabelStore(sqlite), LabelStore(pg_url)]
    for s in stores:
        s.record(pair_id="p0", annotator="al", kind="label", verdict="a")
        s.record(pair_id="p0", annotator="bo", kind="label", verdict="b")
    (jupyterlab.root / "team_panel.json").write_text(json.dumps({"url": url, "password": password}))
    write_notebook(jupyterlab.root / NAME, CELLS)
    try:
        with lab_notebook(jupyterlab, browser, NAME) as page:
            run_all(page)
            panels = page.locator(".prefnb-team")
            panels.nth(1).locator(ROWS).first.wait_for()
            assert panels.count() == 2
            for i in range(2):
                names = (
                    panels.nth(i)
                    .locator(ROWS)
                    .evaluate_all("rows => rows.map(r => r.dataset.annotator)")
                )
                assert names == ["al", "bo"]
            # Another process labels: both panels show the new annotator without a rerun.
            for s in stores:
                s.record(pair_id="p0", annotator="cy", kind="label", verdict="a")
            for i in range(2):
                panels.nth(i).locator(f'{ROWS}[data-annotator="cy"]').wait_for(timeout=30_000)
            kid = kernel_id(jupyterlab, NAME)
            assert kernel_eval(jupyterlab, kid, "pg.mode") == "'listen'"
            assert kernel_eval(jupyterlab, kid, "sq.mode") == "'watch file'"
            page.screenshot(path=str(Path(jupyterlab.root) / "team_panel.png"), full_page=True)
            assert password not in page.content()
            assert page.page_errors == []
            page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
            saved = jupyterlab.root / NAME
            wait_until(
                lambda: "widget-view+json" in saved.read_text(), "the notebook was not saved"
            )
            kernel_eval(jupyterlab, kid, "(sq.close(), pg.close())")
        assert password not in saved.read_text()
    finally:
        for s in stores:
            s.close()
