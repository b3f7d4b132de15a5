"""TRL preference rows → pair rows: standard, conversational and implicit-prompt.

- standard: ``{"prompt": str, "chosen": str, "rejected": str}``
- conversational: ``{"prompt": [messages], "chosen": [assistant message], "rejected": [...]}``
  (system messages in the prompt are kept)
- implicit prompt: ``{"chosen": [full conversation], "rejected": [full conversation]}``; the
  prompt is the longest run of messages both conversations start with. The same split is
  used when a ``prompt`` is given but chosen/rejected still hold whole conversations, as in
  UltraFeedback-binarized.

Chosen becomes ``response_a``, rejected ``response_b``, label ``a``. Other keys pass through.

Example:
    >>> to_pair({"prompt": "2+2?", "chosen": "4", "rejected": "5"}, "row 1")["prompt"]
    [{'role': 'user', 'content': '2+2?'}]
    >>> conv = lambda a: [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": a}]
    >>> to_pair({"chosen": conv("4"), "rejected": conv("5")}, "row 1")["response_b"]
    '5'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefnb.formats.fields import describe, messages, response, role_of, split_shared_prefix
from prefnb.formats.sources import FormatError

__all__ = ["kind", "to_pair"]

_KEYS = frozenset({"prompt", "chosen", "rejected"})


def kind(rec: Mapping[str, Any]) -> str:
    """Which TRL flavour a row is: ``trl``, ``trl_conversational`` or ``trl_implicit``."""
    if "prompt" not in rec:
        return "trl_implicit"
    if isinstance(rec.get("prompt"), str) and isinstance(rec.get("chosen"), str):
        return "trl"
    return "trl_conversational"


def _full_conversation(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 1
        and all(isinstance(m, Mapping) for m in value)
        and role_of(value[-1]) == "assistant"
    )


def to_pair(rec: Mapping[str, Any], where: str) -> dict[str, Any]:
    """One pair row from any TRL preference row (the flavour is decided per row)."""
    prompt, chosen, rejected = rec.get("prompt"), rec.get("chosen"), rec.get("rejected")
    if type(prompt) is str and type(chosen) is str and type(rejected) is str:
        # the standard flavour, most rows of most files: no checks left to make
        row = {k: v for k, v in rec.items() if k not in _KEYS} if len(rec) > 3 else {}
        row["prompt"] = [{"role": "user", "content": prompt}]
        row["response_a"], row["response_b"], row["label"] = chosen, rejected, "a"
        return row
    for key in ("chosen", "rejected"):
        if key not in rec:
            raise FormatError(f"{where}: missing {key!r}")
    row = {k: v for k, v in rec.items() if k not in ("prompt", "chosen", "rejected")}
    prompt = rec.get("prompt")
    if prompt is None:
        chosen, rejected = rec["chosen"], rec["rejected"]
        if isinstance(chosen, str) or isinstance(rejected, str):
            raise FormatError(
                f"{where}: without a 'prompt', 'chosen' and 'rejected' must be full "
                f"conversations (message lists), got {describe(chosen)}; add a 'prompt' column"
            )
        row["prompt"], row["response_a"], row["response_b"] = split_shared_prefix(
            messages(chosen, where, "chosen", allow_string=False),
            messages(rejected, where, "rejected", allow_string=False),
            where,
        )
    elif _full_conversation(rec["chosen"]) and _full_conversation(rec["rejected"]):
        # Some datasets (UltraFeedback-binarized) repeat the prompt inside chosen/rejected:
        # the conversations then carry the exact prompt, system messages included.
        row["prompt"], row["response_a"], row["response_b"] = split_shared_prefix(
            messages(rec["chosen"], where, "chosen", allow_string=False),
            messages(rec["rejected"], where, "rejected", allow_string=False),
            where,
        )
    else:
        row["prompt"] = messages(prompt, where, "prompt")
        row["response_a"] = response(rec["chosen"], where, "chosen")
        row["response_b"] = response(rec["rejected"], where, "rejected")
    row["label"] = "a"
    return row
