"""LocalTogether's ``/v1/evaluation`` routes: ``compare`` jobs on the simulated clock.

A compare job judges every row of an uploaded JSONL whose ``model_a``/``model_b`` name
columns holding pre-generated responses, with the server's simulated judge, in two passes
(original and flipped order) unless ``disable_position_bias_correction`` is true. What
Together documents and LocalTogether does:

- create returns ``{"workflow_id", "status": "pending"}``; the job goes ``pending`` →
  ``queued`` (2 s) → ``running`` (4 s) → ``completed`` after ``EVAL_ROW_S`` per row;
- a dataset column no template references and no ``model_a``/``model_b`` names ends the job
  in ``user_error`` with Together's message in ``results.error``;
- a completed job has ``A_wins``, ``B_wins``, ``Ties``, ``judge_fail_count``,
  ``generation_fail_count`` and ``result_file_id``; the result file (files API) has one line
  per input row with ``choice_original``, ``choice_flipped`` (in original-order terms), the
  judge's raw outputs and feedback, ``final_decision``, ``evaluation_successful`` and
  ``is_invalid_judge_output``; when the passes disagree the decision is ``Tie``;
- more than 30 % of rows failing makes the job ``error``.

Only pre-generated columns are simulated: a ``model_a``/``model_b`` configuration object
(generating responses) is refused with 400 (see ``SPEC_DIFFERENCES.md``). Each pass is billed
at the judge's price into ``state.charges`` when the job completes.

Example:
    >>> EVAL_ROW_S > 0
    True
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prefnb.testing.chat import Charge, tokens
from prefnb.testing.files import StoredFile
from prefnb.testing.serverless_models import SERVERLESS_MODELS, ServerlessModel
from prefnb.testing.wire import ApiError, Request, Response, iso

if TYPE_CHECKING:
    from prefnb.testing.state import State

__all__ = ["EVAL_ROW_S", "EvalRecord", "get_evaluation", "get_evaluation_status", "get_evaluations"]

#: Simulated seconds a compare job spends per input row (after 4 s pending and queued).
EVAL_ROW_S = 0.01
_PHASES = ((0.0, "pending"), (2.0, "queued"), (4.0, "running"))
#: What Together appends to the judge prompt (its docs: JSON with feedback and the verdict).
OUTPUT_INSTRUCTION = (
    'Respond with a JSON object: {"feedback": "<why>", "choice": "A" | "B" | "Tie"}.'
)
_TEMPLATE_VAR = re.compile(r"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class EvalRecord:
    id: str
    type: str
    parameters: dict[str, Any]
    created: float
    completes: float
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    failed: str | None = None  # "user_error" or "error"
    counts: dict[str, int] = field(default_factory=dict)
    charges: list[Charge] = field(default_factory=list)
    result_file_id: str | None = None

    def status_at(self, now: float) -> str:
        if now >= self.completes:
            return self.failed or "completed"
        status = "pending"
        for start, name in _PHASES:
            if now >= self.created + start:
                status = name
        return status


def _strict_choice(raw: str) -> tuple[str | None, str | None]:
    try:
        obj = json.loads(raw)
    except ValueError:
        return None, None
    if not isinstance(obj, dict) or obj.get("choice") not in ("A", "B", "Tie"):
        return None, None
    return str(obj["choice"]), str(obj.get("feedback", ""))


def _flip(choice: str | None) -> str | None:
    return {"A": "B", "B": "A"}.get(choice or "", choice)


def _read_rows(data: bytes, file_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise ApiError(400, f"input file {file_id} line {n} is not JSON") from None
        if not isinstance(obj, dict):
            raise ApiError(400, f"input file {file_id} line {n} is not a JSON object")
        rows.append(obj)
    return rows


def _check_compare(state: State, params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise ApiError(400, "parameters must be an object", param="parameters")
    judge = params.get("judge")
    if not isinstance(judge, dict):
        raise ApiError(400, "parameters.judge is required", param="parameters.judge")
    for key in ("model", "model_source", "system_template"):
        if not isinstance(judge.get(key), str) or not judge.get(key):
            raise ApiError(400, f"parameters.judge.{key} is required", param=f"judge.{key}")
    if judge["model_source"] not in ("serverless", "dedicated", "external"):
        raise ApiError(400, "judge.model_source must be serverless, dedicated or external")
    if judge["model_source"] != "serverless" or judge["model"] not in SERVERLESS_MODELS:
        raise ApiError(
            400,
            f"judge model {judge['model']!r} ({judge['model_source']}) is not available "
            "(LocalTogether simulates serverless judges only)",
            param="judge.model",
        )
    for key in ("model_a", "model_b"):
        value = params.get(key)
        if isinstance(value, dict):
            raise ApiError(
                400,
                f"parameters.{key}: LocalTogether simulates compare jobs over pre-generated "
                "response columns only; pass the column name",
                param=key,
            )
        if not isinstance(value, str) or not value:
            raise ApiError(400, f"parameters.{key} is required for compare", param=key)
    fid = params.get("input_data_file_path")
    if not isinstance(fid, str) or not fid:
        raise ApiError(400, "parameters.input_data_file_path is required")
    f = state.file(fid)
    if f.data is None:
        raise ApiError(400, f"File {fid} has no content")
    flag = params.get("disable_position_bias_correction", False)
    if not isinstance(flag, bool):
        raise ApiError(400, "disable_position_bias_correction must be a boolean")
    return params


def _charge(price: ServerlessModel, n_in: int, raw: str, source: str) -> Charge:
    n_out = tokens(raw)
    return Charge(price.name, n_in, n_out, price.cost_usd(n_in, n_out), source)


def _judge_rows(
    state: State, rec: EvalRecord, rows: list[dict[str, Any]], params: dict[str, Any]
) -> None:
    judge = params["judge"]
    col_a, col_b = params["model_a"], params["model_b"]
    template = judge["system_template"]
    used = set(_TEMPLATE_VAR.findall(template)) | {col_a, col_b}
    unused = sorted({k for r in rows for k in r} - used - {"image_data_urls"})
    if unused:
        rec.failed, rec.error = (
            "user_error",
            f"Unsupported dataset column(s): {unused}. Each column must be referenced by a "
            "model or judge template, or be a recognized field ('image_data_urls'). Remove "
            "unused columns or reference them in a template.",
        )
        return
    missing = [c for c in (col_a, col_b) if any(c not in r for r in rows)]
    if missing or not rows:
        rec.failed = "user_error"
        rec.error = f"Dataset is empty or lacks column(s) {missing}" if rows or missing else ""
        rec.error = rec.error or "Dataset is empty"
        return
    two_pass = not params.get("disable_position_bias_correction", False)
    price = SERVERLESS_MODELS[judge["model"]]
    counts = {"A_wins": 0, "B_wins": 0, "Ties": 0, "judge_fail_count": 0}
    fails = 0
    for row in rows:
        prompt = str(row.get("prompt", ""))
        a, b = str(row[col_a]), str(row[col_b])
        out = dict(row)
        base_in = tokens(template + OUTPUT_INSTRUCTION) + tokens(prompt + a + b)
        raw_o = state.judge.answer(prompt, a, b)
        rec.charges.append(_charge(price, base_in, raw_o, rec.id))
        choice_o, fb_o = _strict_choice(raw_o)
        out.update(
            judge_raw_output_original=raw_o,
            choice_original=choice_o,
            judge_feedback_original_order=fb_o,
        )
        choices = [choice_o]
        if two_pass:
            raw_f = state.judge.answer(prompt, b, a)
            rec.charges.append(_charge(price, base_in, raw_f, rec.id))
            choice_f, fb_f = _strict_choice(raw_f)
            choice_f = _flip(choice_f)  # Together reports it in original-order terms
            out.update(
                judge_raw_output_flipped=raw_f,
                choice_flipped=choice_f,
                judge_feedback_flipped_order=fb_f,
            )
            choices.append(choice_f)
        valid = [c for c in choices if c is not None]
        if not valid:
            final = None
            counts["judge_fail_count"] += 1
            fails += 1
        elif len(valid) == 1 or valid[0] == valid[1]:
            final = valid[0]
        else:
            final = "Tie"
        if final is not None:
            counts[{"A": "A_wins", "B": "B_wins", "Tie": "Ties"}[final]] += 1
        out.update(
            final_decision=final,
            evaluation_successful=final is not None,
            is_invalid_judge_output=len(valid) < len(choices),
        )
        rec.rows.append(out)
    if fails > 0.3 * len(rows):
        rec.failed = "error"
        rec.error = f"{fails} of {len(rows)} rows failed judging (more than 30%)"
    rec.counts = {**counts, "generation_fail_count": 0}


def post_evaluation(state: State, req: Request) -> Response:
    try:
        body = req.json()
    except ValueError:
        raise ApiError(400, "request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    kind = body.get("type")
    if kind not in ("classify", "score", "compare"):
        raise ApiError(400, "type must be one of classify, score, compare", param="type")
    if kind != "compare":
        raise ApiError(400, f"LocalTogether simulates compare evaluations only, not {kind!r}")
    params = _check_compare(state, body.get("parameters"))
    f = state.file(params["input_data_file_path"])
    rows = _read_rows(f.data or b"", f.id)
    now = state.clock.now()
    rec = EvalRecord(
        id=f"eval-sim-{secrets.token_hex(3)}-{int(state.clock.wall(now))}",
        type=kind,
        parameters=params,
        created=now,
        completes=now + _PHASES[-1][0] + max(len(rows), 1) * EVAL_ROW_S,
    )
    _judge_rows(state, rec, rows, params)
    state.evals[rec.id] = rec
    return Response(200, {"workflow_id": rec.id, "status": "pending"})


def _finish(state: State, rec: EvalRecord, now: float) -> None:
    """Publish a completed job's result file and bill it, once."""
    if now < rec.completes or rec.failed == "user_error" or rec.result_file_id is not None:
        return
    data = "".join(json.dumps(r) + "\n" for r in rec.rows).encode()
    f = StoredFile(
        id=f"file-sim-{secrets.token_hex(8)}",
        filename=f"{rec.id}-results.jsonl",
        purpose="eval-output",
        file_type="jsonl",
        checksum=None,
        created_at=int(state.clock.wall(rec.completes)),
        upload_token=secrets.token_hex(8),
        data=data,
    )
    state.files[f.id] = f
    rec.result_file_id = f.id
    state.charges.extend(rec.charges)


def _results(rec: EvalRecord, now: float) -> dict[str, Any] | None:
    status = rec.status_at(now)
    if status in ("user_error", "error"):
        return {"error": rec.error}
    if status != "completed":
        return None
    return {**rec.counts, "result_file_id": rec.result_file_id}


def _job_json(state: State, rec: EvalRecord) -> dict[str, Any]:
    now = state.clock.now()
    _finish(state, rec, now)
    status = rec.status_at(now)
    wall = state.clock.wall
    updates = [
        {"status": name, "message": "Job status updated", "timestamp": iso(wall(rec.created + t))}
        for t, name in _PHASES
        if now >= rec.created + t
    ]
    if status not in ("pending", "queued", "running"):
        updates.append(
            {
                "status": status,
                "message": rec.error or "Job status updated",
                "timestamp": iso(state.clock.wall(rec.completes)),
            }
        )
    updated = rec.completes if now >= rec.completes else rec.created
    return {
        "workflow_id": rec.id,
        "type": rec.type,
        "owner_id": "user-sim",
        "status": status,
        "status_updates": updates,
        "parameters": rec.parameters,
        "created_at": iso(state.clock.wall(rec.created)),
        "updated_at": iso(state.clock.wall(updated)),
        "results": _results(rec, now),
    }


def _record(state: State, eval_id: str) -> EvalRecord:
    rec = state.evals.get(eval_id)
    if rec is None:
        raise ApiError(404, f"Evaluation {eval_id} not found", param="id")
    return rec


def get_evaluation(state: State, req: Request, eval_id: str) -> Response:
    return Response(200, _job_json(state, _record(state, eval_id)))


def get_evaluation_status(state: State, req: Request, eval_id: str) -> Response:
    job = _job_json(state, _record(state, eval_id))
    return Response(200, {"status": job["status"], "results": job["results"]})


def get_evaluations(state: State, req: Request) -> Response:
    limit_text = req.query.get("limit", "10")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 100:
        raise ApiError(400, "limit must be an integer between 1 and 100", param="limit")
    wanted = req.query.get("status")
    jobs = [_job_json(state, r) for r in reversed(list(state.evals.values()))]
    if wanted:
        jobs = [j for j in jobs if j["status"] == wanted]
    return Response(200, jobs[: int(limit_text)])
