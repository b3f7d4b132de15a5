"""Copy a label store to another, SQLite ↔ PostgreSQL, keeping every event.

``copy_store("labels.sqlite", "postgresql://…")`` moves a solo annotator's file onto the team
server; the other direction takes a snapshot home. Events keep their order, timestamps,
sessions and durations (ids are the destination's own), so every current label folds the
same on both sides; adjudications keep their provenance, with the event ids in ``basis``
translated to the destination's. Claims and the claim pool are not copied: they are
leases, not labels.

Idempotent: an event already in the destination (same fields, compared as a multiset) is
not copied again, so re-running a copy, or copying back and forth, never duplicates. The
counts are checked afterwards: every source event must be found in the destination, or
:class:`LabelStoreError` says how many are missing.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with LabelStore(d / "a.sqlite") as a:
    ...     _ = a.record(pair_id="p1", annotator="al", kind="label", verdict="a")
    >>> copy_store(d / "a.sqlite", d / "b.sqlite")["events"]
    {'source': 1, 'copied': 1, 'present': 0}
    >>> copy_store(d / "a.sqlite", d / "b.sqlite")["events"]
    {'source': 1, 'copied': 0, 'present': 1}
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from prefnb.labels import judge_log
from prefnb.labels.connection import LabelStoreError, Tx
from prefnb.labels.events import EVENT_COLUMNS
from prefnb.labels.store import ADJUDICATION_COLUMNS, LabelStore

__all__ = ["copy_store"]

_EVENT_FIELDS: Final = tuple(c for c in EVENT_COLUMNS if c != "id")
_BATCH: Final = 1000


@contextmanager
def _opened(store: LabelStore | str | os.PathLike[str]) -> Iterator[LabelStore]:
    if isinstance(store, LabelStore):
        yield store
    else:
        with LabelStore(store) as opened:
            yield opened


def _event_rows(store: LabelStore) -> list[tuple[Any, ...]]:
    cols = ", ".join(EVENT_COLUMNS)
    return store.connection.query(f"SELECT {cols} FROM events ORDER BY id")


def _key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # Everything but the id; a float duration compares exactly (same IEEE double both sides).
    return tuple(row[1:])


def copy_store(
    source: LabelStore | str | os.PathLike[str],
    destination: LabelStore | str | os.PathLike[str],
) -> dict[str, dict[str, int]]:
    """Copy every event, adjudication and LLM-judge verdict and route of ``source`` into
    ``destination``.

    Both may be paths, ``postgresql://`` URLs or open stores. Returns counts per table:
    ``source`` (events in the source), ``copied`` (added now) and ``present`` (found in
    the destination already).
    """
    with _opened(source) as src, _opened(destination) as dst:
        src_rows = _event_rows(src)
        have = Counter(_key(r) for r in _event_rows(dst))
        dst_ids: dict[tuple[Any, ...], list[int]] = {}
        for r in _event_rows(dst):
            dst_ids.setdefault(_key(r), []).append(int(r[0]))
        todo: list[tuple[Any, ...]] = []
        present = 0
        id_map: dict[int, int] = {}
        for row in src_rows:
            k = _key(row)
            if have[k] > 0:
                have[k] -= 1
                present += 1
                id_map[int(row[0])] = dst_ids[k].pop(0)
            else:
                todo.append(row)
        for start in range(0, len(todo), _BATCH):
            batch = todo[start : start + _BATCH]

            def insert(tx: Tx, b: list[tuple[Any, ...]] = batch) -> list[int]:
                return _insert(dst, tx, b)

            new_ids = dst.connection.transaction(insert, "copy")
            id_map.update({int(r[0]): i for r, i in zip(batch, new_ids, strict=True)})
        missing = sum(
            (Counter(_key(r) for r in src_rows) - Counter(map(_key, _event_rows(dst)))).values()
        )
        if missing:
            raise LabelStoreError(
                f"copy {src.path} → {dst.path}: {missing} source event(s) are not in the "
                "destination after copying",
                path=dst.path,
            )
        adj = _copy_adjudications(src, dst, id_map)
        verdicts, routes = _copy_judge_log(src, dst)
    return {
        "events": {"source": len(src_rows), "copied": len(todo), "present": present},
        "adjudications": adj,
        "judge_verdicts": verdicts,
        "judge_routes": routes,
    }


def _insert(dst: LabelStore, tx: Tx, rows: list[tuple[Any, ...]]) -> list[int]:
    ids: list[int] = []
    fields = ", ".join(_EVENT_FIELDS)
    marks = ", ".join("?" for _ in _EVENT_FIELDS)
    for row in rows:
        found = tx.execute(f"INSERT INTO events ({fields}) VALUES ({marks}) RETURNING id", row[1:])
        ids.append(int(found[0][0]))
    for key in sorted({(r[1], r[2]) for r in rows if r[3] != "audit"}):
        dst._refresh_current(tx, key)
    return ids


def _copy_adjudications(src: LabelStore, dst: LabelStore, id_map: dict[int, int]) -> dict[str, int]:
    cols = ", ".join(ADJUDICATION_COLUMNS)
    src_rows = src.connection.query(f"SELECT {cols} FROM adjudications ORDER BY id")

    def translated(row: tuple[Any, ...]) -> tuple[Any, ...]:
        basis = json.loads(row[6])
        basis = {who: [v, id_map.get(int(i), int(i))] for who, (v, i) in basis.items()}
        return (*row[1:6], json.dumps(basis, sort_keys=True), *row[7:])

    have = Counter(tuple(r[1:]) for r in dst.connection.query(f"SELECT {cols} FROM adjudications"))
    todo = []
    for row in src_rows:
        k = translated(row)
        if have[k] > 0:
            have[k] -= 1
        else:
            todo.append(k)
    fields = ", ".join(ADJUDICATION_COLUMNS[1:])
    marks = ", ".join("?" for _ in ADJUDICATION_COLUMNS[1:])

    def body(tx: Tx) -> None:
        for row in todo:
            tx.execute(f"INSERT INTO adjudications ({fields}) VALUES ({marks})", row)

    if todo:
        dst.connection.transaction(body, "copy")
    return {"source": len(src_rows), "copied": len(todo), "present": len(src_rows) - len(todo)}


def _copy_judge_log(src: LabelStore, dst: LabelStore) -> tuple[dict[str, int], dict[str, int]]:
    """LLM-judge verdicts (unique per content, judge, rubric and order: a verdict the
    destination has is kept) and routing decisions (a multiset, as adjudications), with
    their original times."""
    counts = []
    for table, columns, unique in (
        ("judge_verdicts", judge_log.VERDICT_COLUMNS, True),
        ("judge_routes", judge_log.ROUTE_COLUMNS, False),
    ):
        cols = [*columns, "created_at"]
        select = f"SELECT {', '.join(cols)} FROM {table} ORDER BY id"
        src_rows = [tuple(r) for r in src.connection.query(select)]
        have = Counter(tuple(r) for r in dst.connection.query(select))
        todo = []
        for row in src_rows:
            if have[row] > 0:
                have[row] -= 1
            else:
                todo.append(row)
        marks = ", ".join("?" for _ in cols)
        # A verdict the destination holds for the same key (another run's) is kept: the
        # unique key is the judge cache, and a verdict is never bought or stored twice.
        conflict = " ON CONFLICT (content_key, annotator, rubric_hash, shown) DO NOTHING"
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})"
        sql += (conflict if unique else "") + " RETURNING id"

        def body(tx: Tx, rows: list[tuple[Any, ...]] = todo, q: str = sql) -> int:
            return sum(1 for got in tx.pipeline([(q, row) for row in rows]) if got)

        copied = dst.connection.transaction(body, "copy") if todo else 0
        counts.append(
            {"source": len(src_rows), "copied": copied, "present": len(src_rows) - len(todo)}
        )
    return counts[0], counts[1]
