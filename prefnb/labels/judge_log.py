"""Judge verdicts and routing decisions in the label store, apart from people's labels.

Two append-only tables beside ``events`` (schema migration 3, on SQLite and PostgreSQL):

``judge_verdicts``
    one row per (pair content, judge, rubric, order): the verdict of one pass of an LLM
    judge. ``annotator`` is ``judge:<model>``; ``shown`` is the order the judge saw (``ab``:
    response_a first); ``verdict`` names DataFrame positions (``a``, ``b``, ``tie``) or is
    NULL when the judge's answer was not a valid verdict (``error`` says why). The UNIQUE key
    is the cache: a verdict that is stored is never requested (or paid for) again.
``judge_routes``
    one row per :func:`prefnb.route` decision for a pair (latest wins): ``auto``, ``human``
    or ``audit``, with the seed and audit rate that produced it.

On SQLite, verdicts are committed with ``synchronous=NORMAL`` (people's labels keep ``FULL``):
in WAL mode a committed verdict survives a killed kernel, only not a power loss, and a lost
verdict can be bought again for a fraction of a cent; an fsync per group commit stalled judge
runs.

People's labels stay in ``events``/``current_labels``: nothing here changes a current label,
so :func:`prefnb.apply_labels` ignores judges unless asked (``fill_from_judge=True``).

Example:
    >>> import pathlib, tempfile
    >>> from prefnb.labels import LabelStore
    >>> store = LabelStore(pathlib.Path(tempfile.mkdtemp()) / "l.sqlite")
    >>> row = {"pair_id": "p", "content_key": "k", "annotator": "judge:m",
    ...        "rubric_hash": "r", "shown": "ab", "verdict": "a"}
    >>> store.record_judge_verdicts([row]), store.record_judge_verdicts([row])
    (1, 0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from prefnb.labels.connection import Tx

#: A read: (sql, params) → rows (the store's connection ``query``).
Query = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]

__all__ = [
    "POSTGRES_DDL",
    "ROUTES",
    "ROUTE_COLUMNS",
    "SQLITE_DDL",
    "VERDICT_COLUMNS",
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

_SQLITE_ID = "id INTEGER PRIMARY KEY AUTOINCREMENT"
_POSTGRES_ID = "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"


def _tables(id_column: str, real: str) -> tuple[str, ...]:
    return (
        f"""CREATE TABLE IF NOT EXISTS judge_verdicts (
    {id_column},
    pair_id TEXT NOT NULL CHECK (pair_id <> ''),
    content_key TEXT NOT NULL,
    annotator TEXT NOT NULL CHECK (annotator LIKE 'judge:%'),
    rubric_hash TEXT NOT NULL,
    shown TEXT NOT NULL CHECK (shown IN ('ab', 'ba')),
    verdict TEXT CHECK (verdict IN ('a', 'b', 'tie')),
    rationale TEXT,
    confidence {real},
    error TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cost_usd {real},
    seconds {real},
    len_a INTEGER,
    len_b INTEGER,
    backend TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (content_key, annotator, rubric_hash, shown)
)""",
        f"""CREATE TABLE IF NOT EXISTS judge_routes (
    {id_column},
    pair_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    rubric_hash TEXT NOT NULL,
    route TEXT NOT NULL CHECK (route IN ('auto', 'human', 'audit')),
    reason TEXT,
    audit_rate {real},
    seed BIGINT,
    created_at TEXT NOT NULL
)""",
        "CREATE INDEX IF NOT EXISTS judge_routes_by_judge "
        "ON judge_routes (annotator, rubric_hash, id)",
    )


#: Schema migration 3 on SQLite (see :data:`prefnb.labels.connection.SQLITE_MIGRATIONS`).
SQLITE_DDL: Final[tuple[str, ...]] = (
    *_tables(_SQLITE_ID, "REAL"),
    """CREATE TRIGGER IF NOT EXISTS judge_verdicts_no_update BEFORE UPDATE ON judge_verdicts
BEGIN SELECT RAISE(ABORT, 'judge verdicts are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS judge_verdicts_no_delete BEFORE DELETE ON judge_verdicts
BEGIN SELECT RAISE(ABORT, 'judge verdicts are append-only'); END""",
)
#: Schema migration 3 on PostgreSQL (its append-only triggers are added by
#: :mod:`prefnb.labels.postgres`, which owns the trigger function).
POSTGRES_DDL: Final[tuple[str, ...]] = _tables(_POSTGRES_ID, "double precision")


def insert_verdicts(tx: Tx, rows: Iterable[Mapping[str, Any]], created_at: str) -> int:
    """Insert verdict rows; a row whose (content, judge, rubric, order) is already stored is
    skipped, so a verdict is kept once however often it arrives. Returns rows inserted.

    A row that breaks a column's rule raises ``ValueError`` naming the row and the field
    (only the uniqueness conflict is ignored, never a CHECK)."""
    cols = ", ".join(VERDICT_COLUMNS)
    marks = ", ".join("?" for _ in VERDICT_COLUMNS)
    sql = (
        f"INSERT INTO judge_verdicts ({cols}, created_at) VALUES ({marks}, ?) "
        "ON CONFLICT (content_key, annotator, rubric_hash, shown) DO NOTHING RETURNING id"
    )
    statements = []
    for i, row in enumerate(rows):
        _check_verdict(row, i)
        statements.append((sql, (*(row.get(c) for c in VERDICT_COLUMNS), created_at)))
    return sum(1 for got in tx.pipeline(statements) if got)


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


def insert_routes(tx: Tx, rows: Iterable[Mapping[str, Any]], created_at: str) -> int:
    """Append :func:`prefnb.route` decisions; returns rows inserted."""
    cols = ", ".join(ROUTE_COLUMNS)
    marks = ", ".join("?" for _ in ROUTE_COLUMNS)
    sql = f"INSERT INTO judge_routes ({cols}, created_at) VALUES ({marks}, ?)"
    statements = [(sql, (*(r.get(c) for c in ROUTE_COLUMNS), created_at)) for r in rows]
    tx.pipeline(statements)
    return len(statements)


def select_verdicts(
    query: Query, annotator: str | None = None, rubric_hash: str | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(columns, rows) of stored verdicts, oldest first, optionally for one judge/rubric."""
    columns = ["id", *VERDICT_COLUMNS, "created_at"]
    where, params = _where(annotator, rubric_hash)
    rows = query(f"SELECT {', '.join(columns)} FROM judge_verdicts{where} ORDER BY id", params)
    return columns, rows


def select_routes(
    query: Query, annotator: str | None = None, rubric_hash: str | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(columns, rows) of the latest route per (pair, judge, rubric)."""
    columns = ["id", *ROUTE_COLUMNS, "created_at"]
    where, params = _where(annotator, rubric_hash)
    latest = f"SELECT MAX(id) FROM judge_routes{where} GROUP BY pair_id, annotator, rubric_hash"
    rows = query(
        f"SELECT {', '.join(columns)} FROM judge_routes WHERE id IN ({latest}) ORDER BY id",
        params,
    )
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
