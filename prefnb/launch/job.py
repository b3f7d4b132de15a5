"""``Job``: a handle on one Together fine-tuning job — status, events, checkpoints, metrics.

A ``Job`` is cheap: it holds the id, a client and the last state it fetched. ``repr`` and
the HTML repr show that cached state and never make a request; ``status()``, ``refresh()``
and ``wait()`` fetch. Rebuild one after a kernel restart with ``Job("ft-…")`` (the key comes
from ``TOGETHER_API_KEY``) or find it in ``prefnb.jobs()``.

Example:
    >>> job = Job("ft-123", client=object(), info={"status": "running", "model": "m",
    ...           "steps_completed": 3, "total_steps": 10})
    >>> job
    Job('ft-123', status='running', model='m', steps=3/10)
"""

from __future__ import annotations

import html
import time
from datetime import UTC, datetime
from typing import Any, TypedDict

from prefnb.launch.credentials import resolve_client
from prefnb.launch.errors import JobFailed, TogetherUnavailable, api_errors
from prefnb.launch.ledger import Ledger
from prefnb.launch.progress import ProgressLine

__all__ = ["TERMINAL", "Job", "JobSnapshot", "safe_url"]

#: Statuses after which a job never changes again (the SDK's COMPLETED_STATUSES).
TERMINAL = frozenset({"completed", "error", "user_error", "cancelled"})
_FAILED = frozenset({"error", "user_error", "cancelled"})
_COLORS = {
    "completed": "#1a7f37",
    "error": "#cf222e",
    "user_error": "#cf222e",
    "cancelled": "#6e7781",
    "cancel_requested": "#9a6700",
    "running": "#0969da",
}


class JobSnapshot(TypedDict):
    """What a monitor shows of a job at one moment."""

    id: str
    status: str
    model: str | None
    steps_done: int | None
    total_steps: int | None
    eta_seconds: float | None
    wandb_url: str | None
    model_output_name: str | None
    events: list[str]


def safe_url(url: object) -> str | None:
    """``url`` if it is a plain http(s) URL, else None (server text is untrusted).

    >>> safe_url("https://wandb.ai/x"), safe_url("javascript:alert(1)")
    ('https://wandb.ai/x', None)
    """
    if isinstance(url, str) and url.startswith(("https://", "http://")) and '"' not in url:
        return url
    return None


def _parse_time(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value:
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.timestamp()
    return None


def _fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(max(seconds, 0))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Job:
    """One fine-tuning job on Together (or LocalTogether)."""

    def __init__(
        self,
        id: str,
        client: Any = None,
        *,
        ledger: Ledger | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.id = id
        self.client = resolve_client(client)
        self._ledger = ledger
        self._info: dict[str, Any] = dict(info or {})
        self._events: list[dict[str, Any]] = []

    # -- fetching ---------------------------------------------------------------------------
    def refresh(self) -> dict[str, Any]:
        """Fetch the job (``GET /v1/fine-tunes/{id}``) and return its JSON as a dict."""
        with api_errors(what=f"reading job {self.id}"):
            info = self.client.fine_tuning.retrieve(self.id).to_dict()
        self._info = dict(info)
        if self._ledger is not None:
            self._ledger.update_job(
                self.id, status=info.get("status"), model_output_name=info.get("model_output_name")
            )
        return self._info

    def info(self) -> dict[str, Any]:
        """The job's full JSON, freshly fetched."""
        return self.refresh()

    def status(self) -> str:
        """The job's status now: pending, queued, running, …, completed, error, cancelled."""
        return str(self.refresh().get("status"))

    @property
    def model_output_name(self) -> str | None:
        """The name of the fine-tuned model (fetched once if not known yet)."""
        if not self._info.get("model_output_name"):
            self.refresh()
        name = self._info.get("model_output_name")
        return str(name) if name else None

    @property
    def last_status(self) -> str | None:
        """The status seen at the last fetch (no request)."""
        s = self._info.get("status")
        return str(s) if s else None

    @property
    def done(self) -> bool:
        """True once the last fetched status is terminal."""
        return self.last_status in TERMINAL

    def events(self) -> list[dict[str, Any]]:
        """The job's events, oldest first, as dicts (``message``, ``type``, ``created_at``…)."""
        with api_errors(what=f"reading the events of {self.id}"):
            data = self.client.fine_tuning.list_events(self.id).to_dict().get("data", [])
        self._events = list(data)
        return self._events

    def checkpoints(self) -> list[dict[str, Any]]:
        """The job's saved checkpoints as dicts (``step``, ``path``, ``checkpoint_type``…)."""
        with api_errors(what=f"reading the checkpoints of {self.id}"):
            return list(self.client.fine_tuning.list_checkpoints(self.id).to_dict().get("data", []))

    def metrics(self) -> list[dict[str, Any]]:
        """Raw metric rows in logged order (W&B-style keys such as ``train/loss``)."""
        with api_errors(what=f"reading the metrics of {self.id}"):
            rows = self.client.fine_tuning.list_metrics(self.id).to_dict().get("metrics")
        return list(rows or [])

    def cancel(self) -> str:
        """Ask Together to cancel the job; returns the new status (``cancel_requested``…)."""
        with api_errors(what=f"cancelling {self.id}"):
            info = self.client.fine_tuning.cancel(self.id).to_dict()
        self._info.update({k: v for k, v in info.items() if v is not None})
        return str(info.get("status"))

    # -- derived ----------------------------------------------------------------------------
    def deploy(
        self,
        hardware: str | None = None,
        min_replicas: int = 1,
        max_replicas: int = 1,
        **options: Any,
    ) -> Any:
        """Serve this job's output model: serverless LoRA where its base model offers it,
        else a dedicated endpoint (price shown first); see :func:`prefnb.deploy.deploy`.

        Example:
            >>> with job.deploy() as ep:  # doctest: +SKIP
            ...     prefnb.chat(ep, "Explain DPO in two sentences.")
        """
        from prefnb.deploy import deploy  # the deploy module is optional weight for a Job

        return deploy(self, hardware, min_replicas, max_replicas, **options)

    def snapshot(self, *, events: int = 3) -> JobSnapshot:
        """What a monitor shows, from the last fetched state (no request)."""
        info = self._info
        done = info.get("steps_completed")
        total = info.get("total_steps")
        wandb = info.get("wandb_url")
        for ev in reversed(self._events or info.get("events") or []):
            total = total or ev.get("total_steps")
            wandb = wandb or ev.get("wandb_url")
        eta: float | None = None
        progress = info.get("progress") or {}
        if progress.get("estimate_available"):
            eta = float(progress.get("seconds_remaining") or 0)
        elif isinstance(done, int) and isinstance(total, int) and 0 < done < total:
            started = _parse_time(info.get("started_at"))
            if started is not None:
                elapsed = max(time.time() - started, 0.0)
                eta = elapsed / done * (total - done)
        if info.get("status") in TERMINAL:
            eta = None
        evs = self._events or info.get("events") or []
        return {
            "id": self.id,
            "status": str(info.get("status") or "unknown"),
            "model": info.get("model"),
            "steps_done": done if isinstance(done, int) else None,
            "total_steps": total if isinstance(total, int) else None,
            "eta_seconds": eta,
            "wandb_url": safe_url(wandb),
            "model_output_name": info.get("model_output_name"),
            "events": [str(e.get("message", "")) for e in evs[-events:]] if events else [],
        }

    # -- waiting ----------------------------------------------------------------------------
    def wait(
        self,
        progress: bool = True,
        *,
        poll: float = 1.0,
        max_poll: float = 15.0,
        timeout: float | None = None,
        raise_on_failure: bool = False,
    ) -> Job:
        """Block until the job reaches a terminal status; returns ``self``.

        Polls with backoff (``poll`` seconds growing to ``max_poll``, back to ``poll`` when
        something changes) and rides out transient API failures. With ``progress`` a bar
        shows steps done. ``raise_on_failure`` raises :class:`JobFailed` unless completed.
        """
        bar = ProgressLine(self.id, 1, enabled=progress)
        deadline = None if timeout is None else time.monotonic() + timeout
        delay, failures, last = poll, 0, None
        while True:
            try:
                self.refresh()
                failures = 0
            except TogetherUnavailable:
                failures += 1
                if failures >= 8:
                    raise
            snap = self.snapshot(events=0)
            if snap["total_steps"]:
                bar.set_total(snap["total_steps"])
            steps = f"{snap['steps_done'] or 0}/{snap['total_steps'] or '?'} steps"
            eta = _fmt_eta(snap["eta_seconds"])
            bar.update(
                snap["steps_done"] or 0,
                f"{snap['status']} · {steps}" + (f" · ETA {eta}" if eta else ""),
            )
            if snap["status"] in TERMINAL:
                bar.close(f"{snap['status']} · {steps}", ok=snap["status"] == "completed")
                break
            state = (snap["status"], snap["steps_done"])
            delay = poll if state != last else min(delay * 1.5, max_poll)
            last = state
            if deadline is not None and time.monotonic() + delay > deadline:
                raise TimeoutError(f"{self.id} is still {snap['status']} after {timeout} s")
            time.sleep(delay)
        if raise_on_failure and self.last_status in _FAILED:
            raise JobFailed(self.failure_message())
        return self

    def failure_message(self) -> str:
        """One paragraph on why the job did not complete (its last error event, if any)."""
        msg = ""
        try:
            for ev in reversed(self.events()):
                if ev.get("level") in ("error", "legacy_ierror") or "error" in str(ev.get("type")):
                    msg = str(ev.get("message") or "")
                    break
        except Exception:
            msg = ""
        return f"Job {self.id} ended with status {self.last_status!r}" + (
            f": {msg}" if msg else "."
        )

    # -- display ----------------------------------------------------------------------------
    def __repr__(self) -> str:
        snap = self.snapshot(events=0)
        parts = [repr(self.id), f"status={snap['status']!r}"]
        if snap["model"]:
            parts.append(f"model={snap['model']!r}")
        if snap["total_steps"]:
            parts.append(f"steps={snap['steps_done'] or 0}/{snap['total_steps']}")
        if snap["model_output_name"] and snap["status"] == "completed":
            parts.append(f"output={snap['model_output_name']!r}")
        return f"Job({', '.join(parts)})"

    def _repr_html_(self) -> str:
        snap = self.snapshot(events=1)
        e = html.escape
        color = _COLORS.get(snap["status"], "#57606a")
        steps = ""
        if snap["total_steps"]:
            steps = f" · {snap['steps_done'] or 0}/{snap['total_steps']} steps"
        eta = _fmt_eta(snap["eta_seconds"])
        rows = [
            f"<b>{e(self.id)}</b> "
            f'<span style="color:{color};font-weight:600">{e(snap["status"])}</span>'
            f"{e(steps)}{e(' · ETA ' + eta) if eta else ''}",
        ]
        if snap["model"]:
            rows.append(f"model: <code>{e(str(snap['model']))}</code>")
        if snap["model_output_name"]:
            rows.append(f"output: <code>{e(str(snap['model_output_name']))}</code>")
        if snap["wandb_url"]:
            rows.append(
                f'<a href="{e(snap["wandb_url"])}" target="_blank" rel="noopener noreferrer">'
                "Weights &amp; Biases run</a>"
            )
        if snap["events"]:
            rows.append(f'<span style="color:#57606a">{e(snap["events"][-1])}</span>')
        return (
            '<div class="prefnb-job" style="font:13px system-ui,sans-serif;line-height:1.5">'
            + "<br>".join(rows)
            + "</div>"
        )
