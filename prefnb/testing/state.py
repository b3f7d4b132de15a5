"""What the simulated Together account holds: files and fine-tune jobs."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prefnb.testing.limits import ModelLimits, model_limits
from prefnb.testing.simulator import Clock, Job
from prefnb.testing.wire import ApiError

if TYPE_CHECKING:
    from prefnb.testing.chat import Charge
    from prefnb.testing.evaluations import EvalRecord
    from prefnb.testing.files import StoredFile
    from prefnb.testing.sim_batches import BatchRecord
    from prefnb.testing.sim_endpoints import EndpointRecord
    from prefnb.testing.sim_judge import SimJudge


@dataclass
class JobRecord:
    job: Job
    model: str
    model_output_name: str
    batch_size: int
    n_lines: int
    file_bytes: int
    wandb_url: str | None


class State:
    """Everything the simulated account holds. Handlers run under :attr:`lock`."""

    def __init__(self, clock: Clock, *, balance: float) -> None:
        self.clock = clock
        self.balance = balance
        self.lock = threading.RLock()
        self.files: dict[str, StoredFile] = {}
        self.jobs: dict[str, JobRecord] = {}
        # Serverless inference (judges): set by LocalTogether; charges are simulated bills.
        self.judge: SimJudge
        self.evals: dict[str, EvalRecord] = {}
        self.charges: list[Charge] = []
        # Batches and dedicated endpoints (prefnb.testing.sim_batches / sim_endpoints).
        self.batches: dict[str, BatchRecord] = {}
        self.endpoints: dict[str, EndpointRecord] = {}
        self.deleted_endpoints: dict[str, EndpointRecord] = {}
        # Unseeded answers: the n-th such draw of this account (prefnb.testing.sim_models).
        self.fresh_draws = itertools.count()

    # files
    def file(self, file_id: str) -> StoredFile:
        found = self.files.get(file_id)
        if found is None:
            raise ApiError(404, f"File {file_id} not found", param="id")
        return found

    # jobs
    def job(self, job_id: str) -> JobRecord:
        found = self.jobs.get(job_id)
        if found is None:
            raise ApiError(404, f"Fine-tune job {job_id} not found", param="id")
        return found

    def resolve_checkpoint(self, ref: str) -> tuple[JobRecord, int | None]:
        """A ``from_checkpoint`` value: job id or output model name, optionally ``:step``."""
        name, _, step = ref.partition(":")
        for rec in self.jobs.values():
            if name in (rec.job.id, rec.model_output_name):
                if step and not step.isdigit():
                    raise ApiError(400, f"from_checkpoint step must be a number, got {step!r}")
                return rec, int(step) if step else None
        raise ApiError(404, f"from_checkpoint {ref!r}: no such job or output model")

    def limits_for(self, name: str) -> ModelLimits | None:
        found = model_limits(name)
        if found is not None:
            return found
        for rec in self.jobs.values():
            if name in (rec.job.id, rec.model_output_name):
                return model_limits(rec.model)
        return None
