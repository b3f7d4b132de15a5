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
from typing import Any, Literal, TypedDict, Unpack

from prefnb.launch.errors import ParameterError
from prefnb.launch.sdk_args import SECRET_FIELDS, TrainingArgs

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


class TrainingParams(TrainingArgs, total=False):
    """A job's method and the hyperparameters the user gave (left-out ones are absent)."""

    method: Literal["dpo", "sft"]


class LongPair(TypedDict):
    """A training line whose prompt + response is estimated to exceed its share of context."""

    line: int
    side: Literal["preferred", "non_preferred"]
    tokens: int
    budget: int


def dpo_params(**args: Unpack[TrainingArgs]) -> TrainingParams:
    """The parameter record of a DPO job: exactly the arguments given, plus the method."""
    return {"method": "dpo", **args}


def sft_params(**args: Unpack[TrainingArgs]) -> TrainingParams:
    """The parameter record of an SFT job: exactly the arguments given, plus the method."""
    return {"method": "sft", **args}


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


def _given(p: Mapping[str, Any], name: str) -> Any:
    """``p[name]`` when the user gave a value (``None`` counts as not given, as in the SDK)."""
    return p.get(name)


def _check_common(p: TrainingParams) -> None:
    model, ckpt = _given(p, "model"), _given(p, "from_checkpoint")
    if model is None and ckpt is None:
        raise ParameterError("Give model=... (a base model) or from_checkpoint=... (a job id).")
    if model is not None and ckpt is not None:
        raise ParameterError(
            "Give model=... or from_checkpoint=..., not both: a continued job inherits the "
            "model of its checkpoint (name it with base_model=... for the limit checks)."
        )
    if model is not None and not (isinstance(model, str) and model.strip()):
        raise ParameterError(f"model must be a model name such as 'org/name' (got {model!r})")
    for name, low in (("n_epochs", 1), ("n_evals", 0), ("n_checkpoints", 1)):
        if _given(p, name) is not None:
            _int(name, p[name], low=low)  # type: ignore[literal-required]
    lr = _given(p, "learning_rate")
    if lr is not None and _number("learning_rate", lr) <= 0:
        raise ParameterError(f"learning_rate must be > 0 (got {lr})")
    bs = _given(p, "batch_size")
    if bs is not None and bs != "max":
        _int("batch_size", bs, low=1)
    for name in ("max_seq_length", "lora_r", "gradient_accumulation_steps", "random_seed"):
        if _given(p, name) is not None:
            _int(name, p[name], low=0 if name == "random_seed" else 1)  # type: ignore[literal-required]
    alpha = _given(p, "lora_alpha")
    if alpha is not None and _number("lora_alpha", alpha) <= 0:
        raise ParameterError(f"lora_alpha must be > 0 (got {alpha})")
    dropout = _given(p, "lora_dropout")
    if dropout is not None and not 0 <= _number("lora_dropout", dropout) < 1:
        raise ParameterError(f"lora_dropout must be in [0, 1) (got {dropout})")
    lora_only = ("lora_r", "lora_alpha", "lora_dropout", "lora_trainable_modules")
    if p.get("lora") is False and any(_given(p, k) for k in lora_only):
        raise ParameterError(
            "lora_r, lora_alpha, lora_dropout and lora_trainable_modules only apply with LoRA; "
            "remove them or drop lora=False."
        )
    if p.get("lora") is None and any(_given(p, k) is not None for k in lora_only[:3]):
        given = ", ".join(k for k in lora_only[:3] if _given(p, k) is not None)
        warn_user(
            f"{given} without lora=True is not sent: like Together's SDK, prefnb sends LoRA "
            "settings only with lora=True (without it the server uses LoRA at the model's "
            "default rank, or the parent job's type). Add lora=True to use them.",
            LaunchWarning,
        )
    suffix = _given(p, "suffix")
    if suffix is not None and len(suffix) > 40:
        raise ParameterError(f"suffix is at most 40 characters (got {len(suffix)})")


def check_dpo(p: TrainingParams) -> list[str]:
    """Raise :class:`ParameterError` for impossible DPO settings; warn on unusual ones.

    Only the arguments given are checked (Together's SDK checks the rest). Returns notes
    worth telling the user (e.g. that SimPO drops the reference model).
    """
    if "train_on_inputs" in p:
        raise ParameterError(
            "train_on_inputs is not allowed for DPO: preference training computes the loss on "
            "the preferred and non-preferred outputs only, so Together ignores it. Remove it."
        )
    _check_common(p)
    notes: list[str] = []
    if _given(p, "dpo_beta") is not None:
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
    if _given(p, "rpo_alpha") is not None and _number("rpo_alpha", p["rpo_alpha"]) < 0:
        raise ParameterError(f"rpo_alpha must be ≥ 0 (got {p['rpo_alpha']})")
    gamma = _number("simpo_gamma", p["simpo_gamma"]) if _given(p, "simpo_gamma") is not None else 0
    if gamma < 0:
        raise ParameterError(f"simpo_gamma must be ≥ 0 (got {p['simpo_gamma']})")
    if gamma > 0:
        notes.append(
            f"simpo_gamma={gamma} turns this into SimPO: log-ratios are normalized by length "
            "(dpo_normalize_logratios_by_length=True) and the reference model is dropped "
            "(dpo_reference_free=True)."
        )
    norm = p.get("dpo_normalize_logratios_by_length", False)
    if not isinstance(norm, bool):
        raise ParameterError("dpo_normalize_logratios_by_length must be True or False")
    return notes


def check_sft(p: TrainingParams) -> list[str]:
    """Raise :class:`ParameterError` for impossible SFT settings."""
    _check_common(p)
    toi = p.get("train_on_inputs")
    if toi not in (None, True, False, "auto"):
        raise ParameterError(f"train_on_inputs must be True, False or 'auto' (got {toi!r})")
    return []


def check_limits(
    p: TrainingParams,
    limits: Mapping[str, Any],
    *,
    has_validation: bool,
    inherited_lora: bool | None = None,
) -> None:
    """Check ``p`` against the model's limits (the JSON of ``/v1/fine-tunes/models/limits``).

    With ``lora`` left out the job is LoRA, or (continuing a job) has its parent's type,
    ``inherited_lora`` when known; batch limits are skipped when the type is not known.
    """
    model = limits.get("model_name") or p.get("model") or p.get("from_checkpoint")
    dpo = p.get("method") == "dpo"
    kind = "DPO" if dpo else "SFT"
    lora = p.get("lora")
    if lora is None:
        lora = inherited_lora if p.get("from_checkpoint") else True
    block: Mapping[str, Any] = {}
    if lora is True:
        block = limits.get("lora_training") or {}
    elif lora is False:
        block = limits.get("full_training") or {}
        if not block or not limits.get("supports_full_training", True):
            raise ParameterError(f"{model} supports only LoRA fine-tuning: use lora=True.")
    max_batch = block.get("max_batch_size_dpo" if dpo else "max_batch_size")
    min_batch = block.get("min_batch_size")
    bs = p.get("batch_size", "max")
    if isinstance(bs, int):
        if max_batch is not None and bs > max_batch:
            raise ParameterError(
                f"batch_size={bs} is above {model}'s maximum for {kind} "
                f"({'max_batch_size_dpo' if dpo else 'max_batch_size'}={max_batch}); use "
                f"batch_size={max_batch} or 'max'."
            )
        if min_batch is not None and bs < min_batch:
            raise ParameterError(f"batch_size={bs} is below {model}'s minimum ({min_batch}).")
    msl = p.get("max_seq_length")
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
        top_n, value = limits.get(key), p.get(name)
        if top_n is not None and value is not None and value > top_n:
            raise ParameterError(f"{name}={value} is above {model}'s maximum ({key}={top_n}).")
    lr = p.get("learning_rate")
    lo, hi = limits.get("min_learning_rate"), limits.get("max_learning_rate")
    if lr is not None and ((lo is not None and lr < lo) or (hi is not None and lr > hi)):
        raise ParameterError(f"learning_rate={lr} is outside {model}'s range [{lo}, {hi}].")
    rank = (limits.get("lora_training") or {}).get("max_rank")
    r = p.get("lora_r")
    if lora is not False and r is not None and rank is not None and r > rank:
        raise ParameterError(f"lora_r={r} is above {model}'s maximum rank ({rank}).")
    n_evals = p.get("n_evals") or 0
    if n_evals > 0 and not has_validation:
        raise ParameterError(f"n_evals={n_evals} needs validation data: pass validation=...")


def canonical(p: Mapping[str, Any]) -> str:
    """Stable JSON text of the parameters: same settings → same text. A secret (W&B key,
    Hugging Face token) appears only as ``has_<name>: true``.

    >>> canonical({"b": 1.0, "a": None, "c": "max"}) == canonical({"c": "max", "b": 1})
    True
    """
    secret = set(SECRET_FIELDS) | set(SECRET_FIELDS.values())
    clean = {
        k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
        for k, v in p.items()
        if v is not None and k not in secret
    }
    clean.update({f"has_{k}": True for k, v in p.items() if k in secret and v})
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
