"""Continued fine-tuning: the child inherits its parent's training type, as the SDK sends it."""

from __future__ import annotations

from typing import Any

import pytest
from launch_support import MODEL

import prefnb
from prefnb.launch import LaunchError, launch_dpo, launch_sft, launch_sft_then_dpo
from prefnb.testing import LocalTogether


def bodies(api: LocalTogether) -> list[dict[str, Any]]:
    return [r.body for r in api.requests_to("POST /v1/fine-tunes")]


def test_sft_then_dpo_sends_no_training_type_and_the_dpo_job_inherits_the_sft_adapter(
    api: LocalTogether, client: Any
) -> None:
    df = prefnb.load_sample()
    sft_job, dpo_job = launch_sft_then_dpo(
        df, model=MODEL, sft={"lora": True, "lora_r": 16, "lora_alpha": 32},
        dpo={"dpo_beta": 0.2}, client=client, progress=False, wait=True,
    )  # fmt: skip
    sft_body, dpo_body = bodies(api)
    assert sft_body["training_type"]["lora_r"] == 16
    # As the SDK and CLI send it: no training type with from_checkpoint.
    assert "training_type" not in dpo_body
    assert dpo_body["from_checkpoint"] == sft_job.id
    parent = client.fine_tuning.retrieve(sft_job.id).training_type
    child = client.fine_tuning.retrieve(dpo_job.id).training_type
    assert (child.lora_r, child.lora_alpha) == (parent.lora_r, parent.lora_alpha) == (16, 32)
    assert dpo_job.last_status == "completed"


def test_an_explicit_adapter_that_differs_from_the_parents_is_refused(
    api: LocalTogether, client: Any, dpo_file: Any, tmp_path: Any
) -> None:
    sft = tmp_path / "s.jsonl"
    sft.write_text(
        '{"messages": [{"role": "user", "content": "hi"}, '
        '{"role": "assistant", "content": "hello"}]}\n' * 8
    )
    parent = launch_sft(sft, model=MODEL, lora=True, lora_r=16, client=client, wait=True,
                        progress=False)  # fmt: skip
    with pytest.raises(LaunchError, match=r"must keep its training type.*lora_r=64 \(parent: 16\)"):
        launch_dpo(dpo_file, from_checkpoint=parent, lora=True, client=client, progress=False)
    assert len(api.state.jobs) == 1
    # The same adapter shape is fine (dropout may change).
    launch_dpo(dpo_file, from_checkpoint=parent, lora=True, lora_r=16, lora_alpha=32,
               lora_dropout=0.1, client=client, progress=False)  # fmt: skip
    assert len(api.state.jobs) == 2


@pytest.mark.parametrize("form", ["id", "id:step", "job", "checkpoint"])
def test_from_checkpoint_takes_an_id_a_step_a_job_or_a_checkpoint(
    api: LocalTogether, client: Any, dpo_file: Any, form: str
) -> None:
    parent = launch_dpo(dpo_file, model=MODEL, n_checkpoints=2, client=client, wait=True,
                        progress=False)  # fmt: skip
    first = min(parent.checkpoints(), key=lambda c: c["step"])
    value: Any = {
        "id": parent.id,
        "id:step": f"{parent.id}:{first['step']}",
        "job": parent,
        "checkpoint": first,
    }[form]
    launch_dpo(dpo_file, from_checkpoint=value, dpo_beta=0.3, client=client, progress=False)
    sent = bodies(api)[-1]["from_checkpoint"]
    assert sent == (parent.id if form in ("id", "job") else f"{parent.id}:{first['step']}")
