"""Validate preference (DPO) data as Together accepts it today, or exactly as an SDK did.

``validate(source, profile=...)`` checks a JSONL file, a pair-table DataFrame or a list of
line dicts and returns a :class:`ValidationReport` of :class:`Finding` objects. The default
profile ``together`` follows Together's current format; ``together-1.5.34`` gives that SDK's
local verdict word for word.

Example:
    >>> from prefnb.validation import validate
    >>> line = {"input": {"messages": [{"role": "user", "content": "hi"}]},
    ...         "preferred_output": [{"role": "assistant", "content": "hello"}],
    ...         "non_preferred_output": [{"role": "assistant", "content": "bye"}], "id": 7}
    >>> validate([line]).ok
    True
    >>> report = validate([line], profile="together-1.5.34")
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
