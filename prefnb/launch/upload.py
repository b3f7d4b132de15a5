"""Upload a JSONL file through the ``together`` SDK and wait until Together has processed it.

* The SDK sends the file's SHA-256 with the upload request; when Together already has those
  bytes it answers 409 and the existing file is reused (so is a file this machine uploaded
  before, remembered in the ledger, after a ``GET /v1/files/{id}`` confirms it still exists).
* A progress bar shows the bytes sent (a widget in Jupyter, a line on stderr elsewhere).
* After the upload Together validates the file itself; :func:`wait_processed` polls
  ``GET /v1/files/{id}`` and raises :class:`~prefnb.launch.errors.FileValidationFailed`
  with the server's message verbatim when it is rejected.

Retries: the SDK retries its own API calls (429, 5xx, 408, 409 and dropped connections,
twice, with backoff) but not the PUT of the file content, and retrying the 409 "already
exists" answer only delays the reuse. So the upload runs with SDK retries off and the whole
upload is retried here instead (:data:`UPLOAD_ATTEMPTS`).

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.jsonl"
    >>> _ = p.write_bytes(b"{}\\n")
    >>> file_checksum(p)[:12]
    'ca3d163bab05'
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import httpx
import together

from prefnb.launch.credentials import client_base_url, service_name
from prefnb.launch.errors import FileValidationFailed, LaunchError, api_errors
from prefnb.launch.ledger import Ledger
from prefnb.launch.progress import ProgressLine

__all__ = ["UPLOAD_ATTEMPTS", "delete_file", "file_checksum", "upload_file", "wait_processed"]

UPLOAD_ATTEMPTS = 4
_DONE = {"COMPLETED", "FAILED", "INVALID_FORMAT"}


def file_checksum(path: str | Path) -> str:
    """SHA-256 hex of the file's bytes (what Together dedupes uploads on)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _transient(exc: BaseException) -> bool:
    # The PUT goes through the SDK's raw httpx client, so its failures arrive unwrapped.
    if isinstance(exc, (together.APIConnectionError, httpx.TransportError)):
        return True
    if isinstance(exc, together.APIStatusError):
        return exc.status_code in (408, 429) or exc.status_code >= 500
    return False


def _exists(client: Any, file_id: str) -> bool:
    try:
        client.files.retrieve(file_id)
    except together.NotFoundError:
        return False
    return True


def upload_file(
    client: Any,
    path: str | Path,
    *,
    ledger: Ledger,
    checksum: str | None = None,
    progress: bool = True,
    backoff: float = 1.0,
) -> str:
    """Upload ``path`` (or reuse the same bytes already on the server); return the file id.

    Waits for Together's processing; raises ``FileValidationFailed`` if it rejects the file.
    """
    path = Path(path)
    checksum = checksum or file_checksum(path)
    base = client_base_url(client)
    known = ledger.find_file(base, checksum)
    if known is not None:
        with api_errors(
            service=service_name(client), what=f"checking the earlier upload of {path.name}"
        ):
            if _exists(client, known):
                wait_processed(client, known, path)
                return known
        ledger.forget_file(base, checksum)

    size = path.stat().st_size
    bar = ProgressLine("Upload", size, enabled=progress)
    quiet = client.with_options(max_retries=0)
    delay = backoff
    with api_errors(service=service_name(client), what=f"uploading {path.name}"):
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            try:
                resp = quiet.files.upload(
                    path,
                    purpose="fine-tune",
                    check=False,
                    progress_callback=lambda e: bar.update(
                        e.uploaded_bytes, f"{path.name}: {e.uploaded_bytes:,} / {size:,} bytes"
                    ),
                )
                break
            except Exception as exc:
                if attempt == UPLOAD_ATTEMPTS or not _transient(exc):
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
    file_id = str(resp.id)
    bar.close(f"{path.name} is {file_id} on {service_name(client, file_id)}")
    ledger.record_file(base, checksum, file_id, path.name)
    wait_processed(client, file_id, path)
    return file_id


def wait_processed(
    client: Any, file_id: str, path: str | Path, *, timeout: float = 600.0, poll: float = 0.5
) -> None:
    """Poll ``GET /v1/files/{id}`` until Together has processed the file.

    Raises ``FileValidationFailed`` (with the server's message verbatim) if it is rejected,
    ``LaunchError`` if processing does not finish within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        with api_errors(
            service=service_name(client),
            what=f"checking Together's processing of {Path(path).name}",
        ):
            info = client.files.retrieve(file_id)
        status = (info.processing_status or "COMPLETED").upper()
        report = info.validation_report
        if status in _DONE:
            valid = report is None or report.valid is not False
            if status == "COMPLETED" and valid:
                return
            error = (report.error if report is not None else None) or (
                f"processing_status={status} (no validation error given)"
            )
            raise FileValidationFailed(file_id, str(path), error)
        if time.monotonic() > deadline:
            raise LaunchError(
                f"Together has not finished processing {path} ({file_id}) after {timeout:.0f} s "
                f"(processing_status={status}). Try again later; the upload will be reused."
            )
        time.sleep(poll)
        poll = min(poll * 1.5, 5.0)


def delete_file(
    file_id: str, client: Any = None, *, ledger: Ledger | None = None, confirm: bool = False
) -> Any:
    """Delete an uploaded file from the account and forget it in the ledger.

    ``confirm=True`` returns a widget that deletes only when its Delete button is clicked.

    Example:
        >>> delete_file("file-123")  # doctest: +SKIP
    """
    if confirm:
        from prefnb.launch.confirm import Confirm
        from prefnb.launch.credentials import resolve_client

        client = resolve_client(client)
        where = service_name(client, file_id)
        return Confirm(
            f"Delete the file {file_id} from {where}? Jobs that used it keep running; "
            "this cannot be undone.",
            "Delete file",
            lambda: delete_file(file_id, client, ledger=ledger) or f"{file_id} deleted",
        )
    from prefnb.launch.credentials import resolve_client

    client = resolve_client(client)
    with api_errors(service=service_name(client), what=f"deleting {file_id}"):
        client.files.delete(file_id)
    (ledger or Ledger()).forget_file_id(client_base_url(client), file_id)
    return None
