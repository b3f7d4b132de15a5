"""The fine-tuning model catalogue LocalTogether simulates: one table, one row per model.

Rows follow Together's "Supported models" page for fine-tuning
(https://docs.together.ai/docs/fine-tuning-models, "LoRA Fine-tuning" and "Full Fine-tuning"
tables: context length for SFT and DPO, max batch size for SFT and DPO, min batch size).
Every number the page did not show when this table was written is listed in the row's
``guessed`` set, so a reader (and :func:`guessed_fields`) can tell a published figure from a
plausible one. Parameter counts are the model cards' and only drive simulated prices.

Other LocalTogether modules (evaluations, inference) import :data:`FINE_TUNING_MODELS` rather
than keeping their own list.

Example:
    >>> row = FINE_TUNING_MODELS["meta-llama/Llama-3.2-3B-Instruct"]
    >>> row.lora_batch_dpo, "lora_batch_dpo" in row.guessed
    (32, True)
    >>> FINE_TUNING_MODELS["openai/gpt-oss-20b"].context_dpo  # published
    8192
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FINE_TUNING_MODELS", "FineTuneModel", "guessed_fields"]


@dataclass(frozen=True)
class FineTuneModel:
    """One fine-tunable base model and its limits.

    ``full_*`` are ``None`` when the model has no full fine-tuning (LoRA only).
    ``guessed`` names every field whose value Together did not publish.
    """

    name: str
    organization: str
    params: int
    context_sft: int
    context_dpo: int
    lora_batch: int
    lora_batch_dpo: int
    lora_min_batch: int
    full_batch: int | None
    full_batch_dpo: int | None
    full_min_batch: int | None
    default_rank: int
    max_rank: int
    supports_tools: bool = True
    supports_reasoning: bool = False
    guessed: frozenset[str] = frozenset()


# Fields not shown on the docs page for any model: LoRA rank limits and the tool/reasoning flags.
_ALWAYS_GUESSED = frozenset({"default_rank", "max_rank", "supports_tools", "supports_reasoning"})


def _row(*, guessed: tuple[str, ...] = (), **kw: object) -> FineTuneModel:
    return FineTuneModel(guessed=_ALWAYS_GUESSED | frozenset(guessed), **kw)  # type: ignore[arg-type]


_ALL_LIMITS = (
    "context_sft", "context_dpo", "lora_batch", "lora_batch_dpo", "lora_min_batch",
    "full_batch", "full_batch_dpo", "full_min_batch",
)  # fmt: skip

#: model name → row. The first three rows keep the limits LocalTogether always had, so
#: existing notebooks and tests see the same numbers.
FINE_TUNING_MODELS: dict[str, FineTuneModel] = {
    m.name: m
    for m in (
        _row(
            name="meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
            organization="Meta",
            params=8_030_261_248,
            context_sft=131072,
            context_dpo=8192,
            lora_batch=32,
            lora_batch_dpo=8,
            lora_min_batch=8,
            full_batch=24,
            full_batch_dpo=8,
            full_min_batch=8,
            default_rank=64,
            max_rank=64,
            guessed=_ALL_LIMITS,
        ),
        _row(
            name="meta-llama/Llama-3.2-1B-Instruct",
            organization="Meta",
            params=1_235_814_400,
            context_sft=131072,
            context_dpo=16384,
            lora_batch=128,
            lora_batch_dpo=32,
            lora_min_batch=8,
            full_batch=64,
            full_batch_dpo=32,
            full_min_batch=8,
            default_rank=64,
            max_rank=64,
            guessed=_ALL_LIMITS,
        ),
        _row(
            name="Qwen/Qwen2.5-0.5B-Instruct",
            organization="Qwen",
            params=494_032_768,
            context_sft=32768,
            context_dpo=16384,
            lora_batch=128,
            lora_batch_dpo=64,
            lora_min_batch=8,
            full_batch=None,
            full_batch_dpo=None,
            full_min_batch=None,
            default_rank=32,
            max_rank=32,
            guessed=_ALL_LIMITS,
        ),
        # The model of Together's preference fine-tuning guide (its Python and CLI examples).
        _row(
            name="meta-llama/Llama-3.2-3B-Instruct",
            organization="Meta",
            params=3_212_749_824,
            context_sft=131072,
            context_dpo=65536,
            lora_batch=128,
            lora_batch_dpo=32,
            lora_min_batch=8,
            full_batch=64,
            full_batch_dpo=16,
            full_min_batch=8,
            default_rank=64,
            max_rank=64,
            guessed=_ALL_LIMITS,
        ),
        _row(
            name="meta-llama/Meta-Llama-3.1-70B-Instruct-Reference",
            organization="Meta",
            params=70_553_706_496,
            context_sft=131072,
            context_dpo=32768,
            lora_batch=8,
            lora_batch_dpo=8,
            lora_min_batch=8,
            full_batch=16,
            full_batch_dpo=8,
            full_min_batch=16,
            default_rank=64,
            max_rank=64,
            guessed=_ALL_LIMITS,
        ),
        _row(
            name="Qwen/Qwen3-8B",
            organization="Qwen",
            params=8_190_735_360,
            context_sft=32768,
            context_dpo=16384,
            lora_batch=64,
            lora_batch_dpo=16,
            lora_min_batch=8,
            full_batch=32,
            full_batch_dpo=16,
            full_min_batch=8,
            default_rank=64,
            max_rank=64,
            supports_reasoning=True,
            guessed=_ALL_LIMITS,
        ),
        # Published rows (LoRA table); full fine-tuning is not listed for them.
        _row(
            name="openai/gpt-oss-20b",
            organization="OpenAI",
            params=20_914_757_184,
            context_sft=16384,
            context_dpo=8192,
            lora_batch=8,
            lora_batch_dpo=8,
            lora_min_batch=8,
            full_batch=None,
            full_batch_dpo=None,
            full_min_batch=None,
            default_rank=16,
            max_rank=64,
            supports_reasoning=True,
        ),
        _row(
            name="openai/gpt-oss-120b",
            organization="OpenAI",
            params=116_829_156_672,
            context_sft=16384,
            context_dpo=8192,
            lora_batch=16,
            lora_batch_dpo=16,
            lora_min_batch=16,
            full_batch=None,
            full_batch_dpo=None,
            full_min_batch=None,
            default_rank=16,
            max_rank=64,
            supports_reasoning=True,
        ),
        _row(
            name="deepseek-ai/DeepSeek-R1-0528",
            organization="DeepSeek",
            params=671_026_419_200,
            context_sft=131072,
            context_dpo=32768,
            lora_batch=1,
            lora_batch_dpo=1,
            lora_min_batch=1,
            full_batch=None,
            full_batch_dpo=None,
            full_min_batch=None,
            default_rank=16,
            max_rank=32,
            supports_reasoning=True,
        ),
        _row(
            name="zai-org/GLM-4.6",
            organization="Z.ai",
            params=355_000_000_000,
            context_sft=128000,
            context_dpo=64000,
            lora_batch=1,
            lora_batch_dpo=1,
            lora_min_batch=1,
            full_batch=None,
            full_batch_dpo=None,
            full_min_batch=None,
            default_rank=16,
            max_rank=32,
            supports_reasoning=True,
        ),
        _row(
            name="moonshotai/Kimi-K2-Instruct",
            organization="Moonshot AI",
            params=1_026_000_000_000,
            context_sft=65536,
            context_dpo=32768,
            lora_batch=1,
            lora_batch_dpo=1,
            lora_min_batch=1,
            full_batch=None,
            full_batch_dpo=None,
            full_min_batch=None,
            default_rank=16,
            max_rank=32,
        ),
    )
}


def guessed_fields(name: str) -> frozenset[str]:
    """The fields of ``name``'s row that are LocalTogether's guesses, not Together's figures.

    >>> "context_dpo" in guessed_fields("openai/gpt-oss-20b")
    False
    """
    return FINE_TUNING_MODELS[name].guessed
