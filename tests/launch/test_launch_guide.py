"""Together's preference fine-tuning guide, run as written against LocalTogether.

The guide (../shared/reference/together-preference-fine-tuning-guide.md) shows one CLI and
one Python example; both run here with the real together 3.1.1 SDK and CLI, through
``launch_dpo`` too, and each job runs to completion.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from prefnb.launch import Job, launch_dpo
from prefnb.testing import LocalTogether

GUIDE_MODEL = "meta-llama/Llama-3.2-3B-Instruct"
#: The guide's Python example: client.fine_tuning.create(..., **PYTHON_EXAMPLE)
PYTHON_EXAMPLE: dict[str, Any] = {
    "model": GUIDE_MODEL,
    "lora": True,
    "training_method": "dpo",
    "dpo_beta": 0.2,
    "rpo_alpha": 1.0,
    "simpo_gamma": 1.0,
}
WANDB = "wandb-guide-key-0123456789"


def bodies(api: LocalTogether) -> list[dict[str, Any]]:
    return [r.body for r in api.requests_to("POST /v1/fine-tunes")]


def check_python_example(body: dict[str, Any]) -> None:
    assert body["model"] == GUIDE_MODEL
    assert body["training_method"] == {
        "method": "dpo", "dpo_beta": 0.2, "rpo_alpha": 1.0, "simpo_gamma": 1.0,
        # SimPO (simpo_gamma > 0): no reference model, length-normalized log-ratios
        "dpo_reference_free": True, "dpo_normalize_logratios_by_length": True,
    }  # fmt: skip
    # lora=True at the model's default rank (64 in LocalTogether's catalogue), alpha 2×rank
    assert body["training_type"] == {
        "type": "Lora", "lora_r": 64, "lora_alpha": 128, "lora_dropout": 0.0,
        "lora_trainable_modules": "all-linear",
    }  # fmt: skip
    assert body["learning_rate"] == 1e-5  # the SDK's default


def test_the_python_example_through_launch_dpo_and_through_the_sdk(
    api: LocalTogether, client: Any, dpo_file: Path
) -> None:
    args = {k: v for k, v in PYTHON_EXAMPLE.items() if k != "training_method"}
    job = launch_dpo(dpo_file, wandb_api_key=WANDB, client=client, wait=True, progress=False,
                     **args)  # fmt: skip
    assert job.last_status == "completed"
    [ours] = bodies(api)
    check_python_example(ours)
    assert ours["wandb_key"] == WANDB
    # The guide's own call, verbatim, with the real SDK.
    response = client.fine_tuning.create(
        training_file=ours["training_file"], wandb_api_key=WANDB, **PYTHON_EXAMPLE
    )
    _, sdk = bodies(api)
    assert sdk == ours
    assert Job(response.id, client).wait(progress=False, poll=0.05).last_status == "completed"


def test_the_cli_example_runs_with_the_real_together_cli(
    api: LocalTogether, dpo_file: Path, tmp_path: Path
) -> None:
    cli = Path(sys.executable).with_name("together")
    env = {
        **os.environ,
        "TOGETHER_BASE_URL": api.base_url,
        "TOGETHER_API_KEY": "sim-local-key",
        "HOME": str(tmp_path),  # the CLI's own config stays in the test
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }

    def run(*args: str, stdin: str = "") -> str:
        done = subprocess.run(
            [str(cli), *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    file_id = re.findall(r"file-[\w-]+", run("files", "upload", str(dpo_file)))[-1]
    out = run(
        "fine-tuning", "create",
        "--training-file", file_id,
        "--model", GUIDE_MODEL,
        "--wandb-api-key", WANDB,
        "--lora",
        "--training-method", "dpo",
        "--dpo-beta", "0.2",
        stdin="y\n",
    )  # fmt: skip
    job_id = re.findall(r"ft-[\w-]+", out)[-1]
    [body] = bodies(api)
    assert body["model"] == GUIDE_MODEL
    assert body["training_method"]["method"] == "dpo"
    assert body["training_method"]["dpo_beta"] == 0.2
    assert body["training_type"]["type"] == "Lora"
    assert body["training_type"]["lora_r"] == 64
    assert body["wandb_key"] == WANDB
    assert body["learning_rate"] == 1e-3  # the CLI's --lora default (the SDK sends 1e-5)
    assert api.requests_to("GET /v3/whoami")  # the CLI asked who the key belongs to
    job = Job(job_id, api.client()).wait(progress=False, poll=0.05)
    assert job.last_status == "completed"
    assert "completed" in run("fine-tuning", "retrieve", job_id)
