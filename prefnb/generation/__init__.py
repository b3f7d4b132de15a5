"""On-policy candidate generation: :func:`generate` (online or Batch API, cached)."""

from __future__ import annotations

from prefnb.generation.cache import GenerationCache
from prefnb.generation.online import GenerateError
from prefnb.generation.requests import CostError, GenCost
from prefnb.generation.run import generate

__all__ = ["CostError", "GenCost", "GenerateError", "GenerationCache", "generate"]
