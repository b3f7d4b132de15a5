"""What ``generate`` asks for: one chat request per (prompt, model, sample), keyed and priced.

Example:
    >>> t = build_tasks([[{"role": "user", "content": "hi"}]], ["m"], n=2, temperature=0.8,
    ...                 max_tokens=64, seed=0)
    >>> [x.body["seed"] for x in t], t[0].key != t[1].key
    ([0, 1], True)
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prefnb.testing.hardware import lora_serverless_price
from prefnb.testing.serverless_models import SERVERLESS_MODELS, ServerlessModel

__all__ = ["CostError", "GenCost", "Task", "build_tasks", "estimate", "model_name", "price_of"]


class CostError(ValueError):
    """The estimated cost is above ``max_cost`` (or cannot be known); nothing was sent."""


@dataclass(frozen=True)
class Task:
    """One chat request: ``prompt_index``-th prompt, ``model``, ``sample``-th answer."""

    key: str
    prompt_index: int
    model: str
    sample: int
    body: dict[str, Any]

    @property
    def custom_id(self) -> str:
        return f"gen-{self.key[:40]}"


def model_name(model: Any) -> str:
    """A model name from a name or a fine-tuning :class:`~prefnb.launch.job.Job`."""
    if isinstance(model, str):
        return model
    name = getattr(model, "model_output_name", None)
    if isinstance(name, str) and name:
        return name
    raise ValueError(f"model must be a model name or a finished fine-tuning Job, got {model!r}")


def build_tasks(
    prompts: Sequence[list[dict[str, Any]]],
    models: Sequence[str],
    *,
    n: int,
    temperature: float,
    max_tokens: int,
    seed: int | None,
) -> list[Task]:
    tasks = []
    for i, messages in enumerate(prompts):
        for model in models:
            for k in range(n):
                body: dict[str, Any] = {
                    "model": model,
                    "messages": messages,
                    "temperature": temperature,
                    "max_tokens": max_tokens,
                }
                if seed is not None:
                    body["seed"] = seed + k
                # Without a seed the k-th sample is still its own cache entry.
                ident = json.dumps([body, None if seed is not None else k], sort_keys=True)
                key = hashlib.sha256(ident.encode()).hexdigest()
                tasks.append(Task(key, i, model, k, body))
    return tasks


def price_of(model: str, base_model: str | None = None) -> ServerlessModel | None:
    """Per-token price of ``model`` (serverless, or serverless LoRA on ``base_model``)."""
    if model in SERVERLESS_MODELS:
        return SERVERLESS_MODELS[model]
    return lora_serverless_price(base_model) if base_model else None


@dataclass(frozen=True)
class GenCost:
    """Estimated cost of the requests still to send (cached ones are free)."""

    requests: int
    input_tokens: int
    max_output_tokens: int
    usd: float | None
    unpriced: tuple[str, ...] = ()

    def __str__(self) -> str:
        usd = "unknown" if self.usd is None else f"≤ ${self.usd:,.4f}"
        extra = (
            f" (no per-token price for {', '.join(self.unpriced)}: a dedicated endpoint bills "
            "by the hour instead; pass price={model: (in, out)} to estimate tokens)"
            if self.unpriced
            else ""
        )
        return (
            f"{self.requests:,} requests, ~{self.input_tokens:,} input + ≤ "
            f"{self.max_output_tokens:,} output tokens: {usd}{extra}"
        )


def estimate(
    tasks: Sequence[Task], prices: dict[str, ServerlessModel | None], discount: float
) -> GenCost:
    """Tokens = characters ÷ 4; output at its ``max_tokens`` bound, so the estimate is an upper
    bound; the Batch API's discount applies."""
    n_in = n_out = 0
    usd = 0.0
    unpriced: set[str] = set()
    for t in tasks:
        i = sum(math.ceil(len(str(m.get("content", ""))) / 4) for m in t.body["messages"])
        o = int(t.body["max_tokens"])
        n_in, n_out = n_in + i, n_out + o
        price = prices.get(t.model)
        if price is None:
            unpriced.add(t.model)
        else:
            usd += price.cost_usd(i, o) * discount
    return GenCost(len(tasks), n_in, n_out, None if unpriced else usd, tuple(sorted(unpriced)))
