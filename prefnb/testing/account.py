"""LocalTogether's routes for what is on the account: job deletion, model downloads, whoami.

Downloads are simulated bytes, deterministic per (job, checkpoint, step), sent with an ``ETag``
holding their MD5 (as S3 does for single-part objects) so a client can verify them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from prefnb.testing.simulator import TERMINAL
from prefnb.testing.state import State
from prefnb.testing.wire import ApiError, Request, Response

#: Size of a simulated model download (big enough to show progress, small enough for CI).
DOWNLOAD_BYTES = 256 * 1024


def delete_fine_tune(state: State, req: Request, job_id: str) -> Response:
    rec = state.job(job_id)
    status = rec.job.status_at(state.clock.now())
    if status not in TERMINAL:
        raise ApiError(
            400, f"Fine-tune job {job_id} is {status}; cancel it before deleting it", param="id"
        )
    del state.jobs[job_id]
    return Response(200, {"message": f"Fine-tune job {job_id} deleted (simulated)"})


def _blob(seed: str, size: int) -> bytes:
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < size:
        out += block
        block = hashlib.sha256(block).digest()
    return bytes(out[:size])


def get_download(state: State, req: Request) -> Response:
    job_id = req.query.get("ft_id", "")
    rec = state.job(job_id)
    now = state.clock.now()
    lora = (rec.job.request.get("training_type") or {}).get("type", "Lora") == "Lora"
    kind = req.query.get("checkpoint") or ("merged" if lora else "model_output_path")
    allowed = ("merged", "adapter") if lora else ("model_output_path", "default")
    if kind not in allowed:
        raise ApiError(
            400,
            f"checkpoint={kind!r} is not available for a {'LoRA' if lora else 'full'} job; "
            f"use one of {', '.join(allowed)}",
            param="checkpoint",
        )
    step_text = req.query.get("checkpoint_step")
    saved = {step for step, _, _ in rec.job.checkpoints_at(now)}
    step = int(step_text) if step_text and step_text.isdigit() else 0
    if step_text and not step_text.isdigit():
        raise ApiError(400, f"checkpoint_step must be an integer, got {step_text!r}")
    if step in (0, rec.job.total_steps):
        if rec.job.status_at(now) != "completed":
            raise ApiError(
                400, f"Fine-tune job {job_id} is not completed; its model cannot be downloaded yet"
            )
        step = rec.job.total_steps
    elif step not in saved:
        raise ApiError(
            404, f"Fine-tune job {job_id} has no checkpoint at step {step}", param="checkpoint_step"
        )
    data = _blob(f"{job_id}:{kind}:{step}", DOWNLOAD_BYTES)
    name = f"{rec.model_output_name.replace('/', '--')}-step{step}-{kind}.tar.zst"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "ETag": f'"{hashlib.md5(data).hexdigest()}"',
    }
    return Response(200, data, headers=headers, content_type="application/octet-stream")


def get_whoami(state: State, req: Request) -> Response:
    """``GET /v3/whoami``: the project API key's identity (the 3.1.1 CLI asks before most
    commands, to resolve the project)."""
    body: dict[str, Any] = {
        "type": "project_api_key",
        "api_key": {"id": "key-sim-local"},
        "organization": {"id": "org-sim-local", "name": "LocalTogether (simulated)"},
        "project": {"id": "proj-sim-local", "name": "Simulated project", "slug": "simulated"},
    }
    return Response(200, body)
