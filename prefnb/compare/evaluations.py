"""``compare_models(engine="evaluations")``: one Together Evaluations ``compare`` job whose
``model_a``/``model_b`` are model requests, so Together generates both answers and judges them
in both orders (its two-pass position-bias correction).

The job is created through the judge issue's :func:`~prefnb.judge.eval_backend.create_compare_job`
(never twice; a re-run adopts the same job), polled with a progress bar, and its result file
(one row per prompt: ``model_a_output``, ``model_b_output``, ``choice_original``,
``choice_flipped`` in original-order terms) is read back into the frame
:func:`~prefnb.compare.run.compare_models` summarises.

Example:
    >>> model_request("m", temperature=0.7, max_tokens=64)["input_template"]
    '{{prompt}}'
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from prefnb.judge.eval_backend import create_compare_job
from prefnb.judge.prompt import DEFAULT_RUBRIC, eval_system_template, prompt_text

__all__ = ["SYSTEM_PROMPT", "model_request", "run_compare_job"]

SYSTEM_PROMPT = "You are a helpful assistant."
_VERDICT = {"A": "a", "B": "b", "Tie": "tie"}


def model_request(model: str, *, temperature: float, max_tokens: int) -> dict[str, Any]:
    """An Evaluations model request that answers the dataset's ``prompt`` column."""
    return {
        "model": model,
        "model_source": "serverless",
        "system_template": SYSTEM_PROMPT,
        "input_template": "{{prompt}}",
        "max_tokens": max_tokens,
        "temperature": temperature,
    }


def run_compare_job(
    prompts: list[list[dict[str, Any]]],
    model_a: str,
    model_b: str,
    *,
    judge: str,
    rubric: str | None,
    temperature: float,
    max_tokens: int,
    client: Any,
    poll: float,
    progress: Callable[[str], None],
) -> tuple[pd.DataFrame, str]:
    """Run the job; return (frame with prompt, responses and both orders' verdicts, job id)."""
    texts = [prompt_text(m) for m in prompts]
    with tempfile.TemporaryDirectory(prefix="prefnb-compare-") as tmp:
        path = Path(tmp) / "compare_prompts.jsonl"
        path.write_text("".join(json.dumps({"prompt": t}, ensure_ascii=False) + "\n"
                                for t in texts), encoding="utf-8")  # fmt: skip
        file_id = str(client.with_options(max_retries=3).files.upload(
            path, purpose="eval", check=False).id)  # fmt: skip
    parameters = {
        "input_data_file_path": file_id,
        "judge": {
            "model": judge,
            "model_source": "serverless",
            "system_template": eval_system_template(rubric or DEFAULT_RUBRIC),
        },
        "model_a": model_request(model_a, temperature=temperature, max_tokens=max_tokens),
        "model_b": model_request(model_b, temperature=temperature, max_tokens=max_tokens),
    }
    eval_id, _adopted = create_compare_job(client, parameters)
    reader = client.with_options(max_retries=3)  # GETs: a retry cannot bill twice
    while True:
        job = reader.evals.retrieve(eval_id)
        status = str(job.status)
        progress(f"evaluation {eval_id}: {status}")
        if status == "completed":
            break
        if status in ("error", "user_error", "cancelled"):
            error = getattr(job.results, "error", None) if job.results is not None else None
            raise RuntimeError(f"evaluation {eval_id} ended {status}: {error or 'no reason'}")
        time.sleep(poll)
    result_file = getattr(job.results, "result_file_id", None)
    if not result_file:
        raise RuntimeError(f"evaluation {eval_id} completed without a result file")
    raw = reader.files.content(result_file).read().decode()
    by_prompt = {}
    for line in raw.splitlines():
        if line.strip():
            row = json.loads(line)
            by_prompt[str(row.get("prompt"))] = row
    records = []
    for msgs, text in zip(prompts, texts, strict=True):
        row = by_prompt.get(text)
        if row is None:
            continue
        ab = _VERDICT.get(str(row.get("choice_original")))
        ba = _VERDICT.get(str(row.get("choice_flipped")))
        records.append({
            "prompt": msgs, "response_a": str(row.get("model_a_output", "")),
            "response_b": str(row.get("model_b_output", "")), "verdict_ab": ab,
            "verdict_ba": ba, "judge_label": _VERDICT.get(str(row.get("final_decision"))),
            "consistent": ab is not None and ab == ba,
        })  # fmt: skip
    return pd.DataFrame(records), eval_id
