"""Fine-tune jobs on a simulated clock: status, events, checkpoints and metrics.

A job's whole life is planned when it is created (:func:`plan_job`); what the API shows at any
moment is read off that plan at the current simulated time, so nothing runs in the background
and the same job always tells the same story. At ``speed=1`` a small job takes about 30 s:

====================  ==============================================================
simulated seconds     status and events
====================  ==============================================================
0                     ``pending`` — job_pending
2                     ``queued``
4                     ``running`` — job_start, model_downloading, training_data_downloading
6                     training_start; then steps, checkpoint_save, epoch_complete, eval_complete
6 + 18                ``compressing`` — training_complete, model_compressing
27                    ``uploading`` — model_uploading
30                    ``completed`` — job_complete
====================  ==============================================================

A job whose training file failed validation stops at ``user_error`` with a ``job_error`` event
carrying the validation message. ``cancel`` shows ``cancel_requested`` for one simulated second,
then ``cancelled``.

Example:
    >>> clock = Clock(speed=1.0)
    >>> job = plan_job("ft-sim-demo", {"n_epochs": 1, "batch_size": 8}, n_lines=64, now=0.0)
    >>> job.total_steps, job.status_at(0.0), job.status_at(10.0), job.status_at(31.0)
    (8, 'pending', 'running', 'completed')
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from prefnb.testing.curves import CurveParams, eval_row, train_row

#: Statuses after which nothing changes (the SDK's ``COMPLETED_STATUSES``).
TERMINAL = frozenset({"completed", "error", "user_error", "cancelled"})

PENDING_S, QUEUED_S, RUNNING_S, TRAIN_START_S = 0.0, 2.0, 4.0, 6.0
TRAIN_S, COMPRESS_S, UPLOAD_S = 18.0, 3.0, 3.0
SLOW_STEP_S = 0.5
CANCEL_S = 1.0


class Clock:
    """Simulated seconds: real seconds × ``speed``, plus whatever :meth:`advance` skipped,
    minus the time spent held (:meth:`hold` stops the clock until :meth:`release`).

    Example:
        >>> clock = Clock(speed=1.0)
        >>> clock.hold(); t = clock.now(); time.sleep(0.01)
        >>> clock.now() == t
        True
        >>> clock.advance(5.0); clock.now() == t + 5.0
        True
        >>> clock.release(); clock.now() >= t + 5.0
        True
    """

    def __init__(self, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed!r}")
        self.speed = speed
        self._start_mono = time.monotonic()
        self._start_wall = time.time()
        self._skipped = 0.0
        self._held_at: float | None = None
        self._lock = threading.Lock()

    def _running(self) -> float:
        return (time.monotonic() - self._start_mono) * self.speed + self._skipped

    def now(self) -> float:
        with self._lock:
            return self._held_at if self._held_at is not None else self._running()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._skipped += seconds
            if self._held_at is not None:
                self._held_at += seconds

    @property
    def held(self) -> bool:
        return self._held_at is not None

    def hold(self) -> None:
        """Stop simulated time (jobs keep their status) so a test cannot race the job clock."""
        with self._lock:
            if self._held_at is None:
                self._held_at = self._running()

    def release(self) -> None:
        """Let simulated time run again from where :meth:`hold` stopped it."""
        with self._lock:
            if self._held_at is not None:
                self._skipped += self._held_at - self._running()
                self._held_at = None

    def wall(self, sim: float) -> float:
        """Epoch seconds at which simulated time ``sim`` happens(ed)."""
        return self._start_wall + sim / self.speed


@dataclass(frozen=True)
class Event:
    at: float
    type: str
    message: str
    level: str = "info"
    step: int = 0
    checkpoint_path: str = ""
    model_path: str = ""


@dataclass
class Job:
    """One planned job. Times are simulated seconds on the server's :class:`Clock`."""

    id: str
    request: dict[str, Any]
    created: float
    total_steps: int
    steps_per_epoch: int
    step_s: float
    checkpoint_steps: list[int]
    eval_steps: list[int]
    curve: CurveParams
    failure: str | None = None
    cancelled_at: float | None = None
    phases: list[tuple[float, str]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def train_start(self) -> float:
        return self.created + TRAIN_START_S

    def time_of_step(self, step: int) -> float:
        return self.train_start + step * self.step_s

    def _cut(self, at: float) -> float:
        """Time after which the plan no longer applies (a cancel freezes it)."""
        return min(at, self.cancelled_at) if self.cancelled_at is not None else at

    def status_at(self, at: float) -> str:
        if self.cancelled_at is not None and at >= self.cancelled_at:
            planned = self._planned_status(self.cancelled_at)
            if planned in TERMINAL:
                return planned
            return "cancel_requested" if at < self.cancelled_at + CANCEL_S else "cancelled"
        return self._planned_status(at)

    def _planned_status(self, at: float) -> str:
        status = "pending"
        for start, name in self.phases:
            if at >= start:
                status = name
        return status

    def steps_at(self, at: float) -> int:
        if self.failure is not None:
            return 0
        done = math.floor((self._cut(at) - self.train_start) / self.step_s + 1e-9)
        return min(max(done, 0), self.total_steps)

    def events_at(self, at: float) -> list[Event]:
        shown = [e for e in self.events if e.at <= self._cut(at)]
        cancel = self.cancelled_at
        if cancel is not None and at >= cancel and self._planned_status(cancel) not in TERMINAL:
            shown.append(Event(cancel, "cancel_requested", "Cancel requested"))
            if at >= cancel + CANCEL_S:
                shown.append(Event(cancel + CANCEL_S, "job_stopped", "Job was cancelled"))
        return shown

    def checkpoints_at(self, at: float) -> list[tuple[int, float, str]]:
        """(step, time, kind) of the checkpoints saved by ``at``; kind is Intermediate or Final."""
        done = self.steps_at(at)
        out: list[tuple[int, float, str]] = []
        for step in self.checkpoint_steps:
            if step > done:
                break
            final = step == self.total_steps
            if final and self._planned_status(self._cut(at)) != "completed":
                continue  # the final model is published when the job completes
            when = self.end_of_training() if final else self.time_of_step(step)
            out.append((step, when, "Final" if final else "Intermediate"))
        return out

    def end_of_training(self) -> float:
        return self.time_of_step(self.total_steps)

    def completes_at(self) -> float:
        return self.phases[-1][0]

    def seconds_remaining(self, at: float) -> float:
        return max(self.completes_at() - at, 0.0)

    def metrics_at(self, at: float, seed: str) -> list[tuple[float, dict[str, float]]]:
        """(time, row) for every train step and eval already run, in chronological order."""
        done = self.steps_at(at)
        rows: list[tuple[float, dict[str, float]]] = []
        evals = set(self.eval_steps)
        for step in range(1, done + 1):
            when = self.time_of_step(step)
            rows.append(
                (
                    when,
                    train_row(
                        self.curve,
                        step=step,
                        total_steps=self.total_steps,
                        steps_per_epoch=self.steps_per_epoch,
                        seed=seed,
                    ),
                )
            )
            if step in evals:
                rows.append(
                    (when, eval_row(self.curve, step=step, total_steps=self.total_steps, seed=seed))
                )
        return rows


def _spread(n: int, total: int) -> list[int]:
    """``n`` steps spread evenly over ``1..total``, the last one at ``total``."""
    if n <= 0 or total <= 0:
        return []
    return sorted({max(1, round(total * k / n)) for k in range(1, n + 1)})


def curve_params(request: dict[str, Any], batch_size: int) -> CurveParams:
    method = request.get("training_method") or {"method": "sft"}
    sched = request.get("lr_scheduler") or {}
    args = sched.get("lr_scheduler_args") or {}
    return CurveParams(
        method=str(method.get("method", "sft")),
        dpo_beta=float(method.get("dpo_beta") or 0.1),
        rpo_alpha=float(method.get("rpo_alpha") or 0.0),
        simpo_gamma=float(method.get("simpo_gamma") or 0.0),
        normalize_by_length=bool(method.get("dpo_normalize_logratios_by_length")),
        learning_rate=float(request.get("learning_rate") or 1e-5),
        batch_size=batch_size,
        scheduler=str(sched.get("lr_scheduler_type") or "cosine"),
        min_lr_ratio=float(args.get("min_lr_ratio") or 0.0),
        num_cycles=float(args.get("num_cycles") or 0.5),
        warmup_ratio=float(request.get("warmup_ratio") or 0.0),
    )


def plan_job(
    job_id: str,
    request: dict[str, Any],
    *,
    n_lines: int,
    now: float,
    failure: str | None = None,
    has_validation: bool = False,
    wandb: bool = False,
) -> Job:
    """Plan ``request``'s whole run, starting at simulated time ``now``.

    ``request["batch_size"]`` must already be a number (the server resolves ``"max"``).
    """
    batch = int(request.get("batch_size") or 8)
    epochs = max(int(request.get("n_epochs") or 1), 1)
    per_epoch = max(math.ceil(max(n_lines, 1) / batch), 1)
    total = per_epoch * epochs
    step_s = TRAIN_S / total if total * SLOW_STEP_S <= TRAIN_S else SLOW_STEP_S
    n_evals = int(request.get("n_evals") or 0) if has_validation else 0
    job = Job(
        id=job_id,
        request=request,
        created=now,
        total_steps=total,
        steps_per_epoch=per_epoch,
        step_s=step_s,
        checkpoint_steps=_spread(max(int(request.get("n_checkpoints") or 1), 1), total),
        eval_steps=_spread(n_evals, total),
        curve=curve_params(request, batch),
        failure=failure,
    )
    ev = job.events
    t0 = now
    ev.append(Event(t0, "job_pending", "Fine tune request created"))
    job.phases = [
        (t0 + PENDING_S, "pending"),
        (t0 + QUEUED_S, "queued"),
        (t0 + RUNNING_S, "running"),
    ]
    ev.append(Event(t0 + RUNNING_S, "job_start", "Job started"))
    ev.append(Event(t0 + RUNNING_S, "model_downloading", "Downloading model (simulated)"))
    ev.append(Event(t0 + RUNNING_S + 0.5, "model_download_complete", "Model downloaded"))
    ev.append(Event(t0 + RUNNING_S + 1.0, "training_data_downloading", "Downloading training data"))
    if failure is not None:
        fail_at = t0 + RUNNING_S + 1.5
        ev.append(Event(fail_at, "job_error", failure, level="error"))
        job.phases.append((fail_at, "user_error"))
        return job
    ev.append(
        Event(t0 + RUNNING_S + 1.5, "training_data_download_complete", "Training data downloaded")
    )
    if has_validation:
        ev.append(
            Event(
                t0 + RUNNING_S + 1.5, "validation_data_downloading", "Downloading validation data"
            )
        )
        ev.append(
            Event(
                t0 + RUNNING_S + 1.8,
                "validation_data_download_complete",
                "Validation data downloaded",
            )
        )
    if wandb:
        ev.append(Event(t0 + RUNNING_S + 1.9, "wandb_init", "Weights & Biases run initialized"))
    ev.append(Event(job.train_start, "training_start", "Training started"))
    for step in range(1, total + 1):
        at = job.time_of_step(step)
        if step in job.eval_steps:
            ev.append(Event(at, "eval_complete", f"Evaluation at step {step} complete", step=step))
        if step in job.checkpoint_steps and step != total:
            path = f"s3://simulated-together/{job_id}/checkpoint-{step}"
            ev.append(
                Event(
                    at,
                    "checkpoint_save",
                    f"Checkpoint saved at step {step}",
                    step=step,
                    checkpoint_path=path,
                )
            )
        if step % per_epoch == 0:
            ev.append(
                Event(
                    at, "epoch_complete", f"Epoch {step // per_epoch}/{epochs} completed", step=step
                )
            )
    end = job.end_of_training()
    ev.append(Event(end, "training_complete", "Training completed", step=total))
    ev.append(Event(end, "model_compressing", "Compressing output model"))
    ev.append(
        Event(end + COMPRESS_S - 0.1, "model_compression_complete", "Model compression complete")
    )
    ev.append(Event(end + COMPRESS_S, "model_uploading", "Uploading output model"))
    ev.append(Event(end + COMPRESS_S + UPLOAD_S - 0.1, "model_upload_complete", "Model uploaded"))
    ev.append(Event(end + COMPRESS_S + UPLOAD_S, "job_complete", "Job finished (simulated)"))
    job.phases += [
        (end, "compressing"),
        (end + COMPRESS_S, "uploading"),
        (end + COMPRESS_S + UPLOAD_S, "completed"),
    ]
    ev.sort(key=lambda e: e.at)
    return job
