"""The label store on a PostgreSQL server, through psycopg 3: one store for a whole team.

``LabelStore("postgresql://labeler@db.example/prefs")`` opens it; everything else about the
store (append-only events, current labels, claims, adjudications) is the same as on SQLite.
What differs lives here:

Schema. Tables ``events``, ``current_labels``, ``pool``, ``claims`` and ``adjudications``
live in the connection's schema (the first of ``search_path``; pass
``options="-c search_path=labels"`` to pick another) next to ``prefnb_meta``, which holds the
schema version. Opening a store of an older version migrates it in one transaction under an
advisory lock; a store written by a newer prefnb is refused untouched. Triggers keep
``events`` and ``adjudications`` append-only even for their owner.

Privileges. Create the schema once as the owner (any role with ``CREATE`` on the schema:
``LabelStore(owner_url)`` does it), then give each labeling role only what labeling needs,
the statements :func:`labeling_grants` returns::

    GRANT CONNECT ON DATABASE prefs TO labeler;
    GRANT USAGE ON SCHEMA public TO labeler;
    GRANT SELECT ON prefnb_meta TO labeler;
    GRANT SELECT, INSERT ON events, adjudications TO labeler;
    GRANT SELECT, INSERT, UPDATE, DELETE ON current_labels, claims TO labeler;
    GRANT SELECT, INSERT, UPDATE ON pool TO labeler;

``UPDATE`` on ``pool`` is what ``SELECT … FOR UPDATE`` requires to lock a row; no pool row is
ever updated.
A labeling role cannot update or delete an event, and cannot migrate: after a prefnb
upgrade that changes the schema, the owner opens the store once first.

Durability and faults. A write returns only after ``COMMIT`` (the server's
``synchronous_commit`` decides how durable that is; its default, ``on``, flushes WAL). A
connection that is lost before the commit is reopened with back-off (0.05 s doubling to
0.8 s, about 1.5 s in all) and the write retried, because the server rolled the
interrupted transaction back. A connection lost *during* the commit leaves the outcome unknown:
a write of events then reconnects and looks for its own rows (same pair, annotator, kind,
session and microsecond timestamp) before anything else: found, it returns their ids;
absent, it writes again. So a label is never stored twice and never lost, and the saved
mark still means committed. A server
that stays down gives :class:`LabelStoreError` after the back-off and the next write tries
again, so labeling resumes after a restart without a page reload.

Credentials. The password (in the URL, ``PGPASSWORD`` or ``~/.pgpass``) is handed to libpq
and never kept in a printable attribute: :attr:`PostgresConnection.location`, reprs and
error messages show ``postgresql://user@host:port/db``.

Example:
    >>> redact("postgresql://al:s3cret@db.example:6432/prefs?sslmode=require")
    'postgresql://al@db.example:6432/prefs'
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

from prefnb.labels import judge_log
from prefnb.labels.connection import SCHEMA_VERSION, LabelStoreError, Statement, Tx
from prefnb.labels.events import KINDS, SHOWN, STRENGTHS, VERDICTS

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "NOTIFY_CHANNEL",
    "POSTGRES_MIGRATIONS",
    "PostgresConnection",
    "labeling_grants",
    "redact",
]

#: LISTEN/NOTIFY channel a committed write notifies (payload: the annotator).
NOTIFY_CHANNEL: Final = "prefnb_labels"
#: Reconnect back-off within one call: the pauses before each new attempt.
_BACKOFF: Final = (0.0, 0.05, 0.1, 0.2, 0.4, 0.8)
#: Advisory lock key (``pg_advisory_xact_lock``) that serializes migrations: "pfnb".
_MIGRATION_LOCK: Final = 0x70666E62

_T = TypeVar("_T")


def _names(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


_APPEND_ONLY = """CREATE OR REPLACE FUNCTION prefnb_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'label events are append-only (% on %)', TG_OP, TG_TABLE_NAME;
END $$"""


def _append_only(table: str) -> tuple[str, str]:
    return (
        f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION prefnb_append_only()",
        f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION prefnb_append_only()",
    )


#: DDL per schema version, as for SQLite (:data:`prefnb.labels.connection.SQLITE_MIGRATIONS`).
POSTGRES_MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        f"""CREATE TABLE IF NOT EXISTS events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pair_id text NOT NULL CHECK (pair_id <> ''),
    annotator text NOT NULL CHECK (annotator <> ''),
    kind text NOT NULL CHECK (kind IN ({_names(KINDS)})),
    verdict text CHECK (verdict IN ({_names(VERDICTS)})),
    shown text CHECK (shown IN ({_names(SHOWN)})),
    strength text CHECK (strength IN ({_names(STRENGTHS)})),
    note text,
    edited_preferred text,
    session text,
    created_at text NOT NULL,
    duration_ms double precision
)""",
        "CREATE INDEX IF NOT EXISTS events_by_pair ON events (pair_id, annotator, id)",
        "CREATE INDEX IF NOT EXISTS events_by_annotator ON events (annotator, id)",
        """CREATE TABLE IF NOT EXISTS current_labels (
    pair_id text NOT NULL,
    annotator text NOT NULL,
    label text NOT NULL,
    strength text,
    note text,
    edited_preferred text,
    shown text,
    labeled_at text NOT NULL,
    event_id bigint NOT NULL,
    PRIMARY KEY (pair_id, annotator)
)""",
        "CREATE INDEX IF NOT EXISTS current_by_annotator ON current_labels (annotator, event_id)",
        _APPEND_ONLY,
        *_append_only("events"),
    ),
    (
        "CREATE TABLE IF NOT EXISTS pool (pair_id text PRIMARY KEY)",
        """CREATE TABLE IF NOT EXISTS claims (
    pair_id text NOT NULL,
    annotator text NOT NULL,
    expires_at double precision NOT NULL,
    PRIMARY KEY (pair_id, annotator)
)""",
        "CREATE INDEX IF NOT EXISTS claims_by_annotator ON claims (annotator, expires_at)",
        f"""CREATE TABLE IF NOT EXISTS adjudications (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pair_id text NOT NULL CHECK (pair_id <> ''),
    adjudicator text NOT NULL CHECK (adjudicator <> ''),
    verdict text NOT NULL CHECK (verdict IN ({_names(VERDICTS)})),
    strength text CHECK (strength IN ({_names(STRENGTHS)})),
    note text,
    basis text NOT NULL,
    session text,
    created_at text NOT NULL
)""",
        "CREATE INDEX IF NOT EXISTS adjudications_by_pair ON adjudications (pair_id, id)",
        *_append_only("adjudications"),
    ),
    (*judge_log.POSTGRES_DDL, *_append_only("judge_verdicts")),
)


def labeling_grants(role: str, database: str, schema: str = "public") -> list[str]:
    """The ``GRANT`` statements that let ``role`` label (and nothing more); run as owner.

    >>> labeling_grants("labeler", "prefs")[3]
    'GRANT SELECT, INSERT ON events, adjudications TO "labeler"'
    """

    def ident(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    r, d, s = ident(role), ident(database), ident(schema)
    return [
        f"GRANT CONNECT ON DATABASE {d} TO {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"GRANT SELECT ON prefnb_meta TO {r}",
        f"GRANT SELECT, INSERT ON events, adjudications TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON current_labels, claims TO {r}",
        f"GRANT SELECT, INSERT, UPDATE ON pool TO {r}",
        f"GRANT SELECT, INSERT ON judge_verdicts, judge_routes TO {r}",
    ]


def redact(url: str) -> str:
    """``url`` as ``postgresql://user@host:port/db``: no password, no query options."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(url)
    except Exception:
        # Never echo an unparsable URL: it may hold the password in a place we cannot find.
        return "postgresql://<unparsable URL>"
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = str(parts.get("host") or "")
    port = f":{parts['port']}" if parts.get("port") else ""
    db = str(parts.get("dbname") or "")
    return f"postgresql://{user}{host}{port}/{db}"


class _PgTx:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if params:
            cur = self._conn.execute(sql.replace("?", "%s"), tuple(params))
        else:  # no placeholder parsing: DDL may contain a literal %
            cur = self._conn.execute(sql)
        return list(cur.fetchall()) if cur.description is not None else []

    def pipeline(self, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
        cursors = []
        with self._conn.pipeline():
            for sql, params in statements:
                cur = self._conn.cursor()
                cur.execute(sql.replace("?", "%s"), tuple(params))
                cursors.append(cur)
        return [list(c.fetchall()) if c.description is not None else [] for c in cursors]


class _CommitUnknown(Exception):
    """The connection broke during COMMIT: the write may or may not be stored."""


class PostgresConnection:
    """One psycopg connection to a label store on a PostgreSQL server (thread-safe).

    Args:
        url: ``postgresql://user[:password]@host[:port]/dbname[?options]``.
        timeout: seconds a statement waits for another transaction's lock
            (``lock_timeout``) and for the server to accept a connection.
        **connect: libpq options passed through to :func:`psycopg.connect` (``sslmode``,
            ``sslrootcert``, ``sslcert``, ``sslkey``, ``application_name``, ...).
    """

    lock_rows = "FOR UPDATE SKIP LOCKED"
    now_epoch = "extract(epoch FROM clock_timestamp())::double precision"

    def __init__(self, url: str, *, timeout: float = 10.0, **connect: Any) -> None:
        self.location = redact(url)
        try:
            import psycopg  # noqa: F401  (checked here so the message can say what to install)
        except ImportError:
            raise LabelStoreError(
                f"label store {self.location}: PostgreSQL needs psycopg 3; "
                "install it with: pip install 'prefnb[postgres]'",
                path=self.location,
            ) from None
        if not isinstance(timeout, (int, float)) or not timeout > 0:
            raise LabelStoreError(
                f"label store {self.location}: timeout must be a positive number of seconds, "
                f"got {timeout!r}",
                path=self.location,
            )
        self.timeout = float(timeout)
        self._url = url
        self._connect_kwargs = dict(connect)
        self._connect_kwargs.setdefault("connect_timeout", max(1, round(min(timeout, 10))))
        self._connect_kwargs.setdefault("application_name", "prefnb")
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None
        self._closed = False
        self.reconnects = 0
        with self._lock:
            self._open()
            self.transaction(self._migrate, "open")

    # -- connecting --------------------------------------------------------------------

    def connect_raw(self, **extra: Any) -> psycopg.Connection[Any]:
        """A new autocommit psycopg connection with this store's options (for LISTEN)."""
        import psycopg

        kwargs = {**self._connect_kwargs, **extra}
        try:
            return psycopg.connect(self._url, autocommit=True, **kwargs)
        except psycopg.Error as exc:
            raise self._error(exc, "connect") from None

    def _open(self) -> psycopg.Connection[Any]:
        conn = self.connect_raw()
        ms = int(self.timeout * 1000)
        conn.execute(f"SET lock_timeout = {ms}")
        self._conn = conn
        return conn

    def _scrub(self, text: str) -> str:
        from psycopg.conninfo import conninfo_to_dict

        try:
            password = conninfo_to_dict(self._url).get("password")
        except Exception:
            password = None
        if password:
            text = text.replace(str(password), "***")
        return text

    def _error(self, exc: BaseException, action: str) -> LabelStoreError:
        import psycopg
        import psycopg.errors as e

        detail = self._scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        where = f"label store {self.location}"
        if isinstance(exc, e.InsufficientPrivilege):
            message = (
                f"{where}: permission denied ({action}): {detail}. A labeling role needs the "
                "grants listed by prefnb.labels.postgres.labeling_grants(); schema changes "
                "need the owner."
            )
        elif isinstance(exc, e.LockNotAvailable):
            message = (
                f"{where}: another transaction held a lock for more than {self.timeout:g} s "
                f"({action}). Nothing was written."
            )
        elif isinstance(exc, _CommitUnknown):
            message = (
                f"{where}: the connection was lost while committing ({action}); the write "
                "may or may not be stored. Retrying it is safe in the Labeler (repeats are "
                "recognized)."
            )
        elif isinstance(exc, psycopg.OperationalError):
            message = (
                f"{where}: cannot reach the server ({action}): {detail}. Nothing was "
                "written; the next attempt reconnects."
            )
        else:
            message = f"{where}: PostgreSQL error ({action}): {type(exc).__name__}: {detail}"
        return LabelStoreError(message, path=self.location)

    def _migrate(self, tx: Tx) -> None:
        tx.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        meta = tx.execute("SELECT to_regclass('prefnb_meta') IS NOT NULL")[0][0]
        version = 0
        if meta:
            rows = tx.execute("SELECT value FROM prefnb_meta WHERE key = 'schema_version'")
            version = int(rows[0][0]) if rows else 0
        elif tx.execute("SELECT to_regclass('events') IS NOT NULL")[0][0]:
            raise LabelStoreError(
                f"label store {self.location}: the database already has an 'events' table "
                "that is not a prefnb label store; refusing to modify it. Use another "
                "database or schema (options='-c search_path=...').",
                path=self.location,
            )
        if version > SCHEMA_VERSION:
            raise LabelStoreError(
                f"label store {self.location} has schema version {version}, newer than this "
                f"prefnb supports ({SCHEMA_VERSION}); upgrade prefnb to open it. "
                "The database was not modified.",
                path=self.location,
            )
        if version == SCHEMA_VERSION:
            return
        tx.execute(
            "CREATE TABLE IF NOT EXISTS prefnb_meta (key text PRIMARY KEY, value text NOT NULL)"
        )
        for statements in POSTGRES_MIGRATIONS[version:]:
            for statement in statements:
                tx.execute(statement)
        tx.execute(
            "INSERT INTO prefnb_meta (key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )

    # -- transactions ------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def _attempt(self, body: Callable[[Tx], _T]) -> _T:
        import psycopg

        conn = self._conn if self._conn is not None and not self._conn.closed else self._open()
        conn.execute("BEGIN", prepare=False)
        try:
            result = body(_PgTx(conn))
        except BaseException:
            if not conn.closed:
                try:
                    conn.execute("ROLLBACK", prepare=False)
                except psycopg.Error:
                    conn.close()
            raise
        try:
            conn.execute("COMMIT", prepare=False)
        except psycopg.OperationalError as exc:
            conn.close()
            raise _CommitUnknown(str(exc)) from exc
        return result

    def transaction(
        self,
        body: Callable[[Tx], _T],
        action: str,
        committed: Callable[[Tx], _T | None] | None = None,
    ) -> _T:
        """Run ``body`` in one transaction; reconnect with back-off if the link is lost.

        ``committed`` settles a commit whose outcome is unknown (the link broke during
        ``COMMIT``): run after reconnecting, it returns what ``body`` returned if the
        transaction did commit, or None if it did not, and then ``body`` runs again.
        Without it, such a write raises :class:`LabelStoreError` saying so.
        """
        import psycopg
        import psycopg.errors as e

        if self._closed:
            raise LabelStoreError(f"label store {self.location} is closed", path=self.location)
        last: BaseException | None = None
        unknown: _CommitUnknown | None = None
        with self._lock:
            for pause in _BACKOFF:
                if pause:
                    time.sleep(pause * random.uniform(0.75, 1.25))
                try:
                    if unknown is not None and committed is not None:
                        found = self._attempt(committed)
                        if found is not None:
                            return found
                        unknown = None  # it did not commit: running it again is safe
                    return self._attempt(body)
                except LabelStoreError:
                    raise
                except _CommitUnknown as exc:
                    if committed is None:
                        raise self._error(exc, action) from None
                    last = unknown = exc
                    self._conn = None
                    self.reconnects += 1
                except (e.SerializationFailure, e.DeadlockDetected) as exc:
                    last = exc  # the server rolled back; running it again is safe
                except psycopg.OperationalError as exc:
                    # Lost before COMMIT: the server rolled the transaction back.
                    last = exc
                    if self._conn is not None and not self._conn.closed:
                        self._conn.close()
                    self._conn = None
                    self.reconnects += 1
                except psycopg.Error as exc:
                    raise self._error(exc, action) from None
        assert last is not None
        raise self._error(unknown or last, action) from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one read, in its own short transaction (retried like a write)."""
        return self.transaction(lambda tx: tx.execute(sql, params), "read")

    def lock_keys(self, keys: Sequence[str]) -> list[Statement]:
        """Transaction-scoped advisory locks on ``keys`` (sorted, so no deadlock)."""
        sql = "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))"
        return [(sql, (key,)) for key in sorted(set(keys))]

    def notify(self, payload: str) -> list[Statement]:
        """``NOTIFY`` :data:`NOTIFY_CHANNEL`; PostgreSQL delivers it only on commit."""
        return [("SELECT pg_notify(?, ?)", (NOTIFY_CHANNEL, payload[:200]))]

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None
