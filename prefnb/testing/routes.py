"""LocalTogether's routes: the part of Together's REST API that prefnb and the SDK use.

Each handler takes the server :class:`State` and a :class:`Request` and returns a
:class:`Response`; :data:`ROUTES` maps method + path to a handler and to the spec operation its
body is checked against. Files are validated in one place, :func:`check_training_file`.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import re
import secrets
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefnb.testing.limits import MODELS, ModelLimits, model_limits, param_count
from prefnb.testing.simulator import TERMINAL, Clock, Event, Job, plan_job

#: Simulated seconds between ``/preprocess`` and the file's validation result.
FILE_PROCESSING_S = 1.0
USER_ID = "user-sim-local"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base_url: str

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body)


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if self.body is None:
            return b""
        return json.dumps(self.body).encode()


class ApiError(Exception):
    """Raised by handlers; becomes a JSON error response in Together's ``ErrorData`` shape."""

    def __init__(self, status: int, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param

    def response(self) -> Response:
        kind = {400: "invalid_request_error", 401: "invalid_api_key", 404: "not_found"}.get(
            self.status, "server_error"
        )
        return error_response(self.status, self.message, kind=kind, param=self.param)


def error_response(status: int, message: str, *, kind: str, param: str | None = None) -> Response:
    return Response(
        status, {"error": {"message": message, "type": kind, "param": param, "code": None}}
    )


# --- files -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileCheck:
    """The outcome of validating an uploaded file."""

    valid: bool
    nlines: int
    dataset_format: str
    error: str | None = None


def _dataset_format(data: bytes) -> str:
    for line in data.splitlines():
        if line.strip():
            try:
                first = json.loads(line)
            except ValueError:
                return "UNKNOWN"
            keys = set(first) if isinstance(first, dict) else set()
            if {"preferred_output", "non_preferred_output"} & keys:
                return "PREFERENCE_OPENAI"
            if "messages" in keys:
                return "CONVERSATION"
            if {"prompt", "completion"} <= keys:
                return "INSTRUCTION"
            return "GENERAL"
    return "UNKNOWN"


def check_training_file(data: bytes, filename: str) -> FileCheck:
    """Validate an uploaded file the way the server would, with prefnb's ``together`` profile.

    This is the one place LocalTogether validates; the rules are prefnb's (together 1.5.34's
    ``check_file``, exactly), never re-implemented here.
    """
    from prefnb.validation import validate

    suffix = Path(filename).suffix or ".jsonl"
    with tempfile.TemporaryDirectory(prefix="localtogether-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        # One process: the server thread must not fork worker processes.
        report = validate(path, profile="together", workers=1)
    fmt = _dataset_format(data)
    if report.ok:
        return FileCheck(True, report.n_rows, fmt)
    errors = report.errors
    message = errors[0].message
    if len(errors) > 1:
        more = "+" if report.truncated else ""
        message += f" (and {len(errors) - 1}{more} more errors)"
    return FileCheck(False, report.n_rows, fmt, message)


@dataclass
class StoredFile:
    id: str
    filename: str
    purpose: str
    file_type: str
    checksum: str | None
    created_at: int
    upload_token: str
    data: bytes | None = None
    processing_started: float | None = None
    check: FileCheck | None = None


def _iso(wall: float) -> str:
    return (
        datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _parse_iso(value: str, param: str) -> float:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            400, f"{param} must be an ISO-8601 timestamp, got {value!r}", param=param
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _form_fields(req: Request) -> dict[str, str]:
    """Fields of a ``multipart/form-data`` (or urlencoded) body, plus v1-style query params."""
    fields = dict(req.query)
    ctype = req.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        raw = b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + req.body
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                fields[name] = payload.decode() if isinstance(payload, bytes) else ""
    elif ctype.startswith("application/x-www-form-urlencoded"):
        from urllib.parse import parse_qsl

        fields.update(parse_qsl(req.body.decode()))
    elif ctype.startswith("application/json") and req.body:
        body = req.json()
        if isinstance(body, dict):
            fields.update({k: str(v) for k, v in body.items() if v is not None})
    return fields


# --- state -------------------------------------------------------------------------------------


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

    # files
    def file(self, file_id: str) -> StoredFile:
        found = self.files.get(file_id)
        if found is None:
            raise ApiError(404, f"File {file_id} not found", param="id")
        return found

    def file_json(self, f: StoredFile) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": f.id,
            "object": "file",
            "created_at": f.created_at,
            "filename": f.filename,
            "bytes": len(f.data or b""),
            "purpose": f.purpose,
            "FileType": f.file_type,
            "Processed": False,
            "processing_status": "PENDING",
        }
        if f.processing_started is None or f.check is None:
            return out
        if self.clock.now() < f.processing_started + FILE_PROCESSING_S:
            out["processing_status"] = "RUNNING"
            return out
        check = f.check
        report: dict[str, Any] = {
            "valid": check.valid,
            "dataset_format": check.dataset_format,
            "file_id": f.id,
            "nlines": check.nlines,
            "dataset_has_message_weights": False,
            "dataset_has_tools": False,
            "dataset_is_multimodal": False,
        }
        if not check.valid:
            report["error"] = check.error
            report["error_type"] = "INVALID_FORMAT"
        out.update(
            Processed=True,
            processing_status="COMPLETED" if check.valid else "INVALID_FORMAT",
            validation_report=report,
        )
        return out

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


# --- job JSON ----------------------------------------------------------------------------------


def event_json(state: State, rec: JobRecord, ev: Event) -> dict[str, Any]:
    return {
        "object": "fine-tune-event",
        "created_at": _iso(state.clock.wall(ev.at)),
        "level": ev.level,
        "message": ev.message,
        "type": ev.type,
        "param_count": param_count(rec.model),
        "token_count": rec.file_bytes // 4,
        "total_steps": rec.job.total_steps,
        "wandb_url": rec.wandb_url or "",
        "step": ev.step,
        "checkpoint_path": ev.checkpoint_path,
        "model_path": ev.model_path,
        "training_offset": 0,
        "hash": hashlib.sha256(f"{rec.job.id}:{ev.at}:{ev.type}".encode()).hexdigest()[:16],
    }


_ECHOED = (
    "training_file",
    "validation_file",
    "n_epochs",
    "n_checkpoints",
    "n_evals",
    "learning_rate",
    "lr_scheduler",
    "warmup_ratio",
    "max_grad_norm",
    "weight_decay",
    "training_method",
    "training_type",
    "suffix",
    "wandb_project_name",
    "wandb_name",
    "from_checkpoint",
    "packing",
    "max_seq_length",
    "random_seed",
    "multimodal_params",
)


def job_json(state: State, rec: JobRecord, *, full: bool) -> dict[str, Any]:
    job, now = rec.job, state.clock.now()
    status = job.status_at(now)
    out: dict[str, Any] = {
        "id": job.id,
        "status": status,
        "created_at": _iso(state.clock.wall(job.created)),
        "updated_at": _iso(state.clock.wall(min(now, job.completes_at()))),
        "user_id": USER_ID,
        "owner_address": "simulated@localtogether.invalid",
        "model": rec.model,
        "model_output_name": rec.model_output_name,
        "batch_size": rec.batch_size,
        "token_count": rec.file_bytes // 4 * int(job.request.get("n_epochs") or 1),
        "total_price": 0,
    }
    out.update({k: job.request[k] for k in _ECHOED if job.request.get(k) is not None})
    if "training_type" not in out:
        out["training_type"] = {"type": "Lora", "lora_r": 8, "lora_alpha": 16, "lora_dropout": 0.0,
                                "lora_trainable_modules": "all-linear"}  # fmt: skip
    if now >= job.created + 4.0:
        out["started_at"] = _iso(state.clock.wall(job.created + 4.0))
    if rec.wandb_url:
        out["wandb_url"] = rec.wandb_url
    if not full:
        return out
    steps = job.steps_at(now)
    running = status in ("running", "compressing", "uploading")
    out.update(
        events=[event_json(state, rec, e) for e in job.events_at(now)],
        total_steps=job.total_steps,
        steps_completed=steps,
        epochs_completed=steps // job.steps_per_epoch,
        evals_completed=sum(1 for s in job.eval_steps if s <= steps),
        eval_steps=job.eval_steps[0] if job.eval_steps else 0,
        queue_depth=1 if status == "queued" else 0,
        param_count=param_count(rec.model),
        trainingfile_numlines=rec.n_lines,
        trainingfile_size=rec.file_bytes,
        progress={
            "estimate_available": running,
            "seconds_remaining": round(job.seconds_remaining(now) / state.clock.speed)
            if running
            else 0,
        },
    )
    if status == "completed":
        out["model_output_path"] = f"s3://simulated-together/{job.id}/final"
    return out


# --- handlers ----------------------------------------------------------------------------------


def upload_url(req: Request, f: StoredFile) -> str:
    return f"{req.base_url}/_sim_upload/{f.id}?token={f.upload_token}"


def post_files(state: State, req: Request) -> Response:
    fields = _form_fields(req)
    missing = [k for k in ("purpose", "file_name") if not fields.get(k)]
    if missing:
        raise ApiError(400, f"missing form field(s): {', '.join(missing)}", param=missing[0])
    checksum = fields.get("checksum") or None
    if checksum:
        for f in state.files.values():
            if f.checksum == checksum and f.data is not None and f.purpose == fields["purpose"]:
                return Response(
                    409,
                    {"message": "File already exists", "file_id": f.id},
                    # Stainless clients retry 409 by default; a duplicate is not transient.
                    headers={"x-should-retry": "false"},
                )
    f = StoredFile(
        id=f"file-sim-{secrets.token_hex(8)}",
        filename=fields["file_name"],
        purpose=fields["purpose"],
        file_type=fields.get("file_type")
        or Path(fields["file_name"]).suffix.lstrip(".")
        or "jsonl",
        checksum=checksum,
        created_at=int(state.clock.wall(state.clock.now())),
        upload_token=secrets.token_hex(8),
    )
    state.files[f.id] = f
    return Response(302, None, headers={"Location": upload_url(req, f), "X-Together-File-Id": f.id})


def put_upload(state: State, req: Request, file_id: str) -> Response:
    f = state.files.get(file_id)
    if f is None or req.query.get("token") != f.upload_token:
        return Response(
            403,
            b"<Error>AccessDenied (simulated presigned URL)</Error>",
            content_type="application/xml",
        )
    if f.checksum and hashlib.sha256(req.body).hexdigest() != f.checksum:
        return Response(
            400,
            b"<Error>BadDigest: content does not match checksum</Error>",
            content_type="application/xml",
        )
    f.data = req.body
    return Response(200, b"", content_type="text/plain")


def post_preprocess(state: State, req: Request, file_id: str) -> Response:
    f = state.file(file_id)
    if f.data is None:
        raise ApiError(400, f"File {file_id} has no content: PUT it to the upload URL first")
    if f.check is None:
        f.check = check_training_file(f.data, f.filename)
        f.processing_started = state.clock.now()
    return Response(200, state.file_json(f))


def get_files(state: State, req: Request) -> Response:
    data = [state.file_json(f) for f in state.files.values() if f.data is not None]
    return Response(200, {"object": "list", "data": data})


def get_file(state: State, req: Request, file_id: str) -> Response:
    return Response(200, state.file_json(state.file(file_id)))


def get_file_content(state: State, req: Request, file_id: str) -> Response:
    return Response(200, state.file(file_id).data or b"", content_type="text/plain")


def delete_file(state: State, req: Request, file_id: str) -> Response:
    state.file(file_id)
    del state.files[file_id]
    return Response(200, {"id": file_id, "deleted": True})


def get_limits(state: State, req: Request) -> Response:
    name = req.query.get("model_name", "")
    limits = state.limits_for(name)
    if limits is None:
        known = ", ".join(MODELS)
        message = f"Model {name!r} is not available for fine-tuning (simulated: {known})"
        return Response(404, {"message": message})
    return Response(200, dict(limits))


def _body(req: Request) -> dict[str, Any]:
    try:
        body = req.json()
    except ValueError:
        raise ApiError(400, "request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


def _usable_file(state: State, file_id: str, param: str) -> StoredFile:
    f = state.files.get(file_id)
    if f is None or f.data is None:
        raise ApiError(400, f"{param} {file_id!r} does not exist", param=param)
    return f


def _base_model(state: State, body: dict[str, Any]) -> tuple[str, ModelLimits]:
    if body.get("from_checkpoint"):
        if body.get("model"):
            raise ApiError(400, "give either model or from_checkpoint, not both", param="model")
        rec, _ = state.resolve_checkpoint(str(body["from_checkpoint"]))
        model = rec.model
    else:
        model = str(body.get("model") or "")
    limits = model_limits(model)
    if limits is None:
        raise ApiError(404, f"Model {model!r} is not available for fine-tuning", param="model")
    return model, limits


def _price(state: State, body: dict[str, Any], model: str) -> tuple[float, float, float]:
    train = _usable_file(state, str(body.get("training_file")), "training_file")
    train_tokens = len(train.data or b"") / 4 * int(body.get("n_epochs") or 1)
    eval_tokens = 0.0
    if body.get("validation_file"):
        val = _usable_file(state, str(body["validation_file"]), "validation_file")
        eval_tokens = len(val.data or b"") / 4 * int(body.get("n_evals") or 0)
    per_million = 0.5 + param_count(model) / 1e9 * 0.35
    method = (body.get("training_method") or {}).get("method", "sft")
    if method == "dpo":
        per_million *= 2.5  # two responses and a reference model per example
    return round((train_tokens + eval_tokens) / 1e6 * per_million, 6), train_tokens, eval_tokens


def post_estimate_price(state: State, req: Request) -> Response:
    body = _body(req)
    model, _ = _base_model(state, body)
    train = _usable_file(state, str(body.get("training_file")), "training_file")
    if train.check is not None and not train.check.valid:
        return Response(
            200, {"estimation_available": False, "unavailable_reason": "train_file_invalid"}
        )
    price, train_tokens, eval_tokens = _price(state, body, model)
    return Response(
        200,
        {
            "estimation_available": True,
            "estimated_total_price": price,
            "allowed_to_proceed": price <= state.balance,
            "user_limit": state.balance,
            "estimated_train_token_count": train_tokens,
            "estimated_eval_token_count": eval_tokens,
        },
    )


def _check_against_limits(body: dict[str, Any], limits: ModelLimits, method: str) -> int:
    """Reject what Together's backend would; returns the numeric batch size."""
    ttype = body.get("training_type") or {"type": "Lora"}
    full = ttype.get("type") == "Full"
    if full and limits["full_training"] is None:
        raise ApiError(400, f"Full training is not supported for {limits['model_name']}")
    if full:
        full_limits = limits["full_training"]
        assert full_limits is not None
        lo, hi_sft, hi_dpo = (
            full_limits["min_batch_size"],
            full_limits["max_batch_size"],
            full_limits["max_batch_size_dpo"],
        )
    else:
        lora = limits["lora_training"]
        lo, hi_sft, hi_dpo = (
            lora["min_batch_size"],
            lora["max_batch_size"],
            lora["max_batch_size_dpo"],
        )
        r = ttype.get("lora_r")
        if r is not None and not 1 <= int(r) <= lora["max_rank"]:
            raise ApiError(
                400, f"lora_r must be between 1 and {lora['max_rank']}, got {r}", param="lora_r"
            )
    hi = hi_dpo if method == "dpo" else hi_sft
    batch = body.get("batch_size", "max")
    if batch in (None, "max"):
        batch = hi
    if not isinstance(batch, int) or not lo <= batch <= hi:
        raise ApiError(
            400,
            f"batch_size must be between {lo} and {hi} for {method}, got {batch!r}",
            param="batch_size",
        )
    checks = (
        ("n_epochs", 1, limits["max_num_epochs"]),
        ("n_checkpoints", 0, limits["max_num_checkpoints"]),
        ("n_evals", 0, limits["max_num_evals"]),
    )
    for name, low, high in checks:
        value = body.get(name)
        if value is not None and not low <= int(value) <= high:
            raise ApiError(400, f"{name} must be between {low} and {high}, got {value}", param=name)
    seq = body.get("max_seq_length")
    seq_max = limits["max_seq_length_dpo"] if method == "dpo" else limits["max_seq_length_sft"]
    if seq is not None and not limits["min_max_seq_length"] <= int(seq) <= seq_max:
        raise ApiError(
            400,
            f"max_seq_length must be between {limits['min_max_seq_length']} and {seq_max}",
            param="max_seq_length",
        )
    return int(batch)


def post_fine_tunes(state: State, req: Request) -> Response:
    body = _body(req)
    model, limits = _base_model(state, body)
    train = _usable_file(state, str(body.get("training_file")), "training_file")
    method = str((body.get("training_method") or {}).get("method", "sft"))
    batch = _check_against_limits(body, limits, method)
    val = (
        _usable_file(state, str(body["validation_file"]), "validation_file")
        if body.get("validation_file")
        else None
    )
    failure = None
    for f, role in ((train, "training"), (val, "validation")):
        if f is None:
            continue
        check = f.check or check_training_file(f.data or b"", f.filename)
        if not check.valid:
            failure = f"Your {role} file {f.id} failed validation: {check.error}"
    job_id = f"ft-sim-{secrets.token_hex(6)}"
    suffix = f"-{body['suffix']}" if body.get("suffix") else ""
    output = f"simulated/{model.rsplit('/', 1)[-1]}{suffix}-{job_id.removeprefix('ft-sim-')}"
    request = {
        k: v for k, v in body.items() if k not in ("wandb_key", "wandb_api_key", "hf_api_token")
    }
    request["batch_size"] = batch
    wandb = bool(body.get("wandb_key") or body.get("wandb_api_key"))
    n_lines = (
        train.check.nlines if train.check else len(train.data.splitlines()) if train.data else 0
    )
    job = plan_job(job_id, request, n_lines=n_lines, now=state.clock.now(), failure=failure,
                   has_validation=val is not None, wandb=wandb)  # fmt: skip
    project = body.get("wandb_project_name") or "together"
    rec = JobRecord(
        job=job,
        model=model,
        model_output_name=output,
        batch_size=batch,
        n_lines=n_lines,
        file_bytes=len(train.data or b""),
        wandb_url=f"https://wandb.ai/simulated/{project}/runs/{job_id}" if wandb else None,
    )
    state.jobs[job_id] = rec
    return Response(200, job_json(state, rec, full=False))


def get_fine_tunes(state: State, req: Request) -> Response:
    return Response(200, {"data": [job_json(state, r, full=False) for r in state.jobs.values()]})


def get_fine_tune(state: State, req: Request, job_id: str) -> Response:
    return Response(200, job_json(state, state.job(job_id), full=True))


def get_events(state: State, req: Request, job_id: str) -> Response:
    rec = state.job(job_id)
    events = rec.job.events_at(state.clock.now())
    return Response(200, {"data": [event_json(state, rec, e) for e in events]})


def get_checkpoints(state: State, req: Request, job_id: str) -> Response:
    rec = state.job(job_id)
    lora = (rec.job.request.get("training_type") or {"type": "Lora"}).get("type") == "Lora"
    data = [
        {
            "step": step,
            "path": f"s3://simulated-together/{job_id}/checkpoint-{step}",
            "created_at": _iso(state.clock.wall(at)),
            "checkpoint_type": kind,
            "checkpoint": "adapter" if lora else "model",
        }
        for step, at, kind in reversed(rec.job.checkpoints_at(state.clock.now()))
    ]
    return Response(200, {"data": data})


def _int_param(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"{name} must be an integer, got {value!r}", param=name) from None


def get_metrics(state: State, req: Request, job_id: str) -> Response:
    rec = state.job(job_id)
    # The SDK sends the filters as query parameters; the spec puts them in a JSON body.
    params: dict[str, Any] = {}
    try:
        spec_body = req.json()
    except ValueError:
        spec_body = None
    if isinstance(spec_body, dict):
        params.update(spec_body)
    params.update(req.query)
    step_from, step_to = (
        _int_param(params, "global_step_from"),
        _int_param(params, "global_step_to"),
    )
    resolution = _int_param(params, "resolution")
    if resolution is not None and resolution < 1:
        raise ApiError(400, f"resolution must be >= 1, got {resolution}", param="resolution")
    t_from = (
        _parse_iso(str(params["logged_at_from"]), "logged_at_from")
        if params.get("logged_at_from")
        else None
    )
    t_to = (
        _parse_iso(str(params["logged_at_to"]), "logged_at_to")
        if params.get("logged_at_to")
        else None
    )
    # Timestamps are compared in whole milliseconds, the precision the rows carry.
    ms_from = round(t_from * 1000) if t_from is not None else None
    ms_to = round(t_to * 1000) if t_to is not None else None
    rows: list[dict[str, float]] = []
    for at, row in rec.job.metrics_at(state.clock.now(), seed=job_id):
        ms = round(state.clock.wall(at) * 1000)
        step = row["train/global_step"]
        if (step_from is not None and step < step_from) or (step_to is not None and step > step_to):
            continue
        if (ms_from is not None and ms < ms_from) or (ms_to is not None and ms > ms_to):
            continue
        rows.append({**row, "timestamp": ms / 1000})
    if resolution is not None:
        train = [r for r in rows if "train/loss" in r]
        if len(train) > resolution:
            if resolution == 1:
                keep = {id(train[-1])}
            else:
                keep = {
                    id(train[round(i * (len(train) - 1) / (resolution - 1))])
                    for i in range(resolution)
                }
            rows = [r for r in rows if "train/loss" not in r or id(r) in keep]
    return Response(200, {"metrics": rows})


def post_cancel(state: State, req: Request, job_id: str) -> Response:
    rec = state.job(job_id)
    now = state.clock.now()
    status = rec.job.status_at(now)
    if status in TERMINAL:
        raise ApiError(400, f"Fine-tune job {job_id} is already {status} and cannot be cancelled")
    if rec.job.cancelled_at is None:
        rec.job.cancelled_at = now
    return Response(200, job_json(state, rec, full=False))


Handler = Callable[..., Response]

#: (method, path regex, spec operation or None, handler, needs API key)
ROUTES: list[tuple[str, re.Pattern[str], str | None, Handler, bool]] = [
    (m, re.compile(f"^{p}$"), op, h, auth)
    for m, p, op, h, auth in (
        ("POST", r"/v1/files", None, post_files, True),
        ("GET", r"/v1/files", "GET /v1/files", get_files, True),
        ("PUT", r"/_sim_upload/(?P<file_id>[^/]+)", None, put_upload, False),
        (
            "POST",
            r"/v1/files/(?P<file_id>[^/]+)/preprocess",
            "GET /v1/files/{id}",
            post_preprocess,
            True,
        ),
        ("GET", r"/v1/files/(?P<file_id>[^/]+)/content", None, get_file_content, True),
        ("GET", r"/v1/files/(?P<file_id>[^/]+)", "GET /v1/files/{id}", get_file, True),
        ("DELETE", r"/v1/files/(?P<file_id>[^/]+)", "DELETE /v1/files/{id}", delete_file, True),
        (
            "GET",
            r"/v1/fine-tunes/models/limits",
            "GET /v1/fine-tunes/models/limits",
            get_limits,
            True,
        ),
        (
            "POST",
            r"/v1/fine-tunes/estimate-price",
            "POST /v1/fine-tunes/estimate-price",
            post_estimate_price,
            True,
        ),
        ("POST", r"/v1/fine-tunes", "POST /v1/fine-tunes", post_fine_tunes, True),
        ("GET", r"/v1/fine-tunes", "GET /v1/fine-tunes", get_fine_tunes, True),
        (
            "GET",
            r"/v1/fine-tunes/(?P<job_id>[^/]+)/events",
            "GET /v1/fine-tunes/{id}/events",
            get_events,
            True,
        ),
        (
            "GET",
            r"/v1/fine-tunes/(?P<job_id>[^/]+)/checkpoints",
            "GET /v1/fine-tunes/{id}/checkpoints",
            get_checkpoints,
            True,
        ),
        (
            "GET",
            r"/v1/fine-tunes/(?P<job_id>[^/]+)/metrics",
            "GET /v1/fine-tunes/{id}/metrics",
            get_metrics,
            True,
        ),
        (
            "POST",
            r"/v1/fine-tunes/(?P<job_id>[^/]+)/cancel",
            "POST /v1/fine-tunes/{id}/cancel",
            post_cancel,
            True,
        ),
        (
            "GET",
            r"/v1/fine-tunes/(?P<job_id>[^/]+)",
            "GET /v1/fine-tunes/{id}",
            get_fine_tune,
            True,
        ),
    )
]


def route(method: str, path: str) -> tuple[str | None, Handler, bool, dict[str, str]] | None:
    for m, pattern, op, handler, auth in ROUTES:
        if m == method and (match := pattern.match(path)):
            return op, handler, auth, match.groupdict()
    return None
