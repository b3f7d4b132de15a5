"""The SQLite connection under the store: versioned migrations, and what a newer file gets."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from prefnb.labels import SCHEMA_VERSION, LabelStore, LabelStoreError
from prefnb.labels.connection import APPLICATION_ID, SQLITE_MIGRATIONS


def _v1_file(path: Path) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    for statement in SQLITE_MIGRATIONS[0]:
        con.execute(statement)
    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    con.execute("PRAGMA user_version = 1")
    con.execute(
        "INSERT INTO events (pair_id, annotator, kind, verdict, created_at) "
        "VALUES ('p', 'al', 'label', 'a', '2026-01-01T00:00:00.000000+00:00')"
    )
    con.execute(
        "INSERT INTO current_labels (pair_id, annotator, label, labeled_at, event_id) "
        "VALUES ('p', 'al', 'a', '2026-01-01T00:00:00.000000+00:00', 1)"
    )
    con.close()


def test_a_version_1_file_is_migrated_in_place_and_keeps_its_events(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    _v1_file(path)
    with LabelStore(path) as s:
        assert s.current()["label"].tolist() == ["a"]
        assert s.claim("bo", ["p", "q"], overlap=2) == ["p", "q"]
        s.adjudicate("p", "lead", "a")
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"events", "current_labels", "pool", "claims", "adjudications"} <= tables
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM adjudications")
    con.close()


def test_a_newer_file_is_refused_before_any_migration(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    _v1_file(path)
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(LabelStoreError, match="newer than this prefnb"):
        LabelStore(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
