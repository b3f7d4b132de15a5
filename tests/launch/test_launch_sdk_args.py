"""Every parameter of the SDK's ``fine_tuning.create``: accepted, sent as the SDK sends it.

The reference is the real together 3.1.1 SDK: its request builder and its own
``client.fine_tuning.create`` over HTTP to the same LocalTogether.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from launch_support import MODEL, write_dpo
from together.lib.resources.fine_tuning import create_finetune_request
from together.resources.fine_tuning import FineTuningResource

import prefnb
from prefnb.launch import launch_dpo, launch_sft, sweep
from prefnb.launch.sdk_args import NAMES, SET_BY_PREFNB, TrainingArgs
from prefnb.testing import LocalTogether

FILES = ("training_file", "validation_file")


def bodies(api: LocalTogether) -> list[dict[str, Any]]:
    return [r.body for r in api.requests_to("POST /v1/fine-tunes")]


def without_files(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in FILES}


def test_the_spec_lists_exactly_the_sdks_create_parameters() -> None:
    sdk = set(inspect.signature(FineTuningResource.create).parameters) - {"self"}
    assert set(NAMES) == sdk - set(SET_BY_PREFNB)
    assert set(TrainingArgs.__annotations__) == set(NAMES)
    # launch_dpo, launch_sft and sweep take them through the one TypedDict.
    for fn in (launch_dpo, launch_sft):
        kwargs = inspect.signature(fn).parameters["params"]
        assert kwargs.kind is inspect.Parameter.VAR_KEYWORD
        assert "TrainingArgs" in str(kwargs.annotation)
    assert "1e-3" in (launch_dpo.__doc__ or "")  # where the CLI default differs


ALL_DPO: dict[str, Any] = {
    "model": MODEL,
    "n_epochs": 2,
    "packing": False,
    "max_seq_length": 4096,
    "n_evals": 5,
    "n_checkpoints": 2,
    "batch_size": 8,
    "gradient_accumulation_steps": 2,
    "learning_rate": 2e-5,
    "lr_scheduler_type": "linear",
    "min_lr_ratio": 0.1,
    "scheduler_num_cycles": 0.5,
    "warmup_ratio": 0.05,
    "max_grad_norm": 0.5,
    "weight_decay": 0.01,
    "lora": True,
    "lora_r": 16,
    "lora_dropout": 0.05,
    "lora_alpha": 48,
    "lora_trainable_modules": "q_proj,v_proj",
    "train_vision": False,
    "suffix": "all-args",
    "wandb_api_key": "wandb-secret-0123456789",
    "wandb_base_url": "https://wandb.example.invalid",
    "wandb_project_name": "proj",
    "wandb_name": "run-1",
    "wandb_entity": "team",
    "random_seed": 7,
    "early_stopping_enabled": True,
    "early_stopping_patience": 3,
    "early_stopping_min_delta": 0.01,
    "early_stopping_warmup_evals": 1,
    "dpo_beta": 0.25,
    "dpo_normalize_logratios_by_length": True,
    "rpo_alpha": 0.5,
    "simpo_gamma": 0.0,
    "from_hf_model": "someone/llama-3.1-8b-variant",
    "hf_model_revision": "main",
    "hf_api_token": "hf-secret-0123456789",
    "hf_output_repo_name": "someone/out",
}


def test_every_sdk_parameter_reaches_the_body_exactly_as_the_sdk_sends_it(
    api: LocalTogether, client: Any, dpo_file: Path, tmp_path: Path
) -> None:
    val = write_dpo(tmp_path / "val.jsonl", 4, tag="v")
    assert set(ALL_DPO) == set(NAMES) - {"from_checkpoint", "train_on_inputs"}
    job = launch_dpo(dpo_file, validation=val, client=client, progress=False, **ALL_DPO)
    [ours] = bodies(api)
    # The SDK itself, same arguments, same files, same server.
    client.fine_tuning.create(
        training_file=ours["training_file"], validation_file=ours["validation_file"],
        training_method="dpo", **ALL_DPO,
    )  # fmt: skip
    ours, sdk = bodies(api)
    assert ours == sdk
    # And every value is where Together expects it.
    assert ours["training_method"] == {
        "method": "dpo", "dpo_beta": 0.25, "dpo_normalize_logratios_by_length": True,
        "dpo_reference_free": False, "rpo_alpha": 0.5, "simpo_gamma": 0.0,
    }  # fmt: skip
    assert ours["training_type"] == {
        "type": "Lora", "lora_r": 16, "lora_alpha": 48, "lora_dropout": 0.05,
        "lora_trainable_modules": "q_proj,v_proj",
    }  # fmt: skip
    assert ours["lr_scheduler"] == {
        "lr_scheduler_type": "linear", "lr_scheduler_args": {"min_lr_ratio": 0.1}
    }  # fmt: skip
    same_name = {k: v for k, v in ALL_DPO.items() if k in ours}
    assert same_name == {k: ours[k] for k in same_name}
    assert ours["wandb_key"] == "wandb-secret-0123456789"
    assert len(same_name) >= 25
    # Secrets went to Together but not into the ledger.
    ledger = Path(prefnb.launch.ledger.default_path()).read_bytes()
    assert b"wandb-secret" not in ledger
    assert b"hf-secret" not in ledger
    assert job.id.startswith("ft-")


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("dpo", {}),
        ("dpo", {"dpo_beta": 0.2}),
        ("dpo", {"lora": True}),
        ("dpo", {"lora": False, "batch_size": 8}),
        ("sft", {}),
        ("sft", {"train_on_inputs": False, "n_epochs": 2}),
    ],
)
def test_omitted_arguments_are_sent_as_the_sdks_request_builder_sends_them(
    api: LocalTogether, client: Any, tmp_path: Path, method: str, args: dict[str, Any]
) -> None:
    if method == "dpo":
        path = write_dpo(tmp_path / "d.jsonl")
        launch_dpo(path, model=MODEL, client=client, progress=False, **args)
    else:
        path = tmp_path / "s.jsonl"
        path.write_text(
            '{"messages": [{"role": "user", "content": "hi"}, '
            '{"role": "assistant", "content": "hello"}]}\n' * 8
        )
        launch_sft(path, model=MODEL, client=client, progress=False, **args)
    [ours] = bodies(api)
    limits = client.fine_tuning.model_limits(model_name=MODEL)
    request, _, _ = create_finetune_request(
        model_limits=limits, training_file=ours["training_file"], model=MODEL,
        training_method=method, **args,
    )  # fmt: skip
    assert ours == request.model_dump(exclude_none=True)
    # Not prefnb's own defaults: left out means left out.
    if "lora" not in args:
        assert "training_type" not in ours
    assert ours["learning_rate"] == 1e-5


def test_unknown_arguments_are_named_with_a_suggestion(dpo_file: Path) -> None:
    with pytest.raises(TypeError, match=r"'dpo_betta' \(did you mean 'dpo_beta'\?\)"):
        launch_dpo(dpo_file, model=MODEL, dpo_betta=0.1)  # type: ignore[call-arg]


def test_sweep_expands_any_sdk_parameter(api: LocalTogether, client: Any, dpo_file: Path) -> None:
    jobs = sweep(
        dpo_file, model=MODEL, dpo_beta=0.1, warmup_ratio=[0.0, 0.1], random_seed=[1, 2],
        client=client, progress=False,
    )  # fmt: skip
    assert len(jobs) == 4
    got = {(b["warmup_ratio"], b["random_seed"]) for b in bodies(api)}
    assert got == {(w, s) for w in (0.0, 0.1) for s in (1, 2)}
