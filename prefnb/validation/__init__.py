"""Validate preference (DPO) data exactly as Together's SDK does, and more.

``validate(source, profile=...)`` checks a JSONL file, a pair-table DataFrame or a list of
line dicts and returns a :class:`ValidationReport` of :class:`Finding` objects.

Example:
    >>> from prefnb.validation import validate
    >>> report = validate([{"input": {"messages": [{"role": "user", "content": "hi"}]},
    ...                     "preferred_output": [{"role": "assistant", "content": "hello"}],
    ...                     "non_preferred_output": [{"role": "assistant", "content": "bye"}],
    ...                     "id": 7}])
    >>> report.ok
    False
    >>> print(report.errors[0].message)
    Found extra column "id" in the line 1.
"""

from __future__ import annotations

from prefnb.validation.engine import validate
from prefnb.validation.profiles import PROFILES
from prefnb.validation.report import Finding, ValidationError, ValidationReport
from prefnb.validation.warnings import LengthBias, length_bias

__all__ = [
    "PROFILES",
    "Finding",
    "LengthBias",
    "ValidationError",
    "ValidationReport",
    "length_bias",
    "validate",
]
