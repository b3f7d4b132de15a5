"""Cost before anything is sent: tokens × the judge's price × passes.

Tokens are characters ÷ 4 (rounded up) unless a ``tokenizer`` (``str -> int``) is given;
each pass also pays :data:`EST_OUTPUT_TOKENS` of output (a one-sentence JSON verdict).

Example:
    >>> price = price_for("meta-llama/Llama-3.3-70B-Instruct-Turbo")
    >>> est = CostEstimate.of([(100, 1)], price, passes=2)
    >>> est.input_tokens, est.output_tokens
    (200, 120)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from prefnb.testing.serverless_models import SERVERLESS_MODELS, ServerlessModel

__all__ = ["EST_OUTPUT_TOKENS", "CostEstimate", "JudgeCostError", "count_tokens", "price_for"]

#: Output tokens assumed per pass in the estimate (the contract asks for one or two sentences).
EST_OUTPUT_TOKENS: Final = 60

Tokenizer = Callable[[str], int]


class JudgeCostError(ValueError):
    """The estimated cost is above ``max_cost``; nothing was sent."""


def count_tokens(text: str, tokenizer: Tokenizer | None = None) -> int:
    return int(tokenizer(text)) if tokenizer is not None else math.ceil(len(text) / 4)


def price_for(model: str, price: tuple[float, float] | None = None) -> ServerlessModel:
    """The price of ``model`` (``price`` = (input, output) USD per 1M tokens overrides)."""
    if price is not None:
        return ServerlessModel(model, float(price[0]), float(price[1]), "guess")
    found = SERVERLESS_MODELS.get(model)
    if found is None:
        known = ", ".join(sorted(SERVERLESS_MODELS))
        raise ValueError(
            f"judge model {model!r}: no price known, so the cost cannot be estimated; pass "
            f"price=(input_usd_per_1M, output_usd_per_1M) or one of: {known}"
        )
    return found


@dataclass(frozen=True)
class CostEstimate:
    """Estimated tokens and USD of the passes still to be sent (cached ones are free)."""

    passes: int
    input_tokens: int
    output_tokens: int
    usd: float
    price_source: str

    @classmethod
    def of(
        cls, items: Iterable[tuple[int, int]], price: ServerlessModel, *, passes: int = 1
    ) -> CostEstimate:
        """``items``: (input tokens of one pass, number of pairs with that size)."""
        n_in = n_out = n_pass = 0
        for tokens, count in items:
            n_in += tokens * count * passes
            n_out += EST_OUTPUT_TOKENS * count * passes
            n_pass += count * passes
        return cls(n_pass, n_in, n_out, price.cost_usd(n_in, n_out), price.price_source)

    def __str__(self) -> str:
        return (
            f"{self.passes:,} judge passes, ~{self.input_tokens:,} input + "
            f"~{self.output_tokens:,} output tokens ≈ ${self.usd:,.4f} "
            f"(price: {self.price_source})"
        )
