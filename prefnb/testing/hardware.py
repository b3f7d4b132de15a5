"""Dedicated-endpoint hardware and which base models offer serverless LoRA inference: one table.

LocalTogether serves ``GET /v1/hardware`` from :data:`HARDWARE`, and prefnb's deploy decides
between a dedicated endpoint and serverless LoRA with :data:`LORA_SERVERLESS_BASES`, so the two
can never disagree. Every figure is marked a guess: written from memory of Together's pricing
and LoRA pages, not copied in this session; check https://www.together.ai/pricing.

Example:
    >>> HARDWARE["1x_nvidia_h100_80gb_sxm"].usd_per_hour
    3.36
    >>> lora_serverless_price("meta-llama/Meta-Llama-3.1-8B-Instruct-Reference").input_per_m
    0.18
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from prefnb.testing.serverless_models import ServerlessModel

__all__ = ["HARDWARE", "LORA_SERVERLESS_BASES", "Hardware", "lora_serverless_price"]


@dataclass(frozen=True)
class Hardware:
    """One dedicated-endpoint hardware configuration and its price per minute (guess)."""

    id: str
    gpu_type: str
    gpu_link: str
    gpu_memory: float
    gpu_count: int
    cents_per_minute: float

    @property
    def usd_per_hour(self) -> float:
        return round(self.cents_per_minute * 60 / 100, 2)


#: Hardware LocalTogether offers (ids in Together's spelling), cheapest first.
HARDWARE: Final[dict[str, Hardware]] = {
    h.id: h
    for h in (
        Hardware("1x_nvidia_a100_80gb_sxm", "a100-80gb", "sxm", 80, 1, 4.3),
        Hardware("1x_nvidia_h100_80gb_sxm", "h100-80gb", "sxm", 80, 1, 5.6),
        Hardware("2x_nvidia_h100_80gb_sxm", "h100-80gb", "sxm", 80, 2, 11.2),
    )
}

#: Base models whose LoRA fine-tunes Together serves serverless, priced per token like the base
#: (USD per 1M input / output tokens; guesses). Any other fine-tune needs a dedicated endpoint.
LORA_SERVERLESS_BASES: Final[dict[str, tuple[float, float]]] = {
    "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference": (0.18, 0.18),
}


def lora_serverless_price(base_model: str) -> ServerlessModel | None:
    """The per-token price of serverless LoRA inference on ``base_model``, if offered."""
    found = LORA_SERVERLESS_BASES.get(base_model)
    return None if found is None else ServerlessModel(base_model, found[0], found[1], "guess")
