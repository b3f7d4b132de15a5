"""LocalTogether's file routes: the SDK's upload flow (302 → PUT → preprocess) and server-side
validation, which is done in one place, :func:`check_training_file`, with prefnb's validator."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefnb.testing.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from prefnb.testing.state import State

#: Simulated seconds between ``/preprocess`` and the file's validation result.
FILE_PROCESSING_S = 1.0


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

    name = Path(filename).name
    if not name or name.startswith("."):
        name = f"upload{name}"
    with tempfile.TemporaryDirectory(prefix="localtogether-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        # One process: the server thread must not fork worker processes.
        report = validate(path, profile="together", workers=1)
    fmt = _dataset_format(data)
    if report.ok:
        return FileCheck(True, report.n_rows, fmt)
    errors = report.errors
    # The report names the temporary copy; the user knows the file by its uploaded name.
    message = errors[0].message.replace(str(path), filename)
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


def form_fields(req: Request) -> dict[str, str]:
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


def file_json(state: State, f: StoredFile) -> dict[str, Any]:
    """``FileResponse`` JSON: the spec's fields and the SDK's processing status and report."""
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
    if state.clock.now() < f.processing_started + FILE_PROCESSING_S:
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


def upload_url(req: Request, f: StoredFile) -> str:
    return f"{req.base_url}/_sim_upload/{f.id}?token={f.upload_token}"


def post_files(state: State, req: Request) -> Response:
    fields = form_fields(req)
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
    if f.check is None and f.purpose == "batch-api":
        # Batch input is requests, not training data: its lines are checked by POST /v1/batches.
        f.check = FileCheck(True, len(f.data.splitlines()), "BATCH")
        f.processing_started = state.clock.now()
    if f.check is None:
        f.check = check_training_file(f.data, f.filename)
        f.processing_started = state.clock.now()
    return Response(200, file_json(state, f))


def get_files(state: State, req: Request) -> Response:
    data = [file_json(state, f) for f in state.files.values() if f.data is not None]
    return Response(200, {"object": "list", "data": data})


def get_file(state: State, req: Request, file_id: str) -> Response:
    return Response(200, file_json(state, state.file(file_id)))


def get_file_content(state: State, req: Request, file_id: str) -> Response:
    return Response(200, state.file(file_id).data or b"", content_type="text/plain")


def delete_file(state: State, req: Request, file_id: str) -> Response:
    state.file(file_id)
    del state.files[file_id]
    return Response(200, {"id": file_id, "deleted": True})
