"""Helpers for judge tests: simulated pairs and the judge model Together's docs use.

(Not a conftest.py: test modules cannot import from a conftest reliably, since several modules
named ``conftest`` shadow one another when folders are collected together.)
"""

from __future__ import annotations

import hashlib
import random

import pandas as pd

import prefnb

MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"


def make_pairs(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` distinct pairs with varied lengths and a known true label (``true_label``)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a = f"answer {i} " + "a" * rng.randint(1, 60)
        b = f"reply {i} " + "b" * rng.randint(1, 60)
        rows.append({"prompt": f"question {i}?", "response_a": a, "response_b": b})
    df = prefnb.pairs_frame(rows)
    df["true_label"] = [rng.choice("ab") for _ in range(n)]
    return df


def sim_key(prompt: str, a: str, b: str) -> tuple[str, str, str]:
    """The key under which the simulated judge logs a pair (see SimJudge.orders_disagree)."""

    def sha(t: str) -> str:
        return hashlib.sha256(t.encode()).hexdigest()

    fa, fb = sorted((sha(a), sha(b)))
    return sha(prompt), fa, fb
