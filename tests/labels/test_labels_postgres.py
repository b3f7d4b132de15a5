"""The label store on a real PostgreSQL server: the same event semantics as SQLite, the
versioned schema, a labeling role without superuser powers, faults and credentials."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import psycopg
import pytest

from prefnb.labels import SCHEMA_VERSION, LabelStore, LabelStoreError
from prefnb.labels.postgres import POSTGRES_MIGRATIONS, redact
from prefnb.testing.pg_cluster import LABELER, OWNER, PgCluster


def _script(s: LabelStore) -> None:
    s.record(pair_id="p1", annotator="al", kind="label", verdict="a", shown="ba", strength="clear")
    s.record(pair_id="p1", annotator="al", kind="label", verdict="b", duration_ms=812.5)
    s.record(pair_id="p1", annotator="al", kind="undo")
    s.record(pair_id="p1", annotator="al", kind="note", note="close call")
    s.record(pair_id="p1", annotator="al", kind="edit", verdict="a", edited_preferred="A!")
    s.record(pair_id="p1", annotator="al", kind="audit", verdict="b", shown="ab")
    s.record_many(
        [
            {"pair_id": "p2", "annotator": "bo", "kind": "label", "verdict": "tie"},
            {"pair_id": "p2", "annotator": "bo", "kind": "label", "verdict": "both_bad"},
        ]
    )


def _comparable(s: LabelStore) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    cur = s.current().drop(columns=["labeled_at", "event_id"]).to_dict("records")
    ev = s.events().drop(columns=["created_at"])
    ev["duration_ms"] = ev["duration_ms"].fillna(-1.0)  # NaN != NaN
    return cur, [tuple(r) for r in ev.itertuples(index=False)]


def test_events_fold_the_same_on_postgresql_as_on_sqlite(pg_url: str, tmp_path: Any) -> None:
    with LabelStore(pg_url) as pg, LabelStore(tmp_path / "l.sqlite") as lite:
        assert pg.backend == "postgresql"
        assert lite.backend == "sqlite"
        _script(pg)
        _script(lite)
        assert _comparable(pg) == _comparable(lite)
        assert pg.current_label("p1", "al") == {
            **pg.current_label("p1", "al"),  # type: ignore[dict-item]
            "label": "a",
            "note": "close call",
            "edited_preferred": "A!",
        }
        assert pg.current_by_pair("bo") == lite.current_by_pair("bo")
        assert pg.check_pairs_known(["p1"]) == ["p2"]


def test_a_failing_batch_stores_nothing(pg_url: str) -> None:
    with LabelStore(pg_url) as s:
        with pytest.raises(LabelStoreError, match="verdict"):
            s.record_many(
                [
                    {"pair_id": "p", "annotator": "al", "kind": "label", "verdict": "a"},
                    {"pair_id": "p", "annotator": "al", "kind": "label", "verdict": "nope"},
                ]
            )
        with pytest.raises(LabelStoreError, match="NUL"):
            s.record(pair_id="p", annotator="al", kind="note", note="a\x00b")
        assert s.events().empty


def test_labeling_role_is_no_superuser_and_events_are_append_only(
    pg_cluster: PgCluster, pg_url: str
) -> None:
    with LabelStore(pg_url) as s:
        s.record(pair_id="p", annotator="al", kind="label", verdict="a")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        )
        assert row.fetchone() == (False, False)
        for sql in (
            "UPDATE events SET verdict = 'b'",
            "DELETE FROM events",
            "CREATE TABLE t (x int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
    # Even the owner cannot rewrite history: the trigger refuses.
    owner = pg_url.replace(
        f"{LABELER}:{pg_cluster.passwords[LABELER]}", f"{OWNER}:{pg_cluster.passwords[OWNER]}"
    )
    with psycopg.connect(owner, autocommit=True) as conn:
        for sql in ("UPDATE events SET verdict = 'b'", "DELETE FROM events", "TRUNCATE events"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(sql)


def test_schema_version_is_stored_and_a_newer_store_is_refused_untouched(
    pg_cluster: PgCluster, pg_url: str
) -> None:
    db = pg_url.rsplit("/", 1)[1]
    with LabelStore(pg_url) as s:
        s.record(pair_id="p", annotator="al", kind="label", verdict="a")
    with pg_cluster.admin(db) as conn:
        assert conn.execute("SELECT value FROM prefnb_meta").fetchone() == (str(SCHEMA_VERSION),)
        conn.execute("UPDATE prefnb_meta SET value = %s", (str(SCHEMA_VERSION + 1),))
        before = conn.execute("SELECT count(*), max(id) FROM events").fetchone()
    with pytest.raises(LabelStoreError, match=rf"schema version {SCHEMA_VERSION + 1}, newer"):
        LabelStore(pg_url)
    with pg_cluster.admin(db) as conn:
        assert conn.execute("SELECT count(*), max(id) FROM events").fetchone() == before
        assert conn.execute("SELECT value FROM prefnb_meta").fetchone() == (
            str(SCHEMA_VERSION + 1),
        )


def test_a_version_1_store_is_migrated_by_its_owner_not_by_a_labeler(pg_cluster: PgCluster) -> None:
    labeler_url = pg_cluster.label_store_url("old_store", migrate=False)
    owner_url = pg_cluster.url(OWNER, "old_store")
    with psycopg.connect(owner_url, autocommit=True) as conn:  # what prefnb 0.1's schema was
        conn.execute("CREATE TABLE prefnb_meta (key text PRIMARY KEY, value text NOT NULL)")
        for statement in POSTGRES_MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("INSERT INTO prefnb_meta VALUES ('schema_version', '1')")
        conn.execute(
            "INSERT INTO events (pair_id, annotator, kind, verdict, created_at) "
            "VALUES ('p', 'al', 'label', 'a', '2026-01-01T00:00:00+00:00')"
        )
        conn.execute(f'GRANT SELECT ON prefnb_meta, events TO "{LABELER}"')
    with pytest.raises(LabelStoreError, match=r"permission denied.*owner"):
        LabelStore(labeler_url)
    with LabelStore(owner_url) as s:
        assert s.events()["verdict"].tolist() == ["a"]
        assert s.claim("al", ["q"]) == ["q"]  # the v2 tables exist now
    with psycopg.connect(owner_url) as conn:
        assert conn.execute("SELECT value FROM prefnb_meta").fetchone() == (str(SCHEMA_VERSION),)


def test_a_foreign_events_table_is_refused(pg_cluster: PgCluster) -> None:
    pg_cluster.label_store_url("foreign", migrate=False)
    owner_url = pg_cluster.url(OWNER, "foreign")
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (x int)")
    with pytest.raises(LabelStoreError, match="not a prefnb label store; refusing"):
        LabelStore(owner_url)


# -- faults ----------------------------------------------------------------------------


def test_a_dropped_connection_reconnects_and_the_write_is_stored_once(
    pg_cluster: PgCluster, pg_url: str
) -> None:
    with LabelStore(pg_url) as s:
        s.record(pair_id="p", annotator="al", kind="label", verdict="a")
        with pg_cluster.admin() as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE usename = %s AND application_name = 'prefnb'",
                (LABELER,),
            ).fetchall()
        assert killed
        assert all(r[0] for r in killed)
        s.record(pair_id="p", annotator="al", kind="label", verdict="b")
        assert s.connection.reconnects == 1  # type: ignore[attr-defined]
        assert s.events()["verdict"].tolist() == ["a", "b"]


def test_server_stop_fails_fast_then_resumes_after_restart(own_cluster: PgCluster) -> None:
    url = own_cluster.label_store_url("prefs")
    with LabelStore(url) as s:
        s.record(pair_id="p1", annotator="al", kind="label", verdict="a")
        own_cluster.stop()
        t0 = time.monotonic()
        with pytest.raises(LabelStoreError, match=r"cannot reach the server.*Nothing was written"):
            s.record(pair_id="p2", annotator="al", kind="label", verdict="b")
        assert time.monotonic() - t0 < 5  # "not saved" at once, after a short back-off
        own_cluster.start()
        # The same open store, no reopen: the next write reconnects.
        s.record(pair_id="p2", annotator="al", kind="label", verdict="b")
        assert s.current()["pair_id"].tolist() == ["p1", "p2"]


_SLOW_WRITER = """
import sys
from prefnb.labels import LabelStore
s = LabelStore(sys.argv[1])
events = [{"pair_id": f"p{i}", "annotator": "al", "kind": "label", "verdict": "a"}
          for i in range(200000)]
s.record_many(events)
"""


def test_sigkill_mid_transaction_leaves_no_partial_event(
    pg_cluster: PgCluster, pg_url: str
) -> None:
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_SLOW_WRITER), pg_url])
    try:
        with pg_cluster.admin() as admin:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                row = admin.execute(
                    "SELECT xact_start IS NOT NULL FROM pg_stat_activity "
                    "WHERE usename = %s AND application_name = 'prefnb' "
                    "AND state IN ('active', 'idle in transaction')",
                    (LABELER,),
                ).fetchone()
                if row and row[0]:
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the writer never started its transaction")
            time.sleep(0.5)  # well inside the 200,000-event transaction
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with LabelStore(pg_url) as s:
        assert s.events().empty
        assert s.current().empty


# -- credentials ---------------------------------------------------------------------


def test_password_never_reaches_reprs_errors_or_logs(
    pg_cluster: PgCluster,
    pg_url: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = pg_cluster.passwords[LABELER]
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    with LabelStore(pg_url) as s:
        seen += [repr(s), str(s.path), s.connection.location, repr(s.connection)]
        s.record(pair_id="p", annotator="al", kind="label", verdict="a")
        from prefnb.labeler import Labeler
        from prefnb.pairs import pairs_frame

        df = pairs_frame([{"prompt": "q", "response_a": "x", "response_b": "y"}])
        lab = Labeler(df, store=s, annotator="al", overlap=2)
        seen += [repr(lab), json.dumps(lab.get_state(), default=str)]
    assert (
        str(s.path)
        == redact(pg_url)
        == f"postgresql://{LABELER}@127.0.0.1:{pg_cluster.port}/{pg_url.rsplit('/', 1)[1]}"
    )
    wrong_db = pg_url.rsplit("/", 1)[0] + "/no_such_db"
    wrong_pw = pg_url.replace(secret, secret[::-1])
    for bad in (wrong_db, wrong_pw):
        with pytest.raises(LabelStoreError) as err:
            LabelStore(bad)
        seen += [str(err.value), repr(err.value), err.value.path]
    # The same through the environment: libpq reads PGPASSWORD; nothing of ours keeps it.
    monkeypatch.setenv("PGPASSWORD", secret)
    with LabelStore(pg_url.replace(f":{secret}@", "@")) as s:
        seen += [repr(s), str(s.path)]
    seen += [r.getMessage() for r in caplog.records]
    for text in seen:
        assert secret not in text
        assert secret[::-1] not in text


def test_tls_options_pass_through_to_psycopg(pg_url: str) -> None:
    # The throwaway server has no certificate: requiring TLS must fail, and say why.
    with pytest.raises(LabelStoreError, match="SSL"):
        LabelStore(pg_url, sslmode="require")
    with LabelStore(pg_url, sslmode="disable", application_name="prefnb") as s:
        assert s.backend == "postgresql"
    with pytest.raises(LabelStoreError, match="only to a postgresql:// URL"):
        LabelStore("labels.sqlite", sslmode="require")


class _CommitCutter:
    """A TCP proxy to the server that, once armed, forwards the client's COMMIT and then cuts
    the connection before the reply: the client cannot know whether it committed."""

    def __init__(self, port: int) -> None:
        import socket
        import threading

        self.server_port = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.armed = False
        self.cut = 0
        self._threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.server_port))
            for a, b, watch in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(
                    target=self._pump, args=(a, b, watch, client, upstream), daemon=True
                ).start()

    def _pump(self, src: Any, dst: Any, watch: bool, client: Any, upstream: Any) -> None:
        try:
            while data := src.recv(65536):
                if watch and self.armed and b"COMMIT" in data:
                    self.armed = False
                    self.cut += 1
                    client.close()  # the reply will have nowhere to go ...
                    dst.sendall(data)  # ... but the server gets COMMIT and commits
                    time.sleep(0.3)
                    upstream.close()
                    return
                dst.sendall(data)
        except OSError:
            pass
        for s in (client, upstream):
            with contextlib.suppress(OSError):
                s.close()

    def close(self) -> None:
        self.listener.close()


def test_a_connection_cut_during_commit_stores_the_label_exactly_once(
    pg_cluster: PgCluster, pg_url: str
) -> None:
    proxy = _CommitCutter(pg_cluster.port)
    try:
        via_proxy = pg_url.replace(f":{pg_cluster.port}/", f":{proxy.port}/")
        with LabelStore(via_proxy) as s:
            s.record(pair_id="p", annotator="al", kind="label", verdict="a", session="s1")
            proxy.armed = True
            eid = s.record(pair_id="p", annotator="al", kind="label", verdict="b", session="s1")
            assert proxy.cut == 1
            assert s.connection.reconnects == 1  # type: ignore[attr-defined]
            ev = s.events()
            assert ev["verdict"].tolist() == ["a", "b"]  # committed once, found, not re-sent
            assert int(ev["id"].iloc[-1]) == eid
    finally:
        proxy.close()
