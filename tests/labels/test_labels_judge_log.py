"""Judge verdicts and routes in the label store: append-only, once per key, apart from labels."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from prefnb.labels import LabelStore, LabelStoreError


def verdict(shown: str = "ab", v: str | None = "a", **kw: object) -> dict[str, object]:
    return {"pair_id": "p1", "content_key": "k1", "annotator": "judge:m", "rubric_hash": "r",
            "shown": shown, "verdict": v, **kw}  # fmt: skip


def test_a_verdict_is_stored_once_per_content_judge_rubric_and_order(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "l.sqlite") as s:
        assert s.judge_verdicts().empty
        assert s.judge_routes().empty
        assert s.record_judge_verdicts([verdict(), verdict("ba", "b")]) == 2
        assert s.record_judge_verdicts([verdict(v="b"), verdict(rubric_hash="r2")]) == 1
        got = s.judge_verdicts()
        assert len(got) == 3
        assert got.loc[got["rubric_hash"] == "r", "verdict"].tolist() == ["a", "b"]
        assert s.current().empty
        assert s.events().empty
        # judge commits run with synchronous=NORMAL; the store's own setting comes back
        assert s.connection.query("PRAGMA synchronous", ()) == [(2,)]


def test_verdicts_are_append_only_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with LabelStore(path) as s:
        s.record_judge_verdicts([verdict()])
        with pytest.raises(
            LabelStoreError, match="verdict 1: field 'annotator' must be 'judge:<model>'"
        ):
            s.record_judge_verdicts([verdict("ba"), verdict(annotator="alice")])
        with pytest.raises(LabelStoreError, match="field 'verdict'"):
            s.record_judge_verdicts([verdict(v="both_bad")])  # even for a key already stored
        assert len(s.judge_verdicts()) == 1  # all or nothing
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE judge_verdicts SET verdict = 'b'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM judge_verdicts")
    conn.close()


def test_latest_route_per_pair_wins(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "l.sqlite") as s:
        base = {"pair_id": "p1", "annotator": "judge:m", "rubric_hash": "r", "seed": 0}
        s.record_judge_routes([{**base, "route": "auto"}])
        s.record_judge_routes(
            [{**base, "route": "audit"}, {**base, "pair_id": "p2", "route": "human"}]
        )
        routes = s.judge_routes()
        assert dict(zip(routes["pair_id"], routes["route"], strict=True)) == {
            "p1": "audit",
            "p2": "human",
        }


def test_judge_log_works_on_both_backends_for_a_labeling_role(any_store_target: str) -> None:
    """Verdicts and routes are schema migration 3 on SQLite and PostgreSQL alike: a labeling
    role (no DDL rights) can store and read them, once per key, apart from people's labels."""
    with LabelStore(any_store_target) as s:
        assert s.record_judge_verdicts([verdict(), verdict("ba", "b")]) == 2
        assert s.record_judge_verdicts([verdict(v="b")]) == 0
        assert s.judge_verdicts()["verdict"].tolist() == ["a", "b"]
        base = {"pair_id": "p1", "annotator": "judge:m", "rubric_hash": "r", "seed": 0}
        s.record_judge_routes([{**base, "route": "auto"}])
        s.record_judge_routes([{**base, "route": "human", "audit_rate": 0.05}])
        assert s.judge_routes()["route"].tolist() == ["human"]
        assert s.current().empty
