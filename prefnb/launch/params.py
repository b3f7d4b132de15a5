"""Hyperparameter checks for DPO and SFT jobs, done before anything is sent.

Three layers, cheapest first: :func:`check_dpo` / :func:`check_sft` (ranges that need no
server), :func:`check_limits` (against ``/v1/fine-tunes/models/limits`` for the model) and
:func:`long_pairs` (responses that cannot fit half the context, Together's rule for DPO).
:func:`canonical` is the stable text of the parameters that the job ledger keys on.

Example:
    >>> p = dpo_params(model="m", dpo_beta=0.1)
    >>> check_dpo(p)
    []
    >>> check_dpo(dpo_params(model="m", dpo_beta=0))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    prefnb.launch.errors.ParameterError: dpo_beta must be > 0 (got 0); ...
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypedDict

from prefnb.launch.errors import ParameterError

__all__ = [
    "CHARS_PER_TOKEN",
    "LaunchWarning",
    "LongPair",
    "TrainingParams",
    "canonical",
    "check_dpo",
    "check_limits",
    "check_sft",
    "dpo_params",
    "long_pairs",
    "sft_params",
    "warn_user",
]

#: A rough, tokenizer-free estimate; good enough to flag pairs far over the limit.
CHARS_PER_TOKEN = 4.0
BETA_RANGE = (0.05, 0.9)


class LaunchWarning(UserWarning):
    """A launch that will run, but probably not as intended."""


_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent) + "/"


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first caller outside prefnb (the user's cell)."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, category, stacklevel=level)


class TrainingParams(TypedDict):
    """Every parameter of a job that prefnb sends (the W&B key is kept out, see canonical)."""

    method: Literal["dpo", "sft"]
    model: str | None
    from_checkpoint: str | None
    dpo_beta: float | None
    dpo_normalize_logratios_by_length: bool
    rpo_alpha: float | None
    simpo_gamma: float | None
    train_on_inputs: bool | Literal["auto"] | None
    lora: bool
    lora_r: int | None
    lora_alpha: int | None
    lora_dropout: float | None
    n_epochs: int
    learning_rate: float
    batch_size: int | Literal["max"]
    max_seq_length: int | None
    n_evals: int
    n_checkpoints: int
    suffix: str | None
    wandb_project_name: str | None
    wandb_name: str | None


class LongPair(TypedDict):
    """A training line whose prompt + response is estimated to exceed its share of context."""

    line: int
    side: Literal["preferred", "non_preferred"]
    tokens: int
    budget: int


def dpo_params(
    *,
    model: str | None,
    from_checkpoint: str | None = None,
    dpo_beta: float = 0.1,
    dpo_normalize_logratios_by_length: bool = False,
    rpo_alpha: float = 0.0,
    simpo_gamma: float = 0.0,
    lora: bool = True,
    lora_r: int | None = None,
    lora_alpha: int | None = None,
    lora_dropout: float | None = None,
    n_epochs: int = 1,
    learning_rate: float = 1e-5,
    batch_size: int | Literal["max"] = "max",
    max_seq_length: int | None = None,
    n_evals: int = 0,
    n_checkpoints: int = 1,
    suffix: str | None = None,
    wandb_project_name: str | None = None,
    wandb_name: str | None = None,
) -> TrainingParams:
    """The parameter record of a DPO job (defaults are Together's)."""
    return {
        "method": "dpo",
        "model": model,
        "from_checkpoint": from_checkpoint,
        "dpo_beta": dpo_beta,
        "dpo_normalize_logratios_by_length": dpo_normalize_logratios_by_length,
        "rpo_alpha": rpo_alpha,
        "simpo_gamma": simpo_gamma,
        "train_on_inputs": None,
        "lora": lora,
        "lora_r": lora_r,
        "lora_alpha": lora_alpha,
        "lora_dropout": lora_dropout,
        "n_epochs": n_epochs,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "max_seq_length": max_seq_length,
        "n_evals": n_evals,
        "n_checkpoints": n_checkpoints,
        "suffix": suffix,
        "wandb_project_name": wandb_project_name,
        "wandb_name": wandb_name,
    }


def sft_params(
    *,
    model: str | None,
    from_checkpoint: str | None = None,
    train_on_inputs: bool | Literal["auto"] = "auto",
    lora: bool = True,
    lora_r: int | None = None,
    lora_alpha: int | None = None,
    lora_dropout: float | None = None,
    n_epochs: int = 1,
    learning_rate: float = 1e-5,
    batch_size: int | Literal["max"] = "max",
    max_seq_length: int | None = None,
    n_evals: int = 0,
    n_checkpoints: int = 1,
    suffix: str | None = None,
    wandb_project_name: str | None = None,
    wandb_name: str | None = None,
) -> TrainingParams:
    """The parameter record of an SFT job (defaults are Together's)."""
    return {
        "method": "sft",
        "model": model,
        "from_checkpoint": from_checkpoint,
        "dpo_beta": None,
        "dpo_normalize_logratios_by_length": False,
        "rpo_alpha": None,
        "simpo_gamma": None,
        "train_on_inputs": train_on_inputs,
        "lora": lora,
        "lora_r": lora_r,
        "lora_alpha": lora_alpha,
        "lora_dropout": lora_dropout,
        "n_epochs": n_epochs,
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "max_seq_length": max_seq_length,
        "n_evals": n_evals,
        "n_checkpoints": n_checkpoints,
        "suffix": suffix,
        "wandb_project_name": wandb_project_name,
        "wandb_name": wandb_name,
    }


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ParameterError(f"{name} must be a number (got {value!r})")
    return float(value)


def _int(name: str, value: object, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"{name} must be an integer (got {value!r})")
    if value < low:
        raise ParameterError(f"{name} must be ≥ {low} (got {value})")
    return value


def _check_common(p: TrainingParams) -> None:
    if p["model"] is None and p["from_checkpoint"] is None:
        raise ParameterError("Give model=... (a base model) or from_checkpoint=... (a job id).")
    if p["model"] is not None and not (isinstance(p["model"], str) and p["model"].strip()):
        raise ParameterError(f"model must be a model name such as 'org/name' (got {p['model']!r})")
    _int("n_epochs", p["n_epochs"], low=1)
    _int("n_evals", p["n_evals"], low=0)
    _int("n_checkpoints", p["n_checkpoints"], low=1)
    if _number("learning_rate", p["learning_rate"]) <= 0:
        raise ParameterError(f"learning_rate must be > 0 (got {p['learning_rate']})")
    if p["batch_size"] != "max":
        _int("batch_size", p["batch_size"], low=1)
    if p["max_seq_length"] is not None:
        _int("max_seq_length", p["max_seq_length"], low=1)
    if p["lora_r"] is not None:
        _int("lora_r", p["lora_r"], low=1)
    if p["lora_alpha"] is not None and _number("lora_alpha", p["lora_alpha"]) <= 0:
        raise ParameterError(f"lora_alpha must be > 0 (got {p['lora_alpha']})")
    if p["lora_dropout"] is not None and not 0 <= _number("lora_dropout", p["lora_dropout"]) < 1:
        raise ParameterError(f"lora_dropout must be in [0, 1) (got {p['lora_dropout']})")
    if not p["lora"] and any(p[k] is not None for k in ("lora_r", "lora_alpha", "lora_dropout")):
        raise ParameterError("lora_r, lora_alpha and lora_dropout only apply with lora=True.")
    if p["suffix"] is not None and len(p["suffix"]) > 40:
        raise ParameterError(f"suffix is at most 40 characters (got {len(p['suffix'])})")


def check_dpo(p: TrainingParams, *, train_on_inputs: object = None) -> list[str]:
    """Raise :class:`ParameterError` for impossible DPO settings; warn on unusual ones.

    Returns notes worth telling the user (e.g. that SimPO drops the reference model).
    """
    if train_on_inputs is not None:
        raise ParameterError(
            "train_on_inputs is not allowed for DPO: preference training computes the loss on "
            "the preferred and non-preferred outputs only, so Together ignores it. Remove it."
        )
    _check_common(p)
    notes: list[str] = []
    beta = _number("dpo_beta", p["dpo_beta"])
    if beta <= 0:
        raise ParameterError(
            f"dpo_beta must be > 0 (got {p['dpo_beta']}); Together's documented range is "
            f"{BETA_RANGE[0]}–{BETA_RANGE[1]}."
        )
    if not BETA_RANGE[0] <= beta <= BETA_RANGE[1]:
        warn_user(
            f"dpo_beta={beta} is outside Together's documented range {BETA_RANGE[0]}–"
            f"{BETA_RANGE[1]}: lower lets the model move further from the reference, higher "
            "keeps it closer.",
            LaunchWarning,
        )
    if _number("rpo_alpha", p["rpo_alpha"]) < 0:
        raise ParameterError(f"rpo_alpha must be ≥ 0 (got {p['rpo_alpha']})")
    gamma = _number("simpo_gamma", p["simpo_gamma"])
    if gamma < 0:
        raise ParameterError(f"simpo_gamma must be ≥ 0 (got {p['simpo_gamma']})")
    if gamma > 0:
        notes.append(
            f"simpo_gamma={gamma} turns this into SimPO: log-ratios are normalized by length "
            "(dpo_normalize_logratios_by_length=True) and the reference model is dropped "
            "(dpo_reference_free=True)."
        )
    if not isinstance(p["dpo_normalize_logratios_by_length"], bool):
        raise ParameterError("dpo_normalize_logratios_by_length must be True or False")
    return notes


def check_sft(p: TrainingParams) -> list[str]:
    """Raise :class:`ParameterError` for impossible SFT settings."""
    _check_common(p)
    if p["train_on_inputs"] not in (True, False, "auto"):
        raise ParameterError(
            f"train_on_inputs must be True, False or 'auto' (got {p['train_on_inputs']!r})"
        )
    return []


def check_limits(p: TrainingParams, limits: Mapping[str, Any], *, has_validation: bool) -> None:
    """Check ``p`` against the model's limits (the JSON of ``/v1/fine-tunes/models/limits``)."""
    model = limits.get("model_name") or p["model"] or p["from_checkpoint"]
    dpo = p["method"] == "dpo"
    kind = "DPO" if dpo else "SFT"
    if p["lora"]:
        block = limits.get("lora_training") or {}
    else:
        block = limits.get("full_training") or {}
        if not block or not limits.get("supports_full_training", True):
            raise ParameterError(f"{model} supports only LoRA fine-tuning: use lora=True.")
    max_batch = block.get("max_batch_size_dpo" if dpo else "max_batch_size")
    min_batch = block.get("min_batch_size")
    bs = p["batch_size"]
    if isinstance(bs, int):
        if max_batch is not None and bs > max_batch:
            raise ParameterError(
                f"batch_size={bs} is above {model}'s maximum for {kind} "
                f"({'max_batch_size_dpo' if dpo else 'max_batch_size'}={max_batch}); use "
                f"batch_size={max_batch} or 'max'."
            )
        if min_batch is not None and bs < min_batch:
            raise ParameterError(f"batch_size={bs} is below {model}'s minimum ({min_batch}).")
    msl = p["max_seq_length"]
    top = limits.get("max_seq_length_dpo" if dpo else "max_seq_length_sft")
    if msl is not None:
        if top is not None and msl > top:
            raise ParameterError(
                f"max_seq_length={msl} is above {model}'s maximum for {kind} "
                f"({'max_seq_length_dpo' if dpo else 'max_seq_length_sft'}={top})."
            )
        low = limits.get("min_max_seq_length")
        if low is not None and msl < low:
            raise ParameterError(f"max_seq_length={msl} is below {model}'s minimum ({low}).")
    checks = (
        ("n_epochs", "max_num_epochs"),
        ("n_evals", "max_num_evals"),
        ("n_checkpoints", "max_num_checkpoints"),
    )
    for name, key in checks:
        top_n = limits.get(key)
        if top_n is not None and p[name] > top_n:  # type: ignore[literal-required]
            raise ParameterError(f"{name}={p[name]} is above {model}'s maximum ({key}={top_n}).")  # type: ignore[literal-required]
    lr = p["learning_rate"]
    lo, hi = limits.get("min_learning_rate"), limits.get("max_learning_rate")
    if (lo is not None and lr < lo) or (hi is not None and lr > hi):
        raise ParameterError(f"learning_rate={lr} is outside {model}'s range [{lo}, {hi}].")
    rank = limits.get("lora_training", {}).get("max_rank")
    if p["lora"] and p["lora_r"] is not None and rank is not None and p["lora_r"] > rank:
        raise ParameterError(f"lora_r={p['lora_r']} is above {model}'s maximum rank ({rank}).")
    if p["n_evals"] > 0 and not has_validation:
        raise ParameterError(f"n_evals={p['n_evals']} needs validation data: pass validation=...")


def canonical(p: Mapping[str, Any]) -> str:
    """Stable JSON text of the parameters: same settings → same text.

    >>> canonical({"b": 1.0, "a": None, "c": "max"}) == canonical({"c": "max", "b": 1})
    True
    """
    clean = {
        k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
        for k, v in p.items()
        if v is not None
    }
    return json.dumps(clean, sort_keys=True, separators=(",", ":"))


def long_pairs(path: str | Path, context: int) -> list[LongPair]:
    """Lines of a DPO JSONL whose prompt + either response exceeds half of ``context``.

    Together packs the preferred and the non-preferred sequence into one context, so each
    gets half (its LoRA long-context rule); longer ones are truncated. Token counts are
    estimated at :data:`CHARS_PER_TOKEN` characters per token.
    """
    budget = context // 2
    found: list[LongPair] = []
    with Path(path).open(encoding="utf-8") as f:
        for n, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            rec = json.loads(raw)
            prompt = sum(_chars(m) for m in rec.get("input", {}).get("messages", []))
            for side in ("preferred", "non_preferred"):
                out = sum(_chars(m) for m in rec.get(f"{side}_output", []))
                tokens = math.ceil((prompt + out) / CHARS_PER_TOKEN)
                if tokens > budget:
                    found.append({"line": n, "side": side, "tokens": tokens, "budget": budget})
    return found


def _chars(message: Mapping[str, Any]) -> int:
    content = message.get("content")
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        return sum(len(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return 0
