"""The generation cache: every finished completion in SQLite the moment it arrives.

One row per request key (a hash of the exact chat request: model, messages, temperature,
max_tokens, seed), so a re-run after a kernel kill asks Together only for what is missing.
Batches in flight are recorded too, so a re-run adopts a batch it already paid for instead of
creating a second one.

Example:
    >>> import tempfile, pathlib
    >>> c = GenerationCache(pathlib.Path(tempfile.mkdtemp()) / "g.sqlite")
    >>> c.put([{"key": "k", "model": "m", "text": "hi", "finish_reason": "stop",
    ...         "input_tokens": 1, "output_tokens": 1, "cost_usd": 0.0}])
    >>> c.get(["k", "z"])["k"]["text"]
    'hi'
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["GenerationCache"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY, model TEXT NOT NULL, text TEXT NOT NULL, finish_reason TEXT,
    input_tokens INTEGER, output_tokens INTEGER, cost_usd REAL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY, input_file_id TEXT NOT NULL, keys TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL
);
"""
_COLS = ("key", "model", "text", "finish_reason", "input_tokens", "output_tokens", "cost_usd")


class GenerationCache:
    """A SQLite file of finished completions (thread-safe; one connection, WAL)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ValueError(
                f"generation cache {self.path}: not a usable SQLite file ({exc}); pass another "
                "cache= path"
            ) from None

    def get(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Cached rows for those of ``keys`` that are cached."""
        out: dict[str, dict[str, Any]] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = list(keys[i : i + 500])
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(
                    f"SELECT {', '.join(_COLS)} FROM completions WHERE key IN ({marks})", chunk
                ):
                    out[row[0]] = dict(zip(_COLS, row, strict=True))
        return out

    def put(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Commit finished completions (one transaction; an existing key is kept)."""
        now = time.time()
        values = [(*(r[c] for c in _COLS), now) for r in rows]
        if not values:
            return
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT OR IGNORE INTO completions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values
            )

    def open_batches(self) -> list[tuple[str, str, list[str]]]:
        """(batch id, input file id, request keys) of batches not yet collected."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT batch_id, input_file_id, keys FROM batches WHERE done = 0"
            ).fetchall()
        return [(b, f, list(json.loads(k))) for b, f, k in rows]

    def add_batch(self, batch_id: str, input_file_id: str, keys: Sequence[str]) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR IGNORE INTO batches VALUES (?, ?, ?, 0, ?)",
                (batch_id, input_file_id, json.dumps(list(keys)), time.time()),
            )

    def close_batch(self, batch_id: str) -> None:
        with self._lock, self._conn:
            self._conn.execute("UPDATE batches SET done = 1 WHERE batch_id = ?", (batch_id,))

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM completions").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"GenerationCache({str(self.path)!r})"
