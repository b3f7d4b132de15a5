"""LocalTogether's Batch API: ``/v1/batches`` (create, retrieve, list, cancel).

The input file (uploaded with ``purpose="batch-api"``) has one request per line,
``{"custom_id": ..., "body": {...chat completion request...}}``. A file whose lines are not
that shape (bad JSON, a missing or repeated ``custom_id``, one longer than 64 characters) is
refused at create with a 400 naming the line. Each well-formed request is answered by the same
simulated models as ``/v1/chat/completions`` (:func:`prefnb.testing.sim_models.complete`), at
50 % of the serverless price; a request the model refuses becomes a line of the error file.

The batch runs on the simulated clock: ``VALIDATING`` for 1 s, ``IN_PROGRESS`` with
``progress`` rising to 100 over ``5 + 0.002 × requests`` s, then ``COMPLETED`` with an
``output_file_id`` (lines ``{"id", "custom_id", "response": {"status_code": 200, "body"}}``)
and, when any request failed, an ``error_file_id`` (lines ``{"id", "custom_id", "error":
{"code", "message"}}``), both readable through ``GET /v1/files/{id}/content``.

Example:
    >>> rec = BatchRecord("batch-sim-1", "file-1", "m", 0.0, 10)
    >>> rec.status_at(0.5), rec.status_at(2.0), rec.status_at(100.0)
    ('VALIDATING', 'IN_PROGRESS', 'COMPLETED')
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prefnb.testing.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from prefnb.testing.state import State

VALIDATING_S = 1.0
BATCH_DISCOUNT = 0.5
MAX_CUSTOM_ID = 64
MAX_REQUESTS = 50_000


@dataclass
class BatchRecord:
    id: str
    input_file_id: str
    model: str
    created: float
    n: int
    outputs: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    charges: list[Any] = field(default_factory=list)
    file_bytes: int = 0
    cancelled_at: float | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None

    @property
    def duration(self) -> float:
        return 5.0 + 0.002 * self.n

    def completes(self) -> float:
        return self.created + VALIDATING_S + self.duration

    def status_at(self, now: float) -> str:
        if self.cancelled_at is not None and now >= self.cancelled_at:
            return "CANCELLED"
        if now < self.created + VALIDATING_S:
            return "VALIDATING"
        return "IN_PROGRESS" if now < self.completes() else "COMPLETED"

    def progress_at(self, now: float) -> float:
        if self.status_at(now) == "COMPLETED":
            return 100.0
        done = (now - self.created - VALIDATING_S) / self.duration
        return round(100.0 * min(max(done, 0.0), 1.0), 1)


def _iso(state: State, sim: float) -> str:
    return datetime.fromtimestamp(state.clock.wall(sim), UTC).isoformat().replace("+00:00", "Z")


def _publish(state: State, rec: BatchRecord, rows: list[dict[str, Any]], kind: str) -> str:
    from prefnb.testing.files import FileCheck, StoredFile

    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    f = StoredFile(
        id=f"file-sim-{secrets.token_hex(8)}",
        filename=f"{rec.id}-{kind}.jsonl",
        purpose="batch-api",
        file_type="jsonl",
        checksum=None,
        created_at=int(state.clock.wall(rec.completes())),
        upload_token=secrets.token_hex(8),
        data=data,
        processing_started=rec.completes(),
        check=FileCheck(True, len(rows), "BATCH"),
    )
    state.files[f.id] = f
    return f.id


def _finish(state: State, rec: BatchRecord) -> None:
    """Publish a completed batch's output and error files and bill it, once."""
    if rec.output_file_id is not None or rec.status_at(state.clock.now()) != "COMPLETED":
        return
    rec.output_file_id = _publish(state, rec, rec.outputs, "output")
    if rec.errors:
        rec.error_file_id = _publish(state, rec, rec.errors, "errors")
    state.charges.extend(rec.charges)


def batch_json(state: State, rec: BatchRecord) -> dict[str, Any]:
    _finish(state, rec)
    now = state.clock.now()
    status = rec.status_at(now)
    out: dict[str, Any] = {
        "id": rec.id,
        "user_id": "simulated-user",
        "input_file_id": rec.input_file_id,
        "file_size_bytes": rec.file_bytes,
        "status": status,
        "job_deadline": _iso(state, rec.created + 24 * 3600),
        "created_at": _iso(state, rec.created),
        "endpoint": "/v1/chat/completions",
        "progress": rec.progress_at(now),
        "model_id": rec.model,
        "output_file_id": rec.output_file_id,
        "error_file_id": rec.error_file_id,
        "error": None,
        "completed_at": _iso(state, rec.completes()) if status == "COMPLETED" else None,
    }
    return out


def _read_lines(data: bytes, file_id: str) -> list[tuple[str, Any]]:
    seen: set[str] = set()
    out: list[tuple[str, Any]] = []
    for no, raw in enumerate(data.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            raise ApiError(400, f"{file_id} line {no}: not valid JSON") from None
        cid = line.get("custom_id") if isinstance(line, dict) else None
        if not isinstance(cid, str) or not cid:
            raise ApiError(400, f"{file_id} line {no}: custom_id (a string) is required")
        if len(cid) > MAX_CUSTOM_ID:
            raise ApiError(400, f"{file_id} line {no}: custom_id is longer than "
                           f"{MAX_CUSTOM_ID} characters")  # fmt: skip
        if cid in seen:
            raise ApiError(400, f"{file_id} line {no}: custom_id {cid!r} is repeated")
        if not isinstance(line.get("body"), dict):
            raise ApiError(400, f"{file_id} line {no}: body (a request object) is required")
        seen.add(cid)
        out.append((cid, line["body"]))
    if not out:
        raise ApiError(400, f"{file_id}: the batch input file has no requests")
    if len(out) > MAX_REQUESTS:
        raise ApiError(400, f"{file_id}: {len(out):,} requests; at most {MAX_REQUESTS:,}")
    return out


def post_batches(state: State, req: Request) -> Response:
    from prefnb.testing.chat import Charge
    from prefnb.testing.sim_models import complete

    body = req.json()
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    if body.get("endpoint") != "/v1/chat/completions":
        raise ApiError(400, "endpoint: LocalTogether simulates /v1/chat/completions batches only",
                       param="endpoint")  # fmt: skip
    file_id = body.get("input_file_id")
    if not isinstance(file_id, str):
        raise ApiError(400, "input_file_id is required", param="input_file_id")
    f = state.file(file_id)
    if f.purpose != "batch-api" or f.data is None:
        raise ApiError(400, f"File {file_id} was not uploaded with purpose batch-api",
                       param="input_file_id")  # fmt: skip
    lines = _read_lines(f.data, file_id)
    rec = BatchRecord(
        id=f"batch-sim-{secrets.token_hex(8)}",
        input_file_id=file_id,
        model=str(body.get("model_id") or lines[0][1].get("model") or ""),
        created=state.clock.now(),
        n=len(lines),
        file_bytes=len(f.data),
    )
    before = len(state.charges)
    for cid, request in lines:
        rid = f"batch-req-sim-{secrets.token_hex(6)}"
        try:
            done = complete(state, request, source=rec.id, discount=BATCH_DISCOUNT)
        except ApiError as err:
            rec.errors.append({"id": rid, "custom_id": cid,
                               "error": {"code": err.status, "message": err.message}})  # fmt: skip
            continue
        rec.outputs.append({"id": rid, "custom_id": cid, "response":
                            {"status_code": 200, "request_id": rid, "body": done}})  # fmt: skip
    # Billed when the batch completes, not now.
    rec.charges = [c for c in state.charges[before:] if isinstance(c, Charge)]
    del state.charges[before:]
    state.batches[rec.id] = rec
    return Response(200, {"job": batch_json(state, rec), "warning": None})


def _batch(state: State, batch_id: str) -> BatchRecord:
    found = state.batches.get(batch_id)
    if found is None:
        raise ApiError(404, f"Batch {batch_id} not found", param="id")
    return found


def get_batches(state: State, req: Request) -> Response:
    return Response(200, [batch_json(state, r) for r in state.batches.values()])


def get_batch(state: State, req: Request, batch_id: str) -> Response:
    return Response(200, batch_json(state, _batch(state, batch_id)))


def post_batch_cancel(state: State, req: Request, batch_id: str) -> Response:
    rec = _batch(state, batch_id)
    if rec.status_at(state.clock.now()) not in ("COMPLETED", "CANCELLED"):
        rec.cancelled_at = state.clock.now()
    return Response(200, batch_json(state, rec))
