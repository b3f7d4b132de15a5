"""copy_store between SQLite and PostgreSQL: both directions, idempotent, counts checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefnb.labels import LabelStore, LabelStoreError, copy_store


def _fill(s: LabelStore) -> None:
    s.record(pair_id="p1", annotator="al", kind="label", verdict="a", strength="strong")
    s.record(pair_id="p1", annotator="al", kind="label", verdict="b", duration_ms=1.25)
    s.record(pair_id="p1", annotator="al", kind="undo")
    s.record(pair_id="p1", annotator="bo", kind="label", verdict="b", session="s1")
    s.record(pair_id="p1", annotator="bo", kind="note", note="é 😀")
    s.record(pair_id="p2", annotator="al", kind="audit", verdict="tie")
    s.adjudicate("p1", "lead", "a", strength="clear", note="A is right")
    judge = {"pair_id": "p2", "content_key": "k2", "annotator": "judge:m", "rubric_hash": "r"}
    s.record_judge_verdicts(
        [{**judge, "shown": "ab", "verdict": "a", "cost_usd": 0.001},
         {**judge, "shown": "ba", "verdict": None, "error": "not a verdict"}]
    )  # fmt: skip
    s.record_judge_routes([{**judge, "route": "human", "reason": "judge failed", "seed": 0}])


def _view(s: LabelStore) -> tuple[list[dict[str, object]], list[tuple[object, ...]]]:
    cur = s.current().drop(columns=["event_id"]).to_dict("records")
    ev = s.events().drop(columns=["id"]).fillna({"duration_ms": -1.0})
    return cur, [tuple(r) for r in ev.itertuples(index=False)]


def test_sqlite_to_postgresql_and_back_is_idempotent(pg_url: str, tmp_path: Path) -> None:
    src = tmp_path / "solo.sqlite"
    with LabelStore(src) as s:
        _fill(s)
        expected = _view(s)
    first = copy_store(src, pg_url)
    assert first == {
        "events": {"source": 6, "copied": 6, "present": 0},
        "adjudications": {"source": 1, "copied": 1, "present": 0},
        "judge_verdicts": {"source": 2, "copied": 2, "present": 0},
        "judge_routes": {"source": 1, "copied": 1, "present": 0},
    }
    again = copy_store(src, pg_url)
    assert again["events"] == {"source": 6, "copied": 0, "present": 6}
    assert again["adjudications"]["copied"] == 0
    assert again["judge_verdicts"] == {"source": 2, "copied": 0, "present": 2}
    assert again["judge_routes"] == {"source": 1, "copied": 0, "present": 1}
    with LabelStore(pg_url) as pg:
        assert _view(pg) == expected
        pg.record(pair_id="p3", annotator="cy", kind="label", verdict="tie")
        adj = pg.adjudications()
        # Provenance points at the destination's own event ids.
        bo_event = int(pg.current("bo")["event_id"].iloc[0])
        assert adj["basis"].iloc[0] == {
            "bo": ["b", bo_event],
            "al": ["a", int(pg.current("al")["event_id"].iloc[0])],
        }
    back = copy_store(pg_url, src)
    assert back["events"] == {"source": 7, "copied": 1, "present": 6}
    assert back["adjudications"] == {"source": 1, "copied": 0, "present": 1}
    with LabelStore(src) as s, LabelStore(pg_url) as pg:
        assert _view(s) == _view(pg)
        for read in (LabelStore.judge_verdicts, LabelStore.judge_routes):
            assert read(s).drop(columns=["id"]).equals(read(pg).drop(columns=["id"]))


def test_copy_refuses_a_newer_destination_untouched(tmp_path: Path) -> None:
    import sqlite3

    src, dst = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    with LabelStore(src) as s:
        _fill(s)
    LabelStore(dst).close()
    con = sqlite3.connect(dst)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(LabelStoreError, match="newer"):
        copy_store(src, dst)
