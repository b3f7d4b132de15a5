"""Serverless inference models (judges) and their per-token prices: one table.

The judge's cost estimate and LocalTogether's billing both read :data:`SERVERLESS_MODELS`, so
an estimate and a simulated bill can never disagree about a price. The names are Together's
real model ids, including the ones Together's evaluation docs use in their examples
(``meta-llama/Llama-3.3-70B-Instruct-Turbo``, ``Qwen/Qwen2.5-72B-Instruct-Turbo``,
``openai/gpt-oss-20b``, ``meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo``).

Prices are USD per million tokens. Every price here is marked ``price_source="guess"``: they
were written from memory of Together's pricing page, not copied from it in this session, so
check https://www.together.ai/pricing before trusting a dollar figure.

Example:
    >>> m = serverless_model("meta-llama/Llama-3.3-70B-Instruct-Turbo")
    >>> m.price_source, round(m.cost_usd(1_000_000, 0), 2)
    ('guess', 0.88)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["SERVERLESS_MODELS", "ServerlessModel", "serverless_model"]


@dataclass(frozen=True)
class ServerlessModel:
    """A serverless model's name and prices (USD per 1M input / output tokens)."""

    name: str
    input_per_m: float
    output_per_m: float
    price_source: Literal["together-pricing", "guess"] = "guess"
    context_length: int = 131072

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        """What ``input_tokens`` in and ``output_tokens`` out cost at this model's prices."""
        return (input_tokens * self.input_per_m + output_tokens * self.output_per_m) / 1e6


def _m(name: str, inp: float, out: float, context: int = 131072) -> ServerlessModel:
    return ServerlessModel(name, inp, out, "guess", context)


#: Every serverless model LocalTogether serves on ``/v1/chat/completions`` and as a judge.
SERVERLESS_MODELS: Final[dict[str, ServerlessModel]] = {
    m.name: m
    for m in (
        _m("meta-llama/Llama-3.3-70B-Instruct-Turbo", 0.88, 0.88),
        _m("meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo", 3.50, 3.50),
        _m("meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", 0.18, 0.18),
        _m("Qwen/Qwen2.5-72B-Instruct-Turbo", 1.20, 1.20, 32768),
        _m("openai/gpt-oss-20b", 0.05, 0.20),
        _m("openai/gpt-oss-120b", 0.15, 0.60),
        _m("deepseek-ai/DeepSeek-V3", 1.25, 1.25),
    )
}


def serverless_model(name: str) -> ServerlessModel | None:
    """The table's entry for ``name`` (exact, case-sensitive, as Together's ids are)."""
    return SERVERLESS_MODELS.get(name)
