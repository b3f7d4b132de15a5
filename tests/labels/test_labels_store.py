"""LabelStore on real SQLite files: event semantics, resume, validation and file faults."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from prefnb.labels import SCHEMA_VERSION, LabelStore, LabelStoreError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LabelStore]:
    s = LabelStore(tmp_path / "labels.sqlite", timeout=2.0)
    yield s
    s.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _current(store: LabelStore, annotator: str | None = None) -> dict[tuple[str, str], str]:
    cur = store.current(annotator)
    return {(p, a): lab for p, a, lab in zip(cur.pair_id, cur.annotator, cur.label, strict=True)}


# -- schema and pragmas --------------------------------------------------------------------


def test_new_file_has_wal_full_schema_version_and_append_only_events(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    with LabelStore(path) as s:
        s.record(pair_id="p1", annotator="al", kind="label", verdict="a")
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    cols = [r[1] for r in con.execute("PRAGMA table_info(events)")]
    assert cols == [
        "id",
        "pair_id",
        "annotator",
        "kind",
        "verdict",
        "shown",
        "strength",
        "note",
        "edited_preferred",
        "session",
        "created_at",
        "duration_ms",
    ]
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE events SET verdict = 'b'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM events")
    con.close()


def test_synchronous_full_by_default_and_normal_on_request(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "a.sqlite") as s:
        assert s.connection.query("PRAGMA synchronous")[0][0] == 2  # FULL
    with LabelStore(tmp_path / "b.sqlite", synchronous="NORMAL") as s:
        assert s.connection.query("PRAGMA synchronous")[0][0] == 1


def test_reopen_keeps_events_and_created_at_is_utc(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    with LabelStore(path) as s:
        eid = s.record(pair_id="p1", annotator="al", kind="label", verdict="b", duration_ms=812)
    with LabelStore(path) as s:
        ev = s.events()
    assert ev["id"].tolist() == [eid]
    assert ev.loc[0, "duration_ms"] == 812.0
    assert str(ev["created_at"].dt.tz) == "UTC"
    assert abs(pd.Timestamp.now(tz="UTC") - ev.loc[0, "created_at"]) < pd.Timedelta(minutes=1)


# -- event semantics -----------------------------------------------------------------------


def test_latest_label_wins_per_pair_and_annotator(store: LabelStore) -> None:
    store.record(pair_id="p1", annotator="al", kind="label", verdict="a")
    store.record(pair_id="p1", annotator="al", kind="label", verdict="b", strength="strong")
    store.record(pair_id="p1", annotator="bo", kind="label", verdict="tie")
    store.record(pair_id="p2", annotator="al", kind="label", verdict="both_bad")
    assert _current(store) == {("p1", "al"): "b", ("p1", "bo"): "tie", ("p2", "al"): "both_bad"}
    cur = store.current("al").set_index("pair_id")
    assert cur.loc["p1", "strength"] == "strong"
    assert list(store.current("bo").columns) == [
        "pair_id",
        "annotator",
        "label",
        "strength",
        "note",
        "edited_preferred",
        "shown",
        "labeled_at",
        "event_id",
    ]


def test_undo_restores_previous_label_then_removes_it(store: LabelStore) -> None:
    store.record(pair_id="p1", annotator="al", kind="label", verdict="a")
    store.record(pair_id="p1", annotator="al", kind="label", verdict="b")
    store.record(pair_id="p1", annotator="bo", kind="label", verdict="b")
    store.record(pair_id="p1", annotator="al", kind="undo")
    assert _current(store) == {("p1", "al"): "a", ("p1", "bo"): "b"}  # bo untouched
    store.record(pair_id="p1", annotator="al", kind="undo")
    assert _current(store) == {("p1", "bo"): "b"}
    store.record(pair_id="p1", annotator="al", kind="undo")  # nothing left: a no-op
    assert _current(store) == {("p1", "bo"): "b"}
    store.record(pair_id="p1", annotator="al", kind="label", verdict="tie")
    assert _current(store, "al") == {("p1", "al"): "tie"}
    assert store.events()["kind"].tolist() == [
        "label",
        "label",
        "label",
        "undo",
        "undo",
        "undo",
        "label",
    ]


def test_edit_and_note_attach_and_survive_relabel(store: LabelStore) -> None:
    store.record(pair_id="p1", annotator="al", kind="label", verdict="a")
    store.record(pair_id="p1", annotator="al", kind="edit", verdict="a", edited_preferred="A+")
    store.record(pair_id="p1", annotator="al", kind="note", note="a has a typo")
    row = store.current("al").iloc[0]
    assert (row["label"], row["edited_preferred"], row["note"]) == ("a", "A+", "a has a typo")
    # Relabelling to b hides the rewrite of a; going back to a shows it again.
    store.record(pair_id="p1", annotator="al", kind="label", verdict="b")
    row = store.current("al").iloc[0]
    assert (row["label"], row["edited_preferred"], row["note"]) == ("b", None, "a has a typo")
    store.record(pair_id="p1", annotator="al", kind="undo")
    assert store.current("al").iloc[0]["edited_preferred"] == "A+"
    # An edit without a side follows whatever is current; None clears edits and notes.
    store.record(pair_id="p1", annotator="al", kind="edit", edited_preferred="any")
    assert store.current("al").iloc[0]["edited_preferred"] == "any"
    store.record(pair_id="p1", annotator="al", kind="edit", edited_preferred=None)
    store.record(pair_id="p1", annotator="al", kind="note", note=None)
    row = store.current("al").iloc[0]
    assert (row["edited_preferred"], row["note"]) == (None, None)


def test_current_label_lookup(store: LabelStore) -> None:
    assert store.current_label("p1", "al") is None
    eid = store.record(pair_id="p1", annotator="al", kind="label", verdict="b", shown="ba")
    store.record(pair_id="p1", annotator="al", kind="note", note="n")
    got = store.current_label("p1", "al")
    assert got is not None
    assert (got["label"], got["shown"], got["note"], got["event_id"]) == ("b", "ba", "n", eid)
    assert got["labeled_at"].endswith("+00:00")
    assert store.current_label("p1", "bo") is None


def test_label_event_can_carry_note_and_edit(store: LabelStore) -> None:
    store.record(
        pair_id="p1",
        annotator="al",
        kind="label",
        verdict="b",
        note="b cites sources",
        edited_preferred="B!",
        shown="ba",
    )
    row = store.current().iloc[0]
    assert (row["note"], row["edited_preferred"], row["shown"]) == ("b cites sources", "B!", "ba")


def test_edit_before_label_applies_once_labeled(store: LabelStore) -> None:
    store.record(pair_id="p1", annotator="al", kind="edit", verdict="b", edited_preferred="B2")
    assert store.current().empty
    assert store.labeled_pair_ids("al") == set()
    store.record(pair_id="p1", annotator="al", kind="label", verdict="b")
    assert store.current().iloc[0]["edited_preferred"] == "B2"


def test_audit_never_changes_current_label(store: LabelStore) -> None:
    store.record(pair_id="p1", annotator="al", kind="label", verdict="a", shown="ab")
    store.record(pair_id="p1", annotator="al", kind="audit", verdict="b", shown="ba")
    store.record(pair_id="p2", annotator="al", kind="audit", verdict="a", shown="ab")
    assert _current(store) == {("p1", "al"): "a"}
    assert store.labeled_pair_ids("al") == {"p1"}
    assert store.events()["kind"].tolist() == ["label", "audit", "audit"]


def test_events_audited_only_keeps_audited_pairs_whole(store: LabelStore) -> None:
    store.record(pair_id="p1", annotator="al", kind="label", verdict="a")
    store.record(pair_id="p2", annotator="al", kind="label", verdict="a")
    store.record(pair_id="p1", annotator="bo", kind="label", verdict="b")
    store.record(pair_id="p1", annotator="al", kind="audit", verdict="b", shown="ba")
    store.record(pair_id="p1", annotator="al", kind="note", note="after")
    ev = store.events(audited_only=True)
    assert list(zip(ev["pair_id"], ev["annotator"], ev["kind"], strict=True)) == [
        ("p1", "al", "label"),
        ("p1", "al", "audit"),
        ("p1", "al", "note"),
    ]
    assert store.events("bo", audited_only=True).empty


def test_labeled_pair_ids_for_resume(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    with LabelStore(path) as s:
        for pid in ("p1", "p2", "p3"):
            s.record(pair_id=pid, annotator="al", kind="label", verdict="skip")
        s.record(pair_id="p3", annotator="al", kind="undo")
        s.record(pair_id="p4", annotator="bo", kind="label", verdict="a")
    with LabelStore(path) as s:
        assert s.labeled_pair_ids("al") == {"p1", "p2"}
        assert s.labeled_pair_ids("bo") == {"p4"}
        assert s.labeled_pair_ids("nobody") == set()


def test_record_many_is_one_transaction(store: LabelStore) -> None:
    ids = store.record_many(
        [
            {"pair_id": "p1", "annotator": "al", "kind": "label", "verdict": "a"},
            {"pair_id": "p1", "annotator": "al", "kind": "note", "note": "n"},
        ]
    )
    assert len(ids) == 2
    assert ids == sorted(ids)
    with pytest.raises(LabelStoreError, match=r"event 1: field 'verdict' must be one of"):
        store.record_many(
            [
                {"pair_id": "p2", "annotator": "al", "kind": "label", "verdict": "a"},
                {"pair_id": "p2", "annotator": "al", "kind": "label", "verdict": "left"},
            ]
        )
    assert store.events()["id"].tolist() == ids  # nothing of the failed batch was written
    assert store.record_many([]) == []


def test_events_and_to_frame_views(store: LabelStore) -> None:
    store.record(pair_id="p1", annotator="al", kind="label", verdict="a", session="s1")
    store.record(pair_id="p1", annotator="bo", kind="label", verdict="b")
    assert store.events("bo")["annotator"].tolist() == ["bo"]
    assert store.to_frame("events")["session"].tolist() == ["s1", None]
    assert store.to_frame()["label"].tolist() == ["a", "b"]
    with pytest.raises(LabelStoreError, match="view must be 'current' or 'events'"):
        store.to_frame("all")  # type: ignore[arg-type]


def test_check_pairs_known(store: LabelStore) -> None:
    store.record(pair_id="p1", annotator="al", kind="label", verdict="a")
    store.record(pair_id="zz", annotator="al", kind="audit", verdict="a")
    store.record(pair_id="yy", annotator="bo", kind="label", verdict="a")
    assert store.check_pairs_known(["p1"]) == ["yy", "zz"]
    assert store.check_pairs_known(pd.Series(["p1", "yy"])) == ["zz"]
    assert store.check_pairs_known(["p1"], annotator="bo") == ["yy"]


# -- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "pattern"),
    [
        ({"kind": "vote", "verdict": "a"}, r"field 'kind' must be one of label, undo, edit"),
        ({"kind": "label", "verdict": "left"}, r"field 'verdict' must be one of a, b, tie"),
        ({"kind": "label", "verdict": None}, r"field 'verdict' must be one of"),
        ({"kind": "audit"}, r"field 'verdict' must be one of .* for a 'audit' event"),
        ({"kind": "undo", "verdict": "a"}, r"field 'verdict' must be None for a 'undo' event"),
        ({"kind": "edit", "verdict": "tie"}, r"field 'verdict' must be None or the rewritten"),
        ({"kind": "label", "verdict": "a", "shown": "left"}, r"'shown' must be None or one of"),
        ({"kind": "label", "verdict": "a", "strength": "huge"}, r"'strength' must be None or"),
        ({"kind": "note", "strength": "clear"}, r"'strength' must be None for a 'note' event"),
        ({"kind": "note", "note": 3}, r"field 'note' must be a string or None"),
        ({"kind": "label", "verdict": "a", "duration_ms": -1}, r"'duration_ms' must be None"),
        ({"kind": "label", "verdict": "a", "duration_ms": float("nan")}, r"'duration_ms'"),
        ({"kind": "label", "verdict": "a", "annotator": ""}, r"field 'annotator' must be"),
        ({"kind": "label", "verdict": "a", "annotator": " al"}, r"field 'annotator' must be"),
        ({"kind": "label", "verdict": "a", "annotator": 7}, r"field 'annotator' must be"),
        ({"kind": "label", "verdict": "a", "pair_id": ""}, r"field 'pair_id' must be"),
    ],
)
def test_invalid_values_name_field_allowed_values_and_file(
    store: LabelStore, fields: dict[str, object], pattern: str
) -> None:
    event: dict[str, object] = {"pair_id": "p1", "annotator": "al", **fields}
    with pytest.raises(LabelStoreError, match=pattern) as info:
        store.record(**event)  # type: ignore[arg-type]
    assert str(store.path) in str(info.value)
    assert info.value.field == pattern.split("'")[1]
    assert store.events().empty


def test_unknown_event_field_is_rejected(store: LabelStore) -> None:
    with pytest.raises(LabelStoreError, match=r"unknown field.*colour"):
        store.record_many([{"pair_id": "p", "annotator": "a", "kind": "undo", "colour": 1}])


def test_closed_store_says_so(tmp_path: Path) -> None:
    s = LabelStore(tmp_path / "labels.sqlite")
    s.close()
    s.close()
    with pytest.raises(LabelStoreError, match="is closed"):
        s.current()
    assert "closed" in repr(s)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(LabelStoreError, match="timeout must be a positive number"):
        LabelStore(tmp_path / "x.sqlite", timeout=0)
    with pytest.raises(LabelStoreError, match="synchronous must be"):
        LabelStore(tmp_path / "x.sqlite", synchronous="OFF")  # type: ignore[arg-type]
    with pytest.raises(LabelStoreError, match="is a directory"):
        LabelStore(tmp_path)
    with pytest.raises(LabelStoreError, match="does not exist"):
        LabelStore(tmp_path / "missing" / "labels.sqlite")
    assert list(tmp_path.iterdir()) == []


# -- file faults: never overwrite ----------------------------------------------------------


def test_random_bytes_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    path.write_bytes(os.urandom(8192))
    before = _sha(path)
    with pytest.raises(LabelStoreError, match=r"is not a SQLite database.*not modified") as info:
        LabelStore(path)
    assert str(path) in str(info.value)
    assert _sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.sqlite"]


def test_text_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text('{"label": "a"}\n')
    with pytest.raises(LabelStoreError, match="is not a SQLite database"):
        LabelStore(path)
    assert path.read_text() == '{"label": "a"}\n'


def _filled_store(path: Path, n: int = 400) -> None:
    with LabelStore(path) as s:
        s.record_many(
            {
                "pair_id": f"pair-{i:05d}",
                "annotator": "al",
                "kind": "label",
                "verdict": "a",
                "note": "x" * 200,
            }
            for i in range(n)
        )


def test_truncated_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    _filled_store(path)
    data = path.read_bytes()
    assert len(data) > 40_000
    path.write_bytes(data[: len(data) // 2])
    before = _sha(path)
    with pytest.raises(LabelStoreError, match=r"labels\.sqlite is corrupt") as info:
        LabelStore(path)
    assert "not modified" in str(info.value)
    assert _sha(path) == before


def test_garbage_pages_are_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    _filled_store(path)
    data = bytearray(path.read_bytes())
    data[4096 * 3 : 4096 * 6] = os.urandom(4096 * 3)  # interior pages of the events b-tree
    path.write_bytes(bytes(data))
    before = _sha(path)
    with pytest.raises(LabelStoreError, match="is corrupt"):
        LabelStore(path)
    assert _sha(path) == before


def test_other_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE users (name TEXT)")
    con.commit()
    con.close()
    before = _sha(path)
    with pytest.raises(LabelStoreError, match=r"not a prefnb label store \(tables: users\)"):
        LabelStore(path)
    assert _sha(path) == before


def test_newer_schema_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    with LabelStore(path) as s:
        s.record(pair_id="p", annotator="al", kind="label", verdict="a")
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    before = _sha(path)
    with pytest.raises(
        LabelStoreError, match=rf"schema version {SCHEMA_VERSION + 1}, newer than .*upgrade"
    ):
        LabelStore(path)
    assert _sha(path) == before


def test_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    path.touch()
    with LabelStore(path) as s:
        s.record(pair_id="p", annotator="al", kind="label", verdict="a")
        assert len(s.events()) == 1


# -- locks -----------------------------------------------------------------------------------


def test_write_locked_past_timeout_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    with LabelStore(path, timeout=0.3) as s:
        s.record(pair_id="p1", annotator="al", kind="label", verdict="a")
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(LabelStoreError, match=r"is locked .* more than 0\.3 s") as info:
                s.record(pair_id="p2", annotator="al", kind="label", verdict="b")
            assert str(path) in str(info.value)
            assert s.labeled_pair_ids("al") == {"p1"}  # WAL readers still read
        finally:
            other.execute("ROLLBACK")
            other.close()
        s.record(pair_id="p2", annotator="al", kind="label", verdict="b")  # lock gone: works
        assert s.labeled_pair_ids("al") == {"p1", "p2"}


def test_open_while_exclusively_locked_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "labels.sqlite"
    with LabelStore(path) as s:
        s.record(pair_id="p1", annotator="al", kind="label", verdict="a")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA locking_mode = EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(LabelStoreError, match=r"is locked by another process"):
            LabelStore(path, timeout=0.3)
    finally:
        other.execute("ROLLBACK")
        other.close()
    with LabelStore(path) as s:
        assert s.labeled_pair_ids("al") == {"p1"}
