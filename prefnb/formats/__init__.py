"""Read preference data in the formats people actually have, and write the ones trainers take.

Readers return the pair table (:mod:`prefnb.pairs`); ``multi`` returns a long frame of scored
completions for :func:`binarize`. Writers are atomic and return the number of rows written.

Example:
    >>> from prefnb.formats import read_pairs
    >>> read_pairs([{"chosen": "\\n\\nHuman: hi\\n\\nAssistant: hello",
    ...              "rejected": "\\n\\nHuman: hi\\n\\nAssistant: go away"}]).attrs["prefnb_format"]
    'hh'
"""

from __future__ import annotations

from prefnb.formats.binarize import STRATEGIES, binarize
from prefnb.formats.detect import FORMATS
from prefnb.formats.read import detect_format, read_pairs
from prefnb.formats.sources import FormatError
from prefnb.formats.writers import write_dpo_jsonl, write_pairs, write_sft_jsonl, write_trl

__all__ = [
    "FORMATS",
    "STRATEGIES",
    "FormatError",
    "binarize",
    "detect_format",
    "read_pairs",
    "write_dpo_jsonl",
    "write_pairs",
    "write_sft_jsonl",
    "write_trl",
]
