"""LocalTogether's fine-tuning routes: limits, price estimates, jobs, events, checkpoints,
metrics and cancel."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from prefnb.testing.files import StoredFile, check_training_file
from prefnb.testing.limits import MODELS, ModelLimits, model_limits, param_count
from prefnb.testing.simulator import TERMINAL, Event, plan_job
from prefnb.testing.state import JobRecord, State
from prefnb.testing.wire import ApiError, Request, Response, iso, parse_iso

USER_ID = "user-sim-local"


def event_json(state: State, rec: JobRecord, ev: Event) -> dict[str, Any]:
    return {
        "object": "fine-tune-event",
        "created_at": iso(state.clock.wall(ev.at)),
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
        "created_at": iso(state.clock.wall(job.created)),
        "updated_at": iso(state.clock.wall(min(now, job.completes_at()))),
        "user_id": USER_ID,
        "owner_address": "simulated@localtogether.invalid",
        "model": rec.model,
        "model_output_name": rec.model_output_name,
        "batch_size": rec.batch_size,
        "token_count": rec.file_bytes // 4 * int(job.request.get("n_epochs") or 1),
        "total_price": 0,
    }
    out.update({k: job.request[k] for k in _ECHOED if job.request.get(k) is not None})
    if now >= job.created + 4.0:
        out["started_at"] = iso(state.clock.wall(job.created + 4.0))
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
        # As the 3.1.1 CLI reads it: the run's estimated length from started_at (wall
        # seconds), so seconds_remaining − (now − started_at) is the time left.
        progress={
            "estimate_available": running,
            "seconds_remaining": round(
                state.clock.wall(job.completes_at()) - state.clock.wall(job.created + 4.0)
            )
            if running
            else 0,
        },
    )
    if status == "completed":
        out["model_output_path"] = f"s3://simulated-together/{job.id}/final"
    return out


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


def _lora_default(limits: ModelLimits) -> dict[str, Any]:
    rank = limits["lora_training"]["default_rank"]
    return {"type": "Lora", "lora_r": rank, "lora_alpha": rank * 2, "lora_dropout": 0.0,
            "lora_trainable_modules": "all-linear"}  # fmt: skip


#: Fields of a LoRA training type that fix the adapter's shape (dropout does not).
_ADAPTER_FIELDS = ("type", "lora_r", "lora_alpha", "lora_trainable_modules")


def _training_type(state: State, body: dict[str, Any], limits: ModelLimits) -> dict[str, Any]:
    """The job's training type: the body's, else the parent's (continued fine-tuning), else
    LoRA at the model's default rank. A continued job whose explicit type differs from its
    parent's adapter is refused (a LocalTogether choice, see SPEC_DIFFERENCES.md)."""
    given = body.get("training_type")
    if not body.get("from_checkpoint"):
        return dict(given) if given else _lora_default(limits)
    parent, _ = state.resolve_checkpoint(str(body["from_checkpoint"]))
    inherited = dict(parent.job.request.get("training_type") or _lora_default(limits))
    if not given:
        return inherited
    differs = [
        f"{k}={given.get(k)!r} (parent: {inherited.get(k)!r})"
        for k in _ADAPTER_FIELDS
        if k in given and given.get(k) != inherited.get(k)
    ]
    if differs:
        shape = ", ".join(f"{k}={inherited[k]}" for k in _ADAPTER_FIELDS[1:] if k in inherited)
        raise ApiError(
            400,
            f"from_checkpoint {body['from_checkpoint']!r} was trained with "
            f"{inherited.get('type')} {shape}; "
            f"a continued job must keep its training type, but this request sets "
            f"{'; '.join(differs)}. Leave training_type out to inherit it.",
            param="training_type",
        )
    return {**inherited, **dict(given)}


def post_fine_tunes(state: State, req: Request) -> Response:
    body = _body(req)
    model, limits = _base_model(state, body)
    body["training_type"] = _training_type(state, body, limits)
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
            "created_at": iso(state.clock.wall(at)),
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
        parse_iso(str(params["logged_at_from"]), "logged_at_from")
        if params.get("logged_at_from")
        else None
    )
    t_to = (
        parse_iso(str(params["logged_at_to"]), "logged_at_to")
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
