"""The few models LocalTogether simulates, with fine-tuning limits shaped like Together's.

The numbers are plausible, not Together's: they exist so that limit checks (batch size,
``max_seq_length_dpo``, LoRA rank) have something real to check against offline.

Example:
    >>> limits = model_limits("meta-llama/Meta-Llama-3.1-8B-Instruct-Reference")
    >>> limits["lora_training"]["max_batch_size_dpo"], limits["max_seq_length_dpo"]
    (8, 8192)
    >>> model_limits("no/such-model") is None
    True
"""

from __future__ import annotations

import copy
from typing import Any, TypedDict


class LoraLimits(TypedDict):
    default_rank: int
    max_rank: int
    max_batch_size: int
    max_batch_size_dpo: int
    min_batch_size: int
    target_modules: list[str]


class FullLimits(TypedDict):
    max_batch_size: int
    max_batch_size_dpo: int
    min_batch_size: int


class ModelLimits(TypedDict):
    """``GET /v1/fine-tunes/models/limits`` body (every field the SDK's type requires)."""

    model_name: str
    max_num_epochs: int
    max_num_evals: int
    max_num_checkpoints: int
    max_learning_rate: float
    min_learning_rate: float
    max_seq_length_sft: int
    max_seq_length_dpo: int
    min_max_seq_length: int
    default_gradient_accumulation_steps: int
    merge_output_lora: bool
    supports_vision: bool
    supports_tools: bool
    supports_reasoning: bool
    supports_full_training: bool
    lora_training: LoraLimits
    full_training: FullLimits | None


_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def _model(
    name: str,
    *,
    seq_sft: int,
    seq_dpo: int,
    rank: int,
    batch: int,
    batch_dpo: int,
    full: FullLimits | None,
    param_count: int,
) -> tuple[ModelLimits, int]:
    limits: ModelLimits = {
        "model_name": name,
        "max_num_epochs": 20,
        "max_num_evals": 100,
        "max_num_checkpoints": 20,
        "max_learning_rate": 1.0,
        "min_learning_rate": 0.0,
        "max_seq_length_sft": seq_sft,
        "max_seq_length_dpo": seq_dpo,
        "min_max_seq_length": 512,
        "default_gradient_accumulation_steps": 1,
        "merge_output_lora": True,
        "supports_vision": False,
        "supports_tools": True,
        "supports_reasoning": False,
        "supports_full_training": full is not None,
        "lora_training": {
            "default_rank": rank,
            "max_rank": rank,
            "max_batch_size": batch,
            "max_batch_size_dpo": batch_dpo,
            "min_batch_size": 8 if batch >= 8 else 1,
            "target_modules": list(_TARGETS),
        },
        "full_training": full,
    }
    return limits, param_count


#: model name → (limits, parameter count)
MODELS: dict[str, tuple[ModelLimits, int]] = {
    limits["model_name"]: (limits, params)
    for limits, params in (
        _model(
            "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
            seq_sft=131072,
            seq_dpo=8192,
            rank=64,
            batch=32,
            batch_dpo=8,
            full={"max_batch_size": 24, "max_batch_size_dpo": 8, "min_batch_size": 8},
            param_count=8_030_261_248,
        ),
        _model(
            "meta-llama/Llama-3.2-1B-Instruct",
            seq_sft=131072,
            seq_dpo=16384,
            rank=64,
            batch=128,
            batch_dpo=32,
            full={"max_batch_size": 64, "max_batch_size_dpo": 32, "min_batch_size": 8},
            param_count=1_235_814_400,
        ),
        _model(
            "Qwen/Qwen2.5-0.5B-Instruct",
            seq_sft=32768,
            seq_dpo=16384,
            rank=32,
            batch=128,
            batch_dpo=64,
            full=None,
            param_count=494_032_768,
        ),
    )
}


def model_limits(name: str) -> ModelLimits | None:
    """A copy of the simulated limits for ``name``, or ``None`` if the model is not simulated."""
    entry = MODELS.get(name)
    return copy.deepcopy(entry[0]) if entry else None


def param_count(name: str) -> int:
    entry = MODELS.get(name)
    return entry[1] if entry else 0


def as_json(limits: ModelLimits) -> dict[str, Any]:
    return dict(limits)
