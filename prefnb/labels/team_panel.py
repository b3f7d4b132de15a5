"""``TeamPanel``: live progress, agreement and position bias of a labeling team.

Per annotator: current labels, labels per hour (last 10 minutes), share of left picks,
self-consistency on swap audits and live claims; Cohen's κ for every pair of annotators
and Krippendorff's α overall (:func:`prefnb.labels.team.team_stats`).

It updates itself, without polling loops against a server: on PostgreSQL a background
thread ``LISTEN``\\ s on :data:`prefnb.labels.postgres.NOTIFY_CHANNEL`, which every committed
write notifies, and recomputes once per burst. On SQLite, where there is no server to
notify, the thread watches the store's file and its WAL (two ``stat`` calls every half
second) and recomputes when they change. Widget state holds names, counts and shares, and
the store's location without its password.

Example:
    >>> panel = prefnb.TeamPanel(prefnb.LabelStore("postgresql://lead@db/prefs"))  # doctest: +SKIP
    >>> panel  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path
from typing import Final

import anywidget
import traitlets

from prefnb.labels.connection import LabelStoreError
from prefnb.labels.store import LabelStore
from prefnb.labels.team import team_stats

__all__ = ["TeamPanel"]

_STATIC = Path(__file__).resolve().parent.parent / "static" / "team_panel.js"
#: A burst of notifications (a team labeling) is folded into one recomputation.
_DEBOUNCE_S: Final = 0.25
_FILE_POLL_S: Final = 0.5


class TeamPanel(anywidget.AnyWidget):
    """Show ``store``'s team statistics, kept up to date in the background.

    Args:
        store: an open :class:`prefnb.LabelStore`, a SQLite path or a ``postgresql://`` URL.
        live: start the background updates (``False``: call :meth:`refresh` yourself).
    """

    _esm = (
        _STATIC
        if _STATIC.exists()
        else "export default { render({ el }) { el.textContent = "
        "'TeamPanel: the front end is not built "
        "(run npm --prefix js run build in the prefnb checkout).'; } };"
    )
    stats = traitlets.Dict().tag(sync=True)
    source = traitlets.Unicode("").tag(sync=True)
    mode = traitlets.Unicode("").tag(sync=True)
    updated = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(self, store: LabelStore | str | os.PathLike[str], *, live: bool = True) -> None:
        self._store = store if isinstance(store, LabelStore) else LabelStore(store)
        self._owns_store = not isinstance(store, LabelStore)
        mode = "listen" if self._store.backend == "postgresql" else "watch file"
        super().__init__(source=str(self._store.path), mode=mode)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: How many times the statistics were recomputed (for tests and curiosity).
        self.refreshes = 0
        self.refresh()
        if live:
            self.start()

    def __repr__(self) -> str:
        n = len(self.stats.get("annotators", []))
        return f"TeamPanel({self.source!r}, {n} annotator(s), {self.mode})"

    def refresh(self) -> None:
        """Recompute the statistics now."""
        try:
            self.stats = dict(team_stats(self._store))
            self.error = ""
        except LabelStoreError as exc:
            self.error = str(exc)  # the store's messages never carry the password
        self.updated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.refreshes += 1

    # -- background updates ---------------------------------------------------------------

    @property
    def thread(self) -> threading.Thread | None:
        """The background thread (None when not live)."""
        return self._thread

    def start(self) -> None:
        """Start the background updates (no-op if running)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        run = self._listen if self._store.backend == "postgresql" else self._watch_file
        self._thread = threading.Thread(target=run, name="prefnb-team-panel", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the background updates."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def close(self) -> None:
        """Stop updating, close a store this panel opened, and close the widget."""
        self.stop()
        if self._owns_store:
            self._store.close()
        super().close()

    def _listen(self) -> None:
        import psycopg

        from prefnb.labels.postgres import NOTIFY_CHANNEL, PostgresConnection

        conn_factory = self._store.connection
        assert isinstance(conn_factory, PostgresConnection)
        backoff = 0.1
        while not self._stop.is_set():
            try:
                with conn_factory.connect_raw(application_name="prefnb-team-panel") as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.refresh()  # whatever happened while we were not listening
                    backoff = 0.1
                    while not self._stop.is_set():
                        # Blocks on the socket; the timeout only lets stop() be noticed.
                        got = any(True for _ in conn.notifies(timeout=1.0, stop_after=1))
                        if got:
                            for _ in conn.notifies(timeout=_DEBOUNCE_S):
                                pass
                            self.refresh()
            except (psycopg.Error, LabelStoreError) as exc:
                self.error = f"TeamPanel: lost the server, reconnecting: {type(exc).__name__}"
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _watch_file(self) -> None:
        path = Path(self._store.path)
        files = (path, path.with_name(path.name + "-wal"))

        def signature() -> tuple[object, ...]:
            out: list[object] = []
            for f in files:
                try:
                    st = f.stat()
                    out.append((st.st_mtime_ns, st.st_size))
                except OSError:
                    out.append((0, 0))
            # A WAL rewritten from its start keeps its size, and file times tick in coarse
            # steps (a jiffy): a commit can leave both unchanged. The store's own change
            # marks (one indexed query) catch that.
            try:
                out.append(self._store.last_change())
            except LabelStoreError:
                out.append(None)
            return tuple(out)

        seen = signature()
        self.refresh()  # whatever changed before the first signature was taken
        while not self._stop.wait(_FILE_POLL_S):
            now = signature()
            if now != seen:
                seen = now
                time.sleep(_DEBOUNCE_S)  # let a burst of writes land
                seen = signature()
                self.refresh()
