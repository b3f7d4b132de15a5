"""``mode="batch"``: Together's Batch API (half the serverless price, up to 50k requests a file).

Upload the requests as a ``batch-api`` JSONL (one ``{"custom_id", "body"}`` line per request),
create the batch, record it in the cache before polling (a re-run after a kernel kill adopts it
instead of paying again), poll with a progress bar, then download the output file and the error
file and join both back to the requests by ``custom_id``.

Example:
    >>> batch_lines([])
    b''
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from prefnb.generation.cache import GenerationCache
from prefnb.generation.online import GenerateError, row_of
from prefnb.generation.requests import Task
from prefnb.testing.serverless_models import ServerlessModel

__all__ = ["BATCH_DISCOUNT", "batch_lines", "create_batch", "run_batch"]

BATCH_DISCOUNT: Final = 0.5
MAX_PER_FILE: Final = 50_000
_TERMINAL_BAD: Final = ("FAILED", "EXPIRED", "CANCELLED")


def batch_lines(tasks: Sequence[Task]) -> bytes:
    return "".join(
        json.dumps({"custom_id": t.custom_id, "body": t.body}, ensure_ascii=False) + "\n"
        for t in tasks
    ).encode()


def create_batch(client: Any, input_file_id: str, model: str) -> str:
    """Create one batch, never twice, through :func:`prefnb.launch.billable.create_once` (the
    one rule for every billable create): an intent in the job ledger first, no SDK retries,
    and after a timeout, a dropped connection or a 5xx the account's batches are listed and
    one made from this input file adopted before anything is sent again. A kernel killed
    mid-create is reconciled the same way when the cell is re-run."""
    from prefnb.launch.billable import Intent, create_once
    from prefnb.launch.credentials import client_base_url, service_name
    from prefnb.launch.ledger import Ledger

    quiet = client.with_options(max_retries=0)

    def send() -> str:
        made = quiet.batches.create(
            endpoint="/v1/chat/completions", input_file_id=input_file_id, model_id=model
        )
        if made.job is None or not made.job.id:
            raise GenerateError("Together's batch create answer has no job id")
        return str(made.job.id)

    def listing() -> list[dict[str, Any]]:
        return [
            {"id": str(j.id), "input_file_id": j.input_file_id, "created_at": j.created_at}
            for j in quiet.batches.list() or []
            if j.id
        ]

    return create_once(
        ledger=Ledger(),
        intent=Intent(
            kind="batch",
            key=f"{input_file_id}:{model}",
            base_url=client_base_url(client),
            match={"input_file_id": input_file_id},
        ),
        send=send,
        listing=listing,
        adopt=lambda obj: str(obj["id"]),
        object_id=str,
        service=service_name(client),
    )


def run_batch(
    tasks: Sequence[Task],
    *,
    client: Any,
    cache: GenerationCache,
    prices: dict[str, ServerlessModel | None],
    poll: float,
    progress: Callable[[float, str], None],
) -> tuple[dict[str, str], list[str]]:
    """Run ``tasks`` (and any batch a killed run left open); returns (failures by key, batch
    ids)."""
    by_id = {t.custom_id: t for t in tasks}
    failures: dict[str, str] = {}
    batch_ids: list[str] = []
    wanted = {t.key for t in tasks}
    todo = list(tasks)
    for batch_id, _file_id, keys in cache.open_batches():
        if wanted & set(keys):  # adopt: these requests are already paid for
            batch_ids.append(batch_id)
            todo = [t for t in todo if t.key not in set(keys)]
    for model in sorted({t.model for t in todo}):
        mine = [t for t in todo if t.model == model]
        for i in range(0, len(mine), MAX_PER_FILE):
            chunk = mine[i : i + MAX_PER_FILE]
            with tempfile.TemporaryDirectory(prefix="prefnb-batch-") as tmp:
                path = Path(tmp) / "generate-batch.jsonl"
                path.write_bytes(batch_lines(chunk))
                uploaded = client.files.upload(file=path, purpose="batch-api", check=False)
            batch_id = create_batch(client, uploaded.id, model)
            cache.add_batch(batch_id, uploaded.id, [t.key for t in chunk])
            batch_ids.append(batch_id)
    reader = client.with_options(max_retries=3)  # GETs: retrying cannot bill twice
    for batch_id in batch_ids:
        while True:
            job = reader.batches.retrieve(batch_id)
            status = str(job.status)
            progress(float(job.progress or 0.0), f"batch {batch_id}: {status}")
            if status == "COMPLETED" or status in _TERMINAL_BAD:
                break
            time.sleep(poll)
        if status in _TERMINAL_BAD:
            cache.close_batch(batch_id)
            raise GenerateError(
                f"batch {batch_id} ended {status}: {job.error or 'no reason given'}"
            )
        rows = []
        for line in _lines(reader, job.output_file_id):
            task = by_id.get(str(line.get("custom_id")))
            response = line.get("response") or {}
            if task is None:
                continue
            if response.get("status_code") == 200:
                rows.append(row_of(task, response.get("body") or {}, prices.get(task.model),
                                   BATCH_DISCOUNT))  # fmt: skip
            else:
                failures[task.key] = f"HTTP {response.get('status_code')}: {response.get('body')}"
        for line in _lines(reader, job.error_file_id):
            task = by_id.get(str(line.get("custom_id")))
            if task is not None:
                err = line.get("error") or {}
                failures[task.key] = f"HTTP {err.get('code')}: {err.get('message')}"
        cache.put(rows)
        cache.close_batch(batch_id)
    return failures, batch_ids


def _lines(client: Any, file_id: str | None) -> list[dict[str, Any]]:
    if not file_id:
        return []
    raw = client.files.content(file_id).read()
    out = []
    for no, text in enumerate(raw.decode().splitlines(), 1):
        if text.strip():
            try:
                out.append(json.loads(text))
            except ValueError:
                raise GenerateError(f"batch file {file_id} line {no}: not JSON") from None
    return out
