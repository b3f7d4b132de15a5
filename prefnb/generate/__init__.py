"""On-policy candidate generation: :func:`generate` (online or Batch API, cached)."""

from __future__ import annotations

from prefnb.generate.cache import GenerationCache
from prefnb.generate.online import GenerateError
from prefnb.generate.requests import CostError, GenCost
from prefnb.generate.run import generate

__all__ = ["CostError", "GenCost", "GenerateError", "GenerationCache", "generate"]
