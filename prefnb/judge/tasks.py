"""One judge pass to run: a pair's content in one order, and the stored row it becomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from prefnb.judge.prompt import prompt_text
from prefnb.pairs import normalize_prompt, pair_id

__all__ = ["Pass", "Unique", "unique_pairs"]


@dataclass(frozen=True)
class Unique:
    """A distinct pair content (several DataFrame rows may share it)."""

    content_key: str
    pair_id: str
    prompt: str
    response_a: str
    response_b: str


@dataclass(frozen=True)
class Pass:
    """One order of one pair: ``shown="ab"`` shows response_a first."""

    pair: Unique
    shown: str

    @property
    def first(self) -> str:
        return self.pair.response_a if self.shown == "ab" else self.pair.response_b

    @property
    def second(self) -> str:
        return self.pair.response_b if self.shown == "ab" else self.pair.response_a

    def row(self, **fields: Any) -> dict[str, Any]:
        """A ``judge_verdicts`` row for this pass (see :mod:`prefnb.labels.judge_log`)."""
        return {
            "pair_id": self.pair.pair_id,
            "content_key": self.pair.content_key,
            "shown": self.shown,
            "len_a": len(self.pair.response_a),
            "len_b": len(self.pair.response_b),
            **fields,
        }


def unique_pairs(df: pd.DataFrame) -> tuple[list[Unique], list[str]]:
    """Distinct contents of ``df`` (first row's pair_id wins) and each row's content key."""
    seen: dict[str, Unique] = {}
    keys: list[str] = []
    for pid, prompt, a, b in zip(
        df["pair_id"], df["prompt"], df["response_a"], df["response_b"], strict=True
    ):
        messages = normalize_prompt(prompt)
        key = pair_id(messages, str(a), str(b))
        keys.append(key)
        if key not in seen:
            seen[key] = Unique(key, str(pid), prompt_text(messages), str(a), str(b))
    return list(seen.values()), keys
