"""Judge verdicts and routing decisions in the label store, apart from people's labels.

Two append-only tables, created on first use in the same SQLite file as ``events`` (no
schema-version change: an older prefnb opens the file and ignores them):

``judge_verdicts``
    one row per (pair content, judge, rubric, order): the verdict of one pass of an LLM
    judge. ``annotator`` is ``judge:<model>``; ``shown`` is the order the judge saw (``ab``:
    response_a first); ``verdict`` names DataFrame positions (``a``, ``b``, ``tie``) or is
    NULL when the judge's answer was not a valid verdict (``error`` says why). The UNIQUE key
    is the cache: a verdict that is stored is never requested (or paid for) again.
``judge_routes``
    one row per :func:`prefnb.route` decision for a pair (latest wins): ``auto``, ``human``
    or ``audit``, with the seed and audit rate that produced it.

Verdicts are committed with ``synchronous=NORMAL`` (people's labels keep ``FULL``): in WAL
mode a committed verdict survives a killed kernel, only not a power loss, and a lost verdict
can be bought again for a fraction of a cent; an fsync per group commit stalled judge runs.

People's labels stay in ``events``/``current_labels``: nothing here changes a current label,
so :func:`prefnb.apply_labels` ignores judges unless asked (``fill_from_judge=True``).

Example:
    >>> import sqlite3
    >>> conn = sqlite3.connect(":memory:")
    >>> create_tables(conn)
    >>> insert_verdicts(conn, [{"pair_id": "p", "content_key": "k", "annotator": "judge:m",
    ...     "rubric_hash": "r", "shown": "ab", "verdict": "a"}], "2026-01-01T00:00:00")
    1
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = [
    "ROUTES",
    "ROUTE_COLUMNS",
    "VERDICT_COLUMNS",
    "create_tables",
    "insert_routes",
    "insert_verdicts",
    "select_routes",
    "select_verdicts",
]

#: Where :func:`prefnb.route` sends a pair.
ROUTES: Final[tuple[str, ...]] = ("auto", "human", "audit")

#: Columns of ``judge_verdicts`` a caller gives (``id`` and ``created_at`` are added).
VERDICT_COLUMNS: Final[tuple[str, ...]] = (
    "pair_id",
    "content_key",
    "annotator",
    "rubric_hash",
    "shown",
    "verdict",
    "rationale",
    "confidence",
    "error",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "seconds",
    "len_a",
    "len_b",
    "backend",
)
ROUTE_COLUMNS: Final[tuple[str, ...]] = (
    "pair_id",
    "annotator",
    "rubric_hash",
    "route",
    "reason",
    "audit_rate",
    "seed",
)

_DDL: Final = (
    """CREATE TABLE IF NOT EXISTS judge_verdicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pair_id TEXT NOT NULL CHECK (pair_id <> ''),
    content_key TEXT NOT NULL,
    annotator TEXT NOT NULL CHECK (annotator LIKE 'judge:%'),
    rubric_hash TEXT NOT NULL,
    shown TEXT NOT NULL CHECK (shown IN ('ab', 'ba')),
    verdict TEXT CHECK (verdict IN ('a', 'b', 'tie')),
    rationale TEXT,
    confidence REAL,
    error TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cost_usd REAL,
    seconds REAL,
    len_a INTEGER,
    len_b INTEGER,
    backend TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (content_key, annotator, rubric_hash, shown)
)""",
    """CREATE TABLE IF NOT EXISTS judge_routes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pair_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    rubric_hash TEXT NOT NULL,
    route TEXT NOT NULL CHECK (route IN ('auto', 'human', 'audit')),
    reason TEXT,
    audit_rate REAL,
    seed INTEGER,
    created_at TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS judge_routes_by_judge ON judge_routes (annotator, rubric_hash, id)",
    """CREATE TRIGGER IF NOT EXISTS judge_verdicts_no_update BEFORE UPDATE ON judge_verdicts
BEGIN SELECT RAISE(ABORT, 'judge verdicts are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS judge_verdicts_no_delete BEFORE DELETE ON judge_verdicts
BEGIN SELECT RAISE(ABORT, 'judge verdicts are append-only'); END""",
)


def create_tables(conn: sqlite3.Connection) -> None:
    """Create both tables if absent (call inside the write transaction)."""
    for statement in _DDL:
        conn.execute(statement)


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def insert_verdicts(
    conn: sqlite3.Connection, rows: Iterable[Mapping[str, Any]], created_at: str
) -> int:
    """Insert verdict rows; a row whose (content, judge, rubric, order) is already stored is
    skipped, so a verdict is kept once however often it arrives. Returns rows inserted.

    A row that breaks a column's rule raises ``ValueError`` naming the row and the field
    (only the uniqueness conflict is ignored, never a CHECK)."""
    create_tables(conn)
    data = []
    for i, row in enumerate(rows):
        _check_verdict(row, i)
        data.append((*(row.get(c) for c in VERDICT_COLUMNS), created_at))
    cols = ", ".join(VERDICT_COLUMNS)
    marks = ", ".join("?" for _ in VERDICT_COLUMNS)
    before = conn.total_changes
    conn.executemany(
        f"INSERT INTO judge_verdicts ({cols}, created_at) VALUES ({marks}, ?) "
        "ON CONFLICT (content_key, annotator, rubric_hash, shown) DO NOTHING",
        data,
    )
    return conn.total_changes - before


def _check_verdict(row: Mapping[str, Any], i: int) -> None:
    def fail(field: str, expected: str) -> ValueError:
        return ValueError(
            f"judge verdict {i}: field {field!r} must be {expected}, got {row.get(field)!r}"
        )

    for field in ("pair_id", "content_key", "rubric_hash"):
        if not isinstance(row.get(field), str) or not row[field]:
            raise fail(field, "a non-empty string")
    who = row.get("annotator")
    if not isinstance(who, str) or not who.startswith("judge:") or who == "judge:":
        raise fail("annotator", "'judge:<model>'")
    if row.get("shown") not in ("ab", "ba"):
        raise fail("shown", "'ab' or 'ba'")
    if row.get("verdict") not in (None, "a", "b", "tie"):
        raise fail("verdict", "None, 'a', 'b' or 'tie'")


def insert_routes(
    conn: sqlite3.Connection, rows: Iterable[Mapping[str, Any]], created_at: str
) -> int:
    create_tables(conn)
    cols = ", ".join(ROUTE_COLUMNS)
    marks = ", ".join("?" for _ in ROUTE_COLUMNS)
    data = [(*(r.get(c) for c in ROUTE_COLUMNS), created_at) for r in rows]
    conn.executemany(f"INSERT INTO judge_routes ({cols}, created_at) VALUES ({marks}, ?)", data)
    return len(data)


def select_verdicts(
    conn: sqlite3.Connection, annotator: str | None = None, rubric_hash: str | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(columns, rows) of stored verdicts, oldest first, optionally for one judge/rubric."""
    columns = ["id", *VERDICT_COLUMNS, "created_at"]
    if not _has_table(conn, "judge_verdicts"):
        return columns, []
    where, params = _where(annotator, rubric_hash)
    rows = conn.execute(
        f"SELECT {', '.join(columns)} FROM judge_verdicts{where} ORDER BY id", params
    ).fetchall()
    return columns, rows


def select_routes(
    conn: sqlite3.Connection, annotator: str | None = None, rubric_hash: str | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(columns, rows) of the latest route per (pair, judge, rubric)."""
    columns = ["id", *ROUTE_COLUMNS, "created_at"]
    if not _has_table(conn, "judge_routes"):
        return columns, []
    where, params = _where(annotator, rubric_hash)
    latest = f"SELECT MAX(id) FROM judge_routes{where} GROUP BY pair_id, annotator, rubric_hash"
    rows = conn.execute(
        f"SELECT {', '.join(columns)} FROM judge_routes WHERE id IN ({latest}) ORDER BY id",
        params,
    ).fetchall()
    return columns, rows


def _where(annotator: str | None, rubric_hash: str | None) -> tuple[str, list[str]]:
    clauses, params = [], []
    if annotator is not None:
        clauses.append("annotator = ?")
        params.append(annotator)
    if rubric_hash is not None:
        clauses.append("rubric_hash = ?")
        params.append(rubric_hash)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params
