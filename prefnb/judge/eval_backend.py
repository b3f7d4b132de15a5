"""``backend="evaluations"``: one Together compare job judges every pair, in both orders.

The pairs go up as a JSONL of exactly the columns the job uses (``prompt``, ``response_a``,
``response_b``: Together fails a job whose dataset has an unused column, so no ``pair_id``);
results are joined back by content. The job keeps Together's two-pass position-bias
correction (``disable_position_bias_correction`` is only set for ``both_orders=False``).

Creating a job is billable, so :func:`create_compare_job` sends it through
:func:`prefnb.launch.billable.create_once` (never blindly retried: after a timeout, a dropped
connection or a 5xx it lists the account's evaluations and adopts a job with the same
parameters before trying again). A search for such a job also runs before the first create,
so a re-run after a kernel kill adopts the job already running (and paid for).

Each stored verdict is the order's choice (``choice_original``/``choice_flipped``, the
latter already in original-order terms), re-checked with prefnb's strict parser when the raw
judge output is in the file; when the file has only the aggregate ``final_decision``, that
is stored as the ``ab`` verdict with backend ``evaluations-aggregate``. Together's result
file has no per-row token counts: tokens and cost per pass are chars ÷ 4 estimates.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from prefnb.judge.chat_backend import JudgeError
from prefnb.judge.cost import EST_OUTPUT_TOKENS, count_tokens
from prefnb.judge.prompt import eval_system_template
from prefnb.judge.tasks import Unique
from prefnb.judge.verdict import parse_verdict, to_position
from prefnb.pairs import pair_id
from prefnb.retry import backoff_delay
from prefnb.testing.serverless_models import ServerlessModel

__all__ = ["create_compare_job", "find_existing_job", "run_evaluation", "upload_pairs"]

_FAILED: Final = ("error", "user_error")
_CHOICE: Final = {"A": "A", "B": "B", "Tie": "Tie"}


def _transient(exc: BaseException) -> bool:
    import together

    if isinstance(exc, together.APIConnectionError):
        return True
    return isinstance(exc, together.APIStatusError) and (
        exc.status_code in (408, 429) or exc.status_code >= 500
    )


def upload_pairs(client: Any, pairs: Sequence[Unique], *, attempts: int = 4) -> str:
    """Upload the pairs as an evaluation dataset; return the file id (the SDK reuses a file
    with the same bytes, so a re-run uploads nothing new)."""
    quiet = client.with_options(max_retries=0)
    with tempfile.TemporaryDirectory(prefix="prefnb-judge-") as tmp:
        path = Path(tmp) / "judge_pairs.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for u in pairs:
                row = {"prompt": u.prompt, "response_a": u.response_a, "response_b": u.response_b}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        for attempt in range(attempts):
            try:
                return str(quiet.files.upload(path, purpose="eval", check=False).id)
            except Exception as exc:
                if attempt + 1 == attempts or not _transient(exc):
                    raise
                time.sleep(backoff_delay(attempt, None))
    raise AssertionError("unreachable")


def _same_job(job: Any, parameters: Mapping[str, Any]) -> bool:
    got = getattr(job, "parameters", None) or {}
    judge, want = got.get("judge") or {}, parameters["judge"]
    return bool(
        getattr(job, "type", None) == "compare"
        and getattr(job, "status", None) not in _FAILED
        and got.get("input_data_file_path") == parameters["input_data_file_path"]
        and got.get("model_a") == parameters["model_a"]
        and got.get("model_b") == parameters["model_b"]
        and bool(got.get("disable_position_bias_correction", False))
        == bool(parameters.get("disable_position_bias_correction", False))
        and judge.get("model") == want["model"]
        and judge.get("system_template") == want["system_template"]
    )


def find_existing_job(client: Any, parameters: Mapping[str, Any]) -> str | None:
    """The id of a live or completed compare job with these parameters, if the account has
    one among its 100 most recent evaluations."""
    quiet = client.with_options(max_retries=0)
    for job in quiet.evals.list(limit=100) or []:
        if _same_job(job, parameters):
            return str(job.workflow_id)
    return None


def create_compare_job(client: Any, parameters: dict[str, Any]) -> tuple[str, bool]:
    """Create the compare job once: (workflow id, adopted) where ``adopted`` means an
    existing job with the same parameters was reused (one this account already runs or ran).

    The create itself goes through :func:`prefnb.launch.billable.create_once`, the one rule
    for every billable create: an intent in the job ledger first, no SDK retries, and after a
    timeout, a dropped reply or a 5xx the account's evaluations are listed and a job with
    these parameters adopted before anything is sent again.
    """
    from prefnb.launch.billable import Intent, create_once
    from prefnb.launch.credentials import client_base_url, service_name
    from prefnb.launch.ledger import Ledger

    found = find_existing_job(client, parameters)
    if found is not None:
        return found, True
    quiet = client.with_options(max_retries=0)
    key = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:32]

    def listing() -> list[dict[str, Any]]:
        return [
            {
                "id": str(job.workflow_id),
                "created_at": job.created_at,
                # the one field the intent matches: these parameters, or not
                "parameters": key if _same_job(job, parameters) else "other",
            }
            for job in quiet.evals.list(limit=100) or []
        ]

    adopted: list[bool] = []

    def adopt(obj: Mapping[str, Any]) -> str:
        adopted.append(True)
        return str(obj["id"])

    eval_id = create_once(
        ledger=Ledger(),
        intent=Intent(
            kind="evaluation",
            key=key,
            base_url=client_base_url(client),
            match={"parameters": key},
        ),
        send=lambda: str(quiet.evals.create(type="compare", parameters=parameters).workflow_id),
        listing=listing,
        adopt=adopt,
        object_id=str,
        say=lambda _msg: None,  # the caller reports adoption (run.eval_adopted)
        service=service_name(client),
    )
    return eval_id, bool(adopted)


def _wait(client: Any, eval_id: str, *, poll: float, progress: Callable[[str], None]) -> Any:
    quiet = client.with_options(max_retries=0)
    errors = 0
    while True:
        try:
            job = quiet.evals.retrieve(eval_id)
            errors = 0
        except Exception as exc:
            if not _transient(exc) or errors >= 8:
                raise
            time.sleep(backoff_delay(errors, None))
            errors += 1
            continue
        status = str(job.status)
        progress(status)
        if status == "completed":
            return job
        if status in _FAILED:
            error = getattr(job.results, "error", None) if job.results is not None else None
            raise JudgeError(f"evaluation {eval_id} ended {status}: {error or 'no reason given'}")
        time.sleep(poll)


def _download(client: Any, file_id: str) -> list[dict[str, Any]]:
    quiet = client.with_options(max_retries=3)  # a GET: retrying it cannot bill twice
    raw = quiet.files.content(file_id).read()
    rows = []
    for line in raw.decode("utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            if isinstance(obj, dict):
                rows.append(obj)
    return rows


def _order_fields(
    row: Mapping[str, Any], raw_key: str, choice_key: str, feedback_key: str, shown: str
) -> tuple[str | None, str | None, str | None]:
    """(DataFrame verdict, rationale, error) of one pass of a result row. ``choice_flipped``
    is already in original-order terms, so both map with order ``ab``."""
    choice = _CHOICE.get(str(row.get(choice_key)))
    rationale = row.get(feedback_key)
    raw = row.get(raw_key)
    if isinstance(raw, str):
        parsed = parse_verdict(raw)
        if parsed.error is not None:
            return None, None, f"invalid verdict: {parsed.error}"
        rationale = parsed.rationale if parsed.rationale is not None else rationale
    if choice is None:
        return None, None, "judge output could not be parsed"
    return to_position(choice, "ab"), rationale if isinstance(rationale, str) else None, None  # type: ignore[arg-type]


def run_evaluation(
    pairs: Sequence[Unique],
    *,
    client: Any,
    model: str,
    rubric: str,
    annotator: str,
    rubric_hash: str,
    price: ServerlessModel,
    both_orders: bool,
    tokenizer: Callable[[str], int] | None,
    poll: float,
    progress: Callable[[str], None],
    on_created: Callable[[str, bool], None],
) -> list[dict[str, Any]]:
    """Upload, create (or adopt) the job, wait, download: the verdict rows to store."""
    file_id = upload_pairs(client, pairs)
    template = eval_system_template(rubric)
    parameters: dict[str, Any] = {
        "judge": {"model": model, "model_source": "serverless", "system_template": template},
        "model_a": "response_a",
        "model_b": "response_b",
        "input_data_file_path": file_id,
    }
    if not both_orders:
        parameters["disable_position_bias_correction"] = True
    eval_id, adopted = create_compare_job(client, parameters)
    on_created(eval_id, adopted)
    t0 = time.monotonic()
    job = _wait(client, eval_id, poll=poll, progress=progress)
    seconds = time.monotonic() - t0
    result_file = getattr(job.results, "result_file_id", None)
    if not result_file:
        raise JudgeError(f"evaluation {eval_id} completed without a result_file_id")
    # The file holds the judge's prompt text, not the messages: key both sides on that text.
    by_key = {pair_id(u.prompt, u.response_a, u.response_b): u for u in pairs}
    per_pass_s = seconds / max(len(pairs) * (2 if both_orders else 1), 1)
    out: list[dict[str, Any]] = []
    for row in _download(client, result_file):
        try:
            key = pair_id(str(row["prompt"]), str(row["response_a"]), str(row["response_b"]))
        except KeyError:
            continue
        u = by_key.get(key)
        if u is None:
            continue
        n_in = count_tokens(template + u.prompt + u.response_a + u.response_b, tokenizer)
        orders = [("ab", "judge_raw_output_original", "choice_original",
                   "judge_feedback_original_order")]  # fmt: skip
        if both_orders:
            orders.append(
                ("ba", "judge_raw_output_flipped", "choice_flipped", "judge_feedback_flipped_order")
            )
        aggregate = "choice_original" not in row
        for shown, raw_key, choice_key, fb_key in orders:
            if aggregate:
                if shown == "ba":
                    continue
                final = _CHOICE.get(str(row.get("final_decision")))
                verdict = to_position(final, "ab")  # type: ignore[arg-type]
                rationale, error = None, None if verdict else "no final_decision"
                backend = "evaluations-aggregate"
            else:
                verdict, rationale, error = _order_fields(row, raw_key, choice_key, fb_key, shown)
                backend = "evaluations"
            raw = row.get(raw_key)
            n_out = count_tokens(raw, tokenizer) if isinstance(raw, str) else EST_OUTPUT_TOKENS
            out.append(
                {
                    "pair_id": u.pair_id,
                    "content_key": u.content_key,
                    "annotator": annotator,
                    "rubric_hash": rubric_hash,
                    "shown": shown,
                    "verdict": verdict,
                    "rationale": rationale,
                    "confidence": None,
                    "error": error,
                    "input_tokens": n_in,
                    "output_tokens": n_out,
                    "cost_usd": price.cost_usd(n_in, n_out),
                    "seconds": per_pass_s,
                    "len_a": len(u.response_a),
                    "len_b": len(u.response_b),
                    "backend": backend,
                }
            )
    return out
