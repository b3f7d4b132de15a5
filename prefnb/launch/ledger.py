"""The job ledger: a local SQLite record of what was launched, so nothing is launched twice.

A job is keyed by the server it went to, its method, the SHA-256 of its training (and
validation) file and the canonical text of its parameters (:func:`job_key`). Launching the
same thing again finds the job here instead of starting a new one, including after a kernel
restart. Uploaded files are remembered by checksum too, so the same bytes are not re-sent.
The ledger never holds an API key (W&B or Together): only ids, names and parameters.

It lives in ``$PREFNB_HOME/jobs.sqlite`` (default ``~/.prefnb``).

Example:
    >>> import tempfile, pathlib
    >>> led = Ledger(pathlib.Path(tempfile.mkdtemp()) / "jobs.sqlite")
    >>> key = job_key("http://x", "dpo", "ab" * 32, None, '{"dpo_beta":0.1}')
    >>> led.record_job("ft-1", key=key, base_url="http://x", method="dpo", model="m",
    ...                training_checksum="ab" * 32, params='{"dpo_beta":0.1}')
    >>> led.find_job(key)["job_id"]
    'ft-1'
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd

__all__ = ["IntentRow", "JobRow", "Ledger", "default_path", "job_key", "jobs"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT NOT NULL,
    base_url TEXT NOT NULL,
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    model TEXT,
    from_checkpoint TEXT,
    training_checksum TEXT NOT NULL,
    validation_checksum TEXT,
    training_file_id TEXT,
    validation_file_id TEXT,
    params TEXT NOT NULL,
    status TEXT,
    model_output_name TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (base_url, job_id)
);
CREATE INDEX IF NOT EXISTS jobs_by_key ON jobs (key, created_at);
CREATE TABLE IF NOT EXISTS files (
    base_url TEXT NOT NULL,
    checksum TEXT NOT NULL,
    file_id TEXT NOT NULL,
    filename TEXT,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (base_url, checksum)
);
CREATE TABLE IF NOT EXISTS intents (
    base_url TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    match TEXT NOT NULL,
    created_at REAL NOT NULL,
    state TEXT NOT NULL,
    object_id TEXT
);
CREATE INDEX IF NOT EXISTS intents_open ON intents (base_url, kind, key, state);
"""


class IntentRow(TypedDict):
    """A billable create that was about to be sent (see :mod:`prefnb.launch.billable`)."""

    rowid: int
    created_at: float


class JobRow(TypedDict):
    """One ledger row."""

    job_id: str
    base_url: str
    key: str
    method: str
    model: str | None
    from_checkpoint: str | None
    training_checksum: str
    validation_checksum: str | None
    training_file_id: str | None
    validation_file_id: str | None
    params: str
    status: str | None
    model_output_name: str | None
    created_at: str
    updated_at: str


def default_path() -> Path:
    """``$PREFNB_HOME/jobs.sqlite``, with ``PREFNB_HOME`` defaulting to ``~/.prefnb``."""
    home = os.environ.get("PREFNB_HOME") or "~/.prefnb"
    return Path(home).expanduser() / "jobs.sqlite"


def job_key(
    base_url: str,
    method: str,
    training_checksum: str,
    validation_checksum: str | None,
    canonical_params: str,
) -> str:
    """The identity of a launch: same server, method, data and parameters → same key."""
    parts = [
        base_url.rstrip("/"),
        method,
        training_checksum,
        validation_checksum or "",
        canonical_params,
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Ledger:
    """A job ledger in one SQLite file (created on first use, safe across processes)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)
            with con:
                yield con
        finally:
            con.close()

    def find_job(self, key: str) -> JobRow | None:
        """The most recent job launched with ``key``, or None."""
        with self._connect() as con:
            row = con.execute(
                "SELECT * FROM jobs WHERE key = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
                (key,),
            ).fetchone()
        return JobRow(**dict(row)) if row is not None else None  # type: ignore[typeddict-item]

    def get_job(self, job_id: str) -> JobRow | None:
        """The row of ``job_id`` (any server), or None."""
        with self._connect() as con:
            row = con.execute(
                "SELECT * FROM jobs WHERE job_id = ? ORDER BY created_at DESC LIMIT 1", (job_id,)
            ).fetchone()
        return JobRow(**dict(row)) if row is not None else None  # type: ignore[typeddict-item]

    def record_job(
        self,
        job_id: str,
        *,
        key: str,
        base_url: str,
        method: str,
        model: str | None,
        training_checksum: str,
        params: str,
        from_checkpoint: str | None = None,
        validation_checksum: str | None = None,
        training_file_id: str | None = None,
        validation_file_id: str | None = None,
        status: str | None = None,
        model_output_name: str | None = None,
    ) -> None:
        """Insert (or replace) the row of a launched job."""
        now = _now()
        with self._connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO jobs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    job_id,
                    base_url.rstrip("/"),
                    key,
                    method,
                    model,
                    from_checkpoint,
                    training_checksum,
                    validation_checksum,
                    training_file_id,
                    validation_file_id,
                    params,
                    status,
                    model_output_name,
                    now,
                    now,
                ),
            )

    def update_job(
        self, job_id: str, *, status: str | None, model_output_name: str | None = None
    ) -> None:
        """Remember the last status (and output model name) seen for ``job_id``."""
        with self._connect() as con:
            con.execute(
                "UPDATE jobs SET status = ?, model_output_name = COALESCE(?, model_output_name),"
                " updated_at = ? WHERE job_id = ?",
                (status, model_output_name, _now(), job_id),
            )

    def find_file(self, base_url: str, checksum: str) -> str | None:
        """The file id of bytes with ``checksum`` already uploaded to ``base_url``."""
        with self._connect() as con:
            row = con.execute(
                "SELECT file_id FROM files WHERE base_url = ? AND checksum = ?",
                (base_url.rstrip("/"), checksum),
            ).fetchone()
        return str(row["file_id"]) if row is not None else None

    def record_file(self, base_url: str, checksum: str, file_id: str, filename: str) -> None:
        """Remember that bytes with ``checksum`` are ``file_id`` on ``base_url``."""
        with self._connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?)",
                (base_url.rstrip("/"), checksum, file_id, filename, _now()),
            )

    def forget_file(self, base_url: str, checksum: str) -> None:
        """Drop a remembered upload (the server no longer has it)."""
        with self._connect() as con:
            con.execute(
                "DELETE FROM files WHERE base_url = ? AND checksum = ?",
                (base_url.rstrip("/"), checksum),
            )

    def write_intent(
        self, base_url: str, kind: str, key: str, match: str, created_at: float
    ) -> int:
        """Record that a billable create is about to be sent; returns the intent's row id."""
        with self._connect() as con:
            cur = con.execute(
                "INSERT INTO intents VALUES (?,?,?,?,?,'sending',NULL)",
                (base_url.rstrip("/"), kind, key, match, created_at),
            )
            return int(cur.lastrowid or 0)

    def close_intent(self, rowid: int, *, object_id: str | None, state: str = "done") -> None:
        """Settle an intent: ``done`` with the created id, or ``absent``/``refused``."""
        with self._connect() as con:
            con.execute(
                "UPDATE intents SET state = ?, object_id = ? WHERE rowid = ?",
                (state, object_id, rowid),
            )

    def open_intent(self, base_url: str, kind: str, key: str) -> IntentRow | None:
        """The newest intent still ``sending`` (its process died before the reply)."""
        with self._connect() as con:
            row = con.execute(
                "SELECT rowid, created_at FROM intents WHERE base_url = ? AND kind = ? AND "
                "key = ? AND state = 'sending' ORDER BY created_at DESC LIMIT 1",
                (base_url.rstrip("/"), kind, key),
            ).fetchone()
        return IntentRow(rowid=int(row[0]), created_at=float(row[1])) if row else None

    def known_ids(self, base_url: str) -> set[str]:
        """Ids of every object this ledger already accounts for on ``base_url``."""
        base = base_url.rstrip("/")
        with self._connect() as con:
            jobs = con.execute("SELECT job_id FROM jobs WHERE base_url = ?", (base,))
            ids = {str(r[0]) for r in jobs}
            made = con.execute(
                "SELECT object_id FROM intents WHERE base_url = ? AND object_id IS NOT NULL",
                (base,),
            )
            ids.update(str(r[0]) for r in made)
        return ids

    def forget_file_id(self, base_url: str, file_id: str) -> None:
        """Drop every remembered upload of ``file_id`` (it was deleted)."""
        with self._connect() as con:
            con.execute(
                "DELETE FROM files WHERE base_url = ? AND file_id = ?",
                (base_url.rstrip("/"), file_id),
            )

    def frame(self) -> pd.DataFrame:
        """Every job, newest first."""
        with self._connect() as con:
            rows = [
                dict(r)
                for r in con.execute("SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC")
            ]
        cols = [
            "job_id",
            "status",
            "method",
            "model",
            "from_checkpoint",
            "model_output_name",
            "created_at",
            "updated_at",
            "base_url",
            "params",
            "training_checksum",
            "validation_checksum",
            "training_file_id",
            "validation_file_id",
            "key",
        ]
        return pd.DataFrame(rows, columns=cols)


def jobs(
    ledger: str | os.PathLike[str] | None = None, *, remote: bool = False, client: Any = None
) -> pd.DataFrame:
    """Every job launched from this machine, newest first, as a DataFrame.

    With ``remote=True`` the account's jobs (``client.fine_tuning.list()``) are listed
    instead, joined with the ledger: ``launched_here`` says which this machine launched
    (their ``method``, ``params`` and checksums come from the ledger), and ledger jobs the
    account no longer has are kept with ``on_account=False``.

    >>> import tempfile, pathlib
    >>> jobs(pathlib.Path(tempfile.mkdtemp()) / "jobs.sqlite").empty
    True
    """
    local = Ledger(ledger).frame()
    if not remote:
        return local
    from prefnb.launch.credentials import client_base_url, resolve_client
    from prefnb.launch.errors import api_errors

    client = resolve_client(client)
    with api_errors(what="listing the account's fine-tuning jobs"):
        listed = [j.to_dict() for j in client.fine_tuning.list().data or []]
    cols = ["job_id", "status", "model", "model_output_name", "suffix", "training_file",
            "from_checkpoint", "created_at"]  # fmt: skip
    rows = [{"job_id": j.get("id"), **{c: j.get(c) for c in cols[1:]}} for j in listed]
    account = pd.DataFrame(rows, columns=cols)
    account["created_at"] = pd.to_datetime(account["created_at"], utc=True, errors="coerce")
    base = client_base_url(client).rstrip("/")
    mine = local[local["base_url"] == base].drop(
        columns=["status", "model", "model_output_name", "from_checkpoint", "created_at"]
    )
    out = account.merge(mine, on="job_id", how="outer", indicator=True)
    out["launched_here"] = out["_merge"] != "left_only"
    out["on_account"] = out["_merge"] != "right_only"
    out = out.drop(columns="_merge")
    return out.sort_values("created_at", ascending=False, na_position="last").reset_index(drop=True)
