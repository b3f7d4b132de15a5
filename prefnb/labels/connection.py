"""Connections under the label store: opening, schema migrations, retries and transactions.

:class:`prefnb.labels.LabelStore` speaks one small SQL dialect (``?`` placeholders,
``INSERT … ON CONFLICT … DO UPDATE``, ``RETURNING``) that SQLite ≥ 3.35 and PostgreSQL
both understand, and hands each write to a :class:`Connection` as one function run inside
one transaction. The connection owns what differs between the two: how a file or server is
opened and checked, how the versioned schema is created and migrated, which failures are
retried and how, and how row locks for claims are taken. :class:`SqliteConnection` is here;
the PostgreSQL one is :mod:`prefnb.labels.postgres`.

SQLite. The database runs in WAL mode with ``synchronous=FULL`` (see the store's module
docstring for the measured cost). Every write is one ``BEGIN IMMEDIATE`` transaction (the
write lock is taken up front, so a reader never has to upgrade and deadlock). A busy lock is
retried every 0.5–8 ms with jitter until ``timeout`` seconds have passed; SQLite's own busy
handler is off because its back-off sleeps grow to 100 ms. WAL needs shared memory, so the
file must be on a local filesystem (not NFS/SMB).

Example:
    >>> import tempfile, pathlib
    >>> conn = SqliteConnection(pathlib.Path(tempfile.mkdtemp()) / "l.sqlite")
    >>> conn.transaction(lambda tx: tx.execute("SELECT count(*) FROM events"), "read")
    [(0,)]
    >>> conn.close()
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final, Literal, Protocol, TypeVar

from prefnb.labels import judge_log
from prefnb.labels.events import KINDS, SHOWN, STRENGTHS, VERDICTS

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "Connection",
    "LabelStoreError",
    "SqliteConnection",
    "Statement",
    "Tx",
]

#: Version of the stored schema (SQLite: ``PRAGMA user_version``; PostgreSQL: the
#: ``prefnb_meta`` table). 1: events and current labels; 2: claims, pool, adjudications.
SCHEMA_VERSION: Final = 3
#: ``PRAGMA application_id`` of a prefnb label store: "pfnb" in ASCII.
APPLICATION_ID: Final = 0x70666E62
SQLITE_HEADER: Final = b"SQLite format 3\x00"

_T = TypeVar("_T")


class LabelStoreError(Exception):
    """The label store cannot do what was asked; the message names the store and the cause.

    ``path`` is the store's file (or its server URL without the password) and ``field``
    the offending event field, if any.
    """

    def __init__(self, message: str, *, path: str | os.PathLike[str], field: str | None = None):
        self.path = str(path)
        self.field = field
        super().__init__(message)


#: One statement and its parameters.
Statement = tuple[str, Sequence[Any]]


class Tx(Protocol):
    """One open transaction: ``execute`` runs a statement and returns its rows (or ``[]``)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def pipeline(self, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
        """Run ``statements`` in order, sent together where the driver can (PostgreSQL's
        pipeline mode: one round trip instead of one each); return each one's rows."""
        ...


class Connection(Protocol):
    """What the label store needs from a database connection."""

    #: Where the store lives, safe to print: a file path, or a URL without its password.
    location: str
    #: Appended to a ``SELECT`` that must lock the rows it reads against other claimers.
    lock_rows: str
    #: SQL expression for the database's clock as Unix seconds (leases use the server's clock).
    now_epoch: str

    def transaction(
        self,
        body: Callable[[Tx], _T],
        action: str,
        committed: Callable[[Tx], _T | None] | None = None,
    ) -> _T:
        """Run ``body`` in one transaction, committed when it returns (retried if safe).

        ``committed`` tells, after a commit whose outcome is unknown, whether it happened
        (returning ``body``'s result) or not (None); see :mod:`prefnb.labels.postgres`.
        """
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one read."""
        ...

    def lock_keys(self, keys: Sequence[str]) -> list[Statement]:
        """Statements that serialize writers of the same keys until the transaction ends."""
        ...

    def notify(self, payload: str) -> list[Statement]:
        """Statements that tell listeners (a TeamPanel) the store changed, on commit."""
        ...

    def close(self) -> None: ...

    @property
    def closed(self) -> bool: ...


def _check_names(values: Sequence[str]) -> str:
    return ", ".join(repr(v) for v in values)


#: DDL per schema version; migration N brings a store from version N-1 to N. Statements are
#: idempotent (IF NOT EXISTS): another process may migrate between our check and our lock.
SQLITE_MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        f"""CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pair_id TEXT NOT NULL CHECK (pair_id <> ''),
    annotator TEXT NOT NULL CHECK (annotator <> ''),
    kind TEXT NOT NULL CHECK (kind IN ({_check_names(KINDS)})),
    verdict TEXT CHECK (verdict IN ({_check_names(VERDICTS)})),
    shown TEXT CHECK (shown IN ({_check_names(SHOWN)})),
    strength TEXT CHECK (strength IN ({_check_names(STRENGTHS)})),
    note TEXT,
    edited_preferred TEXT,
    session TEXT,
    created_at TEXT NOT NULL,
    duration_ms REAL
)""",
        "CREATE INDEX IF NOT EXISTS events_by_pair ON events (pair_id, annotator, id)",
        "CREATE INDEX IF NOT EXISTS events_by_annotator ON events (annotator, id)",
        """CREATE TABLE IF NOT EXISTS current_labels (
    pair_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    label TEXT NOT NULL,
    strength TEXT,
    note TEXT,
    edited_preferred TEXT,
    shown TEXT,
    labeled_at TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    PRIMARY KEY (pair_id, annotator)
) WITHOUT ROWID""",
        "CREATE INDEX IF NOT EXISTS current_by_annotator ON current_labels (annotator, event_id)",
        """CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'label events are append-only'); END""",
        """CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'label events are append-only'); END""",
    ),
    (
        # Pairs ever offered for claiming: the rows a claim locks (PostgreSQL) to enforce the
        # per-pair quota. SQLite serializes writers anyway; the table keeps one dialect.
        "CREATE TABLE IF NOT EXISTS pool (pair_id TEXT PRIMARY KEY) WITHOUT ROWID",
        """CREATE TABLE IF NOT EXISTS claims (
    pair_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (pair_id, annotator)
) WITHOUT ROWID""",
        "CREATE INDEX IF NOT EXISTS claims_by_annotator ON claims (annotator, expires_at)",
        f"""CREATE TABLE IF NOT EXISTS adjudications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pair_id TEXT NOT NULL CHECK (pair_id <> ''),
    adjudicator TEXT NOT NULL CHECK (adjudicator <> ''),
    verdict TEXT NOT NULL CHECK (verdict IN ({_check_names(VERDICTS)})),
    strength TEXT CHECK (strength IN ({_check_names(STRENGTHS)})),
    note TEXT,
    basis TEXT NOT NULL,
    session TEXT,
    created_at TEXT NOT NULL
)""",
        "CREATE INDEX IF NOT EXISTS adjudications_by_pair ON adjudications (pair_id, id)",
        """CREATE TRIGGER IF NOT EXISTS adjudications_no_update BEFORE UPDATE ON adjudications
BEGIN SELECT RAISE(ABORT, 'adjudication events are append-only'); END""",
        """CREATE TRIGGER IF NOT EXISTS adjudications_no_delete BEFORE DELETE ON adjudications
BEGIN SELECT RAISE(ABORT, 'adjudication events are append-only'); END""",
    ),
    judge_log.SQLITE_DDL,  # LLM-judge verdicts and routes, apart from people's labels
)


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return True
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _is_corrupt(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return True
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

    def pipeline(self, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
        return [self.execute(sql, params) for sql, params in statements]


class SqliteConnection:
    """One SQLite connection to a label-store file, guarded by a lock (thread-safe).

    Opening checks the file before writing anything: a file that is not SQLite, a corrupt
    database, a store written by a newer prefnb or a SQLite file that is not a label store
    raise :class:`LabelStoreError` naming the file, and the file is left untouched. An
    older store is migrated in one transaction.
    """

    lock_rows = ""  # BEGIN IMMEDIATE already holds the only write lock
    now_epoch = "((julianday('now') - 2440587.5) * 86400.0)"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 10.0,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> None:
        self.path = Path(path).expanduser()
        self.location = str(self.path)
        if not isinstance(timeout, (int, float)) or not timeout > 0 or math.isinf(timeout):
            raise LabelStoreError(
                f"label store {self.path}: timeout must be a positive number of seconds, "
                f"got {timeout!r}",
                path=self.path,
            )
        if synchronous not in ("FULL", "NORMAL"):
            raise LabelStoreError(
                f"label store {self.path}: synchronous must be 'FULL' or 'NORMAL', "
                f"got {synchronous!r}",
                path=self.path,
            )
        self.timeout = float(timeout)
        self.synchronous = synchronous
        self._lock = threading.RLock()
        self._check_file()
        try:
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                str(self.path),
                # No SQLite busy handler: its back-off sleeps grow to 100 ms, which blows the
                # 50 ms keypress budget when kernels contend. _retry polls every few ms.
                timeout=0,
                isolation_level=None,  # we issue BEGIN IMMEDIATE / COMMIT ourselves
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise self._error(exc, "open") from exc
        try:
            self._retry(self._setup, "open")
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    # -- opening -----------------------------------------------------------------------

    def _check_file(self) -> None:
        p = self.path
        if p.is_dir():
            raise LabelStoreError(
                f"label store {p} is a directory; expected a SQLite file path", path=p
            )
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.is_dir():
            raise LabelStoreError(f"label store {p}: directory {parent} does not exist", path=p)
        if not p.exists():
            return
        try:
            with p.open("rb") as f:
                head = f.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise LabelStoreError(f"label store {p} cannot be read: {exc}", path=p) from exc
        if head and head != SQLITE_HEADER:
            raise LabelStoreError(
                f"label store {p} is not a SQLite database (it starts with {head[:8]!r}); "
                "refusing to use it. The file was not modified; pass another path.",
                path=p,
            )

    def _setup(self) -> None:
        conn = self._connection()
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version > SCHEMA_VERSION:
            raise LabelStoreError(
                f"label store {self.path} has schema version {version}, newer than this "
                f"prefnb supports ({SCHEMA_VERSION}); upgrade prefnb to open it. "
                "The file was not modified.",
                path=self.path,
            )
        ours = app_id == APPLICATION_ID and "events" in tables
        if tables and not ours:
            shown = ", ".join(sorted(tables)[:5])
            raise LabelStoreError(
                f"label store {self.path} is a SQLite database but not a prefnb label store "
                f"(tables: {shown}); refusing to modify it.",
                path=self.path,
            )
        if ours:
            problems = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
            if problems != ["ok"]:
                raise LabelStoreError(
                    f"label store {self.path} is corrupt ({'; '.join(problems)}). "
                    "The file was not modified; restore it from a backup, or recover what "
                    "is readable with the sqlite3 CLI's .recover command.",
                    path=self.path,
                )
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise LabelStoreError(
                f"label store {self.path}: SQLite could not switch to WAL mode (got {mode!r}); "
                "put the store on a local filesystem",
                path=self.path,
            )
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not ours or version < SCHEMA_VERSION:
            self._in_transaction(self._migrate)

    def _migrate(self, tx: Tx) -> None:
        conn = self._connection()
        # Read again under the write lock: another process may have migrated meanwhile.
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise LabelStoreError(
                f"label store {self.path} has schema version {version}, newer than this "
                f"prefnb supports ({SCHEMA_VERSION}); upgrade prefnb to open it.",
                path=self.path,
            )
        for statements in SQLITE_MIGRATIONS[version:]:
            for statement in statements:
                tx.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- plumbing ----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._conn is None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LabelStoreError(f"label store {self.path} is closed", path=self.path)
        return self._conn

    def _error(self, exc: sqlite3.Error, action: str) -> LabelStoreError:
        if _is_busy(exc):
            return LabelStoreError(
                f"label store {self.path} is locked by another process or connection and "
                f"stayed locked for more than {self.timeout:g} s ({action}); close the other "
                "writer or pass a larger timeout. Nothing was written.",
                path=self.path,
            )
        if _is_corrupt(exc):
            return LabelStoreError(
                f"label store {self.path} is corrupt or not a SQLite database ({exc}). "
                "The file was not modified.",
                path=self.path,
            )
        return LabelStoreError(
            f"label store {self.path}: SQLite error ({action}): {exc}", path=self.path
        )

    def _retry(self, fn: Callable[[], _T], action: str) -> _T:
        deadline = time.monotonic() + self.timeout
        delay = 0.0005
        while True:
            try:
                with self._lock:
                    return fn()
            except sqlite3.Error as exc:
                if _is_busy(exc) and time.monotonic() < deadline:
                    # Jitter so contending processes do not retry in lockstep.
                    pause = min(delay * random.uniform(0.5, 1.5), deadline - time.monotonic())
                    time.sleep(max(pause, 0.0))
                    delay = min(delay * 1.5, 0.008)
                    continue
                raise self._error(exc, action) from exc

    def _in_transaction(self, body: Callable[[Tx], _T]) -> _T:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body(_SqliteTx(conn))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                # The transaction may already have ended with the error that got us here.
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
        return result

    def transaction(
        self,
        body: Callable[[Tx], _T],
        action: str,
        committed: Callable[[Tx], _T | None] | None = None,
    ) -> _T:
        """Run ``body`` in one ``BEGIN IMMEDIATE`` transaction; retry while the file is busy.

        ``committed`` is not needed: a local COMMIT either returns or raises, never both.
        """
        return self._retry(lambda: self._in_transaction(body), action)

    @contextlib.contextmanager
    def relaxed_sync(self) -> Iterator[None]:
        """Commit with ``synchronous=NORMAL`` inside the block, then back to the store's
        setting: for data that can be bought again (LLM-judge verdicts), never for labels.

        Holds the connection's lock throughout, so no other thread's commit shares it.
        """
        with self._lock:
            conn = self._connection()
            conn.execute("PRAGMA synchronous = NORMAL")
            try:
                yield
            finally:
                conn.execute(f"PRAGMA synchronous = {self.synchronous}")

    def lock_keys(self, keys: Sequence[str]) -> list[Statement]:
        """None needed: ``BEGIN IMMEDIATE`` already serializes every writer of the file."""
        return []

    def notify(self, payload: str) -> list[Statement]:
        """None needed: listeners watch the file (see :class:`prefnb.TeamPanel`)."""
        return []

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one read (no explicit transaction: WAL gives it a consistent snapshot)."""
        return self._retry(lambda: self._connection().execute(sql, params).fetchall(), "read")

    def close(self) -> None:
        """Close the connection (idempotent). Committed events are already on disk."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
