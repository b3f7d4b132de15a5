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

import hashlib
import html
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Literal, TypedDict

import pandas as pd

from prefnb.launch.credentials import resolve_client, service_name
from prefnb.launch.errors import JobFailed, LaunchError, TogetherUnavailable, api_errors
from prefnb.launch.ledger import Ledger
from prefnb.launch.progress import ProgressLine
from prefnb.launch.times import epoch_seconds

__all__ = ["TERMINAL", "Checkpoint", "Job", "JobSnapshot", "safe_url"]

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


class Checkpoint(TypedDict, total=False):
    """A saved checkpoint of a job; pass it as ``from_checkpoint=`` to continue from it."""

    job_id: str
    step: int
    path: str
    created_at: str
    checkpoint_type: str
    checkpoint: str


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


def cli_progress(info: dict[str, Any], now: float) -> tuple[float, float] | None:
    """(fraction done, seconds left) as together 3.1.1's CLI computes them, or None.

    The CLI reads ``progress.seconds_remaining`` as the run's estimated length from
    ``started_at``: done = elapsed / seconds_remaining, left = seconds_remaining − elapsed
    (``generate_progress_bar`` / ``generate_progress_text`` in ``lib/cli/api/_utils.py``).

    >>> cli_progress({"started_at": 100.0, "progress": {"estimate_available": True,
    ...               "seconds_remaining": 400}}, now=200.0)
    (0.25, 300.0)
    """
    progress = info.get("progress") or {}
    started = epoch_seconds(info.get("started_at"))
    total = progress.get("seconds_remaining")
    if started is None or not progress.get("estimate_available") or now < started:
        return None
    if not isinstance(total, (int, float)) or total <= 0:
        return None
    elapsed = now - started
    return min(elapsed / total, 1.0), max(total - elapsed, 0.0)


def cli_eta(info: dict[str, Any], now: float) -> float | None:
    """Seconds left as the CLI shows them ("N/A" once the estimate is overrun → None)."""
    got = cli_progress(info, now)
    if got is None or got[1] <= 0:
        return None
    return got[1]


def step_text(snap: JobSnapshot) -> str:
    """``"step 12/40"``, ``"step 12"`` or ``"step n/a"`` when the server says nothing.

    >>> step_text({"steps_done": None, "total_steps": None})  # type: ignore[typeddict-item]
    'step n/a'
    """
    done, total = snap["steps_done"], snap["total_steps"]
    if done is None and total is None:
        return "step n/a"
    return f"step {done or 0}/{total}" if total else f"step {done}"


def together_omit() -> Any:
    from together._types import omit

    return omit


def _save(resp: Any, target: Path, job_id: str, *, progress: bool) -> Path:
    """Stream a download response to ``target`` atomically, checking size and MD5."""
    disposition = resp.headers.get("content-disposition", "")
    match = re.search(r'filename="?([^";/\\]+)"?', disposition)
    name = match.group(1) if match else f"{job_id}.tar.zst"
    final = target / name if target.is_dir() or str(target).endswith(os.sep) else target
    final.parent.mkdir(parents=True, exist_ok=True)
    total = int(resp.headers.get("content-length") or 0)
    etag = resp.headers.get("etag", "").strip('"')
    bar = ProgressLine("Download", total or 1, enabled=progress)
    md5, got = hashlib.md5(usedforsecurity=False), 0
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in resp.iter_bytes(1 << 16):
                out.write(chunk)
                md5.update(chunk)
                got += len(chunk)
                bar.update(got, f"{final.name}: {got:,} / {total:,} bytes")
        if total and got != total:
            raise LaunchError(
                f"The download of {job_id} stopped at {got:,} of {total:,} bytes; nothing was "
                "saved. Try again."
            )
        if re.fullmatch(r"[0-9a-f]{32}", etag) and md5.hexdigest() != etag:
            raise LaunchError(
                f"The download of {job_id} does not match Together's checksum (MD5 "
                f"{md5.hexdigest()} ≠ {etag}); nothing was saved. Try again."
            )
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        bar.close("download failed", ok=False)
        raise
    bar.close(f"saved {final} ({got:,} bytes, checksum ok)")
    return final


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
        with api_errors(service=service_name(self.client), what=f"reading job {self.id}"):
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
        with api_errors(service=service_name(self.client), what=f"reading the events of {self.id}"):
            data = self.client.fine_tuning.list_events(self.id).to_dict().get("data", [])
        self._events = list(data)
        return self._events

    def checkpoints(self) -> list[Checkpoint]:
        """The job's saved checkpoints (``step``, ``path``, ``checkpoint_type``…, and this
        job's id, so one can be passed as ``from_checkpoint=``)."""
        with api_errors(
            service=service_name(self.client), what=f"reading the checkpoints of {self.id}"
        ):
            data = self.client.fine_tuning.list_checkpoints(self.id).to_dict().get("data", [])
        return [{**c, "job_id": self.id} for c in data]  # type: ignore[typeddict-item]

    def metrics(
        self,
        *,
        resolution: int | None = None,
        step_range: tuple[int | None, int | None] = (None, None),
    ) -> pd.DataFrame:
        """The job's metrics as prefnb's tidy frame, the same as ``prefnb.metrics(job)``.

        Columns ``job_id, step, split, metric, raw_key, value, logged_at``; the API's own
        rows are :meth:`metric_rows`.

        Example:
            >>> job.metrics().query("metric == 'loss'")  # doctest: +SKIP
        """
        from prefnb.training_metrics import metrics

        return metrics(self, self.client, resolution=resolution, step_range=step_range)

    def metric_rows(self) -> list[dict[str, Any]]:
        """Raw metric rows in logged order (W&B-style keys such as ``train/loss``)."""
        with api_errors(
            service=service_name(self.client), what=f"reading the metrics of {self.id}"
        ):
            rows = self.client.fine_tuning.list_metrics(self.id).to_dict().get("metrics")
        return list(rows or [])

    def cancel(self) -> str:
        """Ask Together to cancel the job; returns the new status (``cancel_requested``…)."""
        with api_errors(service=service_name(self.client), what=f"cancelling {self.id}"):
            info = self.client.fine_tuning.cancel(self.id).to_dict()
        self._info.update({k: v for k, v in info.items() if v is not None})
        return str(info.get("status"))

    def delete(self) -> str:
        """Delete the job from the account (``DELETE /v1/fine-tunes/{id}``); returns
        Together's message. A job still running must be cancelled first."""
        status = self.status()
        if status not in TERMINAL:
            raise LaunchError(
                f"{self.id} is {status}: cancel it first (job.cancel()), then delete it."
            )
        with api_errors(service=service_name(self.client), what=f"deleting {self.id}"):
            resp = self.client.fine_tuning.delete(self.id)
        self._info["status"] = "deleted"
        if self._ledger is not None:
            self._ledger.update_job(self.id, status="deleted")
        return str(getattr(resp, "message", None) or f"{self.id} deleted")

    def confirm_delete(self) -> Any:
        """A widget asking whether to delete this job; deletes only when Delete is clicked.

        Example:
            >>> job.confirm_delete()  # doctest: +SKIP
        """
        from prefnb.launch.confirm import Confirm

        where = service_name(self.client, self.id)
        return Confirm(
            f"Delete {self.id} ({self.last_status or 'status unknown'}) from {where}? Its "
            "checkpoints and model go too; this cannot be undone.",
            "Delete job",
            self.delete,
        )

    def download(
        self,
        path: str | os.PathLike[str] = ".",
        *,
        checkpoint: Literal["merged", "adapter"] | None = None,
        step: int | None = None,
        progress: bool = True,
    ) -> Path:
        """Download the fine-tuned model (or the checkpoint at ``step``) to ``path``.

        ``path`` is a directory (the server's file name is kept) or a file path.
        ``checkpoint`` is ``"merged"`` (default for LoRA) or ``"adapter"``; full fine-tunes
        have one kind only. A progress bar shows the bytes received; the size is checked
        against ``Content-Length`` and the bytes against the server's MD5 ``ETag`` when it
        sends one. Nothing is left behind when a check fails.

        Example:
            >>> job.download("models/", checkpoint="adapter")  # doctest: +SKIP
        """
        info = self.refresh()
        ttype = info.get("training_type") or {}
        lora = not (isinstance(ttype, dict) and ttype.get("type") == "Full")
        if lora:
            kind: str = checkpoint or "merged"
        elif checkpoint is not None:
            raise LaunchError(
                f"{self.id} is a full fine-tune: it has no {checkpoint!r} checkpoint, leave "
                "checkpoint out."
            )
        else:
            kind = "model_output_path"
        target = Path(path)
        with api_errors(service=service_name(self.client), what=f"downloading {self.id}"):
            stream = self.client.fine_tuning.with_streaming_response.content(
                ft_id=self.id,
                checkpoint=kind,
                checkpoint_step=step if step is not None else together_omit(),
            )
            with stream as resp:
                return _save(resp, target, self.id, progress=progress)

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

    def snapshot(self, *, events: int = 3, now: float | None = None) -> JobSnapshot:
        """What a monitor shows, from the last fetched state (no request).

        Steps come from ``steps_completed``/``total_steps`` when the server sends them (the
        3.1.1 response type does not declare them), else from the newest event that carries
        a step; ``None`` when neither says ("step n/a"). The ETA is computed as the 3.1.1
        CLI does: ``progress.seconds_remaining`` minus the time since ``started_at``.
        """
        info = self._info
        evs = self._events or info.get("events") or []
        done = info.get("steps_completed")
        total = info.get("total_steps")
        wandb = info.get("wandb_url")
        for ev in reversed(evs):
            total = total or ev.get("total_steps")
            wandb = wandb or ev.get("wandb_url")
            if not isinstance(done, int) and isinstance(ev.get("step"), int):
                done = ev["step"]
        eta = cli_eta(info, time.time() if now is None else now)
        if info.get("status") in TERMINAL:
            eta = None
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
            steps = step_text(snap)
            eta = _fmt_eta(snap["eta_seconds"])
            if snap["total_steps"]:
                bar.set_total(snap["total_steps"])
                value = snap["steps_done"] or 0
            else:  # no step count: fill the bar by time, as the CLI does
                bar.set_total(1000)
                timed = cli_progress(self._info, time.time())
                value = round(timed[0] * 1000) if timed else 0
            bar.update(value, f"{snap['status']} · {steps}" + (f" · ETA {eta}" if eta else ""))
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
