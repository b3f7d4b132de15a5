"""Fine-tuning limits (``/v1/fine-tunes/models/limits``) of the models LocalTogether simulates.

The models and their published numbers come from the one catalogue,
:mod:`prefnb.testing.models` (which marks every guessed figure); this module shapes them
like Together's limits response.

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

from prefnb.testing.models import FINE_TUNING_MODELS, FineTuneModel


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


def _limits(m: FineTuneModel) -> ModelLimits:
    full: FullLimits | None = None
    if m.full_batch is not None:
        full = {
            "max_batch_size": m.full_batch,
            "max_batch_size_dpo": m.full_batch_dpo or m.full_batch,
            "min_batch_size": m.full_min_batch or 1,
        }
    return {
        "model_name": m.name,
        # Not on Together's models page: LocalTogether's choices (SPEC_DIFFERENCES.md).
        "max_num_epochs": 20,
        "max_num_evals": 100,
        "max_num_checkpoints": 20,
        "max_learning_rate": 1.0,
        "min_learning_rate": 0.0,
        "max_seq_length_sft": m.context_sft,
        "max_seq_length_dpo": m.context_dpo,
        "min_max_seq_length": 512,
        "default_gradient_accumulation_steps": 1,
        "merge_output_lora": True,
        "supports_vision": False,
        "supports_tools": m.supports_tools,
        "supports_reasoning": m.supports_reasoning,
        "supports_full_training": full is not None,
        "lora_training": {
            "default_rank": m.default_rank,
            "max_rank": m.max_rank,
            "max_batch_size": m.lora_batch,
            "max_batch_size_dpo": m.lora_batch_dpo,
            "min_batch_size": m.lora_min_batch,
            "target_modules": list(_TARGETS),
        },
        "full_training": full,
    }


#: model name → (limits, parameter count), built from :data:`FINE_TUNING_MODELS`.
MODELS: dict[str, tuple[ModelLimits, int]] = {
    name: (_limits(m), m.params) for name, m in FINE_TUNING_MODELS.items()
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
