"""``JobMonitor``: a live view of fine-tuning jobs — status, steps and ETA, latest events,
the W&B link, and a cancel button that asks for confirmation.

Polling runs on a background thread, so the kernel stays free while jobs run. Each round
fetches every unfinished job; the interval starts at ``interval`` seconds, grows ×1.5 up to
``max_interval`` while nothing changes, and drops back when something does. Transient API
failures are shown and ridden out. The thread ends by itself once every job has reached a
terminal status (completed, error, user_error, cancelled), or on :meth:`JobMonitor.stop`.

Widget state holds only job ids, statuses, counts, model names, event texts and URLs —
never the API key. Event texts come from the server and are shown as text, never as HTML.

Example:
    >>> monitor = JobMonitor([job_a, job_b])  # doctest: +SKIP
    >>> monitor  # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, TypedDict

import anywidget
import traitlets

from prefnb.launch.credentials import redact
from prefnb.launch.errors import LaunchError
from prefnb.launch.job import TERMINAL, Job, JobSnapshot

__all__ = ["CancelRequest", "CancelResult", "JobMonitor", "MonitorRow"]

_STATIC = Path(__file__).resolve().parent.parent / "static" / "monitor.js"


class MonitorRow(JobSnapshot):
    """One job as the browser sees it (``rows`` trait): ``params`` are the settings in which
    it differs from the other monitored jobs (``dpo_beta=0.05``: a sweep's cards say which
    job is which); ``final`` is its last event once it has ended."""

    error: str | None
    params: list[str]
    final: str | None


class CancelRequest(TypedDict):
    """Browser → kernel: the user confirmed cancelling a job. Messages use the Labeler's
    envelope: the message name is ``type``."""

    type: Literal["cancel"]
    id: str


class CancelResult(TypedDict):
    """Kernel → browser: what came of a cancel request."""

    type: Literal["cancel_result"]
    id: str
    ok: bool
    message: str


#: Fields of a job that describe its state, not how it was configured.
_STATE_FIELDS = frozenset({
    "id", "status", "created_at", "updated_at", "started_at", "events", "progress",
    "queue_depth", "token_count", "total_price", "steps_completed", "evals_completed",
    "epochs_completed", "total_steps", "model_output_name", "model_output_path", "user_id",
    "owner_address", "param_count", "trainingfile_numlines", "trainingfile_size", "wandb_url",
    "job_id", "object", "checkpoints",
})  # fmt: skip


def _settings(info: dict[str, Any]) -> dict[str, Any]:
    """A job's configuration as flat ``name → value``, nested objects (``training_method``,
    ``training_type``, ``lr_scheduler``) flattened to their leaves."""
    out: dict[str, Any] = {}

    def walk(obj: dict[str, Any]) -> None:
        for key, value in obj.items():
            if key in _STATE_FIELDS:
                continue
            if isinstance(value, dict):
                walk(value)
            elif isinstance(value, (str, int, float, bool)) or value is None:
                out.setdefault(key, value)

    walk(info)
    return out


def differing(infos: list[dict[str, Any]]) -> list[list[str]]:
    """For each job, ``name=value`` of every setting that is not the same for all jobs.

    >>> differing([{"training_method": {"dpo_beta": 0.05}, "n_epochs": 1},
    ...            {"training_method": {"dpo_beta": 0.1}, "n_epochs": 1}])
    [['dpo_beta=0.05'], ['dpo_beta=0.1']]
    """
    if len(infos) < 2:
        return [[] for _ in infos]
    flat = [_settings(i) for i in infos]
    names = sorted({k for f in flat for k in f})
    varies = [n for n in names if len({repr(f.get(n)) for f in flat}) > 1]

    def show(value: Any) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    return [[f"{n}={show(f.get(n))}" for n in varies] for f in flat]


def _flatten(jobs: Job | Iterable[Any]) -> list[Job]:
    if isinstance(jobs, Job):
        return [jobs]
    out: list[Job] = []
    for item in jobs:
        out.extend(_flatten(item))
    return out


class JobMonitor(anywidget.AnyWidget):
    """Watch one job or several (``Job``, a list, or ``(sft_job, dpo_job)``)."""

    _esm = (
        _STATIC
        if _STATIC.exists()
        else "export default { render({ el }) { el.textContent = "
        "'JobMonitor: the front end is not built "
        "(run npm --prefix js run build in the prefnb checkout).'; } };"
    )

    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    polling = traitlets.Bool(False).tag(sync=True)
    last_poll = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        jobs: Job | Iterable[Any],
        *,
        interval: float = 2.0,
        max_interval: float = 30.0,
        events: int = 3,
        start: bool = True,
    ) -> None:
        super().__init__()
        self.jobs = _flatten(jobs)
        if not self.jobs:
            raise ValueError("JobMonitor needs at least one Job")
        self.interval = interval
        self.max_interval = max_interval
        self.n_events = events
        #: Seconds slept between polling rounds (for inspection and tests).
        self.intervals: list[float] = []
        self.rounds = 0
        self._errors: dict[str, str | None] = {}
        # Jobs whose events were read in a round that began with the job already ended: a
        # final event ("job finished") can land just after the status turns terminal.
        self._settled: set[str] = set()
        #: Each job's JSON from its latest refresh (its settings, for ``params``).
        self._infos: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.rows = self._rows()
        self.on_msg(self._on_msg)
        if start:
            self.start()

    def __repr__(self) -> str:
        return f"JobMonitor({len(self.jobs)} job(s), {'polling' if self.polling else 'stopped'})"

    # -- polling ----------------------------------------------------------------------------
    @property
    def thread(self) -> threading.Thread | None:
        """The polling thread (None before :meth:`start`)."""
        return self._thread

    def start(self) -> None:
        """Start polling in the background (no-op if already polling)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.polling = True
        self._thread = threading.Thread(target=self._run, name="prefnb-job-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop polling; waits up to ``timeout`` seconds for the thread to end."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self.polling = False

    def close(self) -> None:
        """Stop polling and close the widget."""
        self.stop(timeout=0)
        super().close()

    def _run(self) -> None:
        delay = self.interval
        try:
            while not self._stop.is_set():
                changed = self.poll_once()
                if all(j.id in self._settled for j in self.jobs):
                    break
                delay = self.interval if changed else min(delay * 1.5, self.max_interval)
                self.intervals.append(delay)
                if self._stop.wait(delay):
                    break
        finally:
            self.polling = False

    def poll_once(self) -> bool:
        """Fetch every unfinished job once and update ``rows``; True if anything changed."""
        with self._lock:
            before = self.rows
            for job in self.jobs:
                if job.id in self._settled:
                    continue
                if job.done and job.id in self._errors:
                    self._settled.add(job.id)
                try:
                    self._infos[job.id] = job.refresh()
                    job.events()
                    self._errors[job.id] = None
                except LaunchError as exc:
                    self._errors[job.id] = redact(str(exc))
                except Exception as exc:
                    self._errors[job.id] = redact(f"{type(exc).__name__}: {exc}")
            rows = self._rows()
            self.rounds += 1
            self.last_poll = time.strftime("%H:%M:%S")
            changed = rows != before
            if changed:
                self.rows = rows
            return changed

    def _rows(self) -> list[dict[str, Any]]:
        params = differing([self._infos.get(j.id, {}) for j in self.jobs])
        return [self._row(j, p) for j, p in zip(self.jobs, params, strict=True)]

    def _row(self, job: Job, params: list[str]) -> dict[str, Any]:
        snap = job.snapshot(events=self.n_events)
        final = snap["events"][-1] if job.done and snap["events"] else None
        row: MonitorRow = {
            **snap,
            "error": self._errors.get(job.id),
            "params": params,
            "final": final,
        }
        return dict(row)

    # -- cancel -----------------------------------------------------------------------------
    def cancel(self, job_id: str) -> CancelResult:
        """Cancel one of the monitored jobs (what the confirmed button does)."""
        job = next((j for j in self.jobs if j.id == job_id), None)
        if job is None:
            return {"type": "cancel_result", "id": job_id, "ok": False, "message": "unknown job"}
        if job.done:
            msg = f"{job_id} already ended ({job.last_status})"
            return {"type": "cancel_result", "id": job_id, "ok": False, "message": msg}
        try:
            status = job.cancel()
        except Exception as exc:
            return {
                "type": "cancel_result",
                "id": job_id,
                "ok": False,
                "message": redact(str(exc)),
            }
        with self._lock:
            self.rows = self._rows()
        self.start()  # follow the job to its final status even if polling had stopped
        return {"type": "cancel_result", "id": job_id, "ok": True, "message": status}

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "cancel":
            request: CancelRequest = {"type": "cancel", "id": str(content.get("id", ""))}
            self.send(self.cancel(request["id"]))


# Terminal statuses are re-exported for the JS side's documentation and for tests.
TERMINAL_STATUSES = sorted(TERMINAL)
